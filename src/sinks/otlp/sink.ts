import http from 'node:http'
import https from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Formatter } from '../../core/format/formatter.js'
import { LEVEL_VALUES } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { registerSink, unregisterSink } from '../registry.js'
import { FlushTimeoutError, FlushWaiters } from '../delivery/flush-timeout.js'
import { DROP_REASONS, DropTally, type DropCounts, type DropReason } from '../delivery/drops.js'
import { MIN_SYNC_SEND_MS, SYNC_BUDGET_WINDOW_MS, sendSync, type SyncSendResult } from '../delivery/exit-send.js'
import { RecordQueue } from '../delivery/record-queue.js'
import { retryAfterHeaderMs } from '../delivery/retry-after.js'
import { backoffMs } from '../delivery/backoff.js'
import { Scrubber } from '../delivery/scrubber.js'
import { jsonEncoder } from './encode-json.js'
import { protobufEncoder } from './encode-protobuf.js'
import type { OtlpEncoder, OtlpEncoding } from './encoding.js'
import { postBytes, type ExportAnswer } from './http-post.js'
import { toOtlpRecord } from './log-record.js'
import { OTLP_MAX_REQUEST_BYTES, resolveOtlpSettings, type OtlpSettings, type OtlpSinkOptions } from './options.js'
import { readPartialSuccess, readStatusMessage, type PartialSuccess } from './response.js'
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

/** One request: the records taken from the queue together, and its body, built once for all its attempts. */
interface Batch {
  readonly records: readonly Buffer[]
  /** The drop counts told in the notice at the front of the request, settled when it gets through. */
  readonly notice: DropCounts | undefined
  readonly body: Buffer
}

/** What an answer means, a closed set. */
type Outcome =
  | { readonly kind: 'sent'; readonly partial: PartialSuccess | undefined }
  /** 429, 502, 503, 504, a network error or a timeout: wait (what the server says, if it does), then retry. */
  | { readonly kind: 'retry'; readonly waitMs: number | undefined; readonly error: Error }
  /** Any other answer: the same request would fail again. */
  | { readonly kind: 'rejected'; readonly error: Error }

