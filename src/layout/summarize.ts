import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { LEVEL_NAMES, levelNameOf, type LevelName } from '../core/levels.js'
import { headlineOf, pidOf, ProcessTracker, type PostmortemProcess } from './postmortem-processes.js'
import { readRecords, UNKNOWN_LEVEL, type ReadRecord, type TornTail } from './read-records.js'
import { isDateFolder } from './run-file-name.js'
import { VERDICT_TEXT, type Verdict } from './verdict.js'
import { firstLine } from './record-values.js'

/**
 * How a run ended, as the crash guard's records say (their `ending` field), or `none` when
 * no record says: the process was killed (`SIGKILL`, the OOM killer) or is still running.
 */
export type RunEnding = 'completed' | 'error' | 'signal' | 'uncaught' | 'none'

/** Several records may name an ending (cleanup, then exit); the strongest one is the run's. */
export const ENDING_STRENGTH: Readonly<Record<RunEnding, number>> = { none: 0, completed: 1, error: 2, signal: 3, uncaught: 4 }

/** How `ending: 'none'` reads to a person. */
export const NO_ENDING_TEXT = 'no ending record: killed or still running'

/** Record counts per level; `unknown` counts lines that matched no format. */
export type LevelCounts = Partial<Record<LevelName | 'unknown', number>>

/** What one run file holds and how its run ended. */
export interface LogFileSummary {
  readonly path: string
  /** The day folder, `YYYY-MM-DD`; undefined when the file is not in one. */
  readonly date: string | undefined
  readonly name: string
  readonly size: number
  /** How many records (a record with continuation lines counts once; a torn line not at all). */
  readonly records: number
  /** Non-zero counts only, in increasing severity. */
  readonly levels: LevelCounts
  /** The time of the first and last record that has one, epoch ms. */
  readonly first: number | undefined
  readonly last: number | undefined
  readonly ending: RunEnding
  /** `SIGTERM`, `exit code 3`, the uncaught error's message line; undefined when there is nothing to add. */
  readonly endingDetail: string | undefined
  /** From the `event=exit` record, when there is one. */
  readonly exitCode: number | undefined
  /** Whether the file ends in a torn line (cut mid-write) or a corrupt compressed tail. */
  readonly torn: boolean
  /**
   * For a compressed backup that could not be read to its end (cut short, or failing its
   * checks), where and why: `could not be decompressed past line 9: cut short in the 8-byte
   * trailer …`; undefined otherwise.
   */
  readonly damaged: string | undefined
  /** How many processes logged in the file (a `blackbox run` file: the command and every worker that logged through it). */
  readonly processes: number
  /** The worst ending of them, in one sentence (see `blackbox postmortem`); undefined when all ended cleanly. */
  readonly worst: string | undefined
  /** The worst process's ending, as `blackbox postmortem --json` names it. */
  readonly worstEnding: PostmortemProcess['ending'] | undefined
}

/** What a damaged compressed file's torn end says, in words. */
export function damageOf(torn: TornTail | undefined): string | undefined {
  return torn?.reason === 'corrupt-archive' ? `could not be decompressed past line ${torn.line}: ${torn.detail ?? 'corrupt'}` : undefined
}

function isEnding(value: unknown): value is Exclude<RunEnding, 'none'> {
  return value === 'completed' || value === 'error' || value === 'signal' || value === 'uncaught'
}

function exitCodeOf(record: ReadRecord): number | undefined {
  if (record.fields['event'] !== 'exit') return undefined
  const code = record.fields['code']
  // Text formats write the code bare (`code=3`), so it reads back as a string.
  const value = typeof code === 'number' ? code : typeof code === 'string' && /^-?\d+$/.test(code) ? Number(code) : undefined
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined
}

// A supervisor's verdict (`blackbox run`), as the crash guard's endings say it.
const VERDICT_ENDING: Readonly<Record<Verdict, Exclude<RunEnding, 'none'>>> = {
  clean: 'completed', error: 'error', uncaught: 'uncaught', signal: 'signal', oom: 'signal', sigkill: 'signal', hang: 'signal', 'not-started': 'error',
}

function isVerdict(value: unknown): value is Verdict {
  return typeof value === 'string' && Object.hasOwn(VERDICT_TEXT, value)
}

