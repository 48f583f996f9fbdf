import { join } from 'node:path'

/** The folder progress files go under when none is given. */
export const DEFAULT_PROGRESS_DIR = 'logs'

// A trailing date (and time) in a run id: `_20261121`, `-2026-11-21`, `_20261121_2102`,
// `_20261121T210234`. The job is what the runs of every day have in common.
const TRAILING_DATE = /[_-](?:\d{8}|\d{4}-\d{2}-\d{2})(?:[_T-]?\d{4}(?:\d{2})?)?$/

function describe(value: unknown): string {
  return `\`${JSON.stringify(value) ?? String(value)}\` (${typeof value})`
}

/**
 * Refuses a name that becomes part of a file name and could leave its folder or hide in a
 * listing: path separators, `..`, NUL and other control characters, or nothing at all.
 */
export function validateFileNamePart(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value.includes('..') || /[/\\\u0000-\u001f\u007f]/.test(value)) {
    throw new TypeError(`Expected \`${option}\` to be a file-name part without path separators, \`..\` or control characters, got ${describe(value)}`)
  }
  return value
}

/** The job of a run id: the run id without a trailing date, `events_intraday_20261121` → `events_intraday`. */
export function jobOf(runId: string): string {
  const job = runId.replace(TRAILING_DATE, '')
  return job === '' ? runId : job
}

/** `20261121`: the local date that names a day's TSV files. */
export function dayStamp(epochMs: number): string {
  const date = new Date(epochMs)
  return `${date.getFullYear()}${String(date.getMonth() + 1).padStart(2, '0')}${String(date.getDate()).padStart(2, '0')}`
}

/** Where one run's files are. */
export interface ProgressPaths {
  /** `<dir>/<job>/`: the heartbeat and batch TSV files of every run of the job. */
  readonly jobDir: string
  /** `<dir>/heartbeats/<runId>_heartbeat.json`: the current state. */
  readonly status: string
  /** `<dir>/checkpoints/<runId>_completed.json`: the completed items. */
  readonly checkpoint: string
  /** `<dir>/checkpoints/<runId>_completed.journal`: items completed since the JSON was last rewritten. */
  readonly journal: string
}

/** The status file of a run: `<dir>/heartbeats/<runId>_heartbeat.json`. */
export function statusPathOf(dir: string, runId: string): string {
  return join(dir, STATUS_FOLDER, `${runId}${STATUS_FILE_SUFFIX}`)
}

/** The folder of status files under the log folder. */
export const STATUS_FOLDER = 'heartbeats'
/** The folder of checkpoints under the log folder. */
export const CHECKPOINT_FOLDER = 'checkpoints'
/** The status files are `<runId>_heartbeat.json`; the temporary files made while rewriting one are not. */
export const STATUS_FILE_SUFFIX = '_heartbeat.json'

/** Where a run's files go; each folder can be moved on its own. */
export interface PathOptions {
  readonly dir: string
  readonly runId: string
  readonly job: string
  /** Default `<dir>/<job>`. */
  readonly jobDir?: string | undefined
  /** Default `<dir>/heartbeats`. */
  readonly statusDir?: string | undefined
  /** Default `<dir>/checkpoints`. */
  readonly checkpointDir?: string | undefined
}

/** The files of a run, from the log folder, the run id and the job. */
export function progressPaths(options: PathOptions): ProgressPaths {
  const { dir, runId, job } = options
  const checkpoints = options.checkpointDir ?? join(dir, CHECKPOINT_FOLDER)
  return {
    jobDir: options.jobDir ?? join(dir, job),
    status: join(options.statusDir ?? join(dir, STATUS_FOLDER), `${runId}${STATUS_FILE_SUFFIX}`),
    checkpoint: join(checkpoints, `${runId}_completed.json`),
    journal: join(checkpoints, `${runId}_completed.journal`),
  }
}
