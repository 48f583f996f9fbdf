import { LEVEL_NAMES, levelNameOf, type LevelName } from '../core/levels.js'
import { judgeMemory, type MemoryEnding } from './memory-trend.js'
import { UNKNOWN_LEVEL, type ReadRecord } from './read-records.js'
import { SeriesReducer } from './series.js'
import type { LevelCounts } from './summarize.js'
import { VERDICT_TEXT, type Verdict } from './verdict.js'
import type { PostmortemRecord } from './postmortem.js'
import { firstLine, iso, median, numberOf, round, stringOf } from './record-values.js'

/**
 * The processes of a run file (issue #20): a `blackbox run` file holds the records of every
 * process that logged through its collector (a host and the workers it forked), and the
 * supervisor's records about each of them (hello, heartbeats, memory samples, goodbye or
 * death). Here they are told apart and each one's story is told: who it was, how long it
 * lived, what it said, its memory, and how it ended. See docs/postmortem.md.
 */

/** Records kept per process, the last ones. */
export const PROCESS_LAST_RECORDS = 5
/** A heartbeat gap more than this many usual intervals is a hang. */
export const PROCESS_HANG_FACTOR = 3
/**
 * How close in time a captured uncaught-exception block on the child's stderr and the death
 * of another process must be for the block to be that process's: workers forked by the
 * child share its stderr, so the block may be a worker's.
 */
export const STDERR_MATCH_MS = 2000

/**
 * How a process ended, worst first: `oom` (killed by the OOM killer), `uncaught` (an
 * uncaught error), `hang` (its heartbeats stopped while it lived), `sigkill` (SIGKILL from
 * outside), `signal` (another signal), `died` (it went without a goodbye: killed from
 * outside or crashed, nothing more is known), `error` (a non-zero exit code), `unknown` (no
 * record says), `running` (still there on this host), `clean` (a goodbye, exit code 0).
 */
export type ProcessEnding = 'oom' | 'uncaught' | 'hang' | 'sigkill' | 'signal' | 'died' | 'error' | 'unknown' | 'running' | 'clean'

/** How bad each ending is: the processes are listed worst first. */
export const PROCESS_ENDING_SEVERITY: Readonly<Record<ProcessEnding, number>> = {
  oom: 90, uncaught: 80, hang: 75, sigkill: 70, signal: 60, died: 50, error: 40, unknown: 20, running: 10, clean: 0,
}

export const PROCESS_ENDING_TEXT: Readonly<Record<ProcessEnding, string>> = {
  oom: 'killed by the OOM killer',
  uncaught: 'uncaught error',
  hang: 'hung',
  sigkill: 'killed by SIGKILL',
  signal: 'killed by a signal',
  died: 'died without saying goodbye (killed from outside, or crashed)',
  error: 'error exit',
  unknown: 'no ending record (killed, or it ended without a crash guard)',
  running: 'still running',
  clean: 'ended cleanly',
}


/** `[epoch ms, value]`. */
export type ProcessSeriesPair = [number, number]

/** A process's memory: the series with the most samples, and the leak rule's verdict on it. */
export interface ProcessMemory {
  readonly source: 'sample' | 'child-heartbeat' | 'heartbeat' | null
  readonly samples: number
  readonly first: number | null
  readonly last: number | null
  readonly min: number | null
  readonly max: number | null
  readonly leak: boolean
  /** False when the samples cannot tell (too few, and nothing steady): the report does not say "no leak" then. */
  readonly judged: boolean
  readonly leakReason: string
  readonly series: ProcessSeriesPair[]
}

/** Who, by a record, said it killed or saw the end of another process. */
export interface ProcessWitness {
  readonly pid: number
  readonly name: string | null
  readonly time: string | null
  readonly message: string
}

