/**
 * Small time charts as inline SVG, drawn by hand so that a report is one file with no
 * script, font or library to fetch: axes with ticks and labels, polylines, stacked bars,
 * lanes of a timeline, and vertical markers (the end of the run). Every text is escaped.
 */

/** `[epoch ms, value]`. */
export type ChartPoint = readonly [number, number]

export interface ChartSeries {
  readonly label: string
  /** A CSS colour: `#1565c0`. */
  readonly colour: string
  /** An SVG `stroke-dasharray` (`6 3`), for a series that shares its colour with another. */
  readonly dash?: string | undefined
  readonly points: readonly ChartPoint[]
}

/** One lane of a timeline: a process, from its start to its end. */
export interface TimelineLane {
  readonly label: string
  readonly colour: string
  /** Written as the lane's `data-key`: what a reader of the SVG finds it by (a pid). */
  readonly key: string
  /** Epoch ms; no bar is drawn without both. */
  readonly from: number | undefined
  readonly to: number | undefined
  /** What the lane's end says (`killed by SIGKILL`), in `endColour`; no end mark when null. */
  readonly end: string | null
  readonly endColour: string
  /** False: `to` is only the last sign of life, and the end mark is dashed. */
  readonly endKnown: boolean
  /** Moments to tick on the bar (error records), each with its text as a tooltip. */
  readonly marks: ReadonlyArray<{ readonly time: number; readonly label: string }>
}

/** A vertical line at a time, with a label: the end of a run, a hang. */
export interface ChartMarker {
  readonly time: number
  readonly label: string
  readonly colour: string
}

interface ChartFrame {
  /** The `id` of the `<svg>` element. */
  readonly id: string
  readonly title: string
  /** The y axis's unit: `MB`, `ms`. */
  readonly unit: string
  /** The time span shown; default the data's. */
  readonly from?: number | undefined
  readonly to?: number | undefined
  readonly markers?: readonly ChartMarker[]
  /** What the chart says when there is nothing to draw. */
  readonly empty?: string
  readonly width?: number
  readonly height?: number
}

export interface LineChartOptions extends ChartFrame {
  readonly series: readonly ChartSeries[]
}

export interface TimelineOptions extends Omit<ChartFrame, 'height'> {
  readonly lanes: readonly TimelineLane[]
  /** The colour of the ticks on the bars, and its name in the legend. */
  readonly markColour: string
  readonly markLabel: string
}

export interface BarChartOptions extends ChartFrame {
  /** Where the first bucket starts, epoch ms, and how long each is. */
  readonly start: number
  readonly bucketMs: number
  /** The stacked groups, bottom first. */
  readonly groups: ReadonlyArray<{ readonly label: string; readonly colour: string }>
  /** Per bucket, a count per group. */
  readonly counts: readonly (readonly number[])[]
}

export const CHART_WIDTH = 1080
export const CHART_HEIGHT = 260
const MARGIN = { left: 64, right: 20, top: 34, bottom: 42 } as const
const AXIS_COLOUR = '#555'
const GRID_COLOUR = '#e3e3e3'
const TEXT_COLOUR = '#222'
/** Points drawn as dots too when a series has at most this many. */
const DOTS_UP_TO = 60
/** The height of a row of legend entries, when they do not fit on the title's line. */
const LEGEND_ROW_PX = 18
/** The height of one timeline lane: its label above, its bar below. */
const LANE_PX = 34
const LANE_BAR_PX = 10
/** Rough widths of a character of the 11–12 px labels and the 15 px bold title: there is no font to measure with. */
const LABEL_CHAR_PX = 6.5
const TITLE_CHAR_PX = 8.5

