import { ChatPacker } from './chat-packer.js'
import { TELEGRAM_HTML_MARKUP, TELEGRAM_MARKDOWN_V2_MARKUP } from './escape.js'
import { CHAT_FORMAT, messageCharsOption, requireOptions, resolveWebhookSettings, type WebhookSinkBaseOptions } from './options.js'
import { urlOption } from '../delivery/options.js'
import { secretsOfUrl } from './secrets.js'
import { WebhookSink } from './sink.js'

/** Telegram's limit on a message's text (https://core.telegram.org/bots/api#sendmessage), counted here before entity parsing, which only shortens it. */
export const TELEGRAM_MAX_TEXT_CHARS = 4_096
/** Where the Bot API lives; `apiUrl` points elsewhere (a local Bot API server, a test). */
export const TELEGRAM_API_URL = 'https://api.telegram.org'

/** Telegram's parse modes this sink escapes for. */
export type TelegramParseMode = 'HTML' | 'MarkdownV2'

/** Options of `telegramSink()`: the bot token and chat, and those every webhook sink takes. */
export interface TelegramSinkOptions extends WebhookSinkBaseOptions {
  /** The bot's token from @BotFather, `123456789:AA…`. A secret: it never appears in reports. */
  token: string
  /** The chat to post to: its numeric id (`-1001234567890`) or a channel's `@username`. */
  chatId: number | string
  /** `'HTML'` (default) or `'MarkdownV2'`. */
  parseMode?: TelegramParseMode
  /** The Bot API's base URL; default `https://api.telegram.org`. */
  apiUrl?: string
  /** Characters per message, from 256 to (and by default) 4,096. */
  maxMessageChars?: number
}

const TOKEN = /^\d+:[A-Za-z0-9_-]+$/

function checkToken(token: unknown): string {
  if (typeof token === 'string' && TOKEN.test(token)) return token
  // The value is never quoted: a token with a typo is still a token.
  const got = typeof token === 'string' ? `a string of ${token.length} characters` : `\`${String(token)}\` (${typeof token})`
  throw new TypeError(`Expected \`token\` to be a Telegram bot token (digits, a colon, then letters, digits, - or _), got ${got}`)
}

function checkChatId(chatId: unknown): number | string {
  if (typeof chatId === 'number' && Number.isSafeInteger(chatId)) return chatId
  if (typeof chatId === 'string' && /^(-?\d+|@\w+)$/.test(chatId)) return chatId
  throw new TypeError(`Expected \`chatId\` to be a chat id (an integer) or a channel's @username, got \`${String(chatId)}\` (${typeof chatId})`)
}

/**
 * A sink that sends records to a Telegram chat through a bot: `error` and above by default,
 * batched into messages of up to 4,096 characters, escaped for the parse mode (HTML by
 * default, or MarkdownV2), stacks in `<pre>` blocks, link previews off.
 */
export function telegramSink(options: TelegramSinkOptions): WebhookSink {
  requireOptions(options, 'telegramSink')
  const token = checkToken(options.token)
  const chatId = checkChatId(options.chatId)
  const parseMode = options.parseMode ?? 'HTML'
  if (parseMode !== 'HTML' && parseMode !== 'MarkdownV2') {
    throw new TypeError(`Expected \`parseMode\` to be 'HTML' or 'MarkdownV2', got \`${String(parseMode)}\` (${typeof parseMode})`)
  }
  const api = urlOption(options.apiUrl ?? TELEGRAM_API_URL, 'apiUrl')
  const base = api.href.endsWith('/') ? api.href : `${api.href}/`
  // `./`: without it, `bot123:…` would be read as a URL scheme.
  const url = new URL(`./bot${token}/sendMessage`, base)
  const settings = resolveWebhookSettings(options, CHAT_FORMAT)
  const maxChars = messageCharsOption(options.maxMessageChars, TELEGRAM_MAX_TEXT_CHARS)
  const markup = parseMode === 'HTML' ? TELEGRAM_HTML_MARKUP : TELEGRAM_MARKDOWN_V2_MARKUP
  const body = (text: string): string =>
    JSON.stringify({ chat_id: chatId, text, parse_mode: parseMode, link_preview_options: { is_disabled: true } })
  const botId = token.slice(0, token.indexOf(':'))
  return new WebhookSink(
    {
      name: `telegram bot …${botId.slice(-4)} chat ${chatId}`,
      url,
      headers: {},
      secrets: [token, token.slice(token.indexOf(':') + 1), ...secretsOfUrl(url)],
      packer: new ChatPacker(markup, maxChars, settings.formatter, body),
      okField: true,
    },
    settings,
  )
}
