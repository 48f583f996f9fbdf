import { createReadStream, existsSync, readdirSync, type Dirent } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { readCheckpoint } from '../progress/checkpoint.js'
import { CHECKPOINT_FOLDER, dayStamp, jobOf, STATUS_FILE_SUFFIX, STATUS_FOLDER, statusPathOf } from '../progress/names.js'
import { readStatus, type ProgressStatus } from '../progress/status.js'
import { unescapeTsvField } from '../progress/tsv.js'
import { isDateFolder } from './run-file-name.js'
import { iso } from './record-values.js'

/**
 * Finding the progress files (docs/progress.md) of the run a run file describes: its status
 * file, the last heartbeat and batch lines of its TSV files, its checkpoint.
 */

/**
 * How far outside the run's first and last record a progress file's times may be and still
 * be the run's: the status file is rewritten at most every second, and a run file's first
 * record may come a little after the progress was created.
 */
export const PROGRESS_MATCH_SLACK_MS = 2000
/**
 * How far after a run's recorded end its progress files may have been written: the crash
 * paths write the status before the guard's last record, so only clock steps between writers.
 */
export const END_SLACK_MS = 250

/** One line of a heartbeat or batch TSV file. */
export interface ProgressMark {
  /** The line's `timestamp`, ISO 8601; null when it could not be read. */
  readonly time: string | null
  /** How long before the run's end the line was written, ms; null when either time is unknown. */
  readonly beforeEndMs: number | null
  /** The line's columns (`item`, `batch`, `completed`, …), unescaped, as text; empty cells left out. */
  readonly values: Record<string, string>
}

/** What the progress files say about the run, or why there are none. */
export interface PostmortemProgress {
  readonly found: boolean
  /** `option`: named by `--progress`; `pid`: a status file written by the run's process; `time`: a status file written during the run; `tsv`: TSV lines written during the run. */
  readonly matchedBy: 'option' | 'pid' | 'time' | 'tsv' | 'record' | null
  /** How they were found, or why none were. */
  readonly note: string
  readonly runId: string | null
  readonly job: string | null
  readonly statusPath: string | null
  /** `running`, `completed`, `failed: <reason>`, as the status file last said. */
  readonly status: string | null
  /** The process that wrote the status file. */
  readonly pid: number | null
  readonly updatedAt: string | null
  readonly completed: number | null
  readonly total: number | null
  readonly pct: number | null
  readonly lastItem: string | null
  readonly lastHeartbeat: ProgressMark | null
  readonly lastBatch: ProgressMark | null
  /** The checkpoint's items, JSON file and journal together: the authority after a kill, when the status may lag. */
  readonly checkpoint: { readonly path: string; readonly completed: number } | null
}

/** The run a run file describes, as far as the progress files can be matched to it. */
export interface ProgressQuery {
  /** The log folder: `<dir>/heartbeats/`, `<dir>/<job>/`, `<dir>/checkpoints/`. */
  readonly dir: string
  /** The pids of the run's program (several after restarts). */
  readonly pids: readonly number[]
  /** The run's first record and its end, epoch ms; undefined when unknown. */
  readonly start: number | undefined
  readonly end: number | undefined
  /** Whether a record says the run ended at `end` (else `end` is its last record: it was killed). */
  readonly endKnown: boolean
  /** A run id or the path of a status file, to use instead of looking. */
  readonly explicit?: string | undefined
  /** Run ids the run file's records name (`event=progress runId=…`): theirs whenever written. */
  readonly named?: readonly string[] | undefined
}

interface Window {
  readonly from: number
  readonly to: number
}

interface Found {
  readonly time: number | undefined
  readonly values: Record<string, string>
}

/** What the TSV files say of one run id. */
interface TsvRun {
  lines: number
  heartbeat: Found | undefined
  batch: Found | undefined
  jobDir: string
}