/** Text made safe for HTML and SVG, in element content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function num(value: number): string {
  return String(Math.round(value * 10) / 10)
}

/** About `count` round values covering `min` to `max`: steps of 1, 2, 2.5 or 5 × 10ⁿ. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * power >= raw) ?? 10) * power
  // From the round value at or below `min` to the one at or above `max`, so the data fits.
  const first = Math.floor(min / step + 1e-9)
  const last = Math.ceil(max / step - 1e-9)
  const ticks: number[] = []
  for (let i = first; i <= last; i++) ticks.push(Math.round(i * step * 1e6) / 1e6)
  return ticks
}

const TIME_STEPS_MS = [
  100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
]

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0')
}

/** Ticks on round times (local clock) from `from` to `to`, about `count` of them, with their labels. */
export function timeTicks(from: number, to: number, count = 8): Array<{ time: number; label: string }> {
  const span = Math.max(1, to - from)
  const step = TIME_STEPS_MS.find((candidate) => span / candidate <= count) ?? (TIME_STEPS_MS.at(-1) as number)
  // Round on the local clock: an hour tick falls on the hour where the user is.
  const offset = new Date(from).getTimezoneOffset() * 60_000
  const ticks: Array<{ time: number; label: string }> = []
  for (let time = Math.ceil((from - offset) / step) * step + offset; time <= to; time += step) {
    const date = new Date(time)
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`
    const label = step >= 86_400_000 ? `${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
      : step >= 60_000 ? clock
      : step >= 1000 ? `${clock}:${pad(date.getSeconds())}`
      : `${clock}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
    ticks.push({ time, label })
  }
  return ticks
}

interface Frame {
  readonly width: number
  readonly height: number
  /** Where the plot begins: below the title, and below the legend when it needs rows of its own. */
  readonly top: number
  readonly from: number
  readonly to: number
  readonly yMax: number
  x(time: number): number
  y(value: number): number
}

interface LegendEntry {
  readonly label: string
  readonly colour: string
  readonly dash?: string | undefined
}

interface Legend {
  readonly entries: readonly LegendEntry[]
  /** A line for a line chart's series, a block for a bar chart's groups. */
  readonly swatch: 'line' | 'block'
}

interface PlacedEntry {
  readonly entry: LegendEntry
  readonly x: number
  /** The baseline of the entry's text. */
  readonly y: number
}

/** Where an entry's text begins, after its swatch. */
function textOffset(legend: Legend): number {
  return legend.swatch === 'line' ? 21 : 16
}

function entryWidth(legend: Legend, entry: LegendEntry): number {
  return textOffset(legend) + entry.label.length * LABEL_CHAR_PX + 14
}

/**
 * Where each legend entry goes: right-aligned on the title's line when they all fit beside
 * the title (a chart of a few series looks as it always has), else in rows of their own under
 * the title, left to right, so that a fleet of processes never draws over the title.
 */
function placeLegend(legend: Legend, title: string, width: number): { placed: PlacedEntry[]; rows: number } {
  const right = width - MARGIN.right
  const total = legend.entries.reduce((sum, entry) => sum + entryWidth(legend, entry), 0)
  if (MARGIN.left + title.length * TITLE_CHAR_PX + 20 + total <= right) {
    let x = right - total
    const placed = legend.entries.map((entry) => {
      const at = { entry, x, y: 20 }
      x += entryWidth(legend, entry)
      return at
    })
    return { placed, rows: 0 }
  }
  const placed: PlacedEntry[] = []
  let x = MARGIN.left
  let rows = 1
  for (const entry of legend.entries) {
    if (x > MARGIN.left && x + entryWidth(legend, entry) > right) {
      x = MARGIN.left
      rows++
    }
    placed.push({ entry, x, y: 20 + rows * LEGEND_ROW_PX })
    x += entryWidth(legend, entry)
  }
  return { placed, rows }
}

function frameOf(options: ChartFrame, from: number, to: number, yMax: number, legendRows: number): Frame {
  const width = options.width ?? CHART_WIDTH
  const top = MARGIN.top + legendRows * LEGEND_ROW_PX
  // Rows of legend make the chart taller, not its plot smaller.
  const height = (options.height ?? CHART_HEIGHT) + legendRows * LEGEND_ROW_PX
  const plotWidth = width - MARGIN.left - MARGIN.right
  const plotHeight = height - top - MARGIN.bottom
  const span = to > from ? to - from : 1
  return {
    width,
    height,
    top,
    from,
    to,
    yMax,
    x: (time) => MARGIN.left + ((time - from) / span) * plotWidth,
    y: (value) => top + plotHeight - (yMax > 0 ? (value / yMax) * plotHeight : 0),
  }
}

function legendSvg(legend: Legend, placed: readonly PlacedEntry[]): string {
  return placed.map(({ entry, x, y }) => {
    const colour = escapeHtml(entry.colour)
    const swatch = legend.swatch === 'line'
      ? `<line class="swatch" x1="${num(x)}" y1="${y - 4}" x2="${num(x + 16)}" y2="${y - 4}" stroke="${colour}" stroke-width="4"${entry.dash === undefined ? '' : ` stroke-dasharray="${escapeHtml(entry.dash)}"`}/>`
      : `<rect class="swatch" x="${num(x)}" y="${y - 9}" width="12" height="10" fill="${colour}"/>`
    return `<g class="legend-entry" data-label="${escapeHtml(entry.label)}">${swatch}<text x="${num(x + textOffset(legend))}" y="${y}" font-size="12" fill="${TEXT_COLOUR}">${escapeHtml(entry.label)}</text></g>`
  }).join('\n')
}

/** The `<svg>` element, its title, axes, grid, ticks and markers around `body`. */
function chart(options: ChartFrame, frame: Frame, body: string, legend: Legend, yTicks: readonly number[]): string {
  const { width, height, top } = frame
  const bottom = height - MARGIN.bottom
  const right = width - MARGIN.right
  const parts: string[] = []
  parts.push(`<svg id="${escapeHtml(options.id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">`)
  parts.push(`<title>${escapeHtml(options.title)}</title>`)
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`)
  parts.push(`<text x="${MARGIN.left}" y="20" font-size="15" font-weight="bold" fill="${TEXT_COLOUR}">${escapeHtml(options.title)}</text>`)
  // Grid and y labels.
  for (const tick of yTicks) {
    const y = num(frame.y(tick))
    parts.push(`<line class="grid" x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="${GRID_COLOUR}" stroke-width="1"/>`)
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="${TEXT_COLOUR}">${escapeHtml(formatTick(tick))}</text>`)
  }
  if (options.unit !== '') parts.push(`<text x="14" y="${num((top + bottom) / 2)}" font-size="12" text-anchor="middle" fill="${TEXT_COLOUR}" transform="rotate(-90 14 ${num((top + bottom) / 2)})">${escapeHtml(options.unit)}</text>`)
  // x ticks.
  for (const tick of timeTicks(frame.from, frame.to)) {
    const x = num(frame.x(tick.time))
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="${AXIS_COLOUR}" stroke-width="1"/>`)
    // A label centred on a tick near an edge would be cut off: it ends (or starts) there instead.
    const anchor = frame.x(tick.time) > width - 40 ? 'end' : frame.x(tick.time) < 40 ? 'start' : 'middle'
    parts.push(`<text x="${x}" y="${bottom + 18}" font-size="11" text-anchor="${anchor}" fill="${TEXT_COLOUR}">${escapeHtml(tick.label)}</text>`)
  }
  parts.push(body)
  // Axes on top of the data.
  parts.push(`<line class="axis" x1="${MARGIN.left}" y1="${top}" x2="${MARGIN.left}" y2="${bottom}" stroke="${AXIS_COLOUR}" stroke-width="1.5"/>`)
  parts.push(`<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${AXIS_COLOUR}" stroke-width="1.5"/>`)
  for (const marker of options.markers ?? []) {
    if (marker.time < frame.from || marker.time > frame.to) continue
    const x = num(frame.x(marker.time))
    parts.push(`<line class="marker" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${escapeHtml(marker.colour)}" stroke-width="2" stroke-dasharray="6 4"/>`)
    // Inside the plot, left of the line, haloed so that it reads over the data.
    parts.push(`<text x="${num(frame.x(marker.time) - 4)}" y="${top + 12}" font-size="11" text-anchor="end" fill="${escapeHtml(marker.colour)}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeHtml(marker.label)}</text>`)
  }
  parts.push(legendSvg(legend, placeLegend(legend, options.title, width).placed))
  parts.push('</svg>')
  return parts.join('\n')
}