/** One process of the run. Times ISO 8601, durations ms. */
export interface PostmortemProcess {
  readonly pid: number
  /** The client name (HELLO, heartbeats) or, for the supervised command, `child`; null when nothing named it. */
  readonly name: string | null
  readonly role: string | null
  /** The parent, from the supervisor's hello record (/proc) or the process's system record; null when unknown. */
  readonly ppid: number | null
  /** `child`: the command `blackbox run` started; `client`: a process that logged through the collector (e.g. a worker it forked); `program`: a writer of a program's own file. */
  readonly kind: 'child' | 'client' | 'program'
  readonly startedAt: string | null
  /** When it ended, or its last sign of life when no record says (`endKnown` false). */
  readonly endedAt: string | null
  readonly endKnown: boolean
  readonly durationMs: number | null
  readonly records: number
  readonly levels: LevelCounts
  readonly errorCount: number
  readonly lastRecords: PostmortemRecord[]
  readonly ending: ProcessEnding
  /** The ending in words, with what is known: `killed by SIGKILL from host (pid 12)`, `uncaught error: boom`. */
  readonly endingText: string
  readonly exitCode: number | null
  readonly signal: string | null
  /** Another process whose record says it killed this one, or saw it end. */
  readonly killedBy: ProcessWitness | null
  /** The uncaught error's first line. */
  readonly error: string | null
  readonly heartbeats: number
  readonly heartbeatIntervalMs: number | null
  readonly longestGapMs: number | null
  /** Heartbeats stopped while it lived (a gap over `PROCESS_HANG_FACTOR` intervals, or the supervisor said so). */
  readonly hang: boolean
  readonly worstLoopDelayMs: number | null
  readonly memory: ProcessMemory
  readonly loopDelay: ProcessSeriesPair[]
}

type MemorySource = NonNullable<ProcessMemory['source']>
const MEMORY_SOURCES: readonly MemorySource[] = ['sample', 'child-heartbeat', 'heartbeat']
const BOOKKEEPING: ReadonlySet<string> = new Set(['heartbeat', 'child-heartbeat', 'sample', 'cgroup'])
type GuardEnding = 'completed' | 'error' | 'signal' | 'uncaught'
const GUARD_STRENGTH: Readonly<Record<GuardEnding, number>> = { completed: 1, error: 2, signal: 3, uncaught: 4 }
// A record by another process about this one that says it killed it.
const KILL_WORDS = /\bkill(?:s|ed|ing)?\b|\bterminat(?:e|es|ed|ing)\b/i
const SIGNAL_NAME = /\bSIG[A-Z0-9]{2,}\b/
// …and a kill for a hang, as the killer says it.
const HANG_WORDS = /\b(?:hung|hangs?|stuck|unresponsive|frozen|not responding|no heartbeats?)\b/i

// The default text preset's `{time} [{pid}]`; JSON records carry `pid`.
const TEXT_PID = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[(\d+)\]/

/** The process that wrote a record: the text prefix's `[1234]`, or JSON `pid`. */
export function pidOf(record: ReadRecord): number | undefined {
  if (record.format === 'json') return numberOf(record.fields['pid'])
  const match = TEXT_PID.exec(record.raw)
  return match ? Number(match[1]) : undefined
}

/** The pid a record names in its fields: `pid_` (a logger renames a field `pid`, core/field-names.ts) or `pid` of a text record. */
export function namedPidOf(fields: Record<string, unknown>): number | undefined {
  return numberOf(fields['pid_']) ?? (typeof fields['pid'] === 'string' ? numberOf(fields['pid']) : undefined)
}

interface Report {
  readonly by: number
  readonly record: ReadRecord
  readonly signal: string | undefined
  readonly code: number | undefined
  readonly kill: boolean
}

/** Everything one process's records say, gathered in the one pass over the file. */
class ProcessState {
  readonly pid: number
  name: string | undefined
  role: string | undefined
  ppid: number | undefined
  child = false
  records = 0
  readonly counts = new Map<LevelName | 'unknown', number>()
  first: number | undefined
  last: number | undefined
  readonly lastRecords: ReadRecord[] = []
  errorCount = 0
  // Heartbeats.
  beats = 0
  previousBeat: number | undefined
  readonly gaps: number[] = []
  longestGap = 0
  readonly memory = new Map<MemorySource, { reducer: SeriesReducer; points: Array<{ time: number; value: number }> }>()
  readonly loopDelay = new SeriesReducer()
  worstDelay: number | undefined
  // Endings, as each kind of record says.
  guard: GuardEnding | undefined
  readonly guardRecords: Partial<Record<GuardEnding, ReadRecord>> = {}
  guardEnd: number | undefined
  guardCode: number | undefined
  hello: number | undefined
  bye: number | undefined
  byeCode: number | undefined
  dead: { time: number | undefined; code: number | undefined; signal: string | undefined; oom: boolean } | undefined
  exit: { time: number | undefined; code: number | undefined; signal: string | undefined; verdict: string | undefined } | undefined
  hangSaid = false
  late = 0
  stderrUncaught: ReadRecord | undefined
  readonly reports: Report[] = []

