import { readFileSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname } from 'node:path'
import { LEVEL_NAMES, levelNameOf, type LevelName } from '../core/levels.js'
import { validateFileNamePart } from '../progress/names.js'
import { VERDICT_TEXT, type Verdict } from './verdict.js'
import { judgeMemory, type MemoryEnding } from './memory-trend.js'
import { headlineOf, pidOf, ProcessTracker, type PostmortemProcess } from './postmortem-processes.js'
import { findRunProgress, findRunsProgress, type PostmortemProgress, type RunProgress } from './postmortem-progress.js'
import { readRecords, UNKNOWN_LEVEL, type ReadRecord, type TornTail } from './read-records.js'
import { isDateFolder } from './run-file-name.js'
import { ActivityCounter, LEVEL_GROUPS, SeriesReducer, type LevelGroup } from './series.js'
import { damageOf, ENDING_STRENGTH, NO_ENDING_TEXT, type LevelCounts, type RunEnding } from './summarize.js'
import { firstLine, iso, median, numberOf, round, stringOf } from './record-values.js'

export type { PostmortemProgress, ProgressMark, RunProgress } from './postmortem-progress.js'
export type { PostmortemProcess, ProcessEnding, ProcessMemory, ProcessWitness } from './postmortem-processes.js'

/**
 * `blackbox postmortem`: everything a run file says about how its run ended, in one pass
 * over the file, as a plain object that `--json` prints as it is. See docs/postmortem.md.
 */

/** How many records before the end are kept, unless told. */
export const LAST_RECORDS = 20
/** Error and fatal records kept: the first ones (the cause is often there)… */
export const ERRORS_KEPT_FIRST = 20
/** …and the last ones; those in between are counted in `errorCount` only. */
export const ERRORS_KEPT_LAST = 180
/**
 * A heartbeat gap more than this many usual intervals is a hang, as for the supervisor's
 * default `hangAfter` (3 × the heartbeat interval).
 */
export const HANG_FACTOR = 3
/** Gaps kept to find the usual heartbeat interval (their median); the interval is configured, so the first ones tell. */
const MAX_INTERVAL_GAPS = 1000
/** Progress runs named by records that are looked up, at most (a file is not trusted to name a bounded number). */
const MAX_NAMED_RUNS = 100
/** The schema of the `--json` object; raised when a key changes meaning or goes away. */
export const POSTMORTEM_VERSION = 2

/**
 * Records of the flight recorder's own bookkeeping: summarized in `lastHeartbeat` and
 * `memory`, and left out of `lastRecords`, where they would crowd out what the program said.
 */
const BOOKKEEPING_EVENTS: ReadonlySet<string> = new Set(['heartbeat', 'child-heartbeat', 'sample'])

/** Who wrote the run file: `blackbox run` (a supervisor around a child), or the program itself (setupLogging's crash guard, or any logger). */
export type PostmortemSource = 'supervisor' | 'program'

/**
 * How the run ended. `blackbox run` files: the supervisor's verdict (`clean`, `error`,
 * `uncaught`, `signal`, `oom`, `sigkill`, `hang`). Other files: the crash guard's ending as
 * `blackbox summary` reads it (`completed`, `error`, `signal`, `uncaught`), or `none`: no
 * record says, so the process was killed (`SIGKILL`, the OOM killer) or is still running.
 */
export type PostmortemVerdict = Verdict | RunEnding

/** One record as the report shows it. */
export interface PostmortemRecord {
  /** 1-based line of the record in the file. */
  readonly line: number
  readonly time: string | null
  /** `INFO`, `ERROR`, `CRITICAL`…, `UNKNOWN` for a line of no known format. */
  readonly level: string
  /** The writing process, from the text prefix (`[1234]`) or JSON `pid`. */
  readonly pid: number | null
  /** The first line of the message. */
  readonly message: string
  /** The continuation lines (a stack trace), or a JSON record's `err.stack`; null when none. */
  readonly stack: string | null
  readonly fields: Record<string, unknown>
}

/** A heartbeat record: the last sign of life with numbers in it. */
export interface HeartbeatMark {
  readonly time: string
  /** How long before the run's end it was, ms; null when the end is unknown. */
  readonly beforeEndMs: number | null
  /** `heartbeat` (the program's crash guard) or `child-heartbeat` (relayed by `blackbox run`). */
  readonly event: string
  readonly pid: number | null
  readonly rssMB: number | null
  readonly heapUsedMB: number | null
  /** `loopDelayMaxMs` of a `heartbeat`, `loopDelayMs` of a `child-heartbeat`. */
  readonly loopDelayMs: number | null
  readonly uptimeS: number | null
}