function formatTick(value: number): string {
  if (Math.abs(value) >= 10_000) return `${Math.round(value / 1000)}k`
  return String(Math.round(value * 100) / 100)
}

function legendRows(options: ChartFrame, legend: Legend): number {
  return placeLegend(legend, options.title, options.width ?? CHART_WIDTH).rows
}

function emptyChart(options: ChartFrame, from: number, to: number, legend: Legend): string {
  const frame = frameOf(options, from, to, 1, legendRows(options, legend))
  const note = `<text class="empty" x="${num(frame.width / 2)}" y="${num(frame.height / 2)}" font-size="14" text-anchor="middle" fill="#888">${escapeHtml(options.empty ?? 'no data')}</text>`
  return chart(options, frame, note, legend, [])
}

function spanOf(options: ChartFrame, times: readonly number[]): [number, number] {
  let from = options.from ?? Number.POSITIVE_INFINITY
  let to = options.to ?? Number.NEGATIVE_INFINITY
  for (const time of times) {
    if (options.from === undefined && time < from) from = time
    if (options.to === undefined && time > to) to = time
  }
  if (!Number.isFinite(from) || !Number.isFinite(to)) return [0, 1]
  return to > from ? [from, to] : [from - 500, from + 500]
}

/** A chart of lines over time, from 0 up to a round value above the highest point. */
export function lineChart(options: LineChartOptions): string {
  const legend: Legend = { swatch: 'line', entries: options.series.map(({ label, colour, dash }) => ({ label, colour, dash })) }
  const all = options.series.flatMap((series) => series.points)
  const [from, to] = spanOf(options, all.map((point) => point[0]))
  if (all.length === 0) return emptyChart(options, from, to, legend)
  const highest = Math.max(...all.map((point) => point[1]))
  const yTicks = niceTicks(0, highest > 0 ? highest * 1.05 : 1)
  const frame = frameOf(options, from, to, yTicks.at(-1) ?? 1, legendRows(options, legend))
  const body: string[] = []
  for (const series of options.series) {
    if (series.points.length === 0) continue
    const points = series.points.map(([time, value]) => `${num(frame.x(time))},${num(frame.y(value))}`).join(' ')
    const dash = series.dash === undefined ? '' : ` stroke-dasharray="${escapeHtml(series.dash)}"`
    body.push(`<polyline class="series" data-label="${escapeHtml(series.label)}" fill="none" stroke="${escapeHtml(series.colour)}" stroke-width="2.5" stroke-linejoin="round"${dash} points="${points}"/>`)
    if (series.points.length <= DOTS_UP_TO) {
      for (const [time, value] of series.points) body.push(`<circle cx="${num(frame.x(time))}" cy="${num(frame.y(value))}" r="3" fill="${escapeHtml(series.colour)}"/>`)
    }
  }
  return chart(options, frame, body.join('\n'), legend, yTicks)
}