const TSV_NAME = /^(.+)_(\d{8})\.log$/
const LOCAL_STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/

/** A TSV `timestamp`: the default local `YYYY-MM-DD HH:mm:ss.SSS`, or anything `Date.parse` reads (ISO with a zone). */
function stampTime(text: string): number | undefined {
  const local = LOCAL_STAMP.exec(text)
  if (local) {
    const [year, month, day, hours, minutes, seconds] = local.slice(1, 7).map(Number) as [number, number, number, number, number, number]
    return new Date(year, month - 1, day, hours, minutes, seconds, Number((local[7] ?? '0').padEnd(3, '0'))).getTime()
  }
  const parsed = Date.parse(text)
  return Number.isNaN(parsed) ? undefined : parsed
}

function listDir(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true })
  } catch {
    return []
  }
}

/** The complete lines of a file, streamed; a last line without its newline (a write cut by a kill) is left out. */
async function* completeLines(path: string): AsyncGenerator<string> {
  let pending = ''
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const lines = (pending + (chunk as string)).split('\n')
    pending = lines.pop() ?? ''
    yield* lines
  }
}

/** The last line of each run id in a heartbeat or batch TSV file, within the window. */
async function scanTsv(path: string, window: Window | undefined, into: Map<string, TsvRun>): Promise<void> {
  let columns: string[] | undefined
  let kind: 'heartbeat' | 'batch' | undefined
  try {
    for await (const line of completeLines(path)) {
      if (columns === undefined) {
        columns = line.split('\t')
        // Known by its columns, whatever the file is called (`heartbeatName`, `batchesName`).
        kind = columns.includes('item') ? 'heartbeat' : columns.includes('shard') ? 'batch' : undefined
        if (kind === undefined || !columns.includes('run_id')) return
        continue
      }
      const cells = line.split('\t')
      const values: Record<string, string> = {}
      columns.forEach((column, i) => {
        const cell = cells[i]
        if (cell !== undefined && cell !== '') values[column] = column === 'extra' ? cell : unescapeTsvField(cell)
      })
      const runId = values['run_id']
      if (runId === undefined) continue
      const time = values['timestamp'] === undefined ? undefined : stampTime(values['timestamp'])
      if (window && (time === undefined || time < window.from || time > window.to)) continue
      const run = into.get(runId) ?? { lines: 0, heartbeat: undefined, batch: undefined, jobDir: dirname(path) }
      run.lines++
      // Files are read oldest day first and lines in order: the last one seen is the last written.
      if (kind === 'heartbeat') run.heartbeat = { time, values }
      else run.batch = { time, values }
      into.set(runId, run)
    }
  } catch {
    // Unreadable (permissions, removed meanwhile): it tells nothing.
  }
}

/** The TSV files of a job folder whose day is within the window, oldest day first. */
function tsvFilesIn(jobDir: string, window: Window | undefined): string[] {
  const first = window && dayStamp(window.from)
  const last = window && dayStamp(window.to)
  return listDir(jobDir)
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: entry.name, match: TSV_NAME.exec(entry.name) }))
    .filter(({ match }) => match !== null && (first === undefined || last === undefined || ((match[2] as string) >= first && (match[2] as string) <= last)))
    .sort((a, b) => ((a.match?.[2] ?? '') < (b.match?.[2] ?? '') ? -1 : (a.match?.[2] ?? '') > (b.match?.[2] ?? '') ? 1 : a.name < b.name ? -1 : 1))
    .map(({ name }) => join(jobDir, name))
}

function readStatusOrUndefined(path: string): ProgressStatus | undefined {
  try {
    return readStatus(path)
  } catch {
    return undefined
  }
}

interface StatusMatch {
  readonly path: string
  readonly status: ProgressStatus
  readonly by: 'pid' | 'time'
  /** When the status says its process worked on the run, epoch ms. */
  readonly from: number
  readonly to: number
}