/** One child process of a `blackbox run` (several after restarts). */
export interface PostmortemAttempt {
  readonly pid: number | null
  readonly startedAt: string | null
  readonly endedAt: string | null
  readonly verdict: string | null
  readonly code: number | null
  readonly signal: string | null
}

/** `[epoch ms, value]`: a point of a series. */
export type SeriesPair = [number, number]

export interface PostmortemMemory {
  /** `sample` (the supervisor reads the child's RSS from /proc every second), `child-heartbeat` or `heartbeat`; null when no record gave memory. */
  readonly source: 'sample' | 'child-heartbeat' | 'heartbeat' | null
  /** The process the series is of: the one whose end is described. */
  readonly pid: number | null
  readonly unit: 'MB'
  /** How many samples (before reduction to `series`). */
  readonly samples: number
  readonly min: number | null
  readonly max: number | null
  readonly mean: number | null
  readonly first: number | null
  readonly last: number | null
  /** True when the series rose across the run: see docs/postmortem.md for the rule. */
  readonly leak: boolean
  /** False when the samples cannot tell a leak from none (too few, nothing steady): "no leak" is not said then. */
  readonly judged: boolean
  readonly leakReason: string
  /** The smoothed series (window medians) the leak rule judged. */
  readonly trend: number[]
  /** RSS over time, at most `MAX_SERIES_POINTS` points (means of consecutive samples). */
  readonly series: SeriesPair[]
  /** Heap used over time, from heartbeats of the same process; empty without them. */
  readonly heap: SeriesPair[]
}

/** What `analyzeRunFile` finds. Keys are stable (see `version`); times are ISO 8601, durations ms. */
export interface Postmortem {
  readonly version: number
  /**
   * The worst thing that happened to any process of the run, in one sentence (`worker-leaky
   * (pid 123) was killed by SIGKILL from host (pid 120) at 162 MB, after growing 101 → 162 MB
   * in 0.4 s: a leak`); null when every process ended cleanly.
   */
  readonly headline: string | null
  /** `damaged`: why a compressed file could not be read to its end (its records up to there are read), else null. */
  readonly file: { readonly path: string; readonly name: string; readonly date: string | null; readonly size: number; readonly torn: boolean; readonly damaged: string | null }
  readonly source: PostmortemSource
  /** The supervised command line; null for a program's own file. */
  readonly command: string | null
  /** The program's process (the last child of a `blackbox run`). */
  readonly pid: number | null
  readonly supervisorPid: number | null
  readonly hostname: string | null
  readonly verdict: PostmortemVerdict
  /** `uncaught exception`, `SIGKILL from outside, possibly OOM`, `no ending record: killed or still running`… */
  readonly verdictText: string
  /** `exit code 3`, `signal SIGKILL`, the uncaught error's message; null when there is nothing to add. */
  readonly detail: string | null
  readonly startedAt: string | null
  /** When the run ended; without an ending record (`none`), the last record's time. */
  readonly endedAt: string | null
  /** Whether a record says when the run ended (false: `endedAt` is only the last sign of life). */
  readonly endKnown: boolean
  readonly durationMs: number | null
  readonly exitCode: number | null
  readonly signal: string | null
  /** What a shell saw: the code, or 128 + the signal's number (`blackbox run` only). */
  readonly exitStatus: number | null
  readonly restarts: number
  readonly attempts: PostmortemAttempt[]
  /** For `none`: whether the process (by its pid, on this host) is still there; null when it cannot be told. */
  readonly stillRunning: boolean | null
  readonly records: number
  readonly levels: LevelCounts
  /** The last records before the end (heartbeats and memory samples left out), oldest first. */
  readonly lastRecords: PostmortemRecord[]
  /** Error and fatal records with their stacks, oldest first; at most `ERRORS_KEPT_FIRST + ERRORS_KEPT_LAST`. */
  readonly errors: PostmortemRecord[]
  /** How many error and fatal records the file holds. */
  readonly errorCount: number
  readonly heartbeats: number
  readonly lastHeartbeat: HeartbeatMark | null
  /** The usual time between heartbeats (the median gap). */
  readonly heartbeatIntervalMs: number | null
  /** The longest silence between heartbeats of one process, or from the last one to the end. */
  readonly longestGapMs: number | null
  readonly longestGap: { readonly from: string; readonly to: string; readonly ms: number; readonly toEnd: boolean } | null
  /** A gap over `HANG_FACTOR` usual intervals, a supervisor `hang` record, or the `hang` verdict. */
  readonly hang: boolean
  readonly hangs: Array<{ readonly time: string | null; readonly pid: number | null; readonly silentMs: number | null; readonly action: string | null }>
  /** The worst event-loop delay any heartbeat or `blocked` record reported. */
  readonly worstLoopDelayMs: number | null
  readonly worstLoopDelayAt: string | null
  /** `blocked` records: the event loop was stuck long enough to make a heartbeat late. */
  readonly blocked: number
  readonly memory: PostmortemMemory
  /** Event-loop delay per heartbeat, reduced like `memory.series`. */
  readonly loopDelay: { readonly samples: number; readonly series: SeriesPair[] }
  /** Records per level group per `bucketMs`, from `start`: `counts[i]` in `levels` order. */
  readonly activity: { readonly start: string | null; readonly bucketMs: number; readonly levels: readonly LevelGroup[]; readonly counts: number[][] }
  /** The progress run that best matches the program's process (the first of `progressRuns`, when any). */
  readonly progress: PostmortemProgress
  /** Every progress run of the run's processes, unfinished first, with the owning process where known. */
  readonly progressRuns: RunProgress[]
  /** Every process of the run (the supervised command, the workers that logged through it), worst ending first. */
  readonly processes: PostmortemProcess[]
}

