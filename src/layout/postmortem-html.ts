import { compileTimeFormat, type TimeFormatter } from '../core/format/time.js'
import { formatBytes, formatDuration } from './human.js'
import { MEMORY_SOURCE_TEXT, type Postmortem, type PostmortemRecord, type SeriesPair } from './postmortem.js'
import { namedPidOf, type PostmortemProcess, type ProcessEnding, type ProcessMemory } from './postmortem-processes.js'
import type { ProgressMark, RunProgress } from './postmortem-progress.js'
import { recordFieldsText } from './postmortem-text.js'
import { inStartOrder, processColours, processLabel, type ProcessColour } from './process-colours.js'
import { escapeHtml, lineChart, stackedBarChart, timelineChart, type ChartMarker, type ChartSeries, type TimelineLane } from './svg-chart.js'

/**
 * The postmortem as one self-contained HTML file: no script, no stylesheet, font or image
 * to fetch (a Content-Security-Policy says so too), charts as inline SVG. Every piece of
 * text from the run file is escaped: a record holding `<script>` shows as text. A run of
 * several processes (issue #20) gets a line per process in the charts, a timeline lane per
 * process, and a table of them; each process keeps one colour throughout (process-colours.ts).
 */

/** The colours of the charts, also what a test looks for in a screenshot. */
export const REPORT_COLOURS = {
  rss: '#1565c0',
  heap: '#64b5f6',
  loopDelay: '#d81b60',
  end: '#b71c1c',
  /** The end of a process that ended cleanly; darker than the palette's green, so that it shows on a green lane. */
  cleanEnd: '#1b5e20',
  /** The end of a process that is still running or whose end no record tells. */
  openEnd: '#616161',
  gap: '#ef6c00',
  debug: '#9e9e9e',
  info: '#43a047',
  warning: '#f9a825',
  error: '#e53935',
  critical: '#6a1b9a',
} as const