/**
 * The status file of the run: one written by one of its pids, created after the run began
 * (else that pid was an earlier process's); else one created before the run ended and
 * written after it began, the one that overlaps it most.
 */
function matchStatus(dir: string, query: ProgressQuery & { start: number; end: number }): StatusMatch | undefined {
  let best: (StatusMatch & { overlap: number }) | undefined
  for (const match of statusMatches(dir, query)) {
    if (!best || (match.by === 'pid' && best.by === 'time') || (match.by === best.by && match.overlap > best.overlap)) best = match
  }
  return best
}

/** Every status file of the run's time (see matchStatus), with how much it overlaps the run. */
function statusMatches(dir: string, query: ProgressQuery & { start: number; end: number }): Array<StatusMatch & { overlap: number }> {
  const folder = join(dir, STATUS_FOLDER)
  const matches: Array<StatusMatch & { overlap: number }> = []
  for (const entry of listDir(folder)) {
    if (!entry.isFile() || !entry.name.endsWith(STATUS_FILE_SUFFIX) || entry.name.startsWith('.')) continue
    const path = join(folder, entry.name)
    const status = readStatusOrUndefined(path)
    if (!status) continue
    const from = Date.parse(status.started_at)
    const to = Date.parse(status.updated_at)
    if (Number.isNaN(from) || Number.isNaN(to)) continue
    const began = from >= query.start - PROGRESS_MATCH_SLACK_MS
    // A killed run's end is only its last record; its progress may have gone on after it.
    const beforeEnd = from <= query.end + (query.endKnown ? END_SLACK_MS : Number.POSITIVE_INFINITY)
    const by = query.pids.includes(status.pid) && began && beforeEnd ? 'pid'
      : from <= query.end + END_SLACK_MS && to >= query.start - PROGRESS_MATCH_SLACK_MS ? 'time'
      : undefined
    if (by === undefined) continue
    matches.push({ path, status, by, from, to, overlap: Math.min(to, query.end) - Math.max(from, query.start) })
  }
  return matches
}

/** The folders under the log folder that may be job folders: not day folders, not the status or checkpoint folders. */
function jobFolders(dir: string): string[] {
  return listDir(dir)
    .filter((entry) => entry.isDirectory() && !isDateFolder(entry.name) && entry.name !== STATUS_FOLDER && entry.name !== CHECKPOINT_FOLDER)
    .map((entry) => join(dir, entry.name))
}

function mark(found: Found | undefined, end: number | undefined): ProgressMark | null {
  if (!found) return null
  return { time: iso(found.time), beforeEndMs: found.time === undefined || end === undefined ? null : end - found.time, values: found.values }
}

function plainText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function none(note: string): PostmortemProgress {
  return {
    found: false, matchedBy: null, note, runId: null, job: null, statusPath: null, status: null, pid: null, updatedAt: null,
    completed: null, total: null, pct: null, lastItem: null, lastHeartbeat: null, lastBatch: null, checkpoint: null,
  }
}

function checkpointOf(path: string): { path: string; completed: number } | null {
  if (!existsSync(path) && !existsSync(`${path.replace(/\.json$/, '')}.journal`)) return null
  try {
    return { path, completed: readCheckpoint(path).length }
  } catch {
    return null
  }
}

/**
 * Looks for the progress files of a run: `explicit` (a run id or a status file's path) if
 * given; else a status file under `<dir>/heartbeats/` written by one of the run's pids,
 * created after the run began; else one created before the run ended and written after it
 * began; else heartbeat and batch lines written while it ran, in any job folder under
 * `<dir>`. Then the run id's last TSV lines of that time, and its checkpoint. Never throws:
 * what cannot be read is not there.
 */