export interface AnalyzeRunOptions {
  /** The log folder holding the progress files; default the folder above the run file's day folder (else the file's folder). */
  dir?: string
  /** A progress run id or status file path, instead of looking for the run's progress files. */
  progress?: string
  /** How many records before the end to keep; default `LAST_RECORDS`. */
  lastRecords?: number
}

const PROGRAM_ENDING_TEXT: Readonly<Record<RunEnding, string>> = {
  completed: 'completed',
  error: 'error exit',
  signal: 'killed by a signal',
  uncaught: 'uncaught exception',
  none: NO_ENDING_TEXT,
}

const MEMORY_SOURCES = ['sample', 'child-heartbeat', 'heartbeat'] as const
type MemorySource = (typeof MEMORY_SOURCES)[number]

/** Where memory samples come from, in words. */
export const MEMORY_SOURCE_TEXT: Readonly<Record<MemorySource, string>> = { sample: "the supervisor's samples", 'child-heartbeat': "the child's heartbeats", heartbeat: 'heartbeats' }


/**
 * The pid a supervisor's record is about (the child's): its `pid` field, written `pid_` since
 * the logger renames fields that would forge the record's own keys (core/field-names.ts).
 */
function childPidOf(fields: Record<string, unknown>): number | undefined {
  return numberOf(fields['pid_']) ?? numberOf(fields['pid'])
}


function isFileNamePart(value: string): boolean {
  try {
    validateFileNamePart(value, 'runId')
    return true
  } catch {
    return false
  }
}

function stackOf(record: ReadRecord): string | undefined {
  const newline = record.msg.indexOf('\n')
  if (newline !== -1) return record.msg.slice(newline + 1)
  for (const key of ['err', 'error']) {
    const value = record.fields[key]
    if (value === null || typeof value !== 'object') continue
    const stack = (value as { stack?: unknown }).stack
    // A stack that is not text (a damaged or foreign file) is shown as what it is: its JSON.
    if (typeof stack === 'string') return stack
    if (stack !== undefined && stack !== null) return JSON.stringify(stack)
  }
  return undefined
}

function viewOf(record: ReadRecord): PostmortemRecord {
  return {
    line: record.line,
    time: iso(record.time),
    level: record.levelLabel,
    pid: pidOf(record) ?? null,
    message: firstLine(record.msg),
    stack: stackOf(record) ?? null,
    fields: record.fields,
  }
}

function isEnding(value: unknown): value is Exclude<RunEnding, 'none'> {
  return value === 'completed' || value === 'error' || value === 'signal' || value === 'uncaught'
}

function pairs(reducer: SeriesReducer | undefined): SeriesPair[] {
  return reducer ? reducer.points().map((point) => [Math.round(point.time), round(point.value, 2)]) : []
}