  constructor(pid: number) {
    this.pid = pid
  }

  sample(source: MemorySource, time: number | undefined, mb: number | undefined): void {
    if (time === undefined || mb === undefined) return
    let series = this.memory.get(source)
    if (!series) this.memory.set(source, (series = { reducer: new SeriesReducer(), points: [] }))
    series.reducer.push(time, mb)
    // The few-samples rule needs the samples themselves; past the leak rule's window count
    // the reduced series is what is judged.
    if (series.points.length < 64) series.points.push({ time, value: mb })
  }

  beat(time: number | undefined, source: MemorySource, fields: Record<string, unknown>, delay: number | undefined): void {
    if (time === undefined) return
    this.beats++
    if (this.previousBeat !== undefined && time >= this.previousBeat) {
      const gap = time - this.previousBeat
      if (this.gaps.length < 1000) this.gaps.push(gap)
      if (gap > this.longestGap) this.longestGap = gap
    }
    this.previousBeat = time
    this.sample(source, time, numberOf(fields['rssMB']))
    if (delay !== undefined) {
      this.loopDelay.push(time, delay)
      if (this.worstDelay === undefined || delay > this.worstDelay) this.worstDelay = delay
    }
  }
}

/** The processes of a run file, fed record by record. */
export class ProcessTracker {
  readonly #states = new Map<number, ProcessState>()
  readonly #keep: number
  supervisorPid: number | undefined
  readonly #stderrBlocks: ReadRecord[] = []

  constructor(keep = PROCESS_LAST_RECORDS) {
    this.#keep = keep
  }