export async function findRunProgress(query: ProgressQuery): Promise<PostmortemProgress> {
  const { dir, explicit, start, end } = query
  if (explicit === undefined && (start === undefined || end === undefined)) {
    return none('the run file has no times to match progress files by; name them with --progress RUNID')
  }
  // Lines of the run: from its start to its end, or for a killed run a little after its last record.
  let tsvWindow = start === undefined || end === undefined ? undefined : { from: start - PROGRESS_MATCH_SLACK_MS, to: end + (query.endKnown ? END_SLACK_MS : PROGRESS_MATCH_SLACK_MS) }
  let statusPath: string | undefined
  let status: ProgressStatus | undefined
  let runId: string | undefined
  let matchedBy: NonNullable<PostmortemProgress['matchedBy']> | undefined
  if (explicit !== undefined) {
    const isPath = explicit.endsWith('.json') || explicit.includes('/') || explicit.includes('\\')
    statusPath = isPath ? explicit : statusPathOf(dir, explicit)
    status = readStatusOrUndefined(statusPath)
    runId = status?.run_id ?? (isPath ? basename(explicit).replace(STATUS_FILE_SUFFIX, '') : explicit)
    if (!status) statusPath = undefined
    matchedBy = 'option'
    // Named by the user: its last lines whenever they were written.
    tsvWindow = undefined
  } else if (start !== undefined && end !== undefined) {
    const match = matchStatus(dir, { ...query, start, end })
    if (match) {
      statusPath = match.path
      status = match.status
      runId = status.run_id
      matchedBy = match.by
      // The lines of the process that wrote the status, while it did.
      tsvWindow = { from: Math.min(match.from, start) - PROGRESS_MATCH_SLACK_MS, to: Math.max(match.to, end) + END_SLACK_MS }
    }
  }

  if (runId !== undefined) return describeRun(query, { runId, status, statusPath, matchedBy: matchedBy ?? 'option', tsvWindow })
  const runs = new Map<string, TsvRun>()
  for (const jobDir of jobFolders(dir)) for (const file of tsvFilesIn(jobDir, tsvWindow)) await scanTsv(file, tsvWindow, runs)
  let best: [string, TsvRun] | undefined
  for (const entry of runs) if (!best || entry[1].lines > best[1].lines) best = entry
  if (!best) return none(`no progress files of this run under ${dir} (no status file in ${join(dir, STATUS_FOLDER)} and no heartbeat or batch lines written while it ran)`)
  return describeRun(query, { runId: best[0], status: undefined, statusPath: undefined, matchedBy: 'tsv', tsvWindow, tsv: best[1] })
}

/** A progress run of a run file, and whether it finished. */
export type RunProgress = PostmortemProgress & {
  /** The status says `completed`. */
  readonly finished: boolean
  /** The process that wrote its status file, when it is one of the run's. */
  readonly owner: { readonly pid: number; readonly name: string | null } | null
}

/**
 * Every progress run of a run file's time (issue #20): each status file written by one of
 * its processes or while it ran, and each run id with heartbeat or batch lines of that time
 * but no status file; unfinished runs first, then the most recently updated. `--progress`
 * names one instead. `owner` is filled in by the caller, who knows the processes.
 */
