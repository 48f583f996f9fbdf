import { ChatPacker } from './chat-packer.js'
import { DISCORD_MARKUP } from './escape.js'
import { CHAT_FORMAT, messageCharsOption, requireOptions, resolveWebhookSettings, type WebhookSinkBaseOptions } from './options.js'
import { urlOption } from '../delivery/options.js'
import { maskedOrigin, secretsOfUrl } from './secrets.js'
import { WebhookSink } from './sink.js'

/** Discord's limit on a message's `content` (https://discord.com/developers/docs/resources/webhook#execute-webhook). */
export const DISCORD_MAX_CONTENT_CHARS = 2_000
/** Discord's limit on a webhook's `username` override. */
const DISCORD_MAX_USERNAME_CHARS = 80
// Message flag SUPPRESS_EMBEDS: a URL in a log line must not unfurl into a preview.
const SUPPRESS_EMBEDS = 1 << 2

/** Options of `discordSink()`: the webhook URL, and those every webhook sink takes. */
export interface DiscordSinkOptions extends WebhookSinkBaseOptions {
  /** The webhook URL, `https://discord.com/api/webhooks/<id>/<token>`. A secret: it never appears in reports. */
  url: string
  /** Shown as the author instead of the webhook's own name. */
  username?: string
  /** Characters per message, from 256 to (and by default) 2,000. */
  maxMessageChars?: number
}

/** `discord webhook …/1234`: the end of the webhook's id, never its token. */
function discordName(url: URL): string {
  const id = /\/webhooks\/(\d+)(?:\/|$)/.exec(url.pathname)?.[1]
  return id === undefined ? `discord webhook ${maskedOrigin(url)}` : `discord webhook …/${id.slice(-4)}`
}

/**
 * A sink that posts records to a Discord channel through a webhook: `error` and above by
 * default, batched into messages of up to 2,000 characters, markdown escaped, stacks in
 * code blocks, mentions disabled (`@everyone` in a message pings nobody), link previews off.
 */
export function discordSink(options: DiscordSinkOptions): WebhookSink {
  requireOptions(options, 'discordSink')
  const url = urlOption(options.url, 'url')
  const settings = resolveWebhookSettings(options, CHAT_FORMAT)
  const maxChars = messageCharsOption(options.maxMessageChars, DISCORD_MAX_CONTENT_CHARS)
  const { username } = options
  if (username !== undefined && (typeof username !== 'string' || username.length === 0 || username.length > DISCORD_MAX_USERNAME_CHARS)) {
    throw new TypeError(`Expected \`username\` to be a string of 1 to ${DISCORD_MAX_USERNAME_CHARS} characters, got \`${String(username)}\` (${typeof username})`)
  }
  const body = (content: string): string =>
    JSON.stringify({ content, allowed_mentions: { parse: [] }, flags: SUPPRESS_EMBEDS, ...(username === undefined ? {} : { username }) })
  return new WebhookSink(
    { name: discordName(url), url, headers: {}, secrets: secretsOfUrl(url), packer: new ChatPacker(DISCORD_MARKUP, maxChars, settings.formatter, body), okField: false },
    settings,
  )
}