/** Whether a process of this host is there, by pid: signal 0 checks without sending; a zombie (dead, not yet reaped) is not. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // proc(5): the state follows the command name in parentheses.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** `logs/2026-11-21/x.log` → `logs`: where the progress folders are beside the day folders. */
export function logDirOf(path: string): string {
  const folder = dirname(path)
  return isDateFolder(basename(folder)) ? dirname(folder) : folder
}

interface Beat {
  time: number
  event: string
  pid: number | undefined
  rssMB: number | undefined
  heapUsedMB: number | undefined
  loopDelayMs: number | undefined
  uptimeS: number | undefined
}

/** Everything gathered in the one pass over the file. */
class RunReader {
  readonly #keep: number
  records = 0
  readonly counts = new Map<LevelName | 'unknown', number>()
  first: number | undefined
  latest: number | undefined
  torn = false
  /** What is wrong with a compressed file that could not be read to its end. */
  damaged: string | undefined
  // The supervisor's records.
  supervised = false
  command: string | undefined
  supervisorPid: number | undefined
  host: string | undefined
  runStart: number | undefined
  runEnd: ReadRecord | undefined
  readonly attempts: PostmortemAttempt[] = []
  readonly childPids: number[] = []
  restarts = 0
  readonly hangs: Postmortem['hangs'] = []
  // The crash guard's records.
  programPid: number | undefined
  ending: RunEnding = 'none'
  readonly firstEnding: Partial<Record<Exclude<RunEnding, 'none'>, ReadRecord>> = {}
  lastEndingTime: number | undefined
  exitCode: number | undefined
  guardDurationMs: number | undefined
  pids = new Map<number, number>()
  // Records.
  // Records as read; turned into views once, at the end.
  readonly lastRecords: ReadRecord[] = []
  readonly errorsFirst: ReadRecord[] = []
  readonly errorsLast: ReadRecord[] = []
  errorCount = 0
  // Heartbeats, delays, memory.
  beats = 0
  lastBeat: Beat | undefined
  readonly previousBeat = new Map<number | undefined, number>()
  readonly gaps: number[] = []
  longestGap: { from: number; to: number; ms: number; toEnd: boolean } | undefined
  worstDelay: { ms: number; time: number | undefined } | undefined
  blocked = 0
  readonly loopDelay = new SeriesReducer()
  readonly memory = new Map<MemorySource, Map<number | undefined, SeriesReducer>>()
  readonly heap = new Map<number | undefined, SeriesReducer>()
  readonly activity = new ActivityCounter()
  readonly processes = new ProcessTracker()
  /** Progress runs the records name (`event=progress runId=…`, createProgress with a logger). */
  readonly progressRunIds = new Set<string>()

  constructor(keep: number) {
    this.#keep = keep
  }

