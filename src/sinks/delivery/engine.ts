import http from 'node:http'
import https from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FailureReport } from '../../core/sink.js'
import { registerSink, unregisterSink, type Flushable } from '../registry.js'
import { backoffMs } from './backoff.js'
import { DROP_REASONS, DropTally, records, type DropCounts, type DropReason } from './drops.js'
import { MIN_SYNC_SEND_MS, SYNC_BUDGET_WINDOW_MS, sendSync, type SyncSendResult } from './exit-send.js'
import { FlushTimeoutError, FlushWaiters } from './flush-timeout.js'
import { postRaw, type NoAnswerError, type RawAnswer } from './http.js'
import type { DeliverySettings } from './options.js'
import { RecordQueue } from './record-queue.js'
import type { Scrubber } from './scrubber.js'

/** One HTTP request: its body, and the records it carries (a record split in parts is in several). */
export interface DeliveryRequest<E> {
  readonly body: string | Uint8Array
  /** The application's records only: never the sink's own drop notice. */
  readonly entries: readonly E[]
}

/** The next requests, packed from the front of a source. */
export interface Packing<E> {
  readonly requests: readonly DeliveryRequest<E>[]
  /** How many entries from the front of the source they carry. */
  readonly used: number
  /** Set when no body could be built for those entries; they are dropped ('invalid body'). */
  readonly error?: unknown
}

/** What a protocol packs from: the queue, or a plain array on the synchronous path. */
export interface EntrySource<E> {
  readonly length: number
  at(index: number): E | undefined
}

/** What an answer means, a closed set. */
export type Verdict =
  /** Taken; a partial success may still have refused some records (OTLP). */
  | { readonly kind: 'sent'; readonly refused?: { readonly count: number; readonly error: Error }; readonly pauseMs?: number }
  /** 429, 5xx, a timeout: wait (what the server said, if it did), then try the same request again. */
  | { readonly kind: 'retry'; readonly waitMs: number | undefined; readonly error: Error; readonly pauseMs?: number }
  /** The same request would fail again. */
  | { readonly kind: 'rejected'; readonly error: Error; readonly pauseMs?: number }

/**
 * What a service supplies to the engine: how to pack records into requests, and how to read
 * an answer. Everything else (the queue, batching, retries and backoff, `Retry-After`, the
 * drop tally and its notice, flush, close, the synchronous send at exit) is the engine's.
 */
export interface DeliveryProtocol<E extends object> {
  /** Names the sink in reports, with every secret masked. */
  readonly name: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly scrubber: Scrubber
  /** A 2xx whose JSON says `ok: false` is a failure (Telegram); the exit worker checks it too. */
  readonly okField: boolean
  /** What one request is called in reports: `messages` (a chat) or `requests`. */
  readonly requestNoun: string
  /** A full batch of this many records goes at once (OTLP's `batchSize`); without it, only `batchInterval` or flush() starts a send. */
  readonly sendAtCount?: number
  /** At most this many requests on the synchronous path, holding the newest records (a chat's rate limit); default no limit. */
  readonly maxSyncRequests?: number
  /** The synchronous path sends the newest request first (the crash is the last record), else in order. */
  readonly newestFirstAtExit: boolean
  /**
   * Packs entries from the front of `source` into the next requests, with the notice of
   * `drops` first when given; uses at least one entry when `source` has any.
   */
  pack(source: EntrySource<E>, drops: DropCounts | undefined): Packing<E>
  /** Reads the answer to `request`. */
  classify(answer: RawAnswer, request: DeliveryRequest<E>): Verdict
  /** An error of the sink's own class; its message is scrubbed already. */
  error(message: string, status?: number): Error
  /** The error of a request that got no answer (refused, reset, timed out), of the sink's own class. */
  readonly noAnswer: NoAnswerError<Error>
}

/** The records taken from the queue at one time, as requests. */
interface Batch<E> {
  readonly requests: readonly DeliveryRequest<E>[]
  /** The index of the request being sent. */
  next: number
  /** The drop counts the first request tells, settled when it gets through. */
  readonly notice: DropCounts | undefined
}