/** Stacked bars per time bucket: records per level. */
export function stackedBarChart(options: BarChartOptions): string {
  const legend: Legend = { swatch: 'block', entries: options.groups.map(({ label, colour }) => ({ label, colour })) }
  const ends = options.counts.length === 0 ? [] : [options.start, options.start + options.counts.length * options.bucketMs]
  const [from, to] = spanOf(options, ends)
  const totals = options.counts.map((bucket) => bucket.reduce((sum, count) => sum + count, 0))
  const highest = Math.max(0, ...totals)
  if (highest === 0) return emptyChart(options, from, to, legend)
  const yTicks = niceTicks(0, highest)
  const frame = frameOf(options, from, to, Math.max(yTicks.at(-1) ?? 1, highest), legendRows(options, legend))
  const body: string[] = []
  options.counts.forEach((bucket, index) => {
    const left = frame.x(options.start + index * options.bucketMs)
    const width = Math.max(1, frame.x(options.start + (index + 1) * options.bucketMs) - left - 1)
    let base = 0
    bucket.forEach((count, group) => {
      if (count <= 0) return
      const top = frame.y(base + count)
      const height = frame.y(base) - top
      const colour = options.groups[group]?.colour ?? '#999'
      body.push(`<rect class="bar" x="${num(left)}" y="${num(top)}" width="${num(width)}" height="${num(Math.max(height, 0.5))}" fill="${escapeHtml(colour)}"><title>${count} ${escapeHtml(options.groups[group]?.label ?? '')}</title></rect>`)
      base += count
    })
  })
  return chart(options, frame, body.join('\n'), legend, yTicks)
}

