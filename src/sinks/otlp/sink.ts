import type { Formatter } from '../../core/format/formatter.js'
import { LEVEL_VALUES } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { DropTally, records, type DropCounts, type DropReason } from '../delivery/drops.js'
import { DeliveryEngine, type DeliveryRequest, type EntrySource, type Packing, type Verdict } from '../delivery/engine.js'
import type { RawAnswer } from '../delivery/http.js'
import { retryAfterHeaderMs } from '../delivery/retry-after.js'
import { Scrubber } from '../delivery/scrubber.js'
import { jsonEncoder } from './encode-json.js'
import { protobufEncoder } from './encode-protobuf.js'
import type { OtlpEncoder, OtlpEncoding } from './encoding.js'
import { OtlpRequestError } from './request-error.js'
import { toOtlpRecord } from './log-record.js'
import { OTLP_MAX_REQUEST_BYTES, resolveOtlpSettings, type OtlpSettings, type OtlpSinkOptions } from './options.js'
import { readPartialSuccess, readStatusMessage } from './response.js'
import { activeTraceReader, type ActiveTraceReader } from './trace-context.js'

/** The answers after which the same request is tried again (OTLP spec, "Failures"); every other 4xx and 5xx is final. */
export const OTLP_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

const ENCODERS = { protobuf: protobufEncoder, json: jsonEncoder } as const

/** The logger formats a line for every sink; this sink encodes the record itself, so its line is empty and costs nothing. */
const NO_LINE: Formatter = { key: 'otlp:none', needsCallsite: false, format: () => '' }

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/** A failure to deliver records: an error answer, or retries run out. Its message never holds a header value. */
export class OtlpExportError extends Error {
  override readonly name = 'OtlpExportError'

  constructor(
    message: string,
    /** The HTTP status of the answer, when there was one. */
    readonly status?: number,
  ) {
    super(message)
  }
}

/** Records dropped since the sink was made, by reason. */
export type OtlpDropCounts = Readonly<Record<DropReason, number>>

/** What may carry a credential: header values, and the URL's user info and query. */
function secretsOf(url: URL, headers: Readonly<Record<string, string>>): string[] {
  const secrets = [...Object.values(headers), url.username, url.password, url.search]
  for (const [, value] of url.searchParams) secrets.push(value)
  return secrets
}

/** `otlp http://collector:4318/v1/logs`: the URL without user info or query, which may hold credentials. */
function sinkName(url: URL): string {
  return `otlp ${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`
}

/**
 * A sink that sends records to an OpenTelemetry Collector (or any OTLP/HTTP logs endpoint),
 * off the log call's path, through the one delivery engine of the HTTP sinks (see
 * `DeliveryEngine`). Each record is mapped to the logs data model and encoded when it is
 * logged; the bytes wait in a bounded queue (the oldest dropped and counted when full) and
 * go in batches of `batchSize` records or every `batchInterval`, one request at a time,
 * retried on 429, 502, 503, 504 and network errors within `maxRetries`. Drops are told to
 * the server in a record at the front of the next request that gets through, and once on
 * stderr. `flushSync()` (process exit, `fatal`) sends what waits within `exitTimeout`,
 * newest first.
 */
