import { ChatPacker } from './chat-packer.js'
import { SLACK_MARKUP } from './escape.js'
import { CHAT_FORMAT, messageCharsOption, requireOptions, resolveWebhookSettings, type WebhookSinkBaseOptions } from './options.js'
import { urlOption } from '../delivery/options.js'
import { maskedOrigin, secretsOfUrl } from './secrets.js'
import { WebhookSink } from './sink.js'

/** Slack truncates a message's `text` past 40,000 characters (https://api.slack.com/methods/chat.postMessage#truncating). */
export const SLACK_MAX_TEXT_CHARS = 40_000

/** Options of `slackSink()`: the incoming webhook URL, and those every webhook sink takes. */
export interface SlackSinkOptions extends WebhookSinkBaseOptions {
  /** The incoming webhook URL, `https://hooks.slack.com/services/T…/B…/…`. A secret: it never appears in reports. */
  url: string
  /** Characters per message, from 256 to (and by default) 40,000; Slack suggests 4,000 for reading comfort. */
  maxMessageChars?: number
}

/** `slack webhook …/B0AB`: the end of the webhook's id, never its secret part. */
function slackName(url: URL): string {
  const id = /\/services\/[^/]+\/([^/]+)\//.exec(url.pathname)?.[1]
  return id === undefined ? `slack webhook ${maskedOrigin(url)}` : `slack webhook …/${id.slice(-4)}`
}

/**
 * A sink that posts records to a Slack channel through an incoming webhook: `error` and
 * above by default, batched into messages of up to 40,000 characters, mrkdwn escaped
 * (`&`, `<`, `>`), stacks in code blocks, link unfurling off.
 */
export function slackSink(options: SlackSinkOptions): WebhookSink {
  requireOptions(options, 'slackSink')
  const url = urlOption(options.url, 'url')
  const settings = resolveWebhookSettings(options, CHAT_FORMAT)
  const maxChars = messageCharsOption(options.maxMessageChars, SLACK_MAX_TEXT_CHARS)
  const body = (text: string): string => JSON.stringify({ text, mrkdwn: true, unfurl_links: false, unfurl_media: false })
  return new WebhookSink(
    { name: slackName(url), url, headers: {}, secrets: secretsOfUrl(url), packer: new ChatPacker(SLACK_MARKUP, maxChars, settings.formatter, body), okField: false },
    settings,
  )
}
