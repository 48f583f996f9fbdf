import http from 'node:http'
import https from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Formatter } from '../../core/format/formatter.js'
import { LEVEL_VALUES } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { registerSink, unregisterSink } from '../registry.js'
import { FlushTimeoutError, FlushWaiters } from '../delivery/flush-timeout.js'
import { DropTally, type DropCounts, type DropReason } from '../delivery/drops.js'
import { MIN_SYNC_SEND_MS, SYNC_BUDGET_WINDOW_MS, sendSync, type SyncSendResult } from '../delivery/exit-send.js'
import { post, type HttpAnswer } from './http.js'
import type { WebhookSettings } from './options.js'
import type { Entry, EntrySource, Packer, Payload } from './packer.js'
import { RecordQueue } from '../delivery/record-queue.js'
import { answerJson, bucketResetMs, classify, type Outcome } from './retry.js'
import { backoffMs } from '../delivery/backoff.js'
import { Scrubber } from '../delivery/scrubber.js'

/**
 * On the synchronous path (process exit, a `fatal` record) at most this many messages are
 * sent, holding the newest records: the record that describes a crash is the last one
 * logged, and a larger burst meets the services' rate limits (Discord: 5 per 2 s). Older
 * records stay queued for the asynchronous path, if the process goes on.
 */
export const EXIT_MAX_MESSAGES = 3

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/** What makes a webhook sink Discord's, Telegram's, Slack's or a plain JSON POST. */
export interface WebhookService {
  /** Names the sink in reports, with every secret masked: `discord webhook …/1234`. */
  readonly name: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** Strings no error text may hold: the URL and its parts, tokens, header values. */
  readonly secrets: readonly string[]
  readonly packer: Packer
  /** A 2xx whose JSON says `ok: false` is a failure (Telegram). */
  readonly okField: boolean
}

/** A failure of the sink itself, told once on stderr; its message never holds a secret. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError'
}

/** The requests made of the records taken from the queue at one time. */
interface Round {
  readonly payloads: readonly Payload[]
  /** The index of the payload being sent. */
  next: number
  /** The drop counts the first payload tells, settled when it gets through. */
  readonly notice: DropCounts | undefined
}

type Delivery =
  | { readonly kind: 'sent' }
  | { readonly kind: 'dropped'; readonly reason: DropReason; readonly error: Error }
  /** flushSync() took the records over; the asynchronous attempt is void. */
  | { readonly kind: 'superseded' }

/** The requests the synchronous path makes, chosen among the records waiting. */
interface SyncPlan {
  /** Entries older than those chosen, left in the queue. */
  readonly left: readonly Entry[]
  readonly payloads: readonly Payload[]
  readonly notice: DropCounts | undefined
  /** Entries no body could be built for. */
  readonly invalid: readonly { readonly entries: readonly Entry[]; readonly error: unknown }[]
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function sliceSource(entries: readonly Entry[], offset: number): EntrySource {
  return { length: entries.length - offset, at: (index) => entries[offset + index] }
}

/**
 * A sink that posts records to a webhook, off the log call's path. Records wait in a
 * bounded queue (the oldest dropped and counted when full) for `batchInterval`, then go
 * in as few messages as the service allows, one request at a time, with retries bounded
 * by `maxRetries`. Drops are told in the next message that gets through. `flushSync()`
 * (process exit, `fatal`) sends what waits within `exitTimeout`. Made by `discordSink()`,
 * `telegramSink()`, `slackSink()` and `webhookSink()`.
 */
export class WebhookSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
  readonly #service: WebhookService
  readonly #settings: WebhookSettings
  readonly #scrubber: Scrubber
  readonly #queue: RecordQueue<Entry>
  readonly #drops = new DropTally()
  // A split record is counted once however many of its parts fail.
  readonly #counted = new WeakSet<Entry>()
  readonly #agent: http.Agent
  readonly #waiters = new FlushWaiters()
  #round: Round | undefined
  #noticeOut = false
  #timer: NodeJS.Timeout | undefined
  #running = false
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

  constructor(service: WebhookService, settings: WebhookSettings) {
    this.#service = service
    this.#settings = settings
    this.name = service.name
    this.level = settings.level
    this.formatter = settings.formatter
    this.failures = new FailureReport(service.name)
    this.#scrubber = new Scrubber(service.secrets)
    this.#queue = new RecordQueue(settings.maxQueue)
    // One connection, kept alive: requests go one at a time anyway.
    this.#agent = new (service.url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 })
    this.#register()
  }

  /** Records dropped since the sink was made (queue full, retries exhausted, rejected, invalid body). */
  get dropped(): number {
    return this.#drops.total
  }