  #state(pid: number): ProcessState {
    let state = this.#states.get(pid)
    if (!state) this.#states.set(pid, (state = new ProcessState(pid)))
    return state
  }

  /** `pid`: the writer of the record (its `[pid]` prefix or JSON `pid`). */
  see(record: ReadRecord, pid: number | undefined, event: string | undefined): void {
    const { fields, time } = record
    if (event === 'run-start') this.supervisorPid = pid
    const named = namedPidOf(fields)
    const bySupervisor = pid !== undefined && pid === this.supervisorPid
    // The supervisor's records about a process (its heartbeats, samples, captured output, its
    // end) belong to that process; its own (run-start, run-end) to no process of the list.
    const subject = bySupervisor ? named : pid
    if (subject === undefined) return
    const state = this.#state(subject)
    state.records++
    const key = record.level === UNKNOWN_LEVEL ? 'unknown' : levelNameOf(record.level)
    state.counts.set(key, (state.counts.get(key) ?? 0) + 1)
    if (time !== undefined) {
      state.first ??= time
      if (state.last === undefined || time > state.last) state.last = time
    }
    if (record.level >= 50) state.errorCount++
    if (event === undefined || !BOOKKEEPING.has(event)) {
      state.lastRecords.push(record)
      if (state.lastRecords.length > this.#keep) state.lastRecords.shift()
    }
    const client = stringOf(fields['client'])
    if (bySupervisor) {
      if (client !== undefined) state.name ??= client
      this.#supervisorSaid(state, record, event)
      return
    }
    // The process's own records.
    if (event === 'heartbeat') state.beat(time, 'heartbeat', fields, numberOf(fields['loopDelayMaxMs']))
    if (event === 'system') this.#system(state, fields['system'])
    const ending = fields['ending']
    if (ending === 'completed' || ending === 'error' || ending === 'signal' || ending === 'uncaught') {
      state.guardRecords[ending] ??= record
      if (state.guard === undefined || GUARD_STRENGTH[ending] > GUARD_STRENGTH[state.guard]) state.guard = ending
      if (time !== undefined) state.guardEnd = time
    }
    if (event === 'exit') state.guardCode = numberOf(fields['code']) ?? state.guardCode
    // A record about another process: a parent that killed its worker, or saw it end.
    if (named !== undefined && named !== subject) {
      const signal = stringOf(fields['signal']) ?? SIGNAL_NAME.exec(record.msg)?.[0]
      const code = numberOf(fields['code'])
      const kill = KILL_WORDS.test(firstLine(record.msg))
      if (signal !== undefined || code !== undefined || kill) this.#state(named).reports.push({ by: subject, record, signal, code, kill })
    }
  }

  #system(state: ProcessState, system: unknown): void {
    if (system === null || typeof system !== 'object') return
    state.ppid ??= numberOf((system as { ppid?: unknown }).ppid)
  }

  #supervisorSaid(state: ProcessState, record: ReadRecord, event: string | undefined): void {
    const { fields, time } = record
    switch (event) {
      case 'child-start':
        state.child = true
        break
      case 'child-hello':
        state.hello ??= time
        state.role ??= stringOf(fields['role'])
        state.ppid ??= numberOf(fields['ppid'])
        break
      case 'child-heartbeat':
        state.beat(time, 'child-heartbeat', fields, numberOf(fields['loopDelayMs']))
        break
      case 'sample':
        state.sample('sample', time, numberOf(fields['rssMB']))
        break
      case 'child-bye': {
        state.bye ??= time
        // A client says goodbye as its process exits, even after an uncaught error: `exit code 1`.
        const code = /^exit code (-?\d+)$/.exec(stringOf(fields['reason']) ?? '')?.[1]
        if (code !== undefined) state.byeCode ??= Number(code)
        break
      }
      case 'child-late':
        state.late++
        break
      case 'hang':
        state.hangSaid = true
        break
      case 'child-dead':
        state.dead = { time, code: numberOf(fields['code']), signal: stringOf(fields['signal']), oom: fields['oom'] === true || fields['oom'] === 'true' }
        state.role ??= stringOf(fields['role'])
        break
      case 'child-exit':
        state.child = true
        state.exit = { time, code: numberOf(fields['code']), signal: stringOf(fields['signal']), verdict: stringOf(fields['verdict']) }
        break
      case 'uncaught':
        // Node's own uncaught-exception text, captured from the child's stderr.
        if (fields['stream'] === 'stderr') this.#stderrBlocks.push(record)
        break
    }
  }

  /**
   * The stories, worst first. `alive` tells whether a pid is still there (on this host), for
   * processes no record ended; `view` turns a record into what the report shows.
   */
  result(alive: (pid: number) => boolean | null, view?: (record: ReadRecord) => PostmortemRecord): PostmortemProcess[] {
    this.#placeStderrBlocks()
    const names = new Map<number, string>()
    for (const state of this.#states.values()) if (state.name !== undefined) names.set(state.pid, state.name)
    const processes: PostmortemProcess[] = []
    for (const state of this.#states.values()) {
      if (state.pid === this.supervisorPid) continue
      processes.push(story(state, alive, view, names, this.supervisorPid !== undefined))
    }
    return processes.sort((a, b) => worse(b) - worse(a) || (a.startedAt ?? '').localeCompare(b.startedAt ?? ''))
  }

  /**
   * A block of Node's uncaught-exception text on the child's stderr is the child's, unless the
   * child lived on and another process died without a goodbye at that moment: workers share
   * their parent's stderr.
   */
  #placeStderrBlocks(): void {
    for (const block of this.#stderrBlocks) {
      const owner = namedPidOf(block.fields)
      const ownerState = owner === undefined ? undefined : this.#states.get(owner)
      // A crash guard prints the error it recorded too: a process whose own uncaught record
      // names the same error has it already.
      const line = errorLineOf(block)
      const claimed = [...this.#states.values()].some((state) => state.guardRecords.uncaught !== undefined && errorLineOf(state.guardRecords.uncaught) === line)
      if (claimed) continue
      // Else the process that died nearest to the block: the child itself (when it failed),
      // or one that went without a goodbye, or said it as it exited with an error code, and
      // wrote no uncaught record of its own.
      const at = block.time
      let best: { state: ProcessState; distance: number } | undefined
      if (at !== undefined) {
        for (const state of this.#states.values()) {
          const own = state === ownerState && state.exit !== undefined && (state.exit.code !== 0 || state.exit.signal !== undefined)
          const failedBye = state.byeCode !== undefined && state.byeCode !== 0 ? state.bye : undefined
          // A process killed by a signal did not throw.
          const killed = state.dead?.signal !== undefined || state.reports.some((report) => report.signal !== undefined)
          const death = own ? state.exit?.time : state.guard === 'uncaught' || killed ? undefined : (state.dead?.time ?? failedBye)
          if (death === undefined) continue
          const distance = Math.abs(death - at)
          if (distance <= STDERR_MATCH_MS && (!best || distance < best.distance)) best = { state, distance }
        }
      }
      const chosen = best?.state ?? ownerState
      if (chosen) chosen.stderrUncaught ??= block
    }
  }
}

