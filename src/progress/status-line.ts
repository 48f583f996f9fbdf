import { escapeInline } from '../core/format/escape.js'
import type { ProgressStatus } from './status.js'

/** Characters of the bar between its brackets. */
export const BAR_WIDTH = 30

/** Colours for the parts of a line; identity functions for none. */
export interface LinePainter {
  good(text: string): string
  bad(text: string): string
  dim(text: string): string
}

const PLAIN: LinePainter = { good: (text) => text, bad: (text) => text, dim: (text) => text }

/** How `formatStatusLine()` writes a line. */
export interface StatusLineOptions {
  /** What "now" is for "updated … ago"; default `Date.now()`. */
  now?: number
  /** False when the status says `running` but its process is gone (checked by the caller). */
  alive?: boolean
  painter?: LinePainter
}

const COUNT = new Intl.NumberFormat('en-US')

/** `45s`, `14m 24s`, `2h 05m`, `3d 04h`: an ETA or an age, to the unit that matters. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

/** `[##########....................]` for a percentage. */
export function progressBar(pct: number, width: number = BAR_WIDTH): string {
  const filled = Math.min(width, Math.max(0, Math.floor((pct / 100) * width)))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

function text(value: unknown): string {
  if (value === null || value === undefined) return ''
  return escapeInline(typeof value === 'string' ? value : JSON.stringify(value))
}

function rate(perS: number): string {
  if (perS >= 100) return `${COUNT.format(Math.round(perS))}/s`
  if (perS >= 1) return `${perS.toFixed(1)}/s`
  return `${(perS * 60).toFixed(1)}/min`
}

/**
 * One line for a status: run id, state, bar, percentage, counts, rate, ETA, the current
 * item and batch, memory, and how long ago the file was written. Text from the file is
 * escaped: a run id or item cannot move the cursor or forge a second line.
 */
export function formatStatusLine(status: ProgressStatus, options: StatusLineOptions = {}): string {
  const paint = options.painter ?? PLAIN
  const now = options.now ?? Date.now()
  const gone = status.status === 'running' && options.alive === false
  const state = gone ? `running, but process ${text(status.pid)} is gone (killed?)` : text(status.status)
  const parts = [text(status.run_id), status.status === 'completed' ? paint.good(state) : status.status === 'running' && !gone ? state : paint.bad(state)]
  if (typeof status.pct === 'number') parts.push(`${progressBar(status.pct)} ${status.pct.toFixed(1).padStart(5)}%`)
  parts.push(`${COUNT.format(status.completed)}${typeof status.total === 'number' ? `/${COUNT.format(status.total)}` : ' done'}`)
  if (typeof status.rate_per_s === 'number') parts.push(rate(status.rate_per_s))
  if (status.status === 'running' && !gone && typeof status.eta_s === 'number') parts.push(`ETA ${formatSpan(status.eta_s)}`)
  const item = text(status.last_item)
  if (item !== '') parts.push(`item ${item}`)
  const batch = text(status.batch)
  if (batch !== '') parts.push(`batch ${batch}${text(status.total_batches) === '' ? '' : `/${text(status.total_batches)}`}`)
  if (typeof status.rss_gb === 'number') parts.push(`${status.rss_gb.toFixed(2)} GB`)
  const updated = Date.parse(status.updated_at)
  if (Number.isFinite(updated)) parts.push(paint.dim(`updated ${formatSpan((now - updated) / 1000)} ago`))
  return parts.join('  ')
}