  /** Records waiting or being sent. */
  get pending(): number {
    return this.#queue.length + this.#roundEntries().length
  }

  write(line: string, record: LogRecord): void {
    if (this.#closed) {
      this.#count('left at close', 1, new WebhookDeliveryError('a record written after close() was dropped'), 'write')
      return
    }
    if (this.#queue.push({ record, line, notice: false })) {
      this.#count('queue full', 1, new WebhookDeliveryError(`more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting; the oldest was dropped`), 'enqueue')
    }
    this.#register()
    this.#schedule()
  }

  /** Resolves when every record is sent (or dropped and counted); rejects with FlushTimeoutError after `flushTimeout`. */
  async flush(): Promise<void> {
    if (this.#idle) return
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#start()
    const { flushTimeoutMs } = this.#settings
    await this.#waiters.wait(() => this.#idle, flushTimeoutMs, () => new FlushTimeoutError(this.name, this.pending, flushTimeoutMs, 'sent'))
  }

  /**
   * Sends what waits before returning, blocking at most `exitTimeout`: the newest records,
   * in at most EXIT_MAX_MESSAGES messages. A message the asynchronous path has in flight
   * is sent again (at least once beats lost). What could not be sent goes back to the
   * queue, for the asynchronous path if the process goes on.
   */
  flushSync(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#idle) return
    const started = Date.now()
    if (started > this.#syncWindowEnd) this.#syncBudgetMs = this.#settings.exitTimeoutMs
    if (this.#syncBudgetMs < MIN_SYNC_SEND_MS) {
      const message = `${this.pending} records not sent synchronously: a synchronous send failed less than ${SYNC_BUDGET_WINDOW_MS} ms ago and used up \`exitTimeout\` (${this.#settings.exitTimeoutMs} ms); still queued if the process goes on`
      this.failures.report(new WebhookDeliveryError(message), 'flushSync')
      return
    }
    const boundMs = this.#syncBudgetMs
    this.#generation++
    this.#abort.abort()
    this.#abort = new AbortController()
    this.#running = false
    const waiting = [...this.#roundEntries(), ...this.#queue.toArray()]
    this.#round = undefined
    this.#noticeOut = false
    this.#queue.removeFront(this.#queue.length)
    const plan = this.#planSync(waiting)
    for (const { entries, error } of plan.invalid) this.#drop(entries, 'invalid body', asError(error), 'flushSync')
    const outcome = plan.payloads.length === 0
      ? undefined
      : sendSync(plan.payloads.map((payload) => ({ url: this.#service.url.href, headers: this.#service.headers, body: payload.body })), {
          boundMs,
          timeoutMs: this.#settings.timeoutMs,
          okField: this.#service.okField,
        })
    const unsent = new Set<Entry>()
    plan.payloads.forEach((payload, index) => {
      if (outcome?.sent[index] === true) return
      for (const entry of payload.entries) if (!entry.notice) unsent.add(entry)
    })
    if (plan.notice !== undefined && outcome?.sent[0] === true) this.#drops.settle(plan.notice)
    if (outcome === undefined || outcome.sent.every(Boolean)) this.#syncWindowEnd = 0
    else {
      this.#syncBudgetMs -= Date.now() - started
      this.#syncWindowEnd = Date.now() + SYNC_BUDGET_WINDOW_MS
    }
    const overflow = this.#queue.unshift([...plan.left, ...unsent])
    if (overflow > 0) this.#count('queue full', overflow, new WebhookDeliveryError(`more than ${this.#settings.maxQueue} records (\`maxQueue\`) were waiting after a synchronous send`), 'flushSync')
    if (outcome !== undefined && outcome.sent.some((sent) => !sent)) this.#reportSyncFailure(outcome, boundMs, unsent.size + plan.left.length)
    else if (plan.left.length > 0) {
      // Not sent is not dropped while the process goes on; at exit it is lost, and that must be said.
      const message = `${plan.left.length} older records not sent synchronously: only the newest fit in the ${EXIT_MAX_MESSAGES} messages (EXIT_MAX_MESSAGES) sent within \`exitTimeout\`; still queued if the process goes on`
      this.failures.report(new WebhookDeliveryError(message), 'flushSync')
    }
    this.#waiters.notify()
    if (this.#queue.length === 0) return
    if (this.#waiters.size > 0) this.#start()
    else this.#schedule()
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
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#generation++
    this.#abort.abort()
    const left = [...this.#roundEntries(), ...this.#queue.toArray()]
    this.#round = undefined
    this.#queue.removeFront(this.#queue.length)
    if (left.length > 0) this.#drop(left, 'left at close', new WebhookDeliveryError(`${left.length} records were still waiting ${when}`), when)
    this.#agent.destroy()
    if (this.#registered) unregisterSink(this)
    this.#registered = false
    this.failures.tellLoss(this.#drops.total, ` (${DropTally.reasons(this.#drops.totals())})`)
    this.#waiters.notify()
  }

  get #idle(): boolean {
    return this.#queue.length === 0 && this.#round === undefined
  }

  #register(): void {
    if (this.#registered || this.#closed) return
    registerSink(this)
    this.#registered = true
  }

  #roundEntries(): Entry[] {
    const round = this.#round
    if (round === undefined) return []
    const entries = new Set<Entry>()
    for (const payload of round.payloads.slice(round.next)) for (const entry of payload.entries) if (!entry.notice) entries.add(entry)
    return [...entries]
  }

  #schedule(): void {
    if (this.#running || this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#start()
    }, this.#settings.batchIntervalMs)
    // Logging never holds the process open: what waits at exit is sent by flushSync().
    this.#timer.unref()
  }

  #start(): void {
    if (this.#running) return
    this.#running = true
    const generation = this.#generation
    this.#run(generation)
      .catch((error: unknown) => this.failures.report(error, 'send'))
      .finally(() => {
        if (generation !== this.#generation) return
        this.#running = false
        this.#waiters.notify()
      })
  }

  async #run(generation: number): Promise<void> {
    while (generation === this.#generation) {
      const round = this.#round ?? this.#nextRound()
      if (round === undefined) return
      this.#round = round
      const payload = round.payloads[round.next]
      if (payload === undefined) {
        this.#round = undefined
        continue
      }
      const delivery = await this.#deliver(payload, generation)
      if (delivery.kind === 'superseded' || generation !== this.#generation) return
      if (round.next === 0 && round.notice !== undefined) {
        if (delivery.kind === 'sent') this.#drops.settle(round.notice)
        this.#noticeOut = false
      }
      if (delivery.kind === 'dropped') this.#drop(payload.entries, delivery.reason, delivery.error, 'send')
      round.next++
      if (round.next >= round.payloads.length) this.#round = undefined
    }
  }

  /** Takes the next records from the queue and packs them, with the drop notice first when one is due. */
  #nextRound(): Round | undefined {
    while (this.#queue.length > 0) {
      const counts = !this.#noticeOut && this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
      const packed = this.#service.packer.pack(this.#queue, counts === undefined ? undefined : this.#noticeEntry(counts))
      const used: Entry[] = []
      for (let index = 0; index < packed.used; index++) used.push(this.#queue.at(index) as Entry)
      this.#queue.removeFront(packed.used)
      if (packed.error !== undefined) {
        this.#drop(used, 'invalid body', asError(packed.error), 'body building')
        continue
      }
      if (packed.payloads.length === 0) continue
      if (counts !== undefined) this.#noticeOut = true
      return { payloads: packed.payloads, next: 0, notice: counts }
    }
    return undefined
  }

  /** Sends one request until it gets through, is rejected, or runs out of retries. */
  async #deliver(payload: Payload, generation: number): Promise<Delivery> {
    const { maxRetries, retryBaseDelayMs, retryMaxDelayMs, timeoutMs } = this.#settings
    const scrub = (text: string): string => this.#scrubber.scrub(text)
    for (let retries = 0; ; ) {
      if (!(await this.#wait(this.#pausedUntil - Date.now()))) return { kind: 'superseded' }
      let outcome: Outcome
      try {
        const answer = await post(this.#service.url, this.#service.headers, payload.body, { timeoutMs, signal: this.#abort.signal, agent: this.#agent, scrub })
        const reset = bucketResetMs(answer)
        if (reset !== undefined) this.#pausedUntil = Date.now() + reset
        outcome = classify(answer, scrub, (ok) => this.#accepts(ok))
      } catch (error) {
        outcome = { kind: 'retry', error: asError(error) }
      }
      if (generation !== this.#generation) return { kind: 'superseded' }
      if (outcome.kind === 'sent') return outcome
      if (outcome.kind === 'rejected') return { kind: 'dropped', reason: 'rejected', error: outcome.error }
      retries++
      if (retries > maxRetries) {
        const error = new WebhookDeliveryError(`gave up after ${retries} attempts (\`maxRetries\` is ${maxRetries}); the last failed with ${outcome.error.message}`)
        return { kind: 'dropped', reason: 'retries exhausted', error }
      }
      const wait = outcome.kind === 'rate-limited' && outcome.waitMs !== undefined ? outcome.waitMs : backoffMs(retries, retryBaseDelayMs, retryMaxDelayMs)
      this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + wait)
    }
  }

  #accepts(answer: HttpAnswer): boolean {
    if (!this.#service.okField) return true
    const json = answerJson(answer)
    return !(json !== null && typeof json === 'object' && (json as { ok?: unknown }).ok === false)
  }

  /** Waits, unless flushSync() takes over meanwhile; resolves false then. */
  async #wait(ms: number): Promise<boolean> {
    const signal = this.#abort.signal
    if (ms > 0) {
      try {
        // Unref'd: a pause for a rate limit must not hold the process open either.
        await sleep(ms, undefined, { signal, ref: false })
      } catch {
        return false
      }
    }
    return !signal.aborted
  }

  /** Counts entries as dropped (each once: a split record may fail in several parts) and reports it. */
  #drop(entries: readonly Entry[], reason: DropReason, error: Error, during: string): void {
    let count = 0
    for (const entry of entries) {
      if (entry.notice || this.#counted.has(entry)) continue
      this.#counted.add(entry)
      count++
    }
    this.#count(reason, count, error, during)
  }

  /** Adds to the tally for the next notice and reports on stderr (once per sink): a record is never dropped silently. */
  #count(reason: DropReason, count: number, error: Error, during: string): void {
    this.#drops.add(reason, count)
    const told = count > 0 ? `${DropTally.describe(new Map([[reason, count]]))}: ` : ''
    this.failures.report(new WebhookDeliveryError(this.#scrubber.scrub(`${told}${error.message}`)), during)
  }

  #noticeEntry(counts: DropCounts): Entry {
    const record: LogRecord = {
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: Date.now(),
      msg: DropTally.describe(counts),
      context: NOTICE_CONTEXT,
      fields: undefined,
      err: undefined,
      callsite: undefined,
    }
    return { record, line: this.formatter.format(record), notice: true }
  }

  /** Packs `entries[from…]` as the synchronous path would send them, without side effects. */
  #planFrom(entries: readonly Entry[], from: number, counts: DropCounts | undefined): SyncPlan {
    const payloads: Payload[] = []
    const invalid: { entries: readonly Entry[]; error: unknown }[] = []
    let notice = counts === undefined ? undefined : this.#noticeEntry(counts)
    let offset = from
    while (offset < entries.length) {
      const packed = this.#service.packer.pack(sliceSource(entries, offset), notice)
      const used = Math.max(packed.used, 0)
      if (packed.error !== undefined) invalid.push({ entries: entries.slice(offset, offset + used), error: packed.error })
      else {
        if (packed.payloads.length > 0) notice = undefined
        payloads.push(...packed.payloads)
      }
      offset += used
      // A round that took only the notice leaves the records for the next one; anything else that takes nothing would loop.
      if (used === 0 && packed.payloads.length === 0) break
    }
    return { left: entries.slice(0, from), payloads, notice: counts, invalid }
  }

  /** Chooses the newest entries that fit EXIT_MAX_MESSAGES messages. */
  #planSync(entries: readonly Entry[]): SyncPlan {
    const counts = this.#drops.untold > 0 ? this.#drops.snapshot() : undefined
    const all = this.#planFrom(entries, 0, counts)
    if (all.payloads.length <= EXIT_MAX_MESSAGES) return all
    // Fewer entries never make more messages: binary search for the most that fit.
    let low = 1
    let high = entries.length - 1
    let best = this.#planFrom(entries, high, counts)
    while (low <= high) {
      const middle = Math.floor((low + high) / 2)
      const plan = this.#planFrom(entries, middle, counts)
      if (plan.payloads.length <= EXIT_MAX_MESSAGES) {
        best = plan
        high = middle - 1
      } else low = middle + 1
    }
    return best
  }

  #reportSyncFailure(outcome: SyncSendResult, boundMs: number, unsentRecords: number): void {
    const sent = outcome.sent.filter(Boolean).length
    const last = outcome.lastFailure === 'timeout' ? 'no answer in time' : outcome.lastFailure === 'network' ? 'a network error' : outcome.lastStatus !== undefined ? `HTTP ${outcome.lastStatus}` : 'no answer'
    const why = outcome.startError !== undefined
      ? `the sending thread could not start (${this.#scrubber.scrub(asError(outcome.startError).message)})`
      : outcome.finished
        ? `the requests failed (the last with ${last})`
        : `\`exitTimeout\` (${this.#settings.exitTimeoutMs} ms${boundMs < this.#settings.exitTimeoutMs ? `, ${boundMs} ms of it left after an earlier failure` : ''}) passed first (the last request had ${last})`
    const message = `${sent} of ${outcome.sent.length} messages sent synchronously: ${why}; ${unsentRecords} records not sent (still queued if the process goes on)`
    this.failures.report(new WebhookDeliveryError(message), 'flushSync')
  }
}
