import { readFileSync } from 'node:fs'
import type { Plain } from '../core/serialize.js'
import { writeFileAtomicSync } from './atomic-file.js'

/** How often, at most, the status file is rewritten when `statusInterval` is not given. */
export const DEFAULT_STATUS_INTERVAL_MS = 1000

/** `running`, `completed`, or `failed: <reason>`. */
export type RunStatus = 'running' | 'completed' | `failed: ${string}`

/** What `<dir>/heartbeats/<runId>_heartbeat.json` holds: the state of a run when it was last written. */
export interface ProgressStatus {
  run_id: string
  job: string
  status: RunStatus
  /** The process writing it, and its host: a `running` status whose process is gone was killed. */
  pid: number
  hostname: string
  /** When this process created the progress, ISO 8601. */
  started_at: string
  /** When the first run of this run id started; differs from `started_at` after a resume. */
  first_started_at: string
  /** 1 for the first run of this run id, 2 for the first resume… */
  attempt: number
  updated_at: string
  /** Counts the writes of this file by this process: a reader sees whether it changed. */
  seq: number
  /** The item named by the latest `heartbeat()`: the one being processed. */
  last_item: Plain
  /** The item of the latest `complete()`. */
  last_completed: string | null
  batch: Plain
  total_batches: Plain
  /** `batch()` calls in this process. */
  batches_done: number
  /** Items completed, earlier runs of this run id included. */
  completed: number
  total: number | null
  /** completed / total × 100. */
  pct: number | null
  /** Items completed per second by this process since it started. */
  rate_per_s: number | null
  /** Seconds left at that rate. */
  eta_s: number | null
  eta_at: string | null
  /** The `events` of the latest `heartbeat()` or `batch()`. */
  events: Plain
  /** Resident set size, in GB (10⁹ bytes). */
  rss_gb: number
  /** Seconds since `started_at`. */
  elapsed_s: number
  /** The files of the run: today's TSV files and the checkpoint. */
  files: { heartbeat: string; batches: string; checkpoint: string }
}

/** Reads and checks a status file; throws naming the file when it is not one. */
export function readStatus(path: string): ProgressStatus {
  const text = readFileSync(path, 'utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message})`)
  }
  const record = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  if (typeof record['run_id'] !== 'string' || typeof record['status'] !== 'string' || typeof record['completed'] !== 'number') {
    throw new Error(`${path} is not a progress status file: expected \`run_id\`, \`status\` and \`completed\``)
  }
  return value as ProgressStatus
}

/**
 * Writes the status file atomically, at most every `intervalMs`: a request within the
 * interval of the last write is served by one write when the interval has passed (by the
 * next request, or by a timer that never keeps the process alive), so however often the
 * job reports, the file is rewritten at most once per interval and shows what was
 * reported at most one interval ago.
 */
export class StatusWriter {
  readonly path: string
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #render: (seq: number) => ProgressStatus
  readonly #onTimerError: (error: unknown) => void
  #lastWriteAt = Number.NEGATIVE_INFINITY
  #seq = 0
  #timer: NodeJS.Timeout | undefined

  constructor(path: string, intervalMs: number, now: () => number, render: (seq: number) => ProgressStatus, onTimerError: (error: unknown) => void) {
    this.path = path
    this.#intervalMs = intervalMs
    this.#now = now
    this.#render = render
    this.#onTimerError = onTimerError
  }

  /** How many times the file was written. */
  get writes(): number {
    return this.#seq
  }

  /**
   * Writes now if the interval has passed since the last write, or makes sure a write
   * comes when it has. A job that never yields to the event loop never lets the timer
   * run; its calls write whenever the interval has passed all the same.
   */
  request(): void {
    const wait = this.#lastWriteAt + this.#intervalMs - this.#now()
    if (wait <= 0) this.writeNow()
    else this.#timer ??= setTimeout(this.#onTimer, wait).unref()
  }

  /** Writes at once, whatever the interval: for a new state (completed, failed) and on exit paths. */
  writeNow(): void {
    this.cancel()
    this.#lastWriteAt = this.#now()
    this.#seq++
    writeFileAtomicSync(this.path, `${JSON.stringify(this.#render(this.#seq), null, 2)}\n`)
  }

  /** Drops a write that was waiting for the interval. */
  cancel(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    try {
      this.writeNow()
    } catch (error) {
      this.#onTimerError(error)
    }
  }
}
