import picocolors from 'picocolors'
import { escapeInline } from '../core/format/escape.js'
import { compileTimeFormat, type TimeFormatter } from '../core/format/time.js'
import { formatBytes, formatDuration } from './human.js'
import { MEMORY_SOURCE_TEXT, type Postmortem, type PostmortemRecord } from './postmortem.js'
import type { PostmortemProcess } from './postmortem-processes.js'
import type { PostmortemProgress, ProgressMark, RunProgress } from './postmortem-progress.js'
import { sparkline } from './sparkline.js'

/** Stack lines shown per error in the terminal; the rest is counted. */
export const MAX_STACK_LINES = 12
/** An object field longer than this, as JSON, is shown as `{…}`. */
const MAX_OBJECT_CHARS = 80
/** Characters of a record's fields shown in the list of last records. */
const MAX_FIELDS_CHARS = 160
/** Characters of a sparkline. */
const SPARK_WIDTH = 40
/** The least span of a memory sparkline, as a share of its peak. */
const SPARK_MIN_RANGE = 0.1

export interface PostmortemTextOptions {
  /** ANSI colours; default false. */
  colour?: boolean
  /** How times are written; default the text formats' `YYYY-MM-DD HH:mm:ss.SSS`, local. */
  time?: TimeFormatter
}

type Paint = (text: string) => string

interface Painter {
  bold: Paint
  dim: Paint
  good: Paint
  bad: Paint
  warn: Paint
  level: (label: string) => Paint
}

function painter(enabled: boolean): Painter {
  const c = picocolors.createColors(enabled)
  return {
    bold: c.bold,
    dim: c.dim,
    good: (text) => c.bold(c.green(text)),
    bad: (text) => c.bold(c.red(text)),
    warn: c.yellow,
    level: (label) => (label === 'CRITICAL' ? (text) => c.bold(c.red(text)) : label === 'ERROR' ? c.red : label === 'WARNING' ? c.yellow : label === 'DEBUG' || label === 'TRACE' ? c.dim : (text) => text),
  }
}

/** Text from the file, made safe for a terminal: it cannot move the cursor or forge a line. */
function safe(text: string): string {
  return escapeInline(text)
}

/**
 * A record's fields as `key=value` text, unescaped: `err` is shown as the stack, a JSON
 * record's own `pid`, `hostname` and `name` (pino's base fields; a JSON `pid` is a number,
 * a text field's a string) are already said elsewhere, and a large object is `{…}`.
 */
export function recordFieldsText(record: PostmortemRecord): string {
  const base = typeof record.fields['pid'] === 'number'
  const parts: string[] = []
  for (const [key, value] of Object.entries(record.fields)) {
    if (key === 'err' || (base && (key === 'pid' || key === 'hostname' || key === 'name'))) continue
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    // A big object (the system record's) says nothing at a glance; the file and --json have it.
    parts.push(`${key}=${value !== null && typeof value === 'object' && text.length > MAX_OBJECT_CHARS ? (Array.isArray(value) ? '[…]' : '{…}') : text}`)
  }
  return parts.join(' ')
}

function fieldsText(record: PostmortemRecord): string {
  const text = safe(recordFieldsText(record))
  return text.length > MAX_FIELDS_CHARS ? `${text.slice(0, MAX_FIELDS_CHARS - 1)}…` : text
}

function isGood(report: Postmortem): boolean {
  return report.verdict === 'clean' || report.verdict === 'completed'
}

function pidText(pid: number | null): string {
  return pid === null ? '' : ` [${pid}]`
}

function recordHead(record: PostmortemRecord, time: TimeFormatter, paint: Painter): string {
  const when = record.time === null ? '(no time)              ' : time(Date.parse(record.time))
  return `${paint.dim(when)}${pidText(record.pid)} ${paint.level(record.level)(record.level.padEnd(8))} ${safe(record.message)}`
}

function stackLines(stack: string, indent: string, paint: Painter): string[] {
  const lines = stack.split('\n')
  const shown = lines.slice(0, MAX_STACK_LINES).map((line) => `${indent}${paint.dim(safe(line))}`)
  if (lines.length > MAX_STACK_LINES) shown.push(`${indent}${paint.dim(`… ${lines.length - MAX_STACK_LINES} more lines`)}`)
  return shown
}