type Delivery =
  | Exclude<Outcome, { kind: 'retry' }>
  | { readonly kind: 'retries exhausted'; readonly error: Error }
  /** flushSync() took the records over; the asynchronous attempt is void. */
  | { readonly kind: 'superseded' }

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function records(count: number): string {
  return count === 1 ? '1 record' : `${count} records`
}

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
 * off the log call's path. Each record is mapped to the logs data model and encoded when it
 * is logged; the bytes wait in a bounded queue (the oldest dropped and counted when full)
 * and go in batches of `batchSize` records or every `batchInterval`, one request at a time,
 * retried on 429, 502, 503, 504 and network errors within `maxRetries`. Drops are told to
 * the server in a record at the front of the next request that gets through, and once on
 * stderr. `flushSync()` (process exit, `fatal`) sends what waits within `exitTimeout`.
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
  readonly #headers: Readonly<Record<string, string>>
  readonly #scrubber: Scrubber
  readonly #activeTrace: ActiveTraceReader | undefined
  readonly #queue: RecordQueue<Buffer>
  readonly #drops = new DropTally()
  readonly #waiters = new FlushWaiters()
  readonly #agent: http.Agent
  #batch: Batch | undefined
  #sent = 0
  #timer: NodeJS.Timeout | undefined
  #running = false
  // Set by the interval timer and by flush(): send what waits even if it is less than a batch, until the queue is empty.
  #draining = false
  // Bumped by flushSync(): an asynchronous attempt of an older generation is void.
  #generation = 0
  #abort = new AbortController()
  #pausedUntil = 0
  #registered = false
  #closed = false
  #closing: Promise<void> | undefined
  // What is left of `exitTimeout` for synchronous sends until #syncWindowEnd (see SYNC_BUDGET_WINDOW_MS).
  #syncBudgetMs = 0
  #syncWindowEnd = 0

  constructor(options: OtlpSinkOptions) {
    const settings = resolveOtlpSettings(options)
    this.#settings = settings
    this.url = settings.url
    this.encoding = settings.encoding
    this.level = settings.level
    this.name = sinkName(settings.url)
    this.failures = new FailureReport(this.name)
    this.#encoder = ENCODERS[settings.encoding](settings.resource)
    this.#headers = { ...settings.headers, 'content-type': this.#encoder.contentType }
    this.#scrubber = new Scrubber(secretsOf(settings.url, settings.headers))
    this.#activeTrace = activeTraceReader()
    this.#queue = new RecordQueue(settings.maxQueue)
    // One connection, kept alive (OTLP spec, "OTLP/HTTP Connection"): requests go one at a time.
    this.#agent = new (settings.url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 })
    this.#register()
  }

  /** Records the server accepted: sent, less those a partial success rejected. */
  get sent(): number {
    return this.#sent
  }

  /** Records dropped since the sink was made, for any reason. */
  get dropped(): number {
    return this.#drops.total
  }

  /** Records dropped, by reason: `queue full`, `retries exhausted`, `rejected` (a 4xx, a 500, or a partial success), `invalid body`. */
  get drops(): OtlpDropCounts {
    const counts = {} as Record<DropReason, number>
    const totals = this.#drops.totals()
    for (const reason of DROP_REASONS) counts[reason] = totals.get(reason) ?? 0
    return counts
  }

  /** Records waiting or being sent. */
  get pending(): number {
    return this.#queue.length + (this.#batch?.records.length ?? 0)
  }

  write(_line: string, record: LogRecord): void {
    if (this.#closed) {
      this.#count('left at close', 1, new OtlpExportError('a record written after close() was dropped'), 'write')
      return
    }
    let encoded: Buffer
    try {
      encoded = this.#encoder.record(toOtlpRecord(record, Date.now(), this.#activeTrace))
    } catch (error) {
      this.#count('invalid body', 1, new OtlpExportError(`a record could not be encoded: ${asError(error).message}`), 'encoding')
      return
    }
    if (this.#queue.push(encoded)) {
      this.#count('queue full', 1, new OtlpExportError(`more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting; the oldest was dropped`), 'enqueue')
    }
    this.#register()
    // A full batch goes at once; a partial one waits for more, at most `batchInterval`.
    if (this.#queue.length >= this.#settings.batchSize) this.#start()
    else this.#schedule()
  }

  /** Resolves when every record is sent (or dropped and counted); rejects with FlushTimeoutError after `flushTimeout`. */
  async flush(): Promise<void> {
    if (this.#idle) return
    this.#draining = true
    this.#start()
    const { flushTimeoutMs } = this.#settings
    await this.#waiters.wait(() => this.#idle, flushTimeoutMs, () => new FlushTimeoutError(this.name, this.pending, flushTimeoutMs, 'sent'))
  }

  /**
   * Sends what waits before returning, blocking at most `exitTimeout`, newest records first:
   * the record that describes a crash is the last one logged. A request the asynchronous
   * path has in flight is sent again (at least once beats lost; the OTLP spec accepts
   * duplicates). What could not be sent goes back to the queue, for the asynchronous path
   * if the process goes on.
   */
  flushSync(): void {
    this.#clearTimer()
    if (this.#idle) return
    const started = Date.now()
    if (started > this.#syncWindowEnd) this.#syncBudgetMs = this.#settings.exitTimeoutMs
    if (this.#syncBudgetMs < MIN_SYNC_SEND_MS) {
      const message = `${records(this.pending)} not sent synchronously: a synchronous send failed less than ${SYNC_BUDGET_WINDOW_MS} ms ago and used up \`exitTimeout\` (${this.#settings.exitTimeoutMs} ms); still queued if the process goes on`
      this.failures.report(new OtlpExportError(message), 'flushSync')
      return
    }
    const boundMs = this.#syncBudgetMs
    this.#generation++
    this.#abort.abort()
    this.#abort = new AbortController()
    this.#running = false
    const waiting = [...(this.#batch?.records ?? []), ...this.#queue.toArray()]
    this.#batch = undefined
    this.#queue.removeFront(this.#queue.length)
    const chunks = this.#chunks(waiting)
    const notice = this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
    // Newest first; the notice rides with them, in the request most likely to get through.
    const newestFirst = [...chunks].reverse()
    const bodies = newestFirst.map((chunk, position) => this.#encoder.request(position === 0 && notice !== undefined ? [this.#noticeRecord(notice), ...chunk] : chunk))
    const outcome = sendSync(
      bodies.map((body) => ({ url: this.url.href, headers: this.#headers, body: syncBody(body) })),
      { boundMs, timeoutMs: this.#settings.timeoutMs, okField: false },
    )
    const unsent: Buffer[] = []
    chunks.forEach((chunk, index) => {
      if (outcome.sent[chunks.length - 1 - index] === true) this.#sent += chunk.length
      else unsent.push(...chunk)
    })
    if (notice !== undefined && outcome.sent[0] === true) this.#drops.settle(notice)
    if (outcome.sent.every(Boolean)) this.#syncWindowEnd = 0
    else {
      this.#syncBudgetMs -= Date.now() - started
      this.#syncWindowEnd = Date.now() + SYNC_BUDGET_WINDOW_MS
    }
    const overflow = this.#queue.unshift(unsent)
    if (overflow > 0) this.#count('queue full', overflow, new OtlpExportError(`more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting after a synchronous send`), 'flushSync')
    if (unsent.length > 0) this.#reportSyncFailure(outcome, boundMs, unsent.length)
    this.#waiters.notify()
    // A flush() waiting meanwhile must not wait for the interval: the records go back to the asynchronous path now.
    if (this.#queue.length > 0) {
      if (this.#draining) this.#start()
      else this.#schedule()
    }
  }

  /**
   * Flushes once, within `flushTimeout`, then ends: what is still waiting is dropped and
   * counted, the connection is let go, the sink leaves the exit registry, and what was not
   * delivered over the sink's life is told once on stderr. Always settles; a second call gets
   * the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** At exit: what waits is sent synchronously within `exitTimeout` (see flushSync), then the sink ends and tells what it did not deliver. */
  exitSync(): void {
    if (this.#closed) return
    this.flushSync()
    this.#end('at exit')
  }

  async #close(): Promise<void> {
    try {
      await this.flush()
    } catch (error) {
      this.failures.report(error, 'close')
    }
    if (!this.#closed) this.#end('at close()')
  }

  /** Stops every attempt, counts what waits as dropped, lets go of the connection, and tells the loss once. */
  #end(when: string): void {
    this.#closed = true
    this.#clearTimer()
    this.#generation++
    this.#abort.abort()
    const left = this.pending
    this.#batch = undefined
    this.#queue.removeFront(this.#queue.length)
    if (left > 0) this.#count('left at close', left, new OtlpExportError(`${records(left)} still waiting ${when}`), when)
    this.#agent.destroy()
    if (this.#registered) unregisterSink(this)
    this.#registered = false
    this.failures.tellLoss(this.#drops.total, ` (${DropTally.reasons(this.#drops.totals())})`)
    this.#waiters.notify()
  }

  get #idle(): boolean {
    return this.#queue.length === 0 && this.#batch === undefined
  }

  #register(): void {
    if (this.#registered || this.#closed) return
    registerSink(this)
    this.#registered = true
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#draining = true
      this.#start()
    }, this.#settings.batchIntervalMs)
    // Logging never holds the process open: what waits at exit is sent by flushSync().
    this.#timer.unref()
  }

  #start(): void {
    if (this.#running) return
    this.#clearTimer()
    this.#running = true
    const generation = this.#generation
    this.#run(generation)
      .catch((error: unknown) => this.failures.report(error, 'send'))
      .finally(() => {
        if (generation !== this.#generation) return
        this.#running = false
        this.#waiters.notify()
        if (this.#queue.length > 0) this.#schedule()
      })
  }

  /**
   * Sends batches one at a time: full ones as they fill, and, once the interval has passed
   * or flush() asks, everything that waits. Like OpenTelemetry's BatchLogRecordProcessor, a
   * partial batch left after a full one waits for the timer rather than going at once.
   */
  async #run(generation: number): Promise<void> {
    while (generation === this.#generation) {
      const due = this.#draining || this.#queue.length >= this.#settings.batchSize
      const batch = this.#batch ?? (due ? this.#nextBatch() : undefined)
      if (batch === undefined) {
        if (this.#queue.length === 0) this.#draining = false
        return
      }
      this.#batch = batch
      const delivery = await this.#deliver(batch, generation)
      if (delivery.kind === 'superseded' || generation !== this.#generation) return
      this.#batch = undefined
      this.#settle(batch, delivery)
      this.#waiters.notify()
    }
  }

  /** Takes the next batch from the queue, with the drop notice at its front when one is due. */
  #nextBatch(): Batch | undefined {
    const taken = this.#take(this.#queue.length, (index) => this.#queue.at(index))
    if (taken.length === 0) return undefined
    this.#queue.removeFront(taken.length)
    const notice = this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
    const body = this.#encoder.request(notice === undefined ? taken : [this.#noticeRecord(notice), ...taken])
    return { records: taken, notice, body }
  }

  /** As many records from the front as one request takes: `batchSize`, within OTLP_MAX_REQUEST_BYTES (one larger record goes alone). */
  #take(length: number, at: (index: number) => Buffer | undefined): Buffer[] {
    const taken: Buffer[] = []
    let bytes = 0
    while (taken.length < Math.min(length, this.#settings.batchSize)) {
      const next = at(taken.length)
      if (next === undefined) break
      const size = next.length + this.#encoder.overheadPerRecord
      if (taken.length > 0 && bytes + size > OTLP_MAX_REQUEST_BYTES) break
      taken.push(next)
      bytes += size
    }
    return taken
  }

  /** `records` cut into requests as the asynchronous path would, oldest first. */
  #chunks(all: readonly Buffer[]): Buffer[][] {
    const chunks: Buffer[][] = []
    for (let offset = 0; offset < all.length; ) {
      const chunk = this.#take(all.length - offset, (index) => all[offset + index])
      chunks.push(chunk)
      offset += chunk.length
    }
    return chunks
  }

  /** Sends one request until it gets through, is refused, or runs out of retries. */
  async #deliver(batch: Batch, generation: number): Promise<Delivery> {
    const { maxRetries, retryBaseDelayMs, retryMaxDelayMs, timeoutMs } = this.#settings
    const scrub = (text: string): string => this.#scrubber.scrub(text)
    for (let retries = 0; ; ) {
      if (!(await this.#wait(this.#pausedUntil - Date.now()))) return { kind: 'superseded' }
      let outcome: Outcome
      try {
        const answer = await postBytes(this.url, this.#headers, batch.body, { timeoutMs, signal: this.#abort.signal, agent: this.#agent, scrub })
        outcome = this.#classify(answer)
      } catch (error) {
        outcome = { kind: 'retry', waitMs: undefined, error: asError(error) }
      }
      if (generation !== this.#generation) return { kind: 'superseded' }
      if (outcome.kind !== 'retry') return outcome
      retries++
      if (retries > maxRetries) {
        const error = new OtlpExportError(scrub(`gave up after ${retries} attempts (\`maxRetries\` is ${maxRetries}); the last failed with ${outcome.error.message}`), (outcome.error as { status?: number }).status)
        return { kind: 'retries exhausted', error }
      }
      const wait = outcome.waitMs ?? backoffMs(retries, retryBaseDelayMs, retryMaxDelayMs)
      this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + wait)
    }
  }

  #classify(answer: ExportAnswer): Outcome {
    const { status } = answer
    const contentType = answer.headers['content-type']
    if (status >= 200 && status < 300) return { kind: 'sent', partial: readPartialSuccess(answer.body, contentType, this.encoding) }
    const said = readStatusMessage(answer.body, contentType, this.encoding)
    const error = new OtlpExportError(this.#scrubber.scrub(`HTTP ${status}${said === '' ? '' : `: ${said}`}`), status)
    if (!OTLP_RETRYABLE_STATUSES.has(status)) return { kind: 'rejected', error }
    return { kind: 'retry', waitMs: retryAfterHeaderMs(answer.headers), error }
  }

  /** Counts what a finished request delivered or lost. */
  #settle(batch: Batch, delivery: Exclude<Delivery, { kind: 'superseded' }>): void {
    const count = batch.records.length
    if (delivery.kind === 'sent') {
      if (batch.notice !== undefined) this.#drops.settle(batch.notice)
      const rejected = Math.min(delivery.partial?.rejected ?? 0, count)
      this.#sent += count - rejected
      if (rejected > 0) {
        const said = delivery.partial?.message ?? ''
        const error = new OtlpExportError(this.#scrubber.scrub(`the server took the request but rejected ${records(rejected)} of ${count} (partial success)${said === '' ? '' : `: ${said}`}`))
        this.#count('rejected', rejected, error, 'send')
      }
      return
    }
    this.#count(delivery.kind === 'rejected' ? 'rejected' : 'retries exhausted', count, delivery.error, 'send')
  }

  /** Waits, unless flushSync() takes over meanwhile; resolves false then. */
  async #wait(ms: number): Promise<boolean> {
    const signal = this.#abort.signal
    if (ms > 0) {
      try {
        // Unref'd: a backoff must not hold the process open either.
        await sleep(ms, undefined, { signal, ref: false })
      } catch {
        return false
      }
    }
    return !signal.aborted
  }

  /** Adds to the tally for the next notice and reports on stderr (once per sink): a record is never dropped silently. */
  #count(reason: DropReason, count: number, error: Error, during: string): void {
    this.#drops.add(reason, count)
    this.failures.report(new OtlpExportError(this.#scrubber.scrub(`${records(count)} dropped (${reason}): ${error.message}`), (error as { status?: number }).status), during)
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

  #reportSyncFailure(outcome: SyncSendResult, boundMs: number, unsent: number): void {
    const sent = outcome.sent.filter(Boolean).length
    const last = outcome.lastFailure === 'timeout' ? 'no answer in time' : outcome.lastFailure === 'network' ? 'a network error' : outcome.lastStatus !== undefined ? `HTTP ${outcome.lastStatus}` : 'no answer'
    const why = outcome.startError !== undefined
      ? `the sending thread could not start (${this.#scrubber.scrub(asError(outcome.startError).message)})`
      : outcome.finished
        ? `the requests failed (the last with ${last})`
        : `\`exitTimeout\` (${this.#settings.exitTimeoutMs} ms${boundMs < this.#settings.exitTimeoutMs ? `, ${boundMs} ms of it left after an earlier failure` : ''}) passed first (the last request had ${last})`
    const message = `${sent} of ${outcome.sent.length} requests sent synchronously: ${why}; ${records(unsent)} not sent (still queued if the process goes on)`
    this.failures.report(new OtlpExportError(message), 'flushSync')
  }
}

/**
 * The body as `sendSync()` takes it. Its type says string, but its worker hands the body to
 * `Buffer.byteLength()` and `request.end()`, which take bytes as well, and a Buffer crosses
 * to the worker as a Uint8Array. Widening `SyncRequest.body` to `string | Uint8Array` in
 * webhook/exit-send.ts would make this cast unneeded.
 */
function syncBody(body: Buffer): string {
  return body as unknown as string
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
