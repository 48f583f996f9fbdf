import { resolveFormat, type FormatOption } from '../../core/format/index.js'
import type { Formatter } from '../../core/format/formatter.js'
import { levelValue, type LevelInput } from '../../core/levels.js'
import type { SinkOptions } from '../../core/sink.js'
import { describeSecret } from './secrets.js'

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

/** How a batching HTTP sink (a webhook, OTLP) queues, retries and waits. Durations are in milliseconds. */
export interface DeliveryOptions {
  /** The longest a record waits to be batched with the next ones; default 1,000 ms. */
  batchInterval?: number
  /** Records held while waiting to be sent; when full, the oldest are dropped and counted; default 1,000 (webhooks), 2,048 (OTLP). */
  maxQueue?: number
  /** Retries of a request after a 429, a 5xx (OTLP: 502, 503, 504), a network error or a timeout; default 5. Then it is dropped and counted. */
  maxRetries?: number
  /** The first backoff after a failure, doubled each retry, with jitter; default 1,000 ms. A wait the service asks for (`Retry-After`) is waited instead. */
  retryBaseDelay?: number
  /** The longest backoff; default 30,000 ms. */
  retryMaxDelay?: number
  /** How long one request may take, answer included; default 10,000 ms. */
  timeout?: number
  /** The longest `flush()` (and `close()`) waits for the queue to empty; default 5,000 ms. */
  flushTimeout?: number
  /** The longest `flushSync()` blocks, on process exit or after a `fatal` record; default 2,000 ms. */
  exitTimeout?: number
}

/** Options every webhook sink takes. Durations are in milliseconds. */
export interface WebhookSinkBaseOptions extends SinkOptions, DeliveryOptions {
  /** The lowest level sent; default `'error'`: a chat is for what needs a human. */
  level?: LevelInput
  /** How each record's line reads; default `'[{level}] {message}{fields}'` for chats. */
  format?: FormatOption
}

/** How a batching HTTP sink (a webhook, OTLP) queues, retries and waits: checked once, defaults filled in. */
export interface DeliverySettings {
  readonly batchIntervalMs: number
  readonly maxQueue: number
  readonly maxRetries: number
  readonly retryBaseDelayMs: number
  readonly retryMaxDelayMs: number
  readonly timeoutMs: number
  readonly flushTimeoutMs: number
  readonly exitTimeoutMs: number
}

/** The options above, checked once, with defaults filled in. */
export interface WebhookSettings extends DeliverySettings {
  readonly level: number
  readonly formatter: Formatter
}

function describe(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`
}

/** A positive number of milliseconds, or the default when absent. */
export function durationOption(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  throw new TypeError(`Expected \`${option}\` to be a positive number of ms, got ${describe(value)}`)
}

/** An integer at least `min`, or the default when absent. */
export function integerOption(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
  const expected = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`
  throw new TypeError(`Expected \`${option}\` to be ${expected}, got ${describe(value)}`)
}

/** An http(s) URL. The value is never quoted whole in the error: it may hold a token. */
export function urlOption(value: unknown, option: string): URL {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return url
  throw new TypeError(`Expected \`${option}\` to be an http(s) URL, got ${describeSecret(value)}`)
}

/** Checks the delivery options in this order, each against its default; throws on the first bad one. */
export function resolveDeliverySettings(options: DeliveryOptions, defaults: DeliverySettings): DeliverySettings {
  return {
    batchIntervalMs: durationOption(options.batchInterval, 'batchInterval', defaults.batchIntervalMs),
    maxQueue: integerOption(options.maxQueue, 'maxQueue', defaults.maxQueue, 1),
    maxRetries: integerOption(options.maxRetries, 'maxRetries', defaults.maxRetries, 0),
    retryBaseDelayMs: durationOption(options.retryBaseDelay, 'retryBaseDelay', defaults.retryBaseDelayMs),
    retryMaxDelayMs: durationOption(options.retryMaxDelay, 'retryMaxDelay', defaults.retryMaxDelayMs),
    timeoutMs: durationOption(options.timeout, 'timeout', defaults.timeoutMs),
    flushTimeoutMs: durationOption(options.flushTimeout, 'flushTimeout', defaults.flushTimeoutMs),
    exitTimeoutMs: durationOption(options.exitTimeout, 'exitTimeout', defaults.exitTimeoutMs),
  }
}

const WEBHOOK_DELIVERY: DeliverySettings = {
  batchIntervalMs: WEBHOOK_BATCH_INTERVAL_MS,
  maxQueue: WEBHOOK_MAX_QUEUE_RECORDS,
  maxRetries: WEBHOOK_MAX_RETRIES,
  retryBaseDelayMs: WEBHOOK_RETRY_BASE_DELAY_MS,
  retryMaxDelayMs: WEBHOOK_RETRY_MAX_DELAY_MS,
  timeoutMs: WEBHOOK_TIMEOUT_MS,
  flushTimeoutMs: WEBHOOK_FLUSH_TIMEOUT_MS,
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
    throw new TypeError(`Expected \`${factory}\` options to be an object, got ${describe(options)}`)
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
  throw new TypeError(`Expected \`maxMessageChars\` to be an integer from ${MIN_MESSAGE_CHARS} to ${serviceMax}, got ${describe(value)}`)
}
