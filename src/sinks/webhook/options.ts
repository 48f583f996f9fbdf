import { resolveFormat, type FormatOption } from '../../core/format/index.js'
import type { Formatter } from '../../core/format/formatter.js'
import { levelValue, type LevelInput } from '../../core/levels.js'
import type { SinkOptions } from '../../core/sink.js'
import { HTTP_CLOSE_TIMEOUT_MS, describeValue, resolveDeliverySettings, type DeliveryOptions, type DeliverySettings } from '../delivery/options.js'

export type { DeliveryOptions, DeliverySettings } from '../delivery/options.js'

/** The longest a record waits before it is sent with the others that came meanwhile. */
export const WEBHOOK_BATCH_INTERVAL_MS = 1_000
/** Records held while they wait; past it the oldest are dropped and counted. */
export const WEBHOOK_MAX_QUEUE_RECORDS = 1_000
/** Retries of one message after a failure (5xx, 429, network, timeout) before it is dropped and counted. */
export const WEBHOOK_MAX_RETRIES = 5
/** The first backoff after a failure; it doubles on each retry, with jitter. */
export const WEBHOOK_RETRY_BASE_DELAY_MS = 1_000
/** The longest backoff between two attempts. */
export const WEBHOOK_RETRY_MAX_DELAY_MS = 30_000
/** How long one request may take, answer included. */
export const WEBHOOK_TIMEOUT_MS = 10_000
/** The longest `flush()` waits for the queue to empty. */
export const WEBHOOK_FLUSH_TIMEOUT_MS = 5_000
/** The longest `flushSync()` (process exit, `fatal`) blocks while it sends what is pending. */
export const WEBHOOK_EXIT_TIMEOUT_MS = 2_000

/** Options every webhook sink takes. Durations are in milliseconds. */
export interface WebhookSinkBaseOptions extends SinkOptions, DeliveryOptions {
  /** The lowest level sent; default `'error'`: a chat is for what needs a human. */
  level?: LevelInput
  /** How each record's line reads; default `'[{level}] {message}{fields}'` for chats. */
  format?: FormatOption
}

/** The options above, checked once, with defaults filled in. */
export interface WebhookSettings extends DeliverySettings {
  readonly level: number
  readonly formatter: Formatter
}

const WEBHOOK_DELIVERY: DeliverySettings = {
  batchIntervalMs: WEBHOOK_BATCH_INTERVAL_MS,
  maxQueue: WEBHOOK_MAX_QUEUE_RECORDS,
  maxRetries: WEBHOOK_MAX_RETRIES,
  retryBaseDelayMs: WEBHOOK_RETRY_BASE_DELAY_MS,
  retryMaxDelayMs: WEBHOOK_RETRY_MAX_DELAY_MS,
  timeoutMs: WEBHOOK_TIMEOUT_MS,
  flushTimeoutMs: WEBHOOK_FLUSH_TIMEOUT_MS,
  closeTimeoutMs: HTTP_CLOSE_TIMEOUT_MS,
  exitTimeoutMs: WEBHOOK_EXIT_TIMEOUT_MS,
}

/** Checks the options every webhook sink shares; throws on the first bad one. */
export function resolveWebhookSettings(options: WebhookSinkBaseOptions, defaultFormat: string): WebhookSettings {
  return {
    level: levelValue(options.level ?? 'error'),
    formatter: resolveFormat(options.format, defaultFormat),
    ...resolveDeliverySettings(options, WEBHOOK_DELIVERY),
  }
}

/** Throws unless `options` is an object; the service options are read from it next. */
export function requireOptions(options: unknown, factory: string): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected \`${factory}\` options to be an object, got ${describeValue(options)}`)
  }
}

/** How a record's line reads in a chat: `[ERROR] message key=value`; the chat shows the time. */
export const CHAT_FORMAT = '[{level}] {message}{fields}'

/** The smallest message size a chat sink accepts: room for a record, its markers and a code fence. */
export const MIN_MESSAGE_CHARS = 256

/** Characters per message: at most what the service takes, and by default exactly that. */
export function messageCharsOption(value: unknown, serviceMax: number): number {
  if (value === undefined) return serviceMax
  if (typeof value === 'number' && Number.isInteger(value) && value >= MIN_MESSAGE_CHARS && value <= serviceMax) return value
  throw new TypeError(`Expected \`maxMessageChars\` to be an integer from ${MIN_MESSAGE_CHARS} to ${serviceMax}, got ${describeValue(value)}`)
}