type Delivery =
  | Exclude<Verdict, { kind: 'retry' }>
  | { readonly kind: 'retries exhausted'; readonly error: Error }
  /** flushSync() or the end took the records over; the asynchronous attempt is void. */
  | { readonly kind: 'superseded' }

/** The requests the synchronous path makes, chosen among the records waiting. */
interface SyncPlan<E> {
  /** Entries older than those chosen, left in the queue. */
  readonly left: readonly E[]
  readonly requests: readonly DeliveryRequest<E>[]
  /** Entries no body could be built for. */
  readonly invalid: readonly { readonly entries: readonly E[]; readonly error: unknown }[]
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function sliceSource<E>(entries: readonly E[], offset: number): EntrySource<E> {
  return { length: entries.length - offset, at: (index) => entries[offset + index] }
}

function statusOf(error: Error): number | undefined {
  const status = (error as { status?: unknown }).status
  return typeof status === 'number' ? status : undefined
}

/**
 * The one delivery engine of the HTTP sinks (webhooks, Discord, Slack, Telegram, OTLP), off
 * the log call's path. Records wait in a bounded queue (the oldest dropped and counted when
 * full), go in batches (at `batchInterval`, at a full batch, or on flush()), one request at a
 * time, retried with backoff and jitter or after what `Retry-After` asks, within `maxRetries`.
 * Drops are told in a notice at the front of the next request that gets through, and once on
 * stderr. `flushSync()` (process exit, `fatal`) sends what waits within `exitTimeout`;
 * `close()` flushes once and ends; at exit the sink ends and tells what it did not deliver.
 * Timers and sockets are unref'd: only a caller awaiting flush() or close() keeps the process.
 */
export class DeliveryEngine<E extends object> {
  readonly #protocol: DeliveryProtocol<E>
  readonly #settings: DeliverySettings
  readonly #failures: FailureReport
  readonly #owner: Flushable
  readonly #queue: RecordQueue<E>
  readonly #drops = new DropTally()
  readonly #waiters = new FlushWaiters()
  readonly #agent: http.Agent
  // A split record is counted once however many of its parts go or fail.
  readonly #counted = new WeakSet<E>()
  readonly #delivered = new WeakSet<E>()
  #batch: Batch<E> | undefined
  #noticeOut = false
  #sent = 0
  #timer: NodeJS.Timeout | undefined
  #running = false
  // Set by the interval timer and by flush(): send what waits even if it is less than a batch, until the queue is empty.
  #draining = false
  // Bumped by flushSync() and the end: an asynchronous attempt of an older generation is void.
  #generation = 0
  #abort = new AbortController()
  #pausedUntil = 0
  #registered = false
  #closed = false
  #closing: Promise<void> | undefined
  // What is left of `exitTimeout` for synchronous sends until #syncWindowEnd (see SYNC_BUDGET_WINDOW_MS).
  #syncBudgetMs = 0
  #syncWindowEnd = 0

  constructor(protocol: DeliveryProtocol<E>, settings: DeliverySettings, failures: FailureReport, owner: Flushable) {
    this.#protocol = protocol
    this.#settings = settings
    this.#failures = failures
    this.#owner = owner
    this.#queue = new RecordQueue(settings.maxQueue)
    // One connection, kept alive (OTLP spec, "OTLP/HTTP Connection"): requests go one at a time.
    this.#agent = new (protocol.url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 })
    this.#register()
  }

  /** Records the server took (a partial success's refused ones not counted). */
  get sent(): number {
    return this.#sent
  }

  /** Records dropped since the sink was made, for any reason. */
  get dropped(): number {
    return this.#drops.total
  }

  /** Records dropped, by reason. */
  get drops(): Readonly<Record<DropReason, number>> {
    const totals = this.#drops.totals()
    const counts = {} as Record<DropReason, number>
    for (const reason of DROP_REASONS) counts[reason] = totals.get(reason) ?? 0
    return counts
  }