function mark(label: string, found: ProgressMark | null, time: TimeFormatter): string | undefined {
  if (!found) return undefined
  const { values } = found
  const parts: string[] = []
  if (values['item'] !== undefined) parts.push(`item ${values['item']}`)
  if (values['batch'] !== undefined) parts.push(`batch ${values['batch']}${values['total_batches'] === undefined ? '' : `/${values['total_batches']}`}`)
  if (values['items'] !== undefined) parts.push(`${values['items']} items`)
  if (values['completed'] !== undefined) parts.push(`${values['completed']}${values['total'] === undefined ? '' : `/${values['total']}`} done`)
  if (values['events'] !== undefined) parts.push(`events ${values['events']}`)
  if (values['shard'] !== undefined) parts.push(`shard ${values['shard']}`)
  const when = found.time === null ? '' : ` at ${time(Date.parse(found.time))}`
  const before = found.beforeEndMs === null ? '' : found.beforeEndMs >= 0 ? `, ${formatDuration(found.beforeEndMs)} before the end` : `, ${formatDuration(-found.beforeEndMs)} after the end`
  return `${label}${when}${before}: ${safe(parts.join(', '))}`
}

/** The summary block: ending, run, heartbeat, memory, progress. */
function summary(report: Postmortem, time: TimeFormatter, paint: Painter): string[] {
  const lines: string[] = []
  const row = (label: string, text: string): void => {
    lines.push(`${paint.bold(label.padEnd(11))}${text}`)
  }
  const more = (text: string): void => {
    lines.push(`${' '.repeat(11)}${text}`)
  }
  const at = (iso: string | null): string => (iso === null ? '?' : time(Date.parse(iso)))

  const end = report.file.damaged !== null ? `, damaged: ${safe(report.file.damaged)}` : report.file.torn ? ', the last line cut off mid-write' : ''
  row('postmortem', `${safe(report.file.path)}  ${formatBytes(report.file.size)}, ${report.records} records${end}`)
  if (report.source === 'supervisor') {
    row('run', `blackbox run: ${safe(report.command ?? '?')}  (supervisor pid ${report.supervisorPid ?? '?'}, child pid ${report.pid ?? '?'}${report.restarts > 0 ? `, ${report.restarts} restart${report.restarts === 1 ? '' : 's'}` : ''})`)
  } else {
    row('run', `a program's own run file${report.pid === null ? '' : ` (pid ${report.pid})`}`)
  }

  // One process: the ending says it all. Several: the worst of them first.
  if (report.headline !== null && report.processes.length > 1) row('worst', paint.bad(safe(report.headline)))
  const detail = report.detail === null || report.detail === report.verdictText ? '' : report.detail.startsWith(report.verdictText) ? report.detail.slice(report.verdictText.length).replace(/^: /, '') : report.detail
  const verdict = `${report.verdictText}${detail === '' ? '' : `: ${safe(detail)}`}`
  row('ending', `${isGood(report) ? paint.good(verdict) : paint.bad(verdict)}  ${paint.dim(`(verdict ${report.verdict})`)}`)
  const how: string[] = []
  if (report.exitCode !== null) how.push(`exit code ${report.exitCode}`)
  if (report.signal !== null) how.push(`signal ${report.signal}`)
  if (report.exitStatus !== null && report.exitStatus !== report.exitCode) how.push(`exit status ${report.exitStatus}`)
  if (report.endKnown) {
    more(`at ${at(report.endedAt)}${report.durationMs === null ? '' : `, after ${formatDuration(report.durationMs)}`}${how.length === 0 ? '' : `; ${how.join(', ')}`}`)
  } else if (report.endedAt !== null) {
    more(`last record at ${at(report.endedAt)}${report.durationMs === null ? '' : `, ${formatDuration(report.durationMs)} after the first`}`)
  }
  if (report.stillRunning === true) more(paint.warn(`process ${report.source === 'supervisor' ? report.supervisorPid : report.pid} is still running on this host`))
  else if (report.verdict === 'none' && report.stillRunning === false) more(`process ${report.source === 'supervisor' ? report.supervisorPid : report.pid} is gone: it was killed (SIGKILL, the OOM killer) or the machine stopped`)

  if (report.lastHeartbeat) {
    const beat = report.lastHeartbeat
    const before = beat.beforeEndMs === null ? '' : `, ${formatDuration(beat.beforeEndMs)} before the end`
    const every = report.heartbeatIntervalMs === null ? '' : `, every ~${formatDuration(report.heartbeatIntervalMs)}`
    row('heartbeat', `last at ${at(beat.time)}${before}  (${report.heartbeats} heartbeat${report.heartbeats === 1 ? '' : 's'}${every})`)
  } else {
    row('heartbeat', 'none recorded')
  }
  if (report.longestGap) {
    const gap = report.longestGap
    const times = report.heartbeatIntervalMs === null || report.heartbeatIntervalMs <= 0 ? '' : ` (${Math.round(gap.ms / report.heartbeatIntervalMs)} × the usual interval)`
    const text = `longest gap ${formatDuration(gap.ms)}${times}, ${at(gap.from)} → ${gap.toEnd ? 'the end' : at(gap.to)}`
    more(report.hang ? paint.warn(`⚠ ${text}: the program was stuck (a blocked event loop, or a stopped process)${report.hangs.length > 0 ? ` (the supervisor saw it: ${report.hangs.map((hang) => `${hang.silentMs ?? '?'} ms silent, ${hang.action ?? '?'}`).join('; ')})` : ''}`) : text)
  } else if (report.hangs.length > 0) {
    more(paint.warn(`⚠ the supervisor saw a hang: ${report.hangs.map((hang) => `${hang.silentMs ?? '?'} ms silent, ${hang.action ?? '?'}`).join('; ')}`))
  }
  if (report.worstLoopDelayMs !== null) {
    more(`worst event-loop delay ${formatDuration(report.worstLoopDelayMs)}${report.worstLoopDelayAt === null ? '' : ` at ${at(report.worstLoopDelayAt)}`}${report.blocked > 0 ? `; blocked ${report.blocked} time${report.blocked === 1 ? '' : 's'}` : ''}`)
  }

  const memory = report.memory
  if (memory.samples > 0) {
    // Heights span at least a tenth of the peak: a steady process draws a low, flat line.
    const spark = sparkline(memory.series.map((point) => point[1]), SPARK_WIDTH, (memory.max ?? 0) * SPARK_MIN_RANGE)
    row('memory', `${spark}  ${memory.first} → ${memory.last} MB`)
    more(`min ${memory.min} MB, max ${memory.max} MB, mean ${memory.mean} MB; ${memory.samples} sample${memory.samples === 1 ? '' : 's'} of RSS from ${memory.source === null ? '?' : MEMORY_SOURCE_TEXT[memory.source]}${memory.pid === null ? '' : ` (pid ${memory.pid})`}`)
    more(leakText(memory, paint))
  } else {
    row('memory', 'no memory records')
  }

  if (report.progressRuns.length > 1) {
    const unfinished = report.progressRuns.filter((run) => !run.finished).length
    row('progress', `${report.progressRuns.length} runs${unfinished === 0 ? ', all completed' : `, ${unfinished} unfinished`}`)
    for (const run of report.progressRuns) lines.push(...progressLines(run, time, paint, report.processes.length > 1).map((line, i) => `${' '.repeat(i === 0 ? 11 : 13)}${line}`))
  } else {
    const progress = report.progressRuns[0] ?? report.progress
    if (progress.found) {
      const [first, ...rest] = progressLines(progress, time, paint, report.processes.length > 1)
      row('progress', first ?? '')
      for (const line of rest) more(line)
    } else {
      row('progress', paint.dim(`none: ${safe(progress.note)}`))
    }
  }
  return lines
}