  see(record: ReadRecord): void {
    this.records++
    const key = record.level === UNKNOWN_LEVEL ? 'unknown' : levelNameOf(record.level)
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    const { time, fields } = record
    if (time !== undefined) {
      this.first ??= time
      if (this.latest === undefined || time > this.latest) this.latest = time
      this.activity.add(time, record.level)
    }
    const pid = pidOf(record)
    if (pid !== undefined) this.pids.set(pid, (this.pids.get(pid) ?? 0) + 1)
    const event = stringOf(fields['event'])
    if (event !== undefined) this.#event(event, record, pid)
    this.processes.see(record, pid, event)
    if (event === 'progress' && this.progressRunIds.size < MAX_NAMED_RUNS) {
      // A run id from the file names a file to read: only one createProgress would accept.
      const runId = stringOf(fields['runId'])
      if (runId !== undefined && isFileNamePart(runId)) this.progressRunIds.add(runId)
    }
    const ending = fields['ending']
    if (isEnding(ending)) {
      this.firstEnding[ending] ??= record
      if (ENDING_STRENGTH[ending] > ENDING_STRENGTH[this.ending]) this.ending = ending
      if (time !== undefined) this.lastEndingTime = time
    }
    if (record.level >= 50) {
      this.errorCount++
      if (this.errorsFirst.length < ERRORS_KEPT_FIRST) this.errorsFirst.push(record)
      else {
        this.errorsLast.push(record)
        if (this.errorsLast.length > ERRORS_KEPT_LAST) this.errorsLast.shift()
      }
    }
    if (event === undefined || !BOOKKEEPING_EVENTS.has(event)) {
      this.lastRecords.push(record)
      if (this.lastRecords.length > this.#keep) this.lastRecords.shift()
    }
  }

  #event(event: string, record: ReadRecord, pid: number | undefined): void {
    const { fields, time } = record
    switch (event) {
      case 'run-start': {
        this.supervised = true
        this.command = stringOf(fields['command'])
        this.supervisorPid = pid
        this.runStart = time
        this.#system(fields['system'])
        break
      }
      case 'child-start': {
        const child = childPidOf(fields)
        if (child !== undefined) this.childPids.push(child)
        this.attempts.push({ pid: child ?? null, startedAt: iso(time), endedAt: null, verdict: null, code: null, signal: null })
        break
      }
      case 'child-exit': {
        const child = childPidOf(fields) ?? null
        const ended: PostmortemAttempt = {
          pid: child,
          startedAt: this.attempts.findLast((attempt) => attempt.pid === child && attempt.endedAt === null)?.startedAt ?? null,
          endedAt: iso(time),
          verdict: stringOf(fields['verdict']) ?? null,
          code: numberOf(fields['code']) ?? null,
          signal: stringOf(fields['signal']) ?? null,
        }
        const open = this.attempts.findLastIndex((attempt) => attempt.pid === child && attempt.endedAt === null)
        if (open === -1) this.attempts.push(ended)
        else this.attempts[open] = ended
        break
      }
      case 'restart':
        this.restarts++
        break
      case 'hang':
        this.hangs.push({ time: iso(time), pid: childPidOf(fields) ?? null, silentMs: numberOf(fields['silentMs']) ?? null, action: stringOf(fields['action']) ?? null })
        break
      case 'run-end':
        this.runEnd = record
        break
      case 'system':
        this.#system(fields['system'])
        this.programPid ??= pid
        break
      case 'sample':
        this.#memory('sample', childPidOf(fields), time, numberOf(fields['rssMB']))
        break
      case 'child-heartbeat':
        this.#beat(record, childPidOf(fields), numberOf(fields['loopDelayMs']))
        break
      case 'heartbeat':
        this.#beat(record, pid, numberOf(fields['loopDelayMaxMs']))
        break
      case 'blocked': {
        this.blocked++
        this.#delay(numberOf(fields['blockedMs']), time)
        break
      }
      case 'exit': {
        const code = numberOf(fields['code'])
        if (code !== undefined && Number.isSafeInteger(code)) this.exitCode = code
        this.guardDurationMs = numberOf(fields['durationMs']) ?? this.guardDurationMs
        break
      }
      case 'cleanup':
        this.guardDurationMs ??= numberOf(fields['durationMs'])
        break
    }
  }

  #system(system: unknown): void {
    if (system === null || typeof system !== 'object') return
    const info = system as { hostname?: unknown; pid?: unknown }
    this.host ??= stringOf(info.hostname)
    if (!this.supervised) this.programPid ??= numberOf(info.pid)
  }

  #memory(source: MemorySource, pid: number | undefined, time: number | undefined, mb: number | undefined): void {
    if (time === undefined || mb === undefined) return
    let byPid = this.memory.get(source)
    if (!byPid) this.memory.set(source, (byPid = new Map()))
    let series = byPid.get(pid)
    if (!series) byPid.set(pid, (series = new SeriesReducer()))
    series.push(time, mb)
  }

  #delay(ms: number | undefined, time: number | undefined): void {
    if (ms === undefined) return
    if (!this.worstDelay || ms > this.worstDelay.ms) this.worstDelay = { ms, time }
  }

  #beat(record: ReadRecord, pid: number | undefined, loopDelayMs: number | undefined): void {
    const { fields, time } = record
    if (time === undefined) return
    this.beats++
    const event = stringOf(fields['event']) ?? 'heartbeat'
    const beat: Beat = { time, event, pid, rssMB: numberOf(fields['rssMB']), heapUsedMB: numberOf(fields['heapUsedMB']), loopDelayMs, uptimeS: numberOf(fields['uptimeS']) }
    this.lastBeat = beat
    // Gaps within one process: the pause between a child's death and its restart is not a hang.
    const previous = this.previousBeat.get(pid)
    if (previous !== undefined && time >= previous) {
      const gap = time - previous
      if (this.gaps.length < MAX_INTERVAL_GAPS) this.gaps.push(gap)
      if (!this.longestGap || gap > this.longestGap.ms) this.longestGap = { from: previous, to: time, ms: gap, toEnd: false }
    }
    this.previousBeat.set(pid, time)
    this.#memory(event === 'child-heartbeat' ? 'child-heartbeat' : 'heartbeat', pid, time, beat.rssMB)
    if (beat.heapUsedMB !== undefined) {
      let heap = this.heap.get(pid)
      if (!heap) this.heap.set(pid, (heap = new SeriesReducer()))
      heap.push(time, beat.heapUsedMB)
    }
    if (loopDelayMs !== undefined) this.loopDelay.push(time, loopDelayMs)
    this.#delay(loopDelayMs, time)
  }

  errors(): PostmortemRecord[] {
    return [...this.errorsFirst, ...this.errorsLast].map(viewOf)
  }

  /** The pid most records carry: the program's, in its own file. */
  commonPid(): number | undefined {
    let best: [number, number] | undefined
    for (const entry of this.pids) if (!best || entry[1] > best[1]) best = entry
    return best?.[0]
  }
}

