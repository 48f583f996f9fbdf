import { describeSecret } from './scrubber.js'

/** How long `close()` of an HTTP sink may take to let go of its connection, by default. */
export const HTTP_CLOSE_TIMEOUT_MS = 1_000

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
  /** The longest `flush()` waits for the queue to empty; default 5,000 ms. `close()` flushes once, within it. */
  flushTimeout?: number
  /** How long `close()` then takes to let go of the connection; default 1,000 ms (it ends at once: nothing is waited for). */
  closeTimeout?: number
  /** The longest `flushSync()` blocks, on process exit or after a `fatal` record; default 2,000 ms. */
  exitTimeout?: number
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
  readonly closeTimeoutMs: number
  readonly exitTimeoutMs: number
}

/** A value as option errors show it: `` `-1` (number) ``. */
export function describeValue(value: unknown): string {
  let text: string
  try {
    text = String(value)
  } catch {
    text = 'an unprintable value'
  }
  return `\`${text}\` (${value === null ? 'null' : typeof value})`
}

/** A positive number of milliseconds, or the default when absent. */
export function durationOption(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  throw new TypeError(`Expected \`${option}\` to be a positive number of ms, got ${describeValue(value)}`)
}

/** An integer at least `min`, or the default when absent. */
export function integerOption(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value
  const expected = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`
  throw new TypeError(`Expected \`${option}\` to be ${expected}, got ${describeValue(value)}`)
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
    closeTimeoutMs: durationOption(options.closeTimeout, 'closeTimeout', defaults.closeTimeoutMs),
    exitTimeoutMs: durationOption(options.exitTimeout, 'exitTimeout', defaults.exitTimeoutMs),
  }
}

/** One of a closed set of strings, or `fallback` when unset. */
export function checkChoice<T extends string>(value: unknown, option: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T
  throw new TypeError(`Expected \`${option}\` to be ${choices.map((choice) => `'${choice}'`).join(' or ')}, got ${describeValue(value)}`)
}

/** The options object itself. */
export function checkObject(value: unknown, what: string): void {
  if (value === null || typeof value !== 'object') throw new TypeError(`Expected the options of ${what} to be an object, got ${describeValue(value)}`)
}

