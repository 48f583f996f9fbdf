/**
 * Bounded summaries of what a run file says over time: a memory or delay series, and record
 * counts per level. A run file may hold weeks of one-second samples; these keep a fixed
 * number of points however long the file is, halving their resolution when full.
 */

/** Most points a reduced series keeps. */
export const MAX_SERIES_POINTS = 512
/** Most buckets of record counts kept; each covers `bucketMs`, widened when they run out. */
export const MAX_ACTIVITY_BUCKETS = 240

/** One point of a reduced series: the mean of the samples of a stretch of time. */
export interface SeriesPoint {
  /** Mean time of the samples, epoch ms. */
  readonly time: number
  readonly value: number
}

interface Bucket {
  timeSum: number
  valueSum: number
  count: number
}

/**
 * A series of (time, value) samples in arrival order, kept as at most `limit` points: each
 * point averages the same number of consecutive samples, a power of two. Count, min, max
 * and mean are exact.
 */
export class SeriesReducer {
  readonly #limit: number
  #buckets: Bucket[] = []
  #perBucket = 1
  #sum = 0
  count = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  first: number | undefined
  last: number | undefined

  constructor(limit: number = MAX_SERIES_POINTS) {
    if (!Number.isSafeInteger(limit) || limit < 2) throw new TypeError(`Expected \`limit\` to be an integer of at least 2, got \`${String(limit)}\` (${typeof limit})`)
    this.#limit = limit
  }

  push(time: number, value: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(value)) return
    this.count++
    this.#sum += value
    this.first ??= value
    this.last = value
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
    const last = this.#buckets.at(-1)
    if (last && last.count < this.#perBucket) {
      last.timeSum += time
      last.valueSum += value
      last.count++
      return
    }
    this.#buckets.push({ timeSum: time, valueSum: value, count: 1 })
    if (this.#buckets.length > this.#limit) this.#halve()
  }

  get mean(): number | undefined {
    return this.count === 0 ? undefined : this.#sum / this.count
  }

  /** The reduced series, oldest first. */
  points(): SeriesPoint[] {
    return this.#buckets.map((bucket) => ({ time: bucket.timeSum / bucket.count, value: bucket.valueSum / bucket.count }))
  }

  #halve(): void {
    const merged: Bucket[] = []
    for (let i = 0; i < this.#buckets.length; i += 2) {
      const a = this.#buckets[i] as Bucket
      const b = this.#buckets[i + 1]
      merged.push(b ? { timeSum: a.timeSum + b.timeSum, valueSum: a.valueSum + b.valueSum, count: a.count + b.count } : a)
    }
    this.#buckets = merged
    this.#perBucket *= 2
  }
}

/** The level groups records are counted in, in increasing severity. */
export const LEVEL_GROUPS = ['debug', 'info', 'warning', 'error', 'critical'] as const
export type LevelGroup = (typeof LEVEL_GROUPS)[number]

/** The group of a pino level number: trace counts as debug, success as info. */
export function levelGroupOf(level: number): LevelGroup {
  if (level >= 60) return 'critical'
  if (level >= 50) return 'error'
  if (level >= 40) return 'warning'
  if (level >= 30) return 'info'
  return 'debug'
}

/** Records per level group in consecutive stretches of `bucketMs`, from `start`. */
export interface Activity {
  /** Epoch ms where the first bucket begins (a multiple of `bucketMs`); undefined when no record had a time. */
  readonly start: number | undefined
  readonly bucketMs: number
  /** Per bucket, the counts in `LEVEL_GROUPS` order. */
  readonly counts: number[][]
}

/**
 * The widths an activity bucket may have, each a multiple of the one before, so that
 * widening merges whole buckets: records per 100 ms, 500 ms, 1 s, 5 s, … 1 day, then
 * doubling.
 */
export const ACTIVITY_BUCKET_MS = [
  100, 500, 1000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
] as const

/**
 * Counts records per level group and per stretch of time: 100 ms buckets at first, the
 * next width of `ACTIVITY_BUCKET_MS` each time `limit` buckets would not cover the run.
 * Buckets begin at multiples of their width, so widening is exact.
 */
export class ActivityCounter {
  readonly #limit: number
  #start: number | undefined
  #step = 0
  #bucketMs: number = ACTIVITY_BUCKET_MS[0]
  #counts: number[][] = []

  constructor(limit: number = MAX_ACTIVITY_BUCKETS) {
    this.#limit = limit
  }

  add(time: number, level: number): void {
    this.#start ??= Math.floor(time / this.#bucketMs) * this.#bucketMs
    // Two writers share a file (a supervisor and its child), so times may step back a little.
    let index = Math.max(0, Math.floor((time - this.#start) / this.#bucketMs))
    while (index >= this.#limit) {
      this.#widen()
      index = Math.max(0, Math.floor((time - this.#start) / this.#bucketMs))
    }
    while (this.#counts.length <= index) this.#counts.push(LEVEL_GROUPS.map(() => 0))
    const bucket = this.#counts[index] as number[]
    const group = LEVEL_GROUPS.indexOf(levelGroupOf(level))
    bucket[group] = (bucket[group] ?? 0) + 1
  }

  result(): Activity {
    return { start: this.#start, bucketMs: this.#bucketMs, counts: this.#counts.map((bucket) => [...bucket]) }
  }

  #widen(): void {
    const start = this.#start as number
    this.#step++
    const width = ACTIVITY_BUCKET_MS[this.#step] ?? this.#bucketMs * 2
    const newStart = Math.floor(start / width) * width
    const merged: number[][] = []
    this.#counts.forEach((bucket, index) => {
      const into = Math.floor((start + index * this.#bucketMs - newStart) / width)
      while (merged.length <= into) merged.push(LEVEL_GROUPS.map(() => 0))
      const target = merged[into] as number[]
      bucket.forEach((count, group) => {
        target[group] = (target[group] ?? 0) + count
      })
    })
    this.#counts = merged
    this.#start = newStart
    this.#bucketMs = width
  }
}