interface Ending {
  verdict: PostmortemVerdict
  verdictText: string
  detail: string | undefined
  endedAt: number | undefined
  endKnown: boolean
  durationMs: number | undefined
  exitCode: number | undefined
  signal: string | undefined
  exitStatus: number | undefined
  restarts: number
}

function isVerdict(value: unknown): value is Verdict {
  return typeof value === 'string' && Object.hasOwn(VERDICT_TEXT, value)
}

/** The uncaught error's first line, as the child's crash guard recorded it. */
function uncaughtMessage(reader: RunReader): string | undefined {
  const record = reader.firstEnding.uncaught
  return record && record.msg !== '' ? firstLine(record.msg).trim() : undefined
}

function supervisedEnding(reader: RunReader): Ending {
  const end = reader.runEnd
  const lastAttempt = reader.attempts.at(-1)
  const fields = end?.fields ?? {}
  const verdictField = end ? fields['verdict'] : lastAttempt?.verdict
  const verdict: PostmortemVerdict = isVerdict(verdictField) ? verdictField : 'none'
  const code = end ? numberOf(fields['code']) : (lastAttempt?.code ?? undefined)
  const signal = end ? stringOf(fields['signal']) : (lastAttempt?.signal ?? undefined)
  const endedAt = end?.time ?? (lastAttempt?.endedAt ? Date.parse(lastAttempt.endedAt) : undefined)
  const how = signal !== undefined ? `signal ${signal}` : code !== undefined ? `exit code ${code}` : undefined
  const parts: string[] = []
  const hang = reader.hangs.at(-1)
  if (verdict === 'uncaught') parts.push(uncaughtMessage(reader) ?? how ?? '')
  else if (verdict === 'not-started') parts.push(stringOf(fields['startError']) ?? '')
  else {
    if (verdict === 'hang' && hang?.silentMs != null) parts.push(`no heartbeat for ${hang.silentMs} ms`)
    if (how !== undefined) parts.push(how)
  }
  if (!end && verdict !== 'none') parts.push('the supervisor recorded no run-end (it was killed?)')
  const detail = parts.filter((part) => part !== '').join('; ')
  const start = reader.runStart ?? reader.first
  const last = endedAt ?? reader.latest
  return {
    verdict,
    verdictText: verdict === 'none' ? NO_ENDING_TEXT : isVerdict(verdict) ? VERDICT_TEXT[verdict] : PROGRAM_ENDING_TEXT[verdict],
    detail: detail === '' ? undefined : detail,
    endedAt: last,
    endKnown: endedAt !== undefined,
    durationMs: numberOf(fields['durationMs']) ?? (last !== undefined && start !== undefined ? last - start : undefined),
    exitCode: code,
    signal,
    exitStatus: numberOf(fields['exitStatus']),
    restarts: numberOf(fields['restarts']) ?? reader.restarts,
  }
}

