import { compileTimeFormat, type TimeFormatter } from '../core/format/time.js'
import { formatBytes, formatDuration } from './human.js'
import { MEMORY_SOURCE_TEXT, type Postmortem, type PostmortemRecord, type SeriesPair } from './postmortem.js'
import type { ProgressMark } from './postmortem-progress.js'
import { recordFieldsText } from './postmortem-text.js'
import { escapeHtml, lineChart, stackedBarChart, type ChartMarker } from './svg-chart.js'

/**
 * The postmortem as one self-contained HTML file: no script, no stylesheet, font or image
 * to fetch (a Content-Security-Policy says so too), charts as inline SVG. Every piece of
 * text from the run file is escaped: a record holding `<script>` shows as text.
 */

/** The colours of the charts, also what a test looks for in a screenshot. */
export const REPORT_COLOURS = {
  rss: '#1565c0',
  heap: '#64b5f6',
  loopDelay: '#d81b60',
  end: '#b71c1c',
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
    : `${e(memory.first)} → ${e(memory.last)} MB; min ${e(memory.min)}, max ${e(memory.max)}, mean ${e(memory.mean)} MB <span class="muted">(${memory.samples} samples of RSS from ${e(MEMORY_SOURCE_TEXT[memory.source ?? 'heartbeat'])}${memory.pid === null ? '' : `, pid ${e(memory.pid)}`})</span><br>${memory.leak ? `<span class="warn">⚠ possible leak: ${e(memory.leakReason)}</span>` : `<span class="muted">no leak: ${e(memory.leakReason)}</span>`}`))
  return `<section id="summary"><h2>Summary</h2><table>${rows.join('\n')}</table></section>`
}

function progressSection(report: Postmortem, time: TimeFormatter): string {
  const progress = report.progress
  if (!progress.found) return `<section id="progress"><h2>Progress</h2><p class="muted">None: ${e(progress.note)}</p></section>`
  const rows = [
    row('run id', `${e(progress.runId)}${progress.job === null ? '' : ` <span class="muted">(job ${e(progress.job)})</span>`}`),
    row('status', e(progress.status ?? 'no status file')),
    row('completed', progress.completed === null ? '?' : `${e(progress.completed)}${progress.total === null ? '' : ` of ${e(progress.total)}`}${progress.pct === null ? '' : ` (${e(progress.pct)} %)`}`),
    row('last heartbeat', markText(progress.lastHeartbeat, time)),
    row('last batch', markText(progress.lastBatch, time)),
    row('checkpoint', progress.checkpoint ? `${e(progress.checkpoint.completed)} items <span class="muted">(${e(progress.checkpoint.path)})</span>` : '<span class="muted">none</span>'),
    row('found', `<span class="muted">${e(progress.note)}</span>`),
  ]
  return `<section id="progress"><h2>Progress</h2><table>${rows.join('\n')}</table></section>`
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

function chartsSection(report: Postmortem): string {
  const start = report.startedAt === null ? undefined : Date.parse(report.startedAt)
  const end = report.endedAt === null ? undefined : Date.parse(report.endedAt)
  const activity = report.activity
  const activityStart = activity.start === null ? undefined : Date.parse(activity.start)
  const activitySpan = activityStart === undefined ? [] : [activityStart, activityStart + activity.counts.length * activity.bucketMs]
  const times = [...timesOf(report.memory.series), ...timesOf(report.loopDelay.series), ...activitySpan, ...(start === undefined ? [] : [start]), ...(end === undefined ? [] : [end])]
  const from = times.length === 0 ? undefined : Math.min(...times)
  const to = times.length === 0 ? undefined : Math.max(...times)
  const markers: ChartMarker[] = []
  if (end !== undefined) markers.push({ time: end, label: report.endKnown ? `end: ${report.verdictText}` : 'last record', colour: REPORT_COLOURS.end })
  if (report.hang && report.longestGap) markers.push({ time: Date.parse(report.longestGap.from), label: 'silence begins', colour: REPORT_COLOURS.gap })
  const frame = { from, to, markers }
  const memory = lineChart({
    ...frame,
    id: 'chart-memory',
    title: `Memory${report.memory.leak ? ' — possible leak' : ''}`,
    unit: 'MB',
    empty: 'no memory records',
    series: [
      { label: 'RSS', colour: REPORT_COLOURS.rss, points: report.memory.series },
      ...(report.memory.heap.length > 0 ? [{ label: 'heap used', colour: REPORT_COLOURS.heap, points: report.memory.heap }] : []),
    ],
  })
  const delay = lineChart({
    ...frame,
    id: 'chart-loop-delay',
    title: 'Event-loop delay (worst per heartbeat)',
    unit: 'ms',
    empty: 'no heartbeat records',
    series: [{ label: 'loop delay', colour: REPORT_COLOURS.loopDelay, points: report.loopDelay.series }],
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
  return `<section id="charts"><h2>Over time</h2>\n${memory}\n${delay}\n${records}\n</section>`
}

/** The report as one HTML document. */
export function renderPostmortemHtml(report: Postmortem, options: PostmortemHtmlOptions = {}): string {
  const time = options.time ?? compileTimeFormat()
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
<header class="verdict ${verdictClass(report)}" id="verdict" data-verdict="${e(report.verdict)}">
<h1>${e(report.verdictText)}</h1>
<p>${detail === '' ? '' : `${e(detail)}. `}${e(when)}</p>
</header>
${summaryTable(report, time)}
${chartsSection(report)}
${progressSection(report, time)}
${errorsSection(report, time)}
${lastRecordsSection(report, time)}
<footer>blackbox postmortem of ${e(report.file.path)}, made ${e(time(options.now ?? Date.now()))} (times in ${e(zone)})</footer>
</main>
</body>
</html>
`
}