export interface PostmortemHtmlOptions {
  /** How times are written; default local `YYYY-MM-DD HH:mm:ss.SSS`. */
  time?: TimeFormatter
  /** When the report was made, for its footer; default now. */
  now?: number
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222; margin: 0; background: #f5f5f5; }
main { max-width: 1120px; margin: 0 auto; padding: 16px; }
header.verdict { padding: 14px 20px; border-radius: 6px; color: #fff; margin-bottom: 16px; }
header.verdict.good { background: #2e7d32; }
header.verdict.bad { background: #b71c1c; }
header.verdict.unknown { background: #5d4037; }
header.verdict h1 { margin: 0 0 4px; font-size: 24px; }
header.verdict p { margin: 0; }
section { background: #fff; border-radius: 6px; padding: 12px 20px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 17px; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid #eee; }
th { width: 170px; color: #555; font-weight: 600; }
td.time, td.level, td.pid { white-space: nowrap; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
td.message { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; word-break: break-word; }
.level-ERROR, .level-CRITICAL { color: #c62828; font-weight: 600; }
.level-WARNING { color: #9a6b00; }
.level-DEBUG, .level-TRACE { color: #888; }
.warn { color: #bf360c; font-weight: 600; }
.muted { color: #777; }
pre { background: #fafafa; border: 1px solid #eee; padding: 8px; margin: 4px 0 12px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
article.error .head { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
svg.chart { display: block; width: 100%; height: auto; margin-bottom: 8px; }
footer { color: #777; font-size: 12px; text-align: center; padding: 8px; }
p.headline { background: #fff; border-left: 8px solid #b71c1c; border-radius: 6px; padding: 12px 18px; margin: 0 0 12px; font-size: 19px; font-weight: 600; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
p.headline .label { color: #b71c1c; text-transform: uppercase; font-size: 13px; letter-spacing: .05em; margin-right: 8px; }
table.processes th { width: auto; }
table.processes td { font-size: 13px; }
table.processes td.num, table.processes td.name, table.processes td.lived { white-space: nowrap; }
table.processes td.num { text-align: right; }
span.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.good { color: #1b5e20; }
article.progress-run h3 { font-size: 15px; margin: 12px 0 6px; }
`

function e(value: unknown): string {
  return escapeHtml(value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value) ?? String(value))
}

function row(label: string, html: string): string {
  return `<tr><th>${e(label)}</th><td>${html}</td></tr>`
}

function verdictClass(report: Postmortem): 'good' | 'bad' | 'unknown' {
  if (report.verdict === 'clean' || report.verdict === 'completed') return 'good'
  return report.verdict === 'none' ? 'unknown' : 'bad'
}

function markText(found: ProgressMark | null, time: TimeFormatter): string {
  if (!found) return '<span class="muted">none during the run</span>'
  const when = found.time === null ? '' : `${e(time(Date.parse(found.time)))}`
  const before = found.beforeEndMs === null ? '' : found.beforeEndMs >= 0 ? `, ${e(formatDuration(found.beforeEndMs))} before the end` : `, ${e(formatDuration(-found.beforeEndMs))} after the end`
  const values = Object.entries(found.values)
    .filter(([key]) => key !== 'timestamp' && key !== 'run_id')
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')
  return `${when}${before}<br><code>${e(values)}</code>`
}

/**
 * The leak rule's verdict in words. Too few samples are "not judged", never "no leak": the
 * rule could not tell, and a short-lived leaking worker is exactly what has few samples.
 */
function memoryVerdictHtml(memory: Pick<ProcessMemory, 'samples' | 'leak' | 'judged' | 'leakReason'>): string {
  if (memory.samples === 0) return '<span class="muted">no memory records</span>'
  if (memory.leak) return `<span class="warn memory-verdict">⚠ possible leak: ${e(memory.leakReason)}</span>`
  return `<span class="muted memory-verdict">${memory.judged ? 'no leak' : 'not judged'}: ${e(memory.leakReason)}</span>`
}

function summaryTable(report: Postmortem, time: TimeFormatter): string {
  const at = (iso: string | null): string => (iso === null ? '?' : e(time(Date.parse(iso))))
  const rows: string[] = []
  const end = report.file.damaged !== null ? `, damaged: ${e(report.file.damaged)}` : report.file.torn ? ', the last line cut off mid-write' : ''
  rows.push(row('file', `${e(report.file.path)} <span class="muted">(${e(formatBytes(report.file.size))}, ${report.records} records${end})</span>`))
  rows.push(row('run', report.source === 'supervisor'
    ? `blackbox run: <code>${e(report.command ?? '?')}</code> <span class="muted">(supervisor pid ${e(report.supervisorPid)}, child pid ${e(report.pid)})</span>`
    : `the program's own run file${report.pid === null ? '' : ` <span class="muted">(pid ${e(report.pid)})</span>`}`))
  rows.push(row('started', at(report.startedAt)))
  rows.push(row(report.endKnown ? 'ended' : 'last record', `${at(report.endedAt)}${report.durationMs === null ? '' : ` <span class="muted">(${report.endKnown ? 'after' : 'at least'} ${e(formatDuration(report.durationMs))})</span>`}`))
  const how = [
    report.exitCode === null ? '' : `exit code ${report.exitCode}`,
    report.signal === null ? '' : `signal ${report.signal}`,
    report.exitStatus === null ? '' : `exit status ${report.exitStatus}`,
  ].filter((part) => part !== '')
  if (how.length > 0) rows.push(row('exit', e(how.join(', '))))
  if (report.restarts > 0) rows.push(row('restarts', e(report.attempts.map((attempt) => `pid ${attempt.pid ?? '?'}: ${attempt.verdict ?? '?'}`).join('; '))))
  if (report.stillRunning === true) rows.push(row('process', '<span class="warn">still running on this host</span>'))
  rows.push(row('records', e(Object.entries(report.levels).map(([level, count]) => `${level} ${count}`).join(', '))))
  const beat = report.lastHeartbeat
  rows.push(row('last heartbeat', beat
    ? `${at(beat.time)}${beat.beforeEndMs === null ? '' : `, ${e(formatDuration(beat.beforeEndMs))} before the end`} <span class="muted">(${report.heartbeats} heartbeats${report.heartbeatIntervalMs === null ? '' : `, every ~${e(formatDuration(report.heartbeatIntervalMs))}`})</span>`
    : '<span class="muted">none recorded</span>'))
  if (report.longestGap) {
    const gap = report.longestGap
    const text = `${e(formatDuration(gap.ms))}, ${at(gap.from)} → ${gap.toEnd ? 'the end' : at(gap.to)}`
    rows.push(row('longest gap', report.hang ? `<span class="warn">${text}: the program was stuck (a blocked event loop, or a stopped process)</span>` : text))
  }
  if (report.worstLoopDelayMs !== null) rows.push(row('worst loop delay', `${e(formatDuration(report.worstLoopDelayMs))}${report.worstLoopDelayAt === null ? '' : ` at ${at(report.worstLoopDelayAt)}`}${report.blocked > 0 ? ` <span class="muted">(blocked ${report.blocked}×)</span>` : ''}`))
  const memory = report.memory
  rows.push(row('memory', memory.samples === 0
    ? '<span class="muted">no memory records</span>'
    : `${e(memory.first)} → ${e(memory.last)} MB; min ${e(memory.min)}, max ${e(memory.max)}, mean ${e(memory.mean)} MB <span class="muted">(${memory.samples} samples of RSS from ${e(MEMORY_SOURCE_TEXT[memory.source ?? 'heartbeat'])}${memory.pid === null ? '' : `, pid ${e(memory.pid)}`})</span><br>${memoryVerdictHtml(memory)}`))
  return `<section id="summary"><h2>Summary</h2><table>${rows.join('\n')}</table></section>`
}

function progressRows(progress: RunProgress, colours: ReadonlyMap<number, ProcessColour>, time: TimeFormatter): string[] {
  const owner = progress.owner
  const ownerColour = owner === null ? undefined : colours.get(owner.pid)
  return [
    row('run id', `${e(progress.runId)}${progress.job === null ? '' : ` <span class="muted">(job ${e(progress.job)})</span>`}`),
    row('owner', owner === null
      ? `<span class="muted">${progress.pid === null ? 'no status file names its process' : `pid ${e(progress.pid)}, not one of the run's processes`}</span>`
      : `${swatch(ownerColour)}${e(processLabel(owner))}`),
    row('status', progress.status === null ? '<span class="muted">no status file</span>' : progress.finished ? `<span class="good">${e(progress.status)}</span>` : `<span class="warn">${e(progress.status)}</span>`),
    row('completed', progress.completed === null ? '?' : `${e(progress.completed)}${progress.total === null ? '' : ` of ${e(progress.total)}`}${progress.pct === null ? '' : ` (${e(progress.pct)} %)`}`),
    row('last item', progress.lastItem === null ? '<span class="muted">none</span>' : `<code>${e(progress.lastItem)}</code>`),
    row('last heartbeat', markText(progress.lastHeartbeat, time)),
    row('last batch', markText(progress.lastBatch, time)),
    row('checkpoint', progress.checkpoint ? `${e(progress.checkpoint.completed)} items <span class="muted">(${e(progress.checkpoint.path)})</span>` : '<span class="muted">none</span>'),
    row('found', `<span class="muted">${e(progress.note)}</span>`),
  ]
}

/** Every progress run of the run's processes (issue #20), unfinished first as `progressRuns` has them. */
function progressSection(report: Postmortem, colours: ReadonlyMap<number, ProcessColour>, time: TimeFormatter): string {
  const progress = report.progress
  // A report made before `progressRuns` was filled, or with `--progress`: the one run it has.
  const runs = report.progressRuns.length > 0 ? report.progressRuns : progress.found ? [{ ...progress, finished: progress.status === 'completed', owner: null }] : []
  if (runs.length === 0) return `<section id="progress"><h2>Progress</h2><p class="muted">None: ${e(progress.note)}</p></section>`
  const articles = runs.map((run) => `<article class="progress-run" data-run-id="${e(run.runId)}"><h3>${e(run.runId)}${run.finished ? '' : ' <span class="warn">(not finished)</span>'}</h3><table>${progressRows(run, colours, time).join('\n')}</table></article>`)
  return `<section id="progress"><h2>Progress (${runs.length} ${runs.length === 1 ? 'run' : 'runs'})</h2>${articles.join('\n')}</section>`
}

function recordTime(record: PostmortemRecord, time: TimeFormatter): string {
  return record.time === null ? '' : e(time(Date.parse(record.time)))
}

function errorsSection(report: Postmortem, time: TimeFormatter): string {
  if (report.errors.length === 0) return '<section id="errors"><h2>Errors and fatal records</h2><p class="muted">None.</p></section>'
  const items = report.errors.map((record) => `<article class="error"><div class="head">${recordTime(record, time)} <span class="pid">${e(record.pid ?? '')}</span> <span class="level-${e(record.level)}">${e(record.level)}</span> ${e(record.message)}</div>${record.stack === null ? '' : `<pre>${e(record.stack)}</pre>`}</article>`)
  const dropped = report.errorCount - report.errors.length
  return `<section id="errors"><h2>Errors and fatal records (${report.errorCount})</h2>${items.join('\n')}${dropped > 0 ? `<p class="muted">… ${dropped} more in between, not kept.</p>` : ''}</section>`
}

function lastRecordsSection(report: Postmortem, time: TimeFormatter): string {
  const rows = report.lastRecords.map((record) => {
    const fields = recordFieldsText(record)
    return `<tr><td class="time">${recordTime(record, time)}</td><td class="pid">${e(record.pid ?? '')}</td><td class="level level-${e(record.level)}">${e(record.level)}</td><td class="message">${e(record.message)}${fields === '' ? '' : ` <span class="muted">${e(fields)}</span>`}${record.stack === null ? '' : `<pre>${e(record.stack)}</pre>`}</td></tr>`
  })
  return `<section id="last-records"><h2>Last ${report.lastRecords.length} records</h2><p class="muted">Heartbeats and memory samples are left out: they are in the charts.</p><table>${rows.join('\n')}</table></section>`
}

function timesOf(series: readonly SeriesPair[]): number[] {
  return series.map((point) => point[0])
}

function swatch(colour: ProcessColour | undefined): string {
  return colour === undefined ? '' : `<span class="swatch" style="background: ${e(colour.colour)}"></span>`
}

/**
 * The process a record is about: its writer, or for the supervisor's records (a child's exit,
 * its captured stderr) the process they name, as the process tracker counts them.
 */
function subjectOf(record: PostmortemRecord, supervisorPid: number | null): number | undefined {
  if (record.pid !== null && record.pid === supervisorPid) return namedPidOf(record.fields)
  return record.pid ?? undefined
}

function endColour(ending: ProcessEnding): string {
  return ending === 'clean' ? REPORT_COLOURS.cleanEnd : ending === 'running' || ending === 'unknown' ? REPORT_COLOURS.openEnd : REPORT_COLOURS.end
}

function timelineLanes(report: Postmortem, colours: ReadonlyMap<number, ProcessColour>, time: TimeFormatter): TimelineLane[] {
  const errors = new Map<number, PostmortemRecord[]>()
  for (const record of report.errors) {
    const pid = subjectOf(record, report.supervisorPid)
    if (pid === undefined || record.time === null) continue
    let own = errors.get(pid)
    if (!own) errors.set(pid, (own = []))
    own.push(record)
  }
  return inStartOrder(report.processes).map((process) => ({
    label: processLabel(process),
    key: String(process.pid),
    colour: colours.get(process.pid)?.colour ?? REPORT_COLOURS.rss,
    from: process.startedAt === null ? undefined : Date.parse(process.startedAt),
    to: process.endedAt === null ? undefined : Date.parse(process.endedAt),
    end: process.endingText,
    endColour: endColour(process.ending),
    endKnown: process.endKnown,
    marks: (errors.get(process.pid) ?? []).map((record) => ({ time: Date.parse(record.time as string), label: `${recordTime(record, time)} ${record.level} ${record.message}` })),
  }))
}

/** A line per process that has the series, in its colour. */
function processSeries(processes: readonly PostmortemProcess[], colours: ReadonlyMap<number, ProcessColour>, pick: (process: PostmortemProcess) => readonly SeriesPair[]): ChartSeries[] {
  return inStartOrder(processes)
    .filter((process) => pick(process).length > 0)
    .map((process) => ({ label: processLabel(process), colour: colours.get(process.pid)?.colour ?? REPORT_COLOURS.rss, dash: colours.get(process.pid)?.dash, points: pick(process) }))
}

function chartsSection(report: Postmortem, colours: ReadonlyMap<number, ProcessColour>, time: TimeFormatter): string {
  // A file of one process (a program's own, or a `blackbox run` of a child that forked
  // nothing) keeps the charts of that one process, with its heap too.
  const perProcess = report.processes.length > 1
  const start = report.startedAt === null ? undefined : Date.parse(report.startedAt)
  const end = report.endedAt === null ? undefined : Date.parse(report.endedAt)
  const activity = report.activity
  const activityStart = activity.start === null ? undefined : Date.parse(activity.start)
  const activitySpan = activityStart === undefined ? [] : [activityStart, activityStart + activity.counts.length * activity.bucketMs]
  const processTimes = report.processes.flatMap((process) => [
    ...[process.startedAt, process.endedAt].filter((at): at is string => at !== null).map((at) => Date.parse(at)),
    ...(perProcess ? [...timesOf(process.memory.series), ...timesOf(process.loopDelay)] : []),
  ])
  const times = [...timesOf(report.memory.series), ...timesOf(report.loopDelay.series), ...activitySpan, ...processTimes, ...(start === undefined ? [] : [start]), ...(end === undefined ? [] : [end])]
  const from = times.length === 0 ? undefined : Math.min(...times)
  const to = times.length === 0 ? undefined : Math.max(...times)
  const markers: ChartMarker[] = []
  if (end !== undefined) markers.push({ time: end, label: report.endKnown ? `end: ${report.verdictText}` : 'last record', colour: REPORT_COLOURS.end })
  if (report.hang && report.longestGap) markers.push({ time: Date.parse(report.longestGap.from), label: 'silence begins', colour: REPORT_COLOURS.gap })
  const frame = { from, to, markers }
  const timeline = report.processes.length === 0 ? '' : timelineChart({
    from,
    to,
    id: 'chart-timeline',
    title: 'Processes: from start to end',
    unit: '',
    markLabel: 'error record',
    markColour: REPORT_COLOURS.error,
    lanes: timelineLanes(report, colours, time),
  })
  const leaking = report.processes.filter((process) => process.memory.leak).map(processLabel)
  const memory = lineChart({
    ...frame,
    id: 'chart-memory',
    title: perProcess
      ? `Memory (RSS) per process${leaking.length === 0 ? '' : ` — possible leak: ${leaking.join(', ')}`}`
      : `Memory${report.memory.leak ? ' — possible leak' : ''}`,
    unit: 'MB',
    empty: 'no memory records',
    series: perProcess ? processSeries(report.processes, colours, (process) => process.memory.series) : [
      { label: 'RSS', colour: REPORT_COLOURS.rss, points: report.memory.series },
      ...(report.memory.heap.length > 0 ? [{ label: 'heap used', colour: REPORT_COLOURS.heap, points: report.memory.heap }] : []),
    ],
  })
  const delay = lineChart({
    ...frame,
    id: 'chart-loop-delay',
    title: `Event-loop delay (worst per heartbeat)${perProcess ? ' per process' : ''}`,
    unit: 'ms',
    empty: 'no heartbeat records',
    series: perProcess
      ? processSeries(report.processes, colours, (process) => process.loopDelay)
      : [{ label: 'loop delay', colour: REPORT_COLOURS.loopDelay, points: report.loopDelay.series }],
  })
  const bucket = activity.bucketMs === 1000 ? 'second' : activity.bucketMs === 60_000 ? 'minute' : formatDuration(activity.bucketMs).replace(/\.0+ /, ' ')
  const records = stackedBarChart({
    ...frame,
    id: 'chart-records',
    title: `Records per ${bucket} by level`,
    unit: 'records',
    empty: 'no records with a time',
    start: activityStart ?? 0,
    bucketMs: activity.bucketMs,
    groups: activity.levels.map((level) => ({ label: level, colour: REPORT_COLOURS[level] })),
    counts: activity.counts,
  })
  return `<section id="charts"><h2>Over time</h2>\n${timeline}\n${memory}\n${delay}\n${records}\n</section>`
}

function livedHtml(process: PostmortemProcess, time: TimeFormatter): string {
  const at = (iso: string | null): string => (iso === null ? '?' : e(time(Date.parse(iso))))
  const span = process.durationMs === null ? '?' : `${process.endKnown ? '' : 'at least '}${e(formatDuration(process.durationMs))}`
  return `${span}<br><span class="muted">${at(process.startedAt)}<br>→ ${at(process.endedAt)}${process.endKnown ? '' : ' (last record)'}</span>`
}

function heartbeatsHtml(process: PostmortemProcess): string {
  if (process.heartbeats === 0) return '<span class="muted">none</span>'
  const every = process.heartbeatIntervalMs === null ? '' : ` <span class="muted">every ~${e(formatDuration(process.heartbeatIntervalMs))}</span>`
  const gap = process.hang && process.longestGapMs !== null ? `<br><span class="warn">silent for ${e(formatDuration(process.longestGapMs))}</span>` : ''
  return `${process.heartbeats}${every}${gap}`
}

/** Every process of the run, worst ending first, as `processes` has them. */
function processesSection(report: Postmortem, colours: ReadonlyMap<number, ProcessColour>, time: TimeFormatter): string {
  if (report.processes.length === 0) return ''
  const names = new Map<number, string>(report.processes.map((process) => [process.pid, processLabel(process)]))
  if (report.supervisorPid !== null) names.set(report.supervisorPid, `blackbox run (pid ${report.supervisorPid})`)
  const head = ['process', 'pid', 'parent', 'role', 'lived', 'records', 'errors', 'heartbeats', 'ending', 'memory'].map((name) => `<th>${name}</th>`).join('')
  const rows = report.processes.map((process) => {
    const parent = process.ppid === null ? '<span class="muted">?</span>' : e(names.get(process.ppid) ?? String(process.ppid))
    const ending = process.ending === 'clean' ? 'good' : process.ending === 'running' || process.ending === 'unknown' ? 'muted' : 'warn'
    const memory = process.memory
    const range = memory.first === null ? '' : `${e(memory.first)} → ${e(memory.last)} MB<br>`
    return `<tr data-pid="${process.pid}" data-ending="${e(process.ending)}">` +
      `<td class="name">${swatch(colours.get(process.pid))}${e(process.name ?? 'process')}</td>` +
      `<td class="num">${process.pid}</td>` +
      `<td>${parent}</td>` +
      `<td>${process.role === null ? '<span class="muted">—</span>' : e(process.role)}</td>` +
      `<td class="lived">${livedHtml(process, time)}</td>` +
      `<td class="num">${process.records}</td>` +
      `<td class="num${process.errorCount > 0 ? ' warn' : ''}">${process.errorCount}</td>` +
      `<td>${heartbeatsHtml(process)}</td>` +
      `<td class="ending ${ending}">${e(process.endingText)}</td>` +
      `<td>${range}${memoryVerdictHtml(memory)}</td>` +
      '</tr>'
  })
  return `<section id="processes"><h2>Processes (${report.processes.length}), worst ending first</h2><table class="processes"><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table></section>`
}

/** The report as one HTML document. */
export function renderPostmortemHtml(report: Postmortem, options: PostmortemHtmlOptions = {}): string {
  const time = options.time ?? compileTimeFormat()
  const colours = processColours(report.processes)
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const detail = report.detail === null || report.detail === report.verdictText ? '' : report.detail
  const when = report.endedAt === null ? '' : `${report.endKnown ? 'Ended' : 'Last record'} ${time(Date.parse(report.endedAt))}${report.durationMs === null ? '' : `${report.endKnown ? ' after ' : ', '}${formatDuration(report.durationMs)}${report.endKnown ? '' : ' after the first'}`}.`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postmortem: ${e(report.file.name)} — ${e(report.verdictText)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${report.headline === null ? '' : `<p class="headline" id="headline"><span class="label">worst</span>${e(report.headline)}</p>`}
<header class="verdict ${verdictClass(report)}" id="verdict" data-verdict="${e(report.verdict)}">
<h1>${e(report.verdictText)}</h1>
<p>${detail === '' ? '' : `${e(detail)}. `}${e(when)}</p>
</header>
${summaryTable(report, time)}
${chartsSection(report, colours, time)}
${processesSection(report, colours, time)}
${progressSection(report, colours, time)}
${errorsSection(report, time)}
${lastRecordsSection(report, time)}
<footer>blackbox postmortem of ${e(report.file.path)}, made ${e(time(options.now ?? Date.now()))} (times in ${e(zone)})</footer>
</main>
</body>
</html>
`
}
