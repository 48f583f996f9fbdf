import { validateHeaderName, validateHeaderValue } from 'node:http'
import { defaultWebhookBody, JsonPacker, type WebhookBody } from './json-packer.js'
import { requireOptions, resolveWebhookSettings, type WebhookSinkBaseOptions } from './options.js'
import { integerOption, urlOption } from '../delivery/options.js'
import { maskedOrigin, secretsOfUrl } from './secrets.js'
import { WebhookSink } from './sink.js'

/** Records per request of `webhookSink`, by default. */
export const WEBHOOK_MAX_BATCH_RECORDS = 100

// Headers whose values say nothing secret; every other value (Authorization, X-Api-Key…) is scrubbed from error texts.
const PLAIN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'accept', 'user-agent'])

/** Options of `webhookSink()`: where and what to POST, and those every webhook sink takes. */
export interface WebhookSinkOptions extends WebhookSinkBaseOptions {
  /** Where to POST. A secret (it may hold a token): only its origin appears in reports. */
  url: string
  /** Extra request headers, `{ authorization: 'Bearer …' }`; their values never appear in reports. */
  headers?: Readonly<Record<string, string>>
  /** Maps a batch of records (and their lines in the sink's `format`) to the JSON body; default `{ records: [{ level, time, msg, fields, err }] }`. */
  body?: WebhookBody
  /** Records per request, at most; default 100. */
  maxBatchRecords?: number
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {}
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new TypeError(`Expected \`headers\` to be an object of header names and string values, got \`${String(headers)}\` (${typeof headers})`)
  }
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name)
      if (typeof value !== 'string') throw new TypeError('not a string')
      validateHeaderValue(name, value)
    } catch {
      // The value is not quoted: it is likely a credential.
      throw new TypeError(`Expected \`headers.${name}\` to be a valid header name with a string value without line breaks, got a ${typeof value}`)
    }
    out[name] = value
  }
  return out
}

/**
 * A sink that POSTs batches of records as JSON to any URL: `error` and above by default,
 * `{ records: [{ level, time, msg, fields, err }] }` unless `body` builds something else.
 */
export function webhookSink(options: WebhookSinkOptions): WebhookSink {
  requireOptions(options, 'webhookSink')
  const url = urlOption(options.url, 'url')
  const headers = checkHeaders(options.headers)
  const body = options.body ?? defaultWebhookBody
  if (typeof body !== 'function') throw new TypeError(`Expected \`body\` to be a function of (records, lines), got \`${String(body)}\` (${typeof body})`)
  const settings = resolveWebhookSettings(options, 'text')
  const maxRecords = integerOption(options.maxBatchRecords, 'maxBatchRecords', WEBHOOK_MAX_BATCH_RECORDS, 1)
  const secretHeaders = Object.entries(headers).filter(([name]) => !PLAIN_HEADERS.has(name.toLowerCase())).map(([, value]) => value)
  return new WebhookSink(
    { name: `webhook ${maskedOrigin(url)}`, url, headers, secrets: [...secretsOfUrl(url), ...secretHeaders], packer: new JsonPacker(maxRecords, body), okField: false },
    settings,
  )
}