function worse(process: PostmortemProcess): number {
  return PROCESS_ENDING_SEVERITY[process.ending] + (process.memory.leak ? 5 : 0)
}

function levelsOf(state: ProcessState): LevelCounts {
  const levels: LevelCounts = {}
  for (const key of [...LEVEL_NAMES, 'unknown'] as const) {
    const count = state.counts.get(key)
    if (count !== undefined) levels[key] = count
  }
  return levels
}

const VERDICT_ENDING: Readonly<Record<Verdict, ProcessEnding>> = {
  clean: 'clean', error: 'error', uncaught: 'uncaught', signal: 'signal', oom: 'oom', sigkill: 'sigkill', hang: 'hang', 'not-started': 'error',
}

function isVerdict(value: unknown): value is Verdict {
  return typeof value === 'string' && Object.hasOwn(VERDICT_TEXT, value)
}

function memoryEnding(ending: ProcessEnding): MemoryEnding {
  return ending === 'oom' ? 'oom' : ending === 'sigkill' || ending === 'signal' || ending === 'died' || ending === 'unknown' || ending === 'hang' ? 'killed' : 'other'
}

function memoryOf(state: ProcessState, ending: ProcessEnding): ProcessMemory {
  let chosen: { source: MemorySource; reducer: SeriesReducer; points: Array<{ time: number; value: number }> } | undefined
  for (const source of MEMORY_SOURCES) {
    const series = state.memory.get(source)
    if (series && (!chosen || series.reducer.count > chosen.reducer.count)) chosen = { source, ...series }
  }
  if (!chosen) return { source: null, samples: 0, first: null, last: null, min: null, max: null, leak: false, judged: false, leakReason: 'no memory records', series: [] }
  const { reducer } = chosen
  const points = reducer.count <= chosen.points.length ? chosen.points : reducer.points()
  const judgement = judgeMemory(points, memoryEnding(ending))
  const rounded = (value: number | undefined): number | null => (value === undefined || !Number.isFinite(value) ? null : round(value))
  return {
    source: chosen.source,
    samples: reducer.count,
    first: rounded(reducer.first),
    last: rounded(reducer.last),
    min: rounded(reducer.min),
    max: rounded(reducer.max),
    leak: judgement.leak,
    judged: judgement.judged,
    leakReason: judgement.reason,
    series: reducer.points().map((point) => [Math.round(point.time), round(point.value, 2)]),
  }
}

const ERROR_HEADER = /^[\w$.]*(?:Error|Exception)\b/

/**
 * The uncaught error in one line, as Node prints it (`Error: boom`): the first line of the
 * stack that the crash guard's record carries on continuation lines or in `err.stack`, or of
 * the stderr block; else the message without the guard's `uncaught exception: `.
 */
function errorLineOf(record: ReadRecord): string | null {
  const stackLine = record.msg.split('\n').slice(1).map((entry) => entry.trim()).find((entry) => ERROR_HEADER.test(entry))
  if (stackLine !== undefined) return stackLine
  const err = record.fields['err']
  const stack = err !== null && typeof err === 'object' ? (err as { stack?: unknown }).stack : undefined
  if (typeof stack === 'string' && ERROR_HEADER.test(stack)) return firstLine(stack).trim()
  // pino's err without a stack: `type` and `message`.
  const message = err !== null && typeof err === 'object' ? (err as { message?: unknown }).message : undefined
  if (typeof message === 'string') {
    const type = (err as { type?: unknown }).type
    return `${typeof type === 'string' && type !== '' ? type : 'Error'}: ${firstLine(message).trim()}`
  }
  return firstLine(record.msg).trim().replace(/^uncaught exception: /, '') || null
}