function programEnding(reader: RunReader): Ending {
  const { ending, exitCode } = reader
  const signal = stringOf(reader.firstEnding.signal?.fields['signal'])
  const exit = exitCode === undefined ? undefined : `exit code ${exitCode}`
  const message = (kind: Exclude<RunEnding, 'none'>): string | undefined => {
    const record = reader.firstEnding[kind]
    return record && record.msg !== '' ? firstLine(record.msg).trim() : undefined
  }
  const detail = ending === 'none' ? undefined
    : ending === 'completed' ? exit
    : ending === 'error' ? (exit ?? message('error'))
    : ending === 'signal' ? (signal ?? message('signal'))
    : message('uncaught')
  const endKnown = ending !== 'none' && reader.lastEndingTime !== undefined
  const endedAt = endKnown ? reader.lastEndingTime : reader.latest
  const span = endedAt !== undefined && reader.first !== undefined ? endedAt - reader.first : undefined
  return {
    verdict: ending,
    verdictText: PROGRAM_ENDING_TEXT[ending],
    detail,
    endedAt,
    endKnown,
    durationMs: endKnown ? (reader.guardDurationMs ?? span) : span,
    exitCode,
    signal,
    exitStatus: undefined,
    restarts: 0,
  }
}

/** The run's ending, as far as memory is concerned: a killed process may have been killed for it. */
function memoryEndingOf(verdict: PostmortemVerdict): MemoryEnding {
  return verdict === 'oom' ? 'oom' : verdict === 'sigkill' || verdict === 'signal' || verdict === 'hang' || verdict === 'none' ? 'killed' : 'other'
}

function memoryOf(reader: RunReader, pid: number | undefined, ending: MemoryEnding): PostmortemMemory {
  // The process whose end is described; its series from the source with the most samples
  // (the supervisor's /proc samples first when they tie).
  let chosen: { source: MemorySource; pid: number | undefined; series: SeriesReducer } | undefined
  for (const wantPid of [true, false]) {
    for (const source of MEMORY_SOURCES) {
      for (const [seriesPid, series] of reader.memory.get(source) ?? []) {
        if (wantPid && seriesPid !== pid) continue
        if (!chosen || series.count > chosen.series.count) chosen = { source, pid: seriesPid, series }
      }
    }
    if (chosen) break
  }
  const series = chosen?.series
  const verdict = judgeMemory(series ? series.points() : [], ending)
  const rounded = (value: number | undefined): number | null => (value === undefined || !Number.isFinite(value) ? null : round(value, 1))
  return {
    source: chosen?.source ?? null,
    pid: chosen?.pid ?? null,
    unit: 'MB',
    samples: series?.count ?? 0,
    min: rounded(series?.min),
    max: rounded(series?.max),
    mean: rounded(series?.mean),
    first: rounded(series?.first),
    last: rounded(series?.last),
    leak: verdict.leak,
    judged: series ? verdict.judged : false,
    leakReason: series ? verdict.reason : 'no memory records',
    trend: verdict.windows,
    series: pairs(series),
    heap: pairs(reader.heap.get(chosen?.pid)),
  }
}

/**
 * Reads a run file (plain or compressed, text, loguru or JSON lines; streamed, so a large
 * file is never held in memory) and tells what happened to its run: how and when it ended,
 * the last records, the errors with their stacks, heartbeats and hangs, the event-loop
 * delay, memory over time with a leak warning, and the progress files of the same run.
 * Throws only when the file cannot be read.
 */
