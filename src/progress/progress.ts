import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { compileTimeFormat, DEFAULT_TIME_FORMAT, type TimeFormatter } from '../core/format/time.js'
import type { Logger } from '../core/logger.js'
import { serialize, type Plain } from '../core/serialize.js'
import { removeStaleTemporaries } from './atomic-file.js'
import { Checkpoint, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpoint.js'
import { BATCH_COLUMNS, batchCells, HEARTBEAT_COLUMNS, heartbeatCells, itemOf, roundTo, type BatchFields, type HeartbeatFields, type RunCells } from './columns.js'
import { describeReason, watchEnding, type StopWatching } from './crash-hook.js'
import { FailureReport } from '../core/sink.js'
import { DEFAULT_PROGRESS_DIR, jobOf, progressPaths, validateFileNamePart, type ProgressPaths } from './names.js'
import { DEFAULT_STATUS_INTERVAL_MS, readStatus, StatusWriter, type ProgressStatus, type RunStatus } from './status.js'
import { TsvLog } from './tsv-log.js'

/** Reading the resident set size costs more than writing a line (a read of /proc on Linux): it is sampled at most this often. */
export const RSS_SAMPLE_INTERVAL_MS = 100

const BYTES_PER_GB = 1e9

/** What `createProgress()` takes; see docs/progress.md. */
export interface ProgressOptions {
  /** Names the run: its status file, its checkpoint, and the `run_id` column. A resumed run uses the same one. */
  runId: string
  /** The log folder; default `logs`. */
  dir?: string
  /** The folder of the TSV files is `<dir>/<job>/`; default the run id without a trailing date (`events_intraday_20261121` → `events_intraday`). */
  job?: string
  /** How many items the run has: progress %, rate and ETA. */
  total?: number
  /** How many batches, when `heartbeat()` and `batch()` do not say. */
  totalBatches?: number
  /** The status file is rewritten at most this often, ms; default 1000; 0 rewrites it on every call. */
  statusInterval?: number
  /** The checkpoint's JSON file lags its journal by at most about this much, ms; default 10,000. */
  checkpointInterval?: number
  /** Load what earlier runs of this run id completed (default), or start over (false). */
  resume?: boolean
  /** Logs the start, resume and end of the run; its crash guard marks the status `failed` on a signal. */
  logger?: Logger
  /** The `timestamp` column, as in formats: default `YYYY-MM-DD HH:mm:ss.SSS` (local time). */
  timeFormat?: string
  /** The heartbeat file is `<heartbeatName>_YYYYMMDD.log`; default `heartbeat`. */
  heartbeatName?: string
  /** The batch file is `<batchesName>_YYYYMMDD.log`; default `batches`. */
  batchesName?: string
  /** Default `<dir>/<job>`. */
  jobDir?: string
  /** Default `<dir>/heartbeats`. */
  statusDir?: string
  /** Default `<dir>/checkpoints`. */
  checkpointDir?: string
  /** The clock, epoch ms; for tests. */
  now?: () => number
}

function describe(value: unknown): string {
  return `\`${typeof value === 'string' ? JSON.stringify(value) : String(value)}\` (${typeof value})`
}

function positiveInteger(value: number | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new TypeError(`Expected \`${option}\` to be a positive integer, got ${describe(value)}`)
  return value
}

function nonNegativeMs(value: number | undefined, option: string, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`Expected \`${option}\` to be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${describe(value)}`)
  }
  return value
}

function optionalString(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new TypeError(`Expected \`${option}\` to be a string, got ${describe(value)}`)
  return value
}

/** The earlier status of this run, if a readable one is there. */
function previousStatus(path: string): ProgressStatus | undefined {
  try {
    return readStatus(path)
  } catch {
    return undefined
  }
}

/**
 * The progress of one long job, in plain-text files that survive the job's death:
 * heartbeat and batch lines (TSV, one synchronous write each), a status file (JSON,
 * replaced atomically) and a checkpoint of completed items that a resumed run reads.
 * Every method but the constructor never throws: a file that cannot be written is
 * reported once on stderr, counted in `failures`, and the job goes on.
 */
