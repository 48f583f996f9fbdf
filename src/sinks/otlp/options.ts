import { validateHeaderName, validateHeaderValue } from 'node:http'
import { hostname } from 'node:os'
import { basename } from 'node:path'
import { levelValue, type LevelInput } from '../../core/levels.js'
import { serialize, type Plain } from '../../core/serialize.js'
import { HTTP_CLOSE_TIMEOUT_MS, checkChoice, checkObject, integerOption, resolveDeliverySettings, urlOption, type DeliveryOptions, type DeliverySettings } from '../delivery/options.js'
import { wellFormedEntries } from './any-value.js'
import { OTLP_ENCODINGS, type OtlpEncoding } from './encoding.js'

/** Records per request, at most: the default `maxExportBatchSize` of OpenTelemetry's BatchLogRecordProcessor. */
export const OTLP_BATCH_SIZE = 512
/** The longest a record waits to be sent with those that come after it (BatchLogRecordProcessor's `scheduledDelayMillis`). */
export const OTLP_BATCH_INTERVAL_MS = 1_000
/** Records held while they wait (BatchLogRecordProcessor's `maxQueueSize`); past it the oldest are dropped and counted. */
export const OTLP_MAX_QUEUE_RECORDS = 2_048
/** A batch stops growing at this many bytes (one larger record still goes, alone): well under the 20 MiB a Collector takes by default. */
export const OTLP_MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** Retries of one request after a 429, 502, 503, 504, a network error or a timeout; then its records are dropped and counted. */
export const OTLP_MAX_RETRIES = 5
/** The first backoff after a failure; it doubles on each retry, with jitter. */
export const OTLP_RETRY_BASE_DELAY_MS = 1_000
/** The longest backoff between two attempts. */
export const OTLP_RETRY_MAX_DELAY_MS = 30_000
/** How long one request may take, answer included (the default of OTEL_EXPORTER_OTLP_TIMEOUT). */
export const OTLP_TIMEOUT_MS = 10_000
/** The longest `flush()` waits for the queue to empty. */
export const OTLP_FLUSH_TIMEOUT_MS = 5_000
/** The longest `flushSync()` (process exit, `fatal`) blocks while it sends what is pending. */
export const OTLP_EXIT_TIMEOUT_MS = 2_000

/** Options of `otlpSink()`. Durations are in milliseconds. */
export interface OtlpSinkOptions extends DeliveryOptions {
  /** The OTLP/HTTP logs endpoint, path included: `http://localhost:4318/v1/logs`. */
  url: string
  /**
   * Resource attributes: `{ 'service.name': 'checkout', 'deployment.environment.name': 'prod' }`.
   * `service.name` defaults to `unknown_service:<process>`; `process.pid` and `host.name` are added unless given.
   */
  resource?: { readonly [key: string]: unknown }
  /** `'protobuf'` (default: the encoding the OTLP spec declares Stable, and the one every receiver takes) or `'json'`. */
  encoding?: OtlpEncoding
  /** Sent with every request, for authentication: `{ authorization: 'Bearer …' }`. Their values never appear in an error. */
  headers?: { readonly [name: string]: string }
  /** The lowest level sent; default everything the logger passes. */
  level?: LevelInput
  /** Records per request, at most; default 512. A full batch is sent at once. */
  batchSize?: number
}

/** The options, checked once, with the defaults filled in. */
export interface OtlpSettings extends DeliverySettings {
  readonly url: URL
  readonly encoding: OtlpEncoding
  readonly resource: ReadonlyMap<string, Plain>
  readonly headers: Readonly<Record<string, string>>
  readonly level: number
  readonly batchSize: number
}

