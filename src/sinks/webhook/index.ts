export { discordSink, DISCORD_MAX_CONTENT_CHARS, type DiscordSinkOptions } from './discord.js'
export { telegramSink, TELEGRAM_MAX_TEXT_CHARS, TELEGRAM_API_URL, type TelegramSinkOptions, type TelegramParseMode } from './telegram.js'
export { slackSink, SLACK_MAX_TEXT_CHARS, type SlackSinkOptions } from './slack.js'
export { webhookSink, WEBHOOK_MAX_BATCH_RECORDS, type WebhookSinkOptions } from './generic.js'
export { defaultWebhookBody, type WebhookBody, type WebhookRecord } from './json-packer.js'
export { WebhookSink, WebhookDeliveryError, EXIT_MAX_MESSAGES } from './sink.js'
export { SYNC_BUDGET_WINDOW_MS } from '../delivery/exit-send.js'
export { WebhookRequestError } from './request-error.js'
export { WebhookHttpError, MAX_RETRY_AFTER_MS } from './retry.js'
export { MAX_PARTS_PER_RECORD } from './split.js'
export {
  WEBHOOK_BATCH_INTERVAL_MS, WEBHOOK_MAX_QUEUE_RECORDS, WEBHOOK_MAX_RETRIES, WEBHOOK_RETRY_BASE_DELAY_MS, WEBHOOK_RETRY_MAX_DELAY_MS,
  WEBHOOK_TIMEOUT_MS, WEBHOOK_FLUSH_TIMEOUT_MS, WEBHOOK_EXIT_TIMEOUT_MS, CHAT_FORMAT, type WebhookSinkBaseOptions,
} from './options.js'