/** The leak rule's verdict: "no leak" only when the samples could show it. */
function leakText(memory: { leak: boolean; judged: boolean; leakReason: string }, paint: Painter): string {
  return memory.leak ? paint.warn(`⚠ possible leak: ${memory.leakReason}`) : memory.judged ? paint.dim(`no leak: ${memory.leakReason}`) : paint.dim(`not judged: ${memory.leakReason}`)
}

/** One progress run: its status and counts, its last marks, its checkpoint, how it was found. */
function progressLines(progress: PostmortemProgress | RunProgress, time: TimeFormatter, paint: Painter, owners: boolean): string[] {
  const lines: string[] = []
  const counts = progress.completed === null ? '' : `  ${progress.completed}${progress.total === null ? '' : `/${progress.total}`} items${progress.pct === null ? '' : ` (${progress.pct} %)`}`
  const owner = owners && 'owner' in progress && progress.owner ? ` by ${progress.owner.name === null ? '' : `${safe(progress.owner.name)} `}(pid ${progress.owner.pid})` : ''
  const status = progress.status ?? 'no status file'
  const painted = status === 'completed' ? status : paint.warn(status)
  lines.push(`run ${safe(progress.runId ?? '?')}${progress.job === null ? '' : ` (job ${safe(progress.job)})`}${owner}: ${safe(painted)}${counts}`)
  if (progress.lastItem !== null && progress.status !== 'completed') lines.push(`last item in flight: ${safe(progress.lastItem)}`)
  for (const line of [mark('last heartbeat', progress.lastHeartbeat, time), mark('last batch', progress.lastBatch, time)]) if (line) lines.push(line)
  if (!progress.lastHeartbeat && !progress.lastBatch) lines.push('no heartbeat or batch lines written during the run')
  if (progress.checkpoint) lines.push(`checkpoint: ${progress.checkpoint.completed} items completed (${safe(progress.checkpoint.path)})`)
  lines.push(paint.dim(`found: ${progress.note}`))
  return lines
}

const GOOD_ENDINGS: ReadonlySet<PostmortemProcess['ending']> = new Set(['clean', 'running'])