const OTLP_DELIVERY: DeliverySettings = {
  batchIntervalMs: OTLP_BATCH_INTERVAL_MS,
  maxQueue: OTLP_MAX_QUEUE_RECORDS,
  maxRetries: OTLP_MAX_RETRIES,
  retryBaseDelayMs: OTLP_RETRY_BASE_DELAY_MS,
  retryMaxDelayMs: OTLP_RETRY_MAX_DELAY_MS,
  timeoutMs: OTLP_TIMEOUT_MS,
  flushTimeoutMs: OTLP_FLUSH_TIMEOUT_MS,
  closeTimeoutMs: HTTP_CLOSE_TIMEOUT_MS,
  exitTimeoutMs: OTLP_EXIT_TIMEOUT_MS,
}

/** Headers the sink sets itself from the encoding and the body; given ones would contradict them. */
const RESERVED_HEADERS = ['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'host']

function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

function describe(value: unknown): string {
  return `\`${String(value)}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`
}

/**
 * Header names and values, checked now so a request can never fail on them later. A
 * value may be a credential: an error names the header and the value's length, never the value.
 */
export function headersOption(value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) throw new TypeError(`Expected \`headers\` to be an object of header names and string values, got ${describe(value)}`)
  const headers: Record<string, string> = {}
  for (const [name, headerValue] of Object.entries(value)) {
    try {
      validateHeaderName(name)
    } catch {
      throw new TypeError(`Expected \`headers\` to have HTTP header names (RFC 9110 tokens), got \`${JSON.stringify(name)}\` (string)`)
    }
    const lower = name.toLowerCase()
    if (RESERVED_HEADERS.includes(lower)) throw new TypeError(`Expected \`headers\` to leave out \`${lower}\`, which the sink sets from \`encoding\` and the body, got it set`)
    if (typeof headerValue !== 'string') throw new TypeError(`Expected \`headers.${name}\` to be a string, got a value of type ${headerValue === null ? 'null' : typeof headerValue}`)
    try {
      validateHeaderValue(name, headerValue)
    } catch {
      throw new TypeError(`Expected \`headers.${name}\` to be a valid header value (no line breaks or control characters), got a string of ${headerValue.length} characters`)
    }
    headers[lower] = headerValue
  }
  return headers
}

/**
 * The resource: the given attributes (any JSON-able values, serialized as log fields are)
 * over the defaults. `service.name` falls back to `unknown_service:<executable>`, as the
 * resource semantic conventions ask of an SDK.
 */
export function resourceOption(value: unknown): Map<string, Plain> {
  if (value !== undefined && !isPlainObject(value)) throw new TypeError(`Expected \`resource\` to be an object of attributes such as { 'service.name': 'api' }, got ${describe(value)}`)
  const given = value === undefined ? {} : serialize(value)
  const resource = new Map<string, Plain>([
    ['service.name', `unknown_service:${basename(process.argv0) || 'node'}`],
    ['process.pid', process.pid],
    ['host.name', hostname()],
  ])
  if (given !== null && typeof given === 'object' && !Array.isArray(given)) for (const [key, attribute] of wellFormedEntries(Object.entries(given))) resource.set(key, attribute)
  const serviceName = resource.get('service.name')
  if (typeof serviceName !== 'string' || serviceName === '') throw new TypeError(`Expected \`resource['service.name']\` to be a non-empty string, got ${describe(serviceName)}`)
  return resource
}

/** Checks every option; throws on the first bad one, naming it. */
export function resolveOtlpSettings(options: OtlpSinkOptions): OtlpSettings {
  checkObject(options, 'otlpSink()')
  const url = urlOption(options.url, 'url')
  return {
    url,
    encoding: checkChoice(options.encoding, 'encoding', OTLP_ENCODINGS, 'protobuf'),
    resource: resourceOption(options.resource),
    headers: headersOption(options.headers),
    level: options.level === undefined ? 0 : levelValue(options.level),
    batchSize: integerOption(options.batchSize, 'batchSize', OTLP_BATCH_SIZE, 1),
    ...resolveDeliverySettings(options, OTLP_DELIVERY),
  }
}