/** Follows the records of one run and tells how it ended. */
class EndingTracker {
  ending: RunEnding = 'none'
  exitCode: number | undefined
  #first: Partial<Record<Exclude<RunEnding, 'none'>, ReadRecord>> = {}
  #runEnd: { verdict: Verdict; how: string | undefined } | undefined

  see(record: ReadRecord): void {
    // The supervisor's last record says how a `blackbox run` ended; it outranks what the
    // child's own records said, as the run's exit status is the supervisor's.
    const { fields } = record
    if (fields['event'] === 'run-end' && isVerdict(fields['verdict'])) {
      const signal = typeof fields['signal'] === 'string' && fields['signal'] !== '' ? fields['signal'] : undefined
      const code = typeof fields['code'] === 'number' || typeof fields['code'] === 'string' ? String(fields['code']) : undefined
      this.#runEnd = { verdict: fields['verdict'], how: signal !== undefined ? `signal ${signal}` : code !== undefined ? `exit code ${code}` : undefined }
      this.ending = VERDICT_ENDING[fields['verdict']]
      return
    }
    if (this.#runEnd) return
    const code = exitCodeOf(record)
    if (code !== undefined) this.exitCode = code
    const ending = record.fields['ending']
    if (!isEnding(ending)) return
    // The first record of each kind says why: later ones are echoes (uncaught, then exit).
    this.#first[ending] ??= record
    if (ENDING_STRENGTH[ending] > ENDING_STRENGTH[this.ending]) this.ending = ending
  }

  detail(): string | undefined {
    if (this.#runEnd) return `${VERDICT_TEXT[this.#runEnd.verdict]}${this.#runEnd.how === undefined ? '' : ` (${this.#runEnd.how})`}`
    const exit = this.exitCode === undefined ? undefined : `exit code ${this.exitCode}`
    switch (this.ending) {
      case 'none':
        return undefined
      case 'completed':
        return exit
      case 'error':
        return exit ?? this.#message('error')
      case 'signal': {
        const signal = this.#first.signal?.fields['signal']
        return typeof signal === 'string' && signal !== '' ? signal : this.#message('signal')
      }
      case 'uncaught':
        return this.#message('uncaught')
    }
  }

  #message(ending: Exclude<RunEnding, 'none'>): string | undefined {
    const record = this.#first[ending]
    return record && record.msg !== '' ? firstLine(record.msg).trim() : undefined
  }
}

function levelKey(level: number): LevelName | 'unknown' {
  return level === UNKNOWN_LEVEL ? 'unknown' : levelNameOf(level)
}

/**
 * Reads a run file (plain or `.gz`) from start to end, streamed, and tells what it holds:
 * records per level, the first and last time, how the run ended, whether the end is torn.
 */
export async function summarizeLogFile(path: string): Promise<LogFileSummary> {
  const { size } = await stat(path)
  const counts = new Map<LevelName | 'unknown', number>()
  const ending = new EndingTracker()
  const processes = new ProcessTracker(0)
  let records = 0
  let first: number | undefined
  let last: number | undefined
  let torn: TornTail | undefined
  for await (const record of readRecords(path, { onTorn: (tail) => { torn = tail } })) {
    records++
    const key = levelKey(record.level)
    counts.set(key, (counts.get(key) ?? 0) + 1)
    if (record.time !== undefined) {
      first ??= record.time
      last = record.time
    }
    ending.see(record)
    processes.see(record, pidOf(record), typeof record.fields['event'] === 'string' ? record.fields['event'] : undefined)
  }
  // Whether a process is still there is not asked: a summary reads many files, maybe of other hosts.
  const stories = processes.result(() => null)
  const levels: LevelCounts = {}
  for (const key of [...LEVEL_NAMES, 'unknown'] as const) {
    const count = counts.get(key)
    if (count !== undefined) levels[key] = count
  }
  const folder = basename(dirname(path))
  return {
    path,
    date: isDateFolder(folder) ? folder : undefined,
    name: basename(path),
    size,
    records,
    levels,
    first,
    last,
    ending: ending.ending,
    endingDetail: ending.detail(),
    exitCode: ending.exitCode,
    torn: torn !== undefined,
    damaged: damageOf(torn),
    processes: stories.length,
    worst: headlineOf(stories),
    worstEnding: stories[0]?.ending,
  }
}