export async function findRunsProgress(query: ProgressQuery): Promise<RunProgress[]> {
  const { dir, start, end } = query
  const finish = (progress: PostmortemProgress): RunProgress => ({ ...progress, finished: progress.status === 'completed', owner: null })
  if (query.explicit !== undefined || start === undefined || end === undefined) {
    const one = await findRunProgress(query)
    return one.found ? [finish(one)] : []
  }
  const runs: PostmortemProgress[] = []
  const seen = new Set<string>()
  for (const match of statusMatches(dir, { ...query, start, end })) {
    if (seen.has(match.status.run_id)) continue
    seen.add(match.status.run_id)
    const tsvWindow = { from: Math.min(match.from, start) - PROGRESS_MATCH_SLACK_MS, to: Math.max(match.to, end) + END_SLACK_MS }
    runs.push(await describeRun(query, { runId: match.status.run_id, status: match.status, statusPath: match.path, matchedBy: match.by, tsvWindow }))
  }
  const tsvWindow = { from: start - PROGRESS_MATCH_SLACK_MS, to: end + (query.endKnown ? END_SLACK_MS : PROGRESS_MATCH_SLACK_MS) }
  const lines = new Map<string, TsvRun>()
  for (const jobDir of jobFolders(dir)) for (const file of tsvFilesIn(jobDir, tsvWindow)) await scanTsv(file, tsvWindow, lines)
  for (const [runId, tsv] of lines) {
    if (seen.has(runId)) continue
    seen.add(runId)
    runs.push(await describeRun(query, { runId, status: undefined, statusPath: undefined, matchedBy: 'tsv', tsvWindow, tsv }))
  }
  for (const runId of query.named ?? []) {
    if (seen.has(runId)) continue
    seen.add(runId)
    const statusPath = statusPathOf(dir, runId)
    const status = readStatusOrUndefined(statusPath)
    runs.push(await describeRun(query, { runId, status, statusPath: status ? statusPath : undefined, matchedBy: 'record', tsvWindow: undefined }))
  }
  return runs
    .filter((run) => run.found)
    .map(finish)
    .sort((a, b) => Number(a.finished) - Number(b.finished) || (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || (a.runId ?? '').localeCompare(b.runId ?? ''))
}

/** A run id found, and how. */
interface RunFound {
  readonly runId: string
  readonly status: ProgressStatus | undefined
  readonly statusPath: string | undefined
  readonly matchedBy: NonNullable<PostmortemProgress['matchedBy']>
  /** The times whose TSV lines are the run's; undefined: all. */
  readonly tsvWindow: Window | undefined
  /** Its TSV lines, when already read. */
  readonly tsv?: TsvRun | undefined
}

/** What the progress files say of one run id: its status, its last TSV lines, its checkpoint. */
async function describeRun(query: ProgressQuery, found: RunFound): Promise<PostmortemProgress> {
  const { dir } = query
  const { runId, status, statusPath, matchedBy } = found
  let tsv = found.tsv
  if (!tsv) {
    const runs = new Map<string, TsvRun>()
    const jobDir = status ? dirname(status.files.heartbeat) : join(dir, jobOf(runId))
    for (const file of tsvFilesIn(jobDir, found.tsvWindow)) await scanTsv(file, found.tsvWindow, runs)
    tsv = runs.get(runId)
  }
  const checkpoint = checkpointOf(status?.files.checkpoint ?? join(dir, CHECKPOINT_FOLDER, `${runId}_completed.json`))
  if (!status && !tsv && !checkpoint) return none(`no progress files for run id \`${runId}\` under ${dir}`)
  const job = status?.job ?? (tsv ? basename(tsv.jobDir) : jobOf(runId))
  const notes: Record<NonNullable<PostmortemProgress['matchedBy']>, string> = {
    option: `named with --progress`,
    pid: `the status file was written by the run's process (pid ${status?.pid ?? '?'})`,
    time: `the status file was written while the run ran`,
    tsv: `heartbeat or batch lines were written while the run ran`,
    record: `the run file's records name it (event=progress)`,
  }
  const completed = checkpoint?.completed ?? status?.completed ?? null
  const total = status?.total ?? null
  return {
    found: true,
    matchedBy,
    note: notes[matchedBy],
    runId,
    job,
    statusPath: statusPath ?? null,
    status: status?.status ?? null,
    pid: status?.pid ?? null,
    updatedAt: status?.updated_at ?? null,
    completed,
    total,
    pct: completed !== null && total !== null && total > 0 ? Math.round((completed / total) * 10_000) / 100 : status?.pct ?? null,
    lastItem: plainText(status?.last_item),
    lastHeartbeat: mark(tsv?.heartbeat, query.end),
    lastBatch: mark(tsv?.batch, query.end),
    checkpoint,
  }
}