/** Every process of the run, worst first: who, how long, how it ended, its memory, its last words. */
function processLines(report: Postmortem, time: TimeFormatter, paint: Painter): string[] {
  const { processes } = report
  // A program's own file of one process: the summary above is its story.
  if (processes.length < 2 && report.source !== 'supervisor') return []
  const bad = processes.filter((process) => !GOOD_ENDINGS.has(process.ending)).length
  const lines = [paint.bold(`processes (${processes.length}${bad === 0 ? ', all ended cleanly' : `, ${bad} ended badly`})`)]
  for (const process of processes) {
    const good = GOOD_ENDINGS.has(process.ending)
    const who = `${safe(process.name ?? 'process')} (pid ${process.pid}${process.ppid === null ? '' : `, parent ${process.ppid}`}${process.role === null ? '' : `, role ${safe(process.role)}`})`
    const span = process.durationMs === null ? '' : `, ${process.endKnown ? 'lived' : 'seen for'} ${formatDuration(process.durationMs)}`
    lines.push(`  ${good ? paint.good('✓') : paint.bad('✗')} ${paint.bold(who)}: ${good ? safe(process.endingText) : paint.bad(safe(process.endingText))}${paint.dim(span)}`)
    const counts = `${process.records} record${process.records === 1 ? '' : 's'}${process.errorCount > 0 ? `, ${process.errorCount} error${process.errorCount === 1 ? '' : 's'}` : ''}`
    const beats = process.heartbeats === 0 ? '' : `, ${process.heartbeats} heartbeat${process.heartbeats === 1 ? '' : 's'}${process.hang && process.longestGapMs !== null ? paint.warn(` (silent for ${formatDuration(process.longestGapMs)}: hung)`) : ''}`
    lines.push(`      ${counts}${beats}${process.endKnown || process.endedAt === null ? '' : `, last sign of life at ${time(Date.parse(process.endedAt))}`}`)
    const memory = process.memory
    if (memory.samples > 0) lines.push(`      memory ${memory.first} → ${memory.last} MB (max ${memory.max}, ${memory.samples} sample${memory.samples === 1 ? '' : 's'}): ${leakText(memory, paint)}`)
    const last = process.lastRecords.at(-1)
    if (last) lines.push(`      last: ${recordHead(last, time, paint)}`)
  }
  return lines
}

function errorLines(report: Postmortem, time: TimeFormatter, paint: Painter): string[] {
  if (report.errorCount === 0) return [paint.bold('errors and fatal records: none')]
  const lines = [paint.bold(`errors and fatal records (${report.errorCount})`)]
  // Identical errors (same message and stack) are shown once, with how often and when last.
  const groups = new Map<string, { first: PostmortemRecord; last: PostmortemRecord; count: number }>()
  for (const record of report.errors) {
    const key = `${record.level}\n${record.message}\n${record.stack ?? ''}`
    const group = groups.get(key)
    if (group) {
      group.count++
      group.last = record
    } else groups.set(key, { first: record, last: record, count: 1 })
  }
  for (const { first, last, count } of groups.values()) {
    const repeat = count > 1 ? paint.dim(`  ×${count}, last ${last.time === null ? '?' : time(Date.parse(last.time))}`) : ''
    lines.push(`  ${recordHead(first, time, paint)}${repeat}`)
    if (first.stack !== null) lines.push(...stackLines(first.stack, '      ', paint))
  }
  const dropped = report.errorCount - report.errors.length
  if (dropped > 0) lines.push(paint.dim(`  … ${dropped} more in between, not kept (the first and the last ones are)`))
  return lines
}

function lastRecordLines(report: Postmortem, time: TimeFormatter, paint: Painter): string[] {
  const count = report.lastRecords.length
  const lines = [paint.bold(`${count === 1 ? 'the last record' : `last ${count} records`}${report.lastRecords.length > 0 ? ' (heartbeats and memory samples left out)' : ''}`)]
  for (const record of report.lastRecords) {
    const fields = fieldsText(record)
    const extra = record.stack === null ? '' : paint.dim(`  (+${record.stack.split('\n').length} lines)`)
    lines.push(`  ${recordHead(record, time, paint)}${fields === '' ? '' : paint.dim(` ${fields}`)}${extra}`)
  }
  return lines
}

/**
 * The report for a terminal: a summary (the ending, heartbeats and hangs, memory with a
 * sparkline and the leak verdict, progress), the errors with their stacks, and the last
 * records. Text from the file is escaped, so a record cannot move the cursor.
 */
export function formatPostmortem(report: Postmortem, options: PostmortemTextOptions = {}): string {
  const paint = painter(options.colour ?? false)
  const time = options.time ?? compileTimeFormat()
  const processes = processLines(report, time, paint)
  return `${[...summary(report, time, paint), '', ...(processes.length > 0 ? [...processes, ''] : []), ...errorLines(report, time, paint), '', ...lastRecordLines(report, time, paint)].join('\n')}\n`
}
