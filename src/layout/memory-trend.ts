/**
 * Whether a memory series rose across a run the way a leak does. RSS is noisy (the garbage
 * collector gives memory back in steps, allocators keep some) and every Node process grows
 * while it warms up, so "monotonically" is judged on a smoothed series:
 *
 * 1. The samples are cut into `LEAK_WINDOWS` consecutive windows of equal count (fewer for
 *    short series, at least 3 samples each), and each window is replaced by its median,
 *    which ignores single spikes and dips.
 * 2. The medians never fall, from one window to the next, by more than `LEAK_MAX_DROP`
 *    (3 %): a series that gives memory back is not leaking.
 * 3. The last median is at least `LEAK_MIN_RISE` (20 %) and `LEAK_MIN_RISE_MB` (10 MB) above
 *    the first: it ends much higher than it starts.
 * 4. The second half rises too: from the middle window to the last at least a third of the
 *    whole rise, so growth that levels off after warming up is not a leak.
 *
 * Fewer than `LEAK_MIN_SAMPLES` samples say nothing either way: no leak is reported.
 */

import { median, round } from './record-values.js'

/** How many windows the series is smoothed into. */
export const LEAK_WINDOWS = 10
/** Fewer samples than this are too few to judge. */
export const LEAK_MIN_SAMPLES = 12
/** Samples per window, at least. */
const MIN_SAMPLES_PER_WINDOW = 3
/** The most the smoothed series may fall between consecutive windows, as a fraction. */
export const LEAK_MAX_DROP = 0.03
/** How much higher the smoothed series must end than it starts, as a fraction. */
export const LEAK_MIN_RISE = 0.2
/** …and in MB, so that a small process's warm-up is not a leak. */
export const LEAK_MIN_RISE_MB = 10
/** The share of the whole rise that must happen in the second half. */
const LATE_RISE_SHARE = 1 / 3

/** What the rule found. */
export interface LeakVerdict {
  readonly leak: boolean
  /** Why, in words: `rose 180 % (52 → 146 MB) and never fell more than 3 % between windows`. */
  readonly reason: string
  /** The window medians the rule was applied to, in MB. */
  readonly windows: number[]
  /** How much the last window is above the first, in percent; undefined when too few samples. */
  readonly risePct: number | undefined
}

/** The medians of `count` consecutive windows of nearly equal size. */
export function windowMedians(values: readonly number[], count: number): number[] {
  const medians: number[] = []
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * values.length) / count)
    const to = Math.floor(((i + 1) * values.length) / count)
    if (to > from) medians.push(median(values.slice(from, to)) as number)
  }
  return medians
}

/** Applies the rule above to memory values in MB, in time order. */
export function detectLeak(valuesMB: readonly number[]): LeakVerdict {
  const values = valuesMB.filter((value) => Number.isFinite(value))
  if (values.length < LEAK_MIN_SAMPLES) {
    return { leak: false, reason: `too few samples to judge (${values.length}, at least ${LEAK_MIN_SAMPLES} needed)`, windows: [], risePct: undefined }
  }
  const windows = windowMedians(values, Math.min(LEAK_WINDOWS, Math.floor(values.length / MIN_SAMPLES_PER_WINDOW)))
  const first = windows[0] as number
  const last = windows.at(-1) as number
  const mid = windows[Math.floor((windows.length - 1) / 2)] as number
  const rounded = windows.map((value) => round(value))
  const risePct = first > 0 ? round(((last - first) / first) * 100) : undefined
  const span = `${round(first)} → ${round(last)} MB`
  for (let i = 1; i < windows.length; i++) {
    const before = windows[i - 1] as number
    const after = windows[i] as number
    if (after < before * (1 - LEAK_MAX_DROP)) {
      return { leak: false, reason: `fell ${round(((before - after) / before) * 100)} % between windows ${i} and ${i + 1} of ${windows.length} (${span})`, windows: rounded, risePct }
    }
  }
  const rise = last - first
  if (rise < first * LEAK_MIN_RISE || rise < LEAK_MIN_RISE_MB) {
    return { leak: false, reason: `steady: ${span}, under the ${LEAK_MIN_RISE * 100} % and ${LEAK_MIN_RISE_MB} MB that would make it a leak`, windows: rounded, risePct }
  }
  if (last - mid < rise * LATE_RISE_SHARE) {
    return { leak: false, reason: `rose early and then levelled off (${span}): warming up, not leaking`, windows: rounded, risePct }
  }
  return { leak: true, reason: `rose ${risePct ?? '?'} % (${span}) across the run and never fell more than ${LEAK_MAX_DROP * 100} % between windows`, windows: rounded, risePct }
}

/** How a process ended, as far as its memory is concerned: killed ones may have been killed for it. */
export type MemoryEnding = 'oom' | 'killed' | 'other'

/** What `judgeMemory` says: the leak rule's verdict, and whether the samples could tell at all. */
export interface MemoryJudgement extends LeakVerdict {
  /** False when the samples cannot tell a leak from none (too few, nothing steady): "no leak" is not said then. */
  readonly judged: boolean
}

/** `1.3 s`, `450 ms`, `2.5 min`: a span of a series, short. */
function spanText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${round(ms / 1000)} s`
  return `${round(ms / 60_000)} min`
}

const THEN: Readonly<Record<Exclude<MemoryEnding, 'other'>, string>> = { oom: 'then the OOM killer', killed: 'then it was killed' }

/**
 * The leak rule, with the process's ending in view. Enough samples: `detectLeak`. Too few:
 * a series that rose steadily (never falling more than `LEAK_MAX_DROP` from one sample to
 * the next, and ending `LEAK_MIN_RISE` and `LEAK_MIN_RISE_MB` higher) until the process was
 * killed is a leak however few the samples, and so is any rise that ended in an OOM kill
 * (`grew 81 → 258 MB in 1.3 s, then the OOM killer`); otherwise nothing is judged, and the
 * reason says so: "no leak" is said only when the samples show it (issue #20).
 *
 * @param points the samples in time order, `time` in epoch ms and `value` in MB
 */
export function judgeMemory(points: ReadonlyArray<{ readonly time: number; readonly value: number }>, ending: MemoryEnding): MemoryJudgement {
  const samples = points.filter((point) => Number.isFinite(point.value) && Number.isFinite(point.time))
  const first = samples[0]
  const last = samples.at(-1)
  if (samples.length >= LEAK_MIN_SAMPLES) {
    const verdict = detectLeak(samples.map((point) => point.value))
    return { ...verdict, judged: true, reason: ending === 'oom' ? `${verdict.reason}; then the OOM killer` : verdict.reason }
  }
  if (ending !== 'other' && first && last && samples.length >= 2) {
    let steady = true
    for (let i = 1; i < samples.length; i++) if ((samples[i] as { value: number }).value < (samples[i - 1] as { value: number }).value * (1 - LEAK_MAX_DROP)) steady = false
    const rise = last.value - first.value
    const rose = rise >= first.value * LEAK_MIN_RISE && rise >= LEAK_MIN_RISE_MB
    if ((rose && (steady || ending === 'oom')) || (ending === 'oom' && rise > 0)) {
      const risePct = first.value > 0 ? round((rise / first.value) * 100) : undefined
      const reason = `grew ${round(first.value)} → ${round(last.value)} MB in ${spanText(last.time - first.time)}, ${THEN[ending]}`
      return { leak: true, judged: true, reason, windows: samples.map((point) => round(point.value)), risePct }
    }
  }
  return { ...detectLeak(samples.map((point) => point.value)), judged: false }
}