export class Progress {
  readonly runId: string
  readonly job: string
  readonly total: number | undefined
  readonly paths: ProgressPaths
  readonly #now: () => number
  readonly #time: TimeFormatter
  readonly #logger: Logger | undefined
  readonly #notice: FailureReport
  readonly #heartbeats: TsvLog
  readonly #batches: TsvLog
  readonly #checkpoint: Checkpoint
  readonly #statusFile: StatusWriter
  readonly #stopWatching: StopWatching
  readonly #startedAt: number
  readonly #firstStartedAt: string
  readonly #attempt: number
  readonly #completedAtStart: number
  #status: RunStatus = 'running'
  #lastItem: Plain = null
  #lastCompleted: string | null = null
  #batch: unknown = undefined
  #totalBatches: unknown
  #batchesDone = 0
  #lastBatchAt: number
  #events: unknown = undefined
  #rssBytes = 0
  #rssSampledAt = Number.NEGATIVE_INFINITY

  constructor(options: ProgressOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`Expected \`options\` to be an object with a \`runId\`, got ${describe(options)}`)
    this.runId = validateFileNamePart(options.runId, 'runId')
    this.job = validateFileNamePart(options.job ?? jobOf(this.runId), 'job')
    this.total = positiveInteger(options.total, 'total')
    this.#totalBatches = positiveInteger(options.totalBatches, 'totalBatches')
    const statusInterval = nonNegativeMs(options.statusInterval, 'statusInterval', DEFAULT_STATUS_INTERVAL_MS, true)
    const checkpointInterval = nonNegativeMs(options.checkpointInterval, 'checkpointInterval', DEFAULT_CHECKPOINT_INTERVAL_MS, false)
    if (options.resume !== undefined && typeof options.resume !== 'boolean') throw new TypeError(`Expected \`resume\` to be a boolean, got ${describe(options.resume)}`)
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError(`Expected \`now\` to be a function returning epoch ms, got ${describe(options.now)}`)
    if (options.logger !== undefined && (options.logger === null || typeof options.logger.info !== 'function')) {
      throw new TypeError(`Expected \`logger\` to be a logger from createLogger(), got ${describe(options.logger)}`)
    }
    const dir = optionalString(options.dir, 'dir') ?? DEFAULT_PROGRESS_DIR
    this.paths = progressPaths({
      dir, runId: this.runId, job: this.job,
      jobDir: optionalString(options.jobDir, 'jobDir'), statusDir: optionalString(options.statusDir, 'statusDir'), checkpointDir: optionalString(options.checkpointDir, 'checkpointDir'),
    })
    const heartbeatName = validateFileNamePart(options.heartbeatName ?? 'heartbeat', 'heartbeatName')
    const batchesName = validateFileNamePart(options.batchesName ?? 'batches', 'batchesName')
    this.#time = compileTimeFormat(optionalString(options.timeFormat, 'timeFormat') ?? DEFAULT_TIME_FORMAT)
    this.#now = options.now ?? Date.now
    this.#logger = options.logger
    this.#notice = new FailureReport(this.runId, {
      subject: `the progress files of run "${this.runId}"`,
      after: 'the job goes on; further failures are counted (progress.failures), not printed',
    })
    const resume = options.resume ?? true

    this.#startedAt = this.#now()
    this.#lastBatchAt = this.#startedAt
    const previous = resume ? previousStatus(this.paths.status) : undefined
    this.#firstStartedAt = previous?.first_started_at ?? new Date(this.#startedAt).toISOString()
    this.#attempt = (typeof previous?.attempt === 'number' ? previous.attempt : 0) + 1
    removeStaleTemporaries(this.paths.status)
    removeStaleTemporaries(this.paths.checkpoint)
    // Reading the checkpoint can fail (a file someone else wrote): that is a reason to
    // refuse to start, not to redo the work it lists or to skip work it does not.
    this.#checkpoint = new Checkpoint(this.paths.checkpoint, { runId: this.runId, resume, interval: checkpointInterval, now: this.#now })
    this.#completedAtStart = this.#checkpoint.size
    this.#heartbeats = new TsvLog(this.paths.jobDir, heartbeatName, HEARTBEAT_COLUMNS)
    this.#batches = new TsvLog(this.paths.jobDir, batchesName, BATCH_COLUMNS)
    this.#statusFile = new StatusWriter(this.paths.status, statusInterval, this.#now, (seq) => this.#render(seq), (error) => this.#notice.report(error, 'a status rewrite'))
    // A folder that cannot be written is no reason to stop the job: it is said, and the
    // job goes on without its files, as it would after a disk filled up later.
    try {
      mkdirSync(dirname(this.paths.checkpoint), { recursive: true })
      this.#checkpoint.compactIfPending()
    } catch (error) {
      this.#notice.report(error, 'the first checkpoint write')
    }
    try {
      mkdirSync(dirname(this.paths.status), { recursive: true })
      this.#statusFile.writeNow()
    } catch (error) {
      this.#notice.report(error, 'the first status write')
    }
    this.#stopWatching = watchEnding({ onFatal: (reason) => this.#end(`failed: ${reason}`), onExit: (code) => this.#onExit(code) }, options.logger)
    if (this.#completedAtStart > 0) {
      this.#log('info', `resuming run ${this.runId}: ${this.#completedAtStart}${this.total === undefined ? '' : ` of ${this.total}`} items already complete (attempt ${this.#attempt})`)
    }
  }

  /** `running`, `completed` or `failed: <reason>`. */
  get status(): RunStatus {
    return this.#status
  }

  /** Items completed, by earlier runs of this run id too. */
  get completed(): number {
    return this.#checkpoint.size
  }

  /** How many progress calls could not write their files. */
  get failures(): number {
    return this.#notice.count
  }

  /** The state the status file shows, now. */
  snapshot(): ProgressStatus {
    return this.#render(this.#statusFile.writes)
  }

  /** Writes one heartbeat line before returning: what is being processed now. A string is the item. */
  heartbeat(fields: HeartbeatFields | string): void {
    if (this.#refuseAfterEnd('heartbeat')) return
    try {
      const now = this.#now()
      const given: HeartbeatFields = typeof fields === 'string' ? { item: fields } : fields !== null && typeof fields === 'object' ? fields : {}
      if (given.batch !== undefined) this.#batch = given.batch
      if (given.totalBatches !== undefined) this.#totalBatches = given.totalBatches
      if (given.events !== undefined) this.#events = given.events
      const item = itemOf(given)
      if (item !== undefined) this.#lastItem = serialize(item)
      this.#heartbeats.write(heartbeatCells(given, this.#runCells(now), this.#batch, this.#totalBatches), now)
    } catch (error) {
      this.#notice.report(error, 'heartbeat()')
    }
    this.#requestStatus()
  }

  /** Writes one batch line before returning: a batch is done. */
  batch(fields: BatchFields): void {
    if (this.#refuseAfterEnd('batch')) return
    try {
      const now = this.#now()
      const given: BatchFields = fields !== null && typeof fields === 'object' ? fields : {}
      if (given.totalBatches !== undefined) this.#totalBatches = given.totalBatches
      if (given.events !== undefined) this.#events = given.events
      this.#batchesDone++
      const durationS = Math.max(0, now - this.#lastBatchAt) / 1000
      this.#lastBatchAt = now
      this.#batches.write(batchCells(given, this.#runCells(now), this.#totalBatches, durationS), now)
    } catch (error) {
      this.#notice.report(error, 'batch()')
    }
    this.#requestStatus()
  }

  /** Records the item as completed before returning, so no later run redoes it. */
  complete(item: string): void {
    if (this.#refuseAfterEnd('complete')) return
    const key = typeof item === 'string' ? item : String(item)
    this.#lastCompleted = key
    try {
      this.#checkpoint.add(key)
    } catch (error) {
      this.#notice.report(error, 'complete()')
    }
    this.#requestStatus()
  }

  isComplete(item: string): boolean {
    return this.#checkpoint.has(typeof item === 'string' ? item : String(item))
  }

  /** The items of `all` not completed yet, in their order. */
  remaining<T extends string>(all: Iterable<T>): T[] {
    const left: T[] = []
    for (const item of all) if (!this.#checkpoint.has(item)) left.push(item)
    return left
  }

  /** Marks the run `completed`: the status file says so at once, the checkpoint is rewritten whole, the files are closed. */
  async finish(): Promise<void> {
    if (this.#status !== 'running') return
    this.#end('completed')
    const seconds = roundTo((this.#now() - this.#startedAt) / 1000, 1)
    this.#log('info', `completed run ${this.runId}: ${this.#checkpoint.size - this.#completedAtStart} items in ${seconds} s, ${this.#checkpoint.size}${this.total === undefined ? '' : ` of ${this.total}`} in all`)
  }

  /** Marks the run `failed: <reason>` at once and closes its files, e.g. from a `catch` that ends the job. */
  fail(reason: unknown): void {
    if (this.#status !== 'running') return
    this.#end(`failed: ${describeReason(reason)}`)
    this.#log('error', `run ${this.runId} ${this.#status}`)
  }

  #refuseAfterEnd(method: string): boolean {
    if (this.#status === 'running') return false
    this.#notice.report(new Error(`progress.${method}() was called after the run ended (${this.#status}); ignored`), `${method}()`)
    return true
  }

  #requestStatus(): void {
    try {
      this.#statusFile.request()
    } catch (error) {
      this.#notice.report(error, 'a status rewrite')
    }
  }

  #onExit(code: number): void {
    if (this.#status !== 'running') return
    // A job that did all its items and ended well but never said finish() is done all the same.
    if (code === 0 && this.total !== undefined && this.#checkpoint.size >= this.total) this.#end('completed')
    else this.#end(`failed: exited with code ${code} before finish()`)
  }

  /** Everything an ending does, synchronously: it also runs on crash paths. */
  #end(status: RunStatus): void {
    if (this.#status !== 'running') return
    this.#status = status
    this.#stopWatching()
    const attempts: [string, () => void][] = [
      ['the final checkpoint rewrite', () => this.#checkpoint.compactIfPending()],
      ['the final status write', () => this.#statusFile.writeNow()],
      ['closing the files', () => {
        this.#heartbeats.close()
        this.#batches.close()
        this.#checkpoint.close()
      }],
    ]
    for (const [during, attempt] of attempts) {
      try {
        attempt()
      } catch (error) {
        this.#notice.report(error, during)
      }
    }
  }

  #log(level: 'info' | 'error', message: string): void {
    this.#logger?.[level]({ event: 'progress', runId: this.runId, completed: this.#checkpoint.size, ...(this.total === undefined ? {} : { total: this.total }) }, message)
  }

  #rssGb(now: number): number {
    if (now - this.#rssSampledAt >= RSS_SAMPLE_INTERVAL_MS || now < this.#rssSampledAt) {
      this.#rssBytes = process.memoryUsage.rss()
      this.#rssSampledAt = now
    }
    return this.#rssBytes / BYTES_PER_GB
  }

  #rates(now: number): { pct: number | undefined; ratePerS: number | undefined; etaS: number | undefined } {
    const completed = this.#checkpoint.size
    const done = completed - this.#completedAtStart
    const elapsedS = (now - this.#startedAt) / 1000
    const ratePerS = done > 0 && elapsedS > 0 ? done / elapsedS : undefined
    const total = this.total
    return {
      pct: total === undefined ? undefined : (completed / total) * 100,
      ratePerS,
      etaS: total === undefined || ratePerS === undefined ? undefined : Math.max(0, total - completed) / ratePerS,
    }
  }

  #runCells(now: number): RunCells {
    return { timestamp: this.#time(now), runId: this.runId, completed: this.#checkpoint.size, total: this.total, ...this.#rates(now), rssGb: this.#rssGb(now) }
  }

  #render(seq: number): ProgressStatus {
    const now = this.#now()
    const { pct, ratePerS, etaS } = this.#rates(now)
    const round = (value: number | undefined, digits: number): number | null => (value === undefined ? null : roundTo(value, digits))
    return {
      run_id: this.runId,
      job: this.job,
      status: this.#status,
      pid: process.pid,
      hostname: hostname(),
      started_at: new Date(this.#startedAt).toISOString(),
      first_started_at: this.#firstStartedAt,
      attempt: this.#attempt,
      updated_at: new Date(now).toISOString(),
      seq,
      last_item: this.#lastItem,
      last_completed: this.#lastCompleted,
      batch: serialize(this.#batch),
      total_batches: serialize(this.#totalBatches),
      batches_done: this.#batchesDone,
      completed: this.#checkpoint.size,
      total: this.total ?? null,
      pct: round(pct, 2),
      rate_per_s: round(ratePerS, 3),
      eta_s: round(etaS, 1),
      eta_at: etaS === undefined || this.#status !== 'running' ? null : new Date(now + etaS * 1000).toISOString(),
      events: serialize(this.#events),
      rss_gb: roundTo(this.#rssGb(now), 3),
      elapsed_s: roundTo(Math.max(0, now - this.#startedAt) / 1000, 3),
      files: { heartbeat: this.#heartbeats.pathAt(now), batches: this.#batches.pathAt(now), checkpoint: this.paths.checkpoint },
    }
  }
}

/**
 * Starts, or resumes, the progress files of a run.
 *
 * @example
 * const progress = createProgress({ dir: 'logs', runId: 'events_intraday_20261121', total: symbols.length })
 * for (const symbol of progress.remaining(symbols)) {
 *   progress.heartbeat({ symbol, batch, totalBatches: 40 })
 *   await process(symbol)
 *   progress.complete(symbol)
 * }
 * await progress.finish()
 */
export function createProgress(options: ProgressOptions): Progress {
  return new Progress(options)
}
