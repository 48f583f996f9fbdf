import { parseDuration, parseSize } from '../core/units.js'

/** When time rotation happens: a named period, a time of day, a number of ms, or never. */
export type IntervalOption = 'hourly' | 'daily' | 'weekly' | `${number}:${number}` | number | false

/** A time-rotation policy, compiled once from the `interval` option. */
export interface TimePolicy {
  /** The first rotation moment strictly after `now`. */
  next(now: number): number
  /** The label a backup of the period starting at `start` gets: `2026-11-21`, `2026-11-21_14`. */
  stamp(start: number): string
}

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

function day(ms: number): string {
  const date = new Date(ms)
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

function hour(ms: number): string {
  return `${day(ms)}_${pad(new Date(ms).getHours())}`
}

function minute(ms: number): string {
  return `${hour(ms)}-${pad(new Date(ms).getMinutes())}`
}

/** Local midnight of the day after `now`, plus `minutesIntoDay`; today's, if still ahead. */
function nextTimeOfDay(now: number, minutesIntoDay: number): number {
  const date = new Date(now)
  date.setHours(0, minutesIntoDay, 0, 0)
  if (date.getTime() <= now) {
    date.setDate(date.getDate() + 1)
    date.setHours(0, minutesIntoDay, 0, 0)
  }
  return date.getTime()
}

/** Compiles `interval` once; undefined means no time rotation. Local time, like the run files. */
export function compileInterval(option: IntervalOption | undefined): TimePolicy | undefined {
  if (option === undefined || option === false) return undefined
  if (option === 'hourly') {
    return {
      next: (now) => {
        const date = new Date(now)
        date.setMinutes(60, 0, 0)
        return date.getTime()
      },
      stamp: hour,
    }
  }
  if (option === 'daily') return { next: (now) => nextTimeOfDay(now, 0), stamp: day }
  if (option === 'weekly') {
    // Weeks start on Monday (ISO 8601).
    return {
      next: (now) => {
        let next = nextTimeOfDay(now, 0)
        while (new Date(next).getDay() !== 1) next = nextTimeOfDay(next, 0)
        return next
      },
      stamp: day,
    }
  }
  if (typeof option === 'string') {
    const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(option)
    if (match) {
      const minutes = Number(match[1]) * 60 + Number(match[2])
      return { next: (now) => nextTimeOfDay(now, minutes), stamp: day }
    }
    // "12 h", "1 week": a fixed period, counted from the Unix epoch so restarts keep the grid.
    const period = parseDuration(option, 'interval')
    return { next: (now) => (Math.floor(now / period) + 1) * period, stamp: period < 3_600_000 ? minute : period < 86_400_000 ? hour : day }
  }
  if (typeof option === 'number' && Number.isFinite(option) && option > 0) {
    return { next: (now) => (Math.floor(now / option) + 1) * option, stamp: option < 3_600_000 ? minute : option < 86_400_000 ? hour : day }
  }
  throw new TypeError(`Expected \`interval\` to be 'hourly', 'daily', 'weekly', a time like '00:00', a duration like '12 h', a number of ms or false, got \`${String(option)}\` (${typeof option})`)
}

/** What to keep: a number of backups, and optionally an age past which backups go. */
export interface RetentionPolicy {
  maxFiles: number
  maxAgeMs: number | undefined
}

/** Compiles `maxFiles` and `retention` ('7 days' or a count) once. */
export function compileRetention(maxFiles: unknown, retention: unknown): RetentionPolicy {
  const files = maxFiles === undefined ? DEFAULT_MAX_FILES : maxFiles
  if (typeof files !== 'number' || !Number.isInteger(files) || files < 0) {
    throw new TypeError(`Expected \`maxFiles\` to be a non-negative integer, got \`${String(files)}\` (${typeof files})`)
  }
  if (retention === undefined) return { maxFiles: files, maxAgeMs: undefined }
  if (typeof retention === 'number') {
    if (!Number.isInteger(retention) || retention < 0) {
      throw new TypeError(`Expected \`retention\` to be a count of files or a duration like '7 days', got \`${String(retention)}\` (number)`)
    }
    return { maxFiles: Math.min(files, retention), maxAgeMs: undefined }
  }
  return { maxFiles: files, maxAgeMs: parseDuration(retention as string, 'retention') }
}

/** The size limit, default 10 MB; `false` for none. */
export function compileMaxSize(option: string | number | false | undefined): number {
  if (option === false) return Number.POSITIVE_INFINITY
  return option === undefined ? DEFAULT_MAX_SIZE_BYTES : parseSize(option, 'maxSize')
}

export const DEFAULT_MAX_SIZE_BYTES = 10 * 1000 * 1000
export const DEFAULT_MAX_FILES = 5