export async function analyzeRunFile(path: string, options: AnalyzeRunOptions = {}): Promise<Postmortem> {
  const keep = options.lastRecords ?? LAST_RECORDS
  if (!Number.isSafeInteger(keep) || keep < 0) throw new TypeError(`Expected \`lastRecords\` to be a non-negative integer, got \`${String(keep)}\` (${typeof keep})`)
  const { size } = await stat(path)
  const reader = new RunReader(keep)
  const onTorn = (tail: TornTail): void => {
    reader.torn = true
    reader.damaged = damageOf(tail)
  }
  for await (const record of readRecords(path, { onTorn })) reader.see(record)

  const ending = reader.supervised ? supervisedEnding(reader) : programEnding(reader)
  const pid = reader.supervised ? reader.childPids.at(-1) : (reader.programPid ?? reader.commonPid())
  // The silence from the last heartbeat to a known end counts too: that is what a hang looks like.
  let longestGap = reader.longestGap
  const lastBeat = reader.lastBeat
  if (lastBeat && ending.endKnown && ending.endedAt !== undefined && ending.endedAt > lastBeat.time) {
    const ms = ending.endedAt - lastBeat.time
    if (!longestGap || ms > longestGap.ms) longestGap = { from: lastBeat.time, to: ending.endedAt, ms, toEnd: true }
  }
  const interval = median(reader.gaps)
  const hang = ending.verdict === 'hang' || reader.hangs.length > 0 || (interval !== undefined && longestGap !== undefined && longestGap.ms > HANG_FACTOR * interval)
  const watched = reader.supervised ? reader.supervisorPid : pid
  const stillRunning = ending.verdict !== 'none' ? false
    : watched !== undefined && reader.host !== undefined && reader.host === hostname() ? processAlive(watched)
    : null
  const activity = reader.activity.result()
  const levels: LevelCounts = {}
  for (const key of [...LEVEL_NAMES, 'unknown'] as const) {
    const count = reader.counts.get(key)
    if (count !== undefined) levels[key] = count
  }
  const start = reader.supervised ? (reader.runStart ?? reader.first) : reader.first
  const onThisHost = reader.host !== undefined && reader.host === hostname()
  const processes = reader.processes.result((pid) => (onThisHost ? processAlive(pid) : null), viewOf)
  const query = {
    dir: options.dir ?? logDirOf(path),
    pids: reader.supervised ? [...reader.childPids, ...processes.map((process) => process.pid)] : pid === undefined ? [] : [pid],
    start,
    end: ending.endedAt,
    endKnown: ending.endKnown,
    explicit: options.progress,
    named: [...reader.progressRunIds],
  }
  const progressRuns = (await findRunsProgress(query)).map((run) => {
    const owner = run.pid === null ? undefined : processes.find((process) => process.pid === run.pid)
    return owner ? { ...run, owner: { pid: owner.pid, name: owner.name } } : run
  })
  // The one the report has always shown: the supervised command's own.
  const progress = await findRunProgress({ ...query, pids: reader.supervised ? reader.childPids : query.pids })
  const folder = basename(dirname(path))
  return {
    version: POSTMORTEM_VERSION,
    headline: headlineOf(processes) ?? null,
    file: { path, name: basename(path), date: isDateFolder(folder) ? folder : null, size, torn: reader.torn, damaged: reader.damaged ?? null },
    source: reader.supervised ? 'supervisor' : 'program',
    command: reader.command ?? null,
    pid: pid ?? null,
    supervisorPid: reader.supervisorPid ?? null,
    hostname: reader.host ?? null,
    verdict: ending.verdict,
    verdictText: ending.verdictText,
    detail: ending.detail ?? null,
    startedAt: iso(start),
    endedAt: iso(ending.endedAt),
    endKnown: ending.endKnown,
    durationMs: ending.durationMs ?? null,
    exitCode: ending.exitCode ?? null,
    signal: ending.signal ?? null,
    exitStatus: ending.exitStatus ?? null,
    restarts: ending.restarts,
    attempts: reader.attempts,
    stillRunning,
    records: reader.records,
    levels,
    lastRecords: reader.lastRecords.map(viewOf),
    errors: reader.errors(),
    errorCount: reader.errorCount,
    heartbeats: reader.beats,
    lastHeartbeat: lastBeat
      ? {
          time: new Date(lastBeat.time).toISOString(),
          beforeEndMs: ending.endKnown && ending.endedAt !== undefined ? ending.endedAt - lastBeat.time : null,
          event: lastBeat.event,
          pid: lastBeat.pid ?? null,
          rssMB: lastBeat.rssMB ?? null,
          heapUsedMB: lastBeat.heapUsedMB ?? null,
          loopDelayMs: lastBeat.loopDelayMs ?? null,
          uptimeS: lastBeat.uptimeS ?? null,
        }
      : null,
    heartbeatIntervalMs: interval ?? null,
    longestGapMs: longestGap?.ms ?? null,
    longestGap: longestGap ? { from: new Date(longestGap.from).toISOString(), to: new Date(longestGap.to).toISOString(), ms: longestGap.ms, toEnd: longestGap.toEnd } : null,
    hang,
    hangs: reader.hangs,
    worstLoopDelayMs: reader.worstDelay?.ms ?? null,
    worstLoopDelayAt: iso(reader.worstDelay?.time),
    blocked: reader.blocked,
    memory: memoryOf(reader, pid, memoryEndingOf(ending.verdict)),
    loopDelay: { samples: reader.loopDelay.count, series: pairs(reader.loopDelay) },
    activity: { start: iso(activity.start), bucketMs: activity.bucketMs, levels: LEVEL_GROUPS, counts: activity.counts },
    progress,
    progressRuns,
    processes,
  }
}
