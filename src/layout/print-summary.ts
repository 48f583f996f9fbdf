import { escapeInline } from '../core/format/escape.js'
import { compileTimeFormat } from '../core/format/time.js'
import { LEVEL_LABELS, type LevelName } from '../core/levels.js'
import { DEFAULT_LOG_DIR, listLogFiles, unreadable, type LogFileEntry, type OnUnreadable } from './catalog.js'
import { formatBytes, formatDuration } from './human.js'
import { NO_ENDING_TEXT, summarizeLogFile, type LevelCounts, type LogFileSummary } from './summarize.js'

/** Where printed text goes: `process.stdout`, or anything with `write`. */
export interface TextOutput {
  write(text: string): unknown
}

export interface PrintLogSummaryOptions {
  /** Default `logs`. */
  dir?: string
  /** Only the last N days, today counting as 1. */
  daysBack?: number
  /** Print the summaries as one JSON array instead of text. */
  json?: boolean
  /** Default `process.stdout`. */
  stream?: TextOutput
  /** What "today" is for `daysBack`; default now. */
  now?: Date | number
  /** Told of each day folder or file that could not be read, which is left out; default: left out without a word. */
  onUnreadable?: OnUnreadable
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

/** Whether an error came from the file system (permissions, I/O), not from this code. */
function isFsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code)
}

function levelText(levels: LevelCounts): string {
  return Object.entries(levels)
    .map(([key, count]) => `${key === 'unknown' ? 'UNKNOWN' : LEVEL_LABELS[key as LevelName]} ${count}`)
    .join(', ')
}

function endingText(summary: LogFileSummary, entry: LogFileEntry): string {
  // A backup holds the start or the middle of a run; its end is in the run file.
  if (summary.ending === 'none' && entry.backup) return `none in a rotated backup (the run's end is in ${entry.run})`
  if (summary.ending === 'none') return NO_ENDING_TEXT
  // The detail is the message of a record: text from the file, escaped for a terminal.
  return summary.endingDetail === undefined ? summary.ending : `${summary.ending}: ${escapeInline(summary.endingDetail)}`
}

/** The text block for one file. */
function describe(summary: LogFileSummary, entry: LogFileEntry, time: (ms: number) => string): string {
  const lines = [`${entry.date}  ${entry.name}  ${formatBytes(summary.size)}`]
  const levels = levelText(summary.levels)
  lines.push(`  records  ${summary.records}${levels === '' ? '' : `: ${levels}`}`)
  const { first, last } = summary
  lines.push(`  time     ${first === undefined || last === undefined ? 'none recorded' : `${time(first)} → ${time(last)} (${formatDuration(last - first)})`}`)
  lines.push(`  ending   ${endingText(summary, entry)}`)
  // Several processes (a host and its workers under `blackbox run`): how many, and the worst end.
  if (summary.processes > 1) lines.push(`  fleet    ${summary.processes} processes${summary.worst === undefined ? ', all ended cleanly' : `; worst: ${escapeInline(summary.worst)}`}`)
  if (summary.damaged !== undefined) lines.push(`  damaged  ${escapeInline(summary.damaged)}`)
  else if (summary.torn) lines.push('  torn     the last line was cut off mid-write')
  return `${lines.join('\n')}\n`
}

/**
 * Prints, for each run file under `dir` (newest first), its day, name and size, records per
 * level, the first and last time, and how the run ended. Returns the summaries. A file or
 * day folder that cannot be read is left out (see `onUnreadable`).
 */
export async function printLogSummary(options: PrintLogSummaryOptions = {}): Promise<LogFileSummary[]> {
  const dir = options.dir ?? DEFAULT_LOG_DIR
  const stream = options.stream ?? process.stdout
  const onUnreadable = options.onUnreadable ?? (() => {})
  const entries = await listLogFiles({
    dir,
    onUnreadable,
    ...(options.daysBack === undefined ? {} : { daysBack: options.daysBack }),
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const time = compileTimeFormat()
  const summaries: LogFileSummary[] = []
  for (const entry of entries) {
    let summary: LogFileSummary
    try {
      summary = await summarizeLogFile(entry.path)
    } catch (error) {
      // Removed since it was listed (a concurrent clean): it is simply no longer there.
      if (isMissing(error)) continue
      if (!isFsError(error)) throw error
      // Unreadable (permissions, I/O): said, and the other files go on.
      onUnreadable(unreadable(entry.path, error))
      continue
    }
    summaries.push(summary)
    // Printed as each file is read: a folder of large files shows progress.
    if (!options.json) stream.write(`${summaries.length > 1 ? '\n' : ''}${describe(summary, entry, time)}`)
  }
  if (options.json) {
    stream.write(`${JSON.stringify(summaries, null, 2)}\n`)
  } else if (summaries.length === 0) {
    stream.write(`no run files in ${dir}${options.daysBack === undefined ? '' : ` from the last ${options.daysBack} day${options.daysBack === 1 ? '' : 's'}`}\n`)
  }
  return summaries
}