/**
 * One lane per process on the time axis of the other charts (so that a moment lines up
 * across them): its label, a bar from its start to its end, a tick per error record, and a
 * mark at its end labelled with how it ended.
 */
export function timelineChart(options: TimelineOptions): string {
  const legend: Legend = { swatch: 'block', entries: [{ label: options.markLabel, colour: options.markColour }] }
  const times = options.lanes.flatMap((lane) => [lane.from, lane.to, ...lane.marks.map((mark) => mark.time)]).filter((time): time is number => time !== undefined)
  const [from, to] = spanOf(options, times)
  const sized = { ...options, height: MARGIN.top + MARGIN.bottom + Math.max(1, options.lanes.length) * LANE_PX }
  if (options.lanes.length === 0) return emptyChart(sized, from, to, legend)
  const frame = frameOf(sized, from, to, 1, legendRows(sized, legend))
  const right = frame.width - MARGIN.right
  const body: string[] = []
  options.lanes.forEach((lane, index) => {
    const top = frame.top + index * LANE_PX
    const barY = top + 16
    const colour = escapeHtml(lane.colour)
    const parts: string[] = [`<g class="lane" data-key="${escapeHtml(lane.key)}" data-label="${escapeHtml(lane.label)}">`]
    parts.push(`<text class="lane-label" x="${MARGIN.left + 4}" y="${top + 11}" font-size="12" fill="${TEXT_COLOUR}">${escapeHtml(lane.label)}</text>`)
    if (lane.from !== undefined && lane.to !== undefined) {
      const left = frame.x(Math.max(lane.from, from))
      const end = frame.x(Math.min(lane.to, to))
      parts.push(`<rect class="lane-bar" x="${num(left)}" y="${barY}" width="${num(Math.max(end - left, 2))}" height="${LANE_BAR_PX}" fill="${colour}"/>`)
      for (const mark of lane.marks) {
        if (mark.time < from || mark.time > to) continue
        const x = num(frame.x(mark.time))
        parts.push(`<line class="lane-mark" x1="${x}" y1="${barY - 3}" x2="${x}" y2="${barY + LANE_BAR_PX + 3}" stroke="${escapeHtml(options.markColour)}" stroke-width="2"><title>${escapeHtml(mark.label)}</title></line>`)
      }
      if (lane.end !== null) {
        const endColour = escapeHtml(lane.endColour)
        const dash = lane.endKnown ? '' : ' stroke-dasharray="3 2"'
        const textWidth = lane.end.length * LABEL_CHAR_PX
        // After the end when there is room, where nothing else of the lane is; else above the bar, ending at the mark.
        const after = end + 6 + textWidth <= right
        const text = after
          ? `<text class="lane-end-label" x="${num(end + 6)}" y="${barY + LANE_BAR_PX - 1}" font-size="11" fill="${endColour}">${escapeHtml(lane.end)}</text>`
          : `<text class="lane-end-label" x="${num(end - 4)}" y="${top + 11}" font-size="11" text-anchor="end" fill="${endColour}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeHtml(lane.end)}</text>`
        parts.push(`<g class="lane-end"><line x1="${num(end)}" y1="${barY - 5}" x2="${num(end)}" y2="${barY + LANE_BAR_PX + 5}" stroke="${endColour}" stroke-width="3"${dash}/>${text}</g>`)
      }
    }
    parts.push('</g>')
    body.push(parts.join(''))
  })
  return chart(sized, frame, body.join('\n'), legend, [])
}