export class OtlpSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter = NO_LINE
  readonly failures: FailureReport
  readonly url: URL
  readonly encoding: OtlpEncoding
  readonly #settings: OtlpSettings
  readonly #encoder: OtlpEncoder
  readonly #activeTrace: ActiveTraceReader | undefined
  readonly #engine: DeliveryEngine<Buffer>

  constructor(options: OtlpSinkOptions) {
    const settings = resolveOtlpSettings(options)
    this.#settings = settings
    this.url = settings.url
    this.encoding = settings.encoding
    this.level = settings.level
    this.name = sinkName(settings.url)
    this.failures = new FailureReport(this.name)
    this.#encoder = ENCODERS[settings.encoding](settings.resource)
    this.#activeTrace = activeTraceReader()
    const scrubber = new Scrubber(secretsOf(settings.url, settings.headers))
    this.#engine = new DeliveryEngine<Buffer>(
      {
        name: this.name,
        url: settings.url,
        headers: { ...settings.headers, 'content-type': this.#encoder.contentType },
        scrubber,
        okField: false,
        requestNoun: 'requests',
        sendAtCount: settings.batchSize,
        newestFirstAtExit: true,
        pack: (source, drops) => this.#pack(source, drops),
        classify: (answer, request) => this.#classify(answer, request, scrubber),
        error: (message, status) => new OtlpExportError(message, status),
        noAnswer: (message, failure, code) => new OtlpRequestError(message, failure, code),
      },
      settings,
      this.failures,
      this,
    )
  }

  /** Records the server accepted: sent, less those a partial success rejected. */
  get sent(): number {
    return this.#engine.sent
  }

  /** Records dropped since the sink was made, for any reason. */
  get dropped(): number {
    return this.#engine.dropped
  }

  /** Records dropped, by reason: `queue full`, `retries exhausted`, `rejected` (a 4xx, a 500, or a partial success), `invalid body`, `left at close`. */
  get drops(): OtlpDropCounts {
    return this.#engine.drops
  }

  /** Records waiting or being sent. */
  get pending(): number {
    return this.#engine.pending
  }

  write(_line: string, record: LogRecord): void {
    let encoded: Buffer
    try {
      encoded = this.#encoder.record(toOtlpRecord(record, Date.now(), this.#activeTrace))
    } catch (error) {
      this.#engine.drop('invalid body', 1, `a record could not be encoded: ${error instanceof Error ? error.message : String(error)}`, 'encoding')
      return
    }
    this.#engine.write(encoded)
  }

  /** Resolves when every record is sent (or dropped and counted); rejects with FlushTimeoutError after `flushTimeout`. */
  flush(): Promise<void> {
    return this.#engine.flush()
  }

  /**
   * Sends what waits before returning, blocking at most `exitTimeout`, newest records first:
   * the record that describes a crash is the last one logged. A request the asynchronous
   * path has in flight is sent again (at least once beats lost; the OTLP spec accepts
   * duplicates). What could not be sent goes back to the queue, for the asynchronous path
   * if the process goes on.
   */
  flushSync(): void {
    this.#engine.flushSync()
  }

  /** Flushes once within `flushTimeout`, then ends; what was not delivered is counted and told once. Always settles. */
  close(): Promise<void> {
    return this.#engine.close()
  }

  /** At exit: sends what waits within `exitTimeout`, then ends and tells what was not delivered. */
  exitSync(): void {
    this.#engine.exitSync()
  }

  /** As many records from the front as one request takes: `batchSize`, within OTLP_MAX_REQUEST_BYTES (one larger record goes alone). */
  #pack(source: EntrySource<Buffer>, drops: DropCounts | undefined): Packing<Buffer> {
    const taken: Buffer[] = []
    let bytes = 0
    while (taken.length < Math.min(source.length, this.#settings.batchSize)) {
      const next = source.at(taken.length)
      if (next === undefined) break
      const size = next.length + this.#encoder.overheadPerRecord
      if (taken.length > 0 && bytes + size > OTLP_MAX_REQUEST_BYTES) break
      taken.push(next)
      bytes += size
    }
    if (taken.length === 0) return { requests: [], used: 0 }
    const body = this.#encoder.request(drops === undefined ? taken : [this.#noticeRecord(drops), ...taken])
    return { requests: [{ body, entries: taken }], used: taken.length }
  }

  #classify(answer: RawAnswer, request: DeliveryRequest<Buffer>, scrubber: Scrubber): Verdict {
    const { status } = answer
    const contentType = answer.headers['content-type']
    if (status >= 200 && status < 300) {
      const partial = readPartialSuccess(answer.bytes, contentType, this.encoding)
      const count = request.entries.length
      const rejected = Math.min(partial?.rejected ?? 0, count)
      if (rejected === 0) return { kind: 'sent' }
      const said = partial?.message ?? ''
      const error = new OtlpExportError(scrubber.scrub(`the server took the request but rejected ${records(rejected)} of ${count} (partial success)${said === '' ? '' : `: ${said}`}`))
      return { kind: 'sent', refused: { count: rejected, error } }
    }
    const said = readStatusMessage(answer.bytes, contentType, this.encoding)
    const error = new OtlpExportError(scrubber.scrub(`HTTP ${status}${said === '' ? '' : `: ${said}`}`), status)
    if (!OTLP_RETRYABLE_STATUSES.has(status)) return { kind: 'rejected', error }
    return { kind: 'retry', waitMs: retryAfterHeaderMs(answer.headers), error }
  }

  /** The record that tells the server what was dropped, encoded like any other. */
  #noticeRecord(counts: DropCounts): Buffer {
    let total = 0
    const byReason: Record<string, number> = {}
    for (const [reason, count] of counts) {
      total += count
      byReason[reason] = count
    }
    const now = Date.now()
    const record: LogRecord = {
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: now,
      msg: `blackbox: ${DropTally.describe(counts).replace(/^… /, '')} by ${this.name}`,
      context: NOTICE_CONTEXT,
      fields: { 'blackbox.dropped': total, 'blackbox.dropped_by_reason': byReason },
      err: undefined,
      callsite: undefined,
    }
    return this.#encoder.record(toOtlpRecord(record, now, undefined))
  }
}

/**
 * A sink that sends records to an OpenTelemetry Collector or any OTLP/HTTP logs endpoint,
 * in the OpenTelemetry logs data model: severity from the level, the message as the body,
 * bindings and fields as attributes, errors as `exception.*`, trace and span ids from the
 * fields or the active OpenTelemetry span. A log call never waits for the network.
 *
 * ```ts
 * otlpSink({ url: 'http://localhost:4318/v1/logs', resource: { 'service.name': 'checkout' } })
 * ```
 */
export function otlpSink(options: OtlpSinkOptions): OtlpSink {
  return new OtlpSink(options)
}