function witnessOf(report: Report, names: ReadonlyMap<number, string>): ProcessWitness {
  return { pid: report.by, name: names.get(report.by) ?? null, time: iso(report.record.time), message: firstLine(report.record.msg).trim() }
}

function who(witness: ProcessWitness): string {
  return `${witness.name ?? 'process'} (pid ${witness.pid})`
}

function story(state: ProcessState, alive: (pid: number) => boolean | null, view: ((record: ReadRecord) => PostmortemRecord) | undefined, names: ReadonlyMap<number, string>, supervised: boolean): PostmortemProcess {
  // What each kind of record says of the end, strongest first.
  const signalReport = state.reports.find((report) => report.signal !== undefined)
  const codeReport = state.reports.find((report) => report.code !== undefined)
  const saidWhy = state.reports.some((report) => report.kill && !HANG_WORDS.test(report.record.msg))
  const killReport = state.reports.find((report) => report.kill) ?? signalReport
  const signal = state.exit?.signal ?? state.dead?.signal ?? signalReport?.signal ?? stringOf(state.guardRecords.signal?.fields['signal'])
  const code = state.exit?.code ?? state.dead?.code ?? state.guardCode ?? state.byeCode ?? (signal === undefined ? codeReport?.code : undefined)
  const uncaughtRecord = state.guardRecords.uncaught ?? state.stderrUncaught
  const endTime = state.exit?.time ?? state.dead?.time ?? state.guardEnd ?? state.bye ?? killReport?.record.time
  // The silence from the last heartbeat to a known end counts: that is what a hang looks like.
  // A goodbye stops the heartbeats, so a long cleanup after it is not a silence.
  const silentUntil = state.bye ?? endTime
  const longestGap = Math.max(state.longestGap, silentUntil !== undefined && state.previousBeat !== undefined ? silentUntil - state.previousBeat : 0)
  const interval = median(state.gaps)
  const gapHang = interval !== undefined && interval > 0 && longestGap > PROCESS_HANG_FACTOR * interval
  const hang = state.hangSaid || state.late > 0 || gapHang || state.exit?.verdict === 'hang'
  let ending: ProcessEnding
  const verdict = state.exit?.verdict
  if (state.dead?.oom || verdict === 'oom') ending = 'oom'
  else if (verdict === 'hang') ending = 'hang'
  else if (uncaughtRecord !== undefined || verdict === 'uncaught') ending = 'uncaught'
  else if (isVerdict(verdict) && verdict !== 'clean' && verdict !== 'error') ending = VERDICT_ENDING[verdict]
  // Silent, then killed: hung, unless the killer said why it killed (a watchdog over memory
  // kills a process whose allocations may have delayed its heartbeats too).
  else if (signal === 'SIGKILL') ending = hang && !saidWhy ? 'hang' : 'sigkill'
  else if (signal !== undefined || state.guard === 'signal') ending = hang && !saidWhy ? 'hang' : 'signal'
  else if (code !== undefined && code !== 0) ending = 'error'
  else if (state.guard === 'error') ending = 'error'
  else if (code === 0 || state.guard === 'completed' || state.bye !== undefined || verdict === 'clean') ending = 'clean'
  else if (state.dead) ending = hang ? 'hang' : 'died'
  // No record of its own end, but another process says it killed it.
  else if (killReport) ending = hang && !saidWhy ? 'hang' : 'signal'
  else {
    const there = alive(state.pid)
    ending = hang && there !== true ? 'hang' : there === true ? 'running' : 'unknown'
  }
  const endKnown = endTime !== undefined && ending !== 'running' && ending !== 'unknown'
  const endedAt = endKnown ? endTime : state.last
  const startedAt = state.hello ?? state.first
  const killedBy = killReport && killReport.by !== state.pid && ending !== 'clean' ? witnessOf(killReport, names) : null
  const error = uncaughtRecord ? errorLineOf(uncaughtRecord) : null
  const parts: string[] = []
  if (ending === 'uncaught') parts.push(error === null ? 'uncaught error' : `uncaught ${error}`)
  else if (ending === 'hang') {
    parts.push(`hung: no heartbeat for ${round(longestGap / 1000)} s`)
    if (signal !== undefined) parts.push(`then killed by ${signal}`)
  } else if (ending === 'sigkill' || ending === 'signal') parts.push(signal === undefined ? 'killed' : `killed by ${signal}`)
  else if (ending === 'error') parts.push(code === undefined ? 'error exit' : `exit code ${code}`)
  else parts.push(PROCESS_ENDING_TEXT[ending])
  if (ending === 'oom' && signal !== undefined) parts.push(`(${signal})`)
  if (killedBy && (ending === 'sigkill' || ending === 'signal' || ending === 'hang' || ending === 'died' || ending === 'oom')) parts.push(`${signal === undefined && ending === 'signal' ? 'by' : 'from'} ${who(killedBy)}`)
  if (ending === 'clean' && code !== undefined) parts.push(`(exit code ${code})`)
  const memory = memoryOf(state, ending)
  return {
    pid: state.pid,
    name: state.name ?? (state.child ? 'child' : null),
    role: state.role ?? null,
    ppid: state.ppid ?? null,
    kind: state.child ? 'child' : supervised ? 'client' : 'program',
    startedAt: iso(startedAt),
    endedAt: iso(endedAt),
    endKnown,
    durationMs: startedAt !== undefined && endedAt !== undefined ? endedAt - startedAt : null,
    records: state.records,
    levels: levelsOf(state),
    errorCount: state.errorCount,
    lastRecords: view ? state.lastRecords.map(view) : [],
    ending,
    endingText: parts.join(' '),
    exitCode: code ?? null,
    signal: signal ?? null,
    killedBy,
    error,
    heartbeats: state.beats,
    heartbeatIntervalMs: interval ?? null,
    longestGapMs: state.beats > 0 && longestGap > 0 ? longestGap : null,
    hang,
    worstLoopDelayMs: state.worstDelay ?? null,
    memory,
    loopDelay: state.loopDelay.points().map((point) => [Math.round(point.time), round(point.value, 2)]),
  }
}