  /** Records waiting or being sent. */
  get pending(): number {
    return this.#queue.length + this.#batchEntries().length
  }

  write(entry: E): void {
    if (this.#closed) {
      this.drop('left at close', 1, 'a record written after close() was dropped', 'write')
      return
    }
    if (this.#queue.push(entry)) {
      this.drop('queue full', 1, `more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting; the oldest was dropped`, 'enqueue')
    }
    this.#register()
    const { sendAtCount } = this.#protocol
    // A full batch goes at once; a partial one waits for more, at most `batchInterval`.
    if (sendAtCount !== undefined && this.#queue.length >= sendAtCount) this.#start()
    else this.#schedule()
  }

  /** Counts records dropped before they reach the queue (one that could not be encoded), and reports it. */
  drop(reason: DropReason, count: number, message: string, during: string, status?: number): void {
    this.#drops.add(reason, count)
    this.#failures.report(this.#protocol.error(this.#protocol.scrubber.scrub(`${records(count)} dropped (${reason}): ${message}`), status), during)
  }

  /** Resolves when every record is sent (or dropped and counted); rejects with FlushTimeoutError after `flushTimeout`. */
  async flush(): Promise<void> {
    if (this.#idle) return
    this.#draining = true
    this.#start()
    const { flushTimeoutMs } = this.#settings
    await this.#waiters.wait(() => this.#idle, flushTimeoutMs, () => new FlushTimeoutError(this.#protocol.name, this.pending, flushTimeoutMs, 'sent'))
  }

  /**
   * Sends what waits before returning, blocking at most `exitTimeout`. A request the
   * asynchronous path has in flight is sent again (at least once beats lost). What could not
   * be sent goes back to the queue, for the asynchronous path if the process goes on.
   */
  flushSync(): void {
    this.#clearTimer()
    if (this.#idle) return
    const started = Date.now()
    if (started > this.#syncWindowEnd) this.#syncBudgetMs = this.#settings.exitTimeoutMs
    if (this.#syncBudgetMs < MIN_SYNC_SEND_MS) {
      const message = `${records(this.pending)} not sent synchronously: a synchronous send failed less than ${SYNC_BUDGET_WINDOW_MS} ms ago and used up \`exitTimeout\` (${this.#settings.exitTimeoutMs} ms); still queued if the process goes on`
      this.#failures.report(this.#protocol.error(message), 'flushSync')
      return
    }
    const boundMs = this.#syncBudgetMs
    const waiting = this.#takeOver()
    const counts = this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
    const plan = this.#planSync(waiting, counts)
    for (const { entries, error } of plan.invalid) this.#dropEntries(entries, 'invalid body', asError(error).message, 'flushSync')
    const outcome = plan.requests.length === 0
      ? undefined
      : sendSync(plan.requests.map((request) => ({ url: this.#protocol.url.href, headers: this.#protocol.headers, body: request.body })), {
          boundMs,
          timeoutMs: this.#settings.timeoutMs,
          okField: this.#protocol.okField,
        })
    const unsent = new Set<E>()
    plan.requests.forEach((request, index) => {
      if (outcome?.sent[index] === true) this.#settleSent(request.entries, 0)
      else for (const entry of request.entries) if (!this.#delivered.has(entry)) unsent.add(entry)
    })
    if (counts !== undefined && outcome?.sent[0] === true) this.#drops.settle(counts)
    if (outcome === undefined || outcome.sent.every(Boolean)) this.#syncWindowEnd = 0
    else {
      this.#syncBudgetMs -= Date.now() - started
      this.#syncWindowEnd = Date.now() + SYNC_BUDGET_WINDOW_MS
    }
    const overflow = this.#queue.unshift([...plan.left, ...unsent])
    if (overflow > 0) this.drop('queue full', overflow, `more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting after a synchronous send`, 'flushSync')
    if (outcome !== undefined && outcome.sent.some((sent) => !sent)) this.#reportSyncFailure(outcome, boundMs, unsent.size + plan.left.length)
    else if (plan.left.length > 0) {
      // Not sent is not dropped while the process goes on; at exit it is lost, and that is said.
      const limit = this.#protocol.maxSyncRequests ?? 0
      const message = `${plan.left.length} older records not sent synchronously: only the newest fit in the ${limit} ${this.#protocol.requestNoun} sent within \`exitTimeout\`; still queued if the process goes on`
      this.#failures.report(this.#protocol.error(message), 'flushSync')
    }
    this.#waiters.notify()
    // A flush() waiting meanwhile must not wait for the interval: the records go back to the asynchronous path now.
    if (this.#queue.length > 0) {
      if (this.#draining || this.#waiters.size > 0) this.#start()
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

  /** At exit: what waits is sent synchronously within `exitTimeout`, then the sink ends and tells what it did not deliver. */
  exitSync(): void {
    if (this.#closed) return
    this.flushSync()
    this.#end('at exit')
  }

  async #close(): Promise<void> {
    try {
      await this.flush()
    } catch (error) {
      this.#failures.report(error, 'close')
    }
    if (!this.#closed) this.#end('at close()')
  }

  /** Stops every attempt, counts what waits as dropped, lets go of the connection, and tells the loss once. */
  #end(when: string): void {
    this.#closed = true
    this.#clearTimer()
    const left = this.#takeOver()
    if (left.length > 0) this.#dropEntries(left, 'left at close', `${records(left.length)} still waiting ${when}`, when)
    this.#agent.destroy()
    if (this.#registered) unregisterSink(this.#owner)
    this.#registered = false
    this.#failures.tellLoss(this.#drops.total, ` (${DropTally.reasons(this.#drops.totals())})`)
    this.#waiters.notify()
  }

  /** Voids the asynchronous path and takes every waiting record out of it, oldest first. */
  #takeOver(): E[] {
    this.#generation++
    this.#abort.abort()
    this.#abort = new AbortController()
    this.#running = false
    const waiting = [...this.#batchEntries(), ...this.#queue.toArray()]
    this.#batch = undefined
    this.#noticeOut = false
    this.#queue.removeFront(this.#queue.length)
    return waiting
  }

  get #idle(): boolean {
    return this.#queue.length === 0 && this.#batch === undefined
  }

  #register(): void {
    if (this.#registered || this.#closed) return
    registerSink(this.#owner)
    this.#registered = true
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The records of the requests of the batch in flight not yet sent, each once. */
  #batchEntries(): E[] {
    const batch = this.#batch
    if (batch === undefined) return []
    const entries = new Set<E>()
    for (const request of batch.requests.slice(batch.next)) for (const entry of request.entries) if (!this.#delivered.has(entry)) entries.add(entry)
    return [...entries]
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined || this.#closed) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#draining = true
      this.#start()
    }, this.#settings.batchIntervalMs)
    // Logging never holds the process open: what waits at exit is sent by the exit path.
    this.#timer.unref()
  }

  #start(): void {
    if (this.#running || this.#closed) return
    this.#clearTimer()
    this.#running = true
    const generation = this.#generation
    this.#run(generation)
      .catch((error: unknown) => this.#failures.report(error, 'send'))
      .finally(() => {
        if (generation !== this.#generation) return
        this.#running = false
        this.#waiters.notify()
        if (this.#queue.length > 0) this.#schedule()
      })
  }

  /**
   * Sends batches one request at a time: full ones as they fill, and, once the interval has
   * passed or flush() asks, everything that waits.
   */
  async #run(generation: number): Promise<void> {
    while (generation === this.#generation) {
      const { sendAtCount } = this.#protocol
      const due = this.#draining || (sendAtCount !== undefined && this.#queue.length >= sendAtCount)
      const batch = this.#batch ?? (due ? this.#nextBatch() : undefined)
      if (batch === undefined) {
        if (this.#queue.length === 0) this.#draining = false
        return
      }
      this.#batch = batch
      const request = batch.requests[batch.next]
      if (request === undefined) {
        this.#batch = undefined
        continue
      }
      const delivery = await this.#deliver(request, generation)
      if (delivery.kind === 'superseded' || generation !== this.#generation) return
      if (batch.next === 0 && batch.notice !== undefined) {
        if (delivery.kind === 'sent') this.#drops.settle(batch.notice)
        this.#noticeOut = false
      }
      this.#settle(request, delivery)
      batch.next++
      if (batch.next >= batch.requests.length) this.#batch = undefined
      this.#waiters.notify()
    }
  }

  /** Takes the next records from the queue and packs them, with the drop notice first when one is due. */
  #nextBatch(): Batch<E> | undefined {
    while (this.#queue.length > 0) {
      const notice = !this.#noticeOut && this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
      const packed = this.#protocol.pack(this.#queue, notice)
      const used: E[] = []
      for (let index = 0; index < packed.used; index++) used.push(this.#queue.at(index) as E)
      this.#queue.removeFront(packed.used)
      if (packed.error !== undefined) {
        this.#dropEntries(used, 'invalid body', asError(packed.error).message, 'body building')
        continue
      }
      if (packed.requests.length === 0) continue
      if (notice !== undefined) this.#noticeOut = true
      return { requests: packed.requests, next: 0, notice }
    }
    return undefined
  }

  /** Sends one request until it gets through, is refused, or runs out of retries. */
  async #deliver(request: DeliveryRequest<E>, generation: number): Promise<Delivery> {
    const { maxRetries, retryBaseDelayMs, retryMaxDelayMs, timeoutMs } = this.#settings
    const scrubber = this.#protocol.scrubber
    const scrub = (text: string): string => scrubber.scrub(text)
    for (let retries = 0; ; ) {
      if (!(await this.#wait(this.#pausedUntil - Date.now()))) return { kind: 'superseded' }
      let verdict: Verdict
      try {
        const answer = await postRaw(this.#protocol.url, this.#protocol.headers, request.body, { timeoutMs, signal: this.#abort.signal, agent: this.#agent, scrub }, this.#protocol.noAnswer)
        verdict = this.#protocol.classify(answer, request)
        if (verdict.pauseMs !== undefined) this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + verdict.pauseMs)
      } catch (error) {
        verdict = { kind: 'retry', waitMs: undefined, error: asError(error) }
      }
      if (generation !== this.#generation) return { kind: 'superseded' }
      if (verdict.kind !== 'retry') return verdict
      retries++
      if (retries > maxRetries) {
        const error = this.#protocol.error(scrub(`gave up after ${retries} attempts (\`maxRetries\` is ${maxRetries}); the last failed with ${verdict.error.message}`), statusOf(verdict.error))
        return { kind: 'retries exhausted', error }
      }
      const wait = verdict.waitMs ?? backoffMs(retries, retryBaseDelayMs, retryMaxDelayMs)
      this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + wait)
    }
  }

  /** Counts what a finished request delivered or lost. */
  #settle(request: DeliveryRequest<E>, delivery: Exclude<Delivery, { kind: 'superseded' }>): void {
    if (delivery.kind === 'sent') {
      const refused = delivery.refused
      this.#settleSent(request.entries, refused?.count ?? 0)
      if (refused !== undefined && refused.count > 0) this.drop('rejected', Math.min(refused.count, request.entries.length), refused.error.message, 'send', statusOf(refused.error))
      return
    }
    this.#dropEntries(request.entries, delivery.kind === 'rejected' ? 'rejected' : 'retries exhausted', delivery.error.message, 'send', statusOf(delivery.error))
  }

  /** Counts the entries of a request that got through as sent, each once, less those a partial success refused. */
  #settleSent(entries: readonly E[], refused: number): void {
    let count = 0
    for (const entry of entries) {
      if (this.#delivered.has(entry)) continue
      this.#delivered.add(entry)
      count++
    }
    this.#sent += Math.max(0, count - refused)
  }

  /** Counts entries as dropped (each once: a split record may fail in several parts) and reports it. */
  #dropEntries(entries: readonly E[], reason: DropReason, message: string, during: string, status?: number): void {
    let count = 0
    for (const entry of entries) {
      if (this.#counted.has(entry)) continue
      this.#counted.add(entry)
      count++
    }
    this.drop(reason, count, message, during, status)
  }

  /** Waits, unless flushSync() or the end takes over meanwhile; resolves false then. */
  async #wait(ms: number): Promise<boolean> {
    const signal = this.#abort.signal
    if (ms > 0) {
      try {
        // Unref'd: a backoff or a rate limit must not hold the process open either.
        await sleep(ms, undefined, { signal, ref: false })
      } catch {
        return false
      }
    }
    return !signal.aborted
  }

  /** Packs `entries[from…]` as the synchronous path would send them, without side effects. */
  #planFrom(entries: readonly E[], from: number, counts: DropCounts | undefined): SyncPlan<E> {
    const requests: DeliveryRequest<E>[] = []
    const invalid: { entries: readonly E[]; error: unknown }[] = []
    let notice = counts
    let offset = from
    while (offset < entries.length) {
      const packed = this.#protocol.pack(sliceSource(entries, offset), notice)
      const used = Math.max(packed.used, 0)
      if (packed.error !== undefined) invalid.push({ entries: entries.slice(offset, offset + used), error: packed.error })
      else {
        if (packed.requests.length > 0) notice = undefined
        requests.push(...packed.requests)
      }
      offset += used
      // A round that took only the notice leaves the records for the next one; anything else that takes nothing would loop.
      if (used === 0 && packed.requests.length === 0) break
    }
    return { left: entries.slice(0, from), requests, invalid }
  }

  /**
   * The requests of the synchronous path: the newest entries that fit `maxSyncRequests`, the
   * notice in the first request sent (the newest, when the protocol sends newest first).
   */
  #planSync(entries: readonly E[], counts: DropCounts | undefined): SyncPlan<E> {
    const limit = this.#protocol.maxSyncRequests ?? Number.POSITIVE_INFINITY
    let plan = this.#planFrom(entries, 0, counts)
    if (plan.requests.length > limit) {
      // Fewer entries never make more requests: binary search for the most that fit.
      let low = 1
      let high = entries.length - 1
      plan = this.#planFrom(entries, high, counts)
      while (low <= high) {
        const middle = Math.floor((low + high) / 2)
        const candidate = this.#planFrom(entries, middle, counts)
        if (candidate.requests.length <= limit) {
          plan = candidate
          high = middle - 1
        } else low = middle + 1
      }
    }
    if (!this.#protocol.newestFirstAtExit || plan.requests.length < 2) return plan
    const chosen = entries.slice(plan.left.length)
    const inOrder = this.#planFrom(chosen, 0, undefined).requests
    const newest = inOrder.at(-1) as DeliveryRequest<E>
    const withNotice = counts === undefined ? [newest] : this.#planFrom(newest.entries, 0, counts).requests
    return { ...plan, requests: [...withNotice, ...inOrder.slice(0, -1).reverse()] }
  }

  #reportSyncFailure(outcome: SyncSendResult, boundMs: number, unsent: number): void {
    const sent = outcome.sent.filter(Boolean).length
    const last = outcome.lastFailure === 'timeout' ? 'no answer in time' : outcome.lastFailure === 'network' ? 'a network error' : outcome.lastStatus !== undefined ? `HTTP ${outcome.lastStatus}` : 'no answer'
    const why = outcome.startError !== undefined
      ? `the sending thread could not start (${this.#protocol.scrubber.scrub(asError(outcome.startError).message)})`
      : outcome.finished
        ? `the requests failed (the last with ${last})`
        : `\`exitTimeout\` (${this.#settings.exitTimeoutMs} ms${boundMs < this.#settings.exitTimeoutMs ? `, ${boundMs} ms of it left after an earlier failure` : ''}) passed first (the last request had ${last})`
    const message = `${sent} of ${outcome.sent.length} ${this.#protocol.requestNoun} sent synchronously: ${why}; ${records(unsent)} not sent (still queued if the process goes on)`
    this.#failures.report(this.#protocol.error(message), 'flushSync')
  }
}
