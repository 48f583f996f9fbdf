/** The eight block heights of a terminal sparkline, lowest first. */
export const SPARK_BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const
/** How many characters a sparkline is, unless told. */
export const DEFAULT_SPARKLINE_WIDTH = 40

/**
 * Values as a line of block characters, `▁▂▄▆█`, scaled from their minimum to their
 * maximum: one character per value, or, for more values than `width`, one per stretch of
 * them (their mean). A flat series is a flat line of the lowest block. `minRange` is the
 * least span the heights stand for, so that small wobbles of a large value stay low:
 * 58.6 to 59.1 MB need not look like a jump from nothing to everything.
 */
export function sparkline(values: readonly number[], width: number = DEFAULT_SPARKLINE_WIDTH, minRange = 0): string {
  if (!Number.isSafeInteger(width) || width < 1) throw new TypeError(`Expected \`width\` to be a positive integer, got \`${String(width)}\` (${typeof width})`)
  const finite = values.filter((value) => Number.isFinite(value))
  if (finite.length === 0) return ''
  const columns = finite.length <= width ? finite : resample(finite, width)
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const value of columns) {
    if (value < min) min = value
    if (value > max) max = value
  }
  const top = SPARK_BLOCKS.length - 1
  const range = Math.max(max - min, minRange)
  return columns.map((value) => SPARK_BLOCKS[range === 0 ? 0 : Math.round(((value - min) / range) * top)]).join('')
}

/** `width` means of consecutive stretches of nearly equal size. */
function resample(values: readonly number[], width: number): number[] {
  const means: number[] = []
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width)
    const to = Math.floor(((i + 1) * values.length) / width)
    let sum = 0
    for (let j = from; j < to; j++) sum += values[j] as number
    means.push(sum / (to - from))
  }
  return means
}