/** `1.3 s`, `420 ms`. */
function shortDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${round(ms / 1000)} s` : `${round(ms / 60_000)} min`
}

/**
 * The worst thing that happened in the run, in one sentence: `worker-leaky (pid 123) was
 * killed by SIGKILL from host (pid 120) at 162 MB, after growing 101 → 162 MB in 0.4 s: a
 * leak`. Undefined when every process ended cleanly.
 */
export function headlineOf(processes: readonly PostmortemProcess[]): string | undefined {
  const worst = processes[0]
  if (!worst || (worst.ending === 'clean' && !worst.memory.leak) || worst.ending === 'running') return undefined
  const name = `${worst.name ?? 'process'} (pid ${worst.pid})`
  const what: Record<ProcessEnding, string> = {
    oom: 'was killed by the OOM killer',
    uncaught: `died of an uncaught error${worst.error === null ? '' : `: ${worst.error}`}`,
    hang: `hung (no heartbeat for ${shortDuration(worst.longestGapMs ?? 0)})${worst.signal === null ? '' : `, then was killed by ${worst.signal}`}`,
    sigkill: 'was killed by SIGKILL',
    signal: worst.signal === null ? 'was killed' : `was killed by ${worst.signal}`,
    died: 'died without saying goodbye',
    error: `exited with code ${worst.exitCode ?? '?'}`,
    unknown: 'stopped logging with no ending record',
    running: 'is still running',
    clean: 'ended cleanly',
  }
  let text = `${name} ${what[worst.ending]}`
  if (worst.killedBy && (worst.ending === 'sigkill' || worst.ending === 'signal' || worst.ending === 'died')) text += ` ${worst.signal === null && worst.ending === 'signal' ? 'by' : 'from'} ${who(worst.killedBy)}`
  const memory = worst.memory
  // Memory matters to a kill: the OOM killer's, a watchdog's.
  const killed = worst.ending === 'oom' || worst.ending === 'sigkill' || worst.ending === 'signal' || worst.ending === 'died' || worst.ending === 'hang'
  if (memory.last !== null && killed) text += ` at ${memory.last} MB`
  if (memory.leak) {
    const span = memory.series.length > 1 ? shortDuration((memory.series.at(-1) as ProcessSeriesPair)[0] - (memory.series[0] as ProcessSeriesPair)[0]) : undefined
    text += `, after growing ${memory.first} → ${memory.last} MB${span === undefined ? '' : ` in ${span}`}: a leak`
  }
  return text
}
