import type { LogRecord } from '../core/record.js'
import { durationFrom, parseSize } from '../core/units.js'
import { readRotationSpelling, type Frequency, type TimeOfDay } from './rotation-spelling.js'

/** What a rotation function is told of the file being written. */
export interface RotationFile {
  /** The path written (the current file, never a backup). */
  readonly path: string
  /** Its size in bytes, counting what `batched` mode holds for it, before this record. */
  readonly size: number
  /** When its period began, in epoch ms: when it was opened, or its last write if an earlier run left it. */
  readonly since: number
}

/** loguru's `rotation=callable`: true to rotate before this record. Called for each record, so keep it cheap. */
export type RotationFunction = (record: LogRecord, file: RotationFile, line: string) => boolean

/**
 * One rotation condition: a string in any of loguru's spellings ("500 MB", "1 week, 3 days",
 * "daily", "13:00", "monday at 12:00"), a number, or a function.
 */
export type RotationCondition = string | number | RotationFunction

/** `interval`: a condition, or a list rotating on whichever comes first; a number is a period in ms. */
export type IntervalOption =
  | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly' | `${number}:${number}`
  | RotationCondition | readonly RotationCondition[] | false

/** `rotation` (loguru's name): as `interval`, but a number is a size in bytes, as in loguru. */
export type RotationOption = RotationCondition | readonly RotationCondition[] | false

/** loguru's `retention=callable`: handed the managed backups (paths, newest first) after each rotation. */
export type RetentionFunction = (files: string[]) => void | Promise<void>

/** A time-rotation policy, compiled once. */
export interface TimePolicy {
  /** The first rotation moment strictly after `now`. */
  next(now: number): number
  /** The label a backup of the period starting at `start` gets: `2026-11-21`, `2026-11-21_14`. */
  stamp(start: number): string
  /** The span `stamp` tells apart: a minute, an hour or a day, in ms. */
  readonly stampMs: number
}

/** Everything that makes the sink rotate, compiled once from `maxSize`, `interval` and `rotation`. */
export interface RotationPolicy {
  /** Rotate before a write would take the file past this many bytes; infinite for no limit. */
  maxSize: number
  time: TimePolicy | undefined
  /** The rotation functions given, as one: true if any says so. */
  decide: RotationFunction | undefined
}

export const DEFAULT_MAX_SIZE_BYTES = 10 * 1000 * 1000
export const DEFAULT_MAX_FILES = 5

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
const MIDNIGHT: TimeOfDay = { hours: 0, minutes: 0, seconds: 0, milliseconds: 0 }
const MONDAY = 0

const ACCEPTED_SPELLINGS =
  'a size ("500 MB", "0.5 GiB", "1e3 KB"), a duration ("1 week, 3 days", "2 h 30 min", "1.5 days"), ' +
  'a frequency ("hourly", "daily", "weekly", "monthly", "yearly"), a time of day ("12:00", "13:00:00", "1:00 pm"), ' +
  'a weekday ("monday", "w0"…"w6", "monday at 12:00")'

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

const BY_DAY = { stamp: day, stampMs: DAY_MS }

/** The first moment strictly after `now` at `time` (local), on `weekday` (0 Monday … 6 Sunday) or any day. */
function nextAt(now: number, weekday: number | undefined, time: TimeOfDay): number {
  const today = new Date(now)
  for (let days = 0; ; days++) {
    // Built from the date each time, not by adding 24 h: a day across a DST change is 23 or 25 h.
    const candidate = new Date(today.getFullYear(), today.getMonth(), today.getDate() + days, time.hours, time.minutes, time.seconds, time.milliseconds)
    if (candidate.getTime() > now && (weekday === undefined || candidate.getDay() === (weekday + 1) % 7)) return candidate.getTime()
  }
}

function frequencyPolicy(frequency: Frequency): TimePolicy {
  switch (frequency) {
    case 'hourly':
      return {
        // The start of this local hour plus an hour of real time, not 60 local minutes: on the
        // night the clocks go back, 02:30 CEST is followed by 02:00 CET, not by 03:00 CET.
        next: (now) => {
          const date = new Date(now)
          return now - (date.getMinutes() * MINUTE_MS + date.getSeconds() * 1000 + date.getMilliseconds()) + HOUR_MS
        },
        stamp: hour,
        stampMs: HOUR_MS,
      }
    case 'daily':
      return { next: (now) => nextAt(now, undefined, MIDNIGHT), ...BY_DAY }
    // Weeks start on Monday (ISO 8601, and loguru).
    case 'weekly':
      return { next: (now) => nextAt(now, MONDAY, MIDNIGHT), ...BY_DAY }
    case 'monthly':
      return {
        next: (now) => {
          const date = new Date(now)
          return new Date(date.getFullYear(), date.getMonth() + 1, 1).getTime()
        },
        ...BY_DAY,
      }
    case 'yearly':
      return { next: (now) => new Date(new Date(now).getFullYear() + 1, 0, 1).getTime(), ...BY_DAY }
  }
}

/** A fixed period, counted from the Unix epoch so that a restart keeps the grid. */
function periodPolicy(period: number): TimePolicy {
  const stampMs = period < HOUR_MS ? MINUTE_MS : period < DAY_MS ? HOUR_MS : DAY_MS
  return { next: (now) => (Math.floor(now / period) + 1) * period, stamp: stampMs === MINUTE_MS ? minute : stampMs === HOUR_MS ? hour : day, stampMs }
}

/** Several time conditions: the earliest boundary, the finest stamp. */
function earliest(policies: readonly TimePolicy[]): TimePolicy | undefined {
  if (policies.length <= 1) return policies[0]
  const finest = policies.reduce((a, b) => (b.stampMs < a.stampMs ? b : a))
  return { next: (now) => Math.min(...policies.map((policy) => policy.next(now))), stamp: finest.stamp, stampMs: finest.stampMs }
}

/** What one option holds, gathered by kind. */
interface Conditions {
  sizes: number[]
  times: TimePolicy[]
  functions: RotationFunction[]
}

function refuseCondition(option: 'interval' | 'rotation', got: string, reason?: string): never {
  const number = option === 'interval' ? 'a number of ms' : 'a number of bytes'
  throw new TypeError(
    `Expected \`${option}\` to be ${ACCEPTED_SPELLINGS}, ${number}, a function (record, file) => boolean, a list of these or false, got ${got}${reason === undefined ? '' : `: ${reason}`}`,
  )
}

function describe(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`
}

function addCondition(option: 'interval' | 'rotation', value: unknown, into: Conditions, inList: boolean): void {
  const where = inList ? ' in the list' : ''
  if (typeof value === 'function') {
    into.functions.push(value as RotationFunction)
    return
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) refuseCondition(option, describe(value) + where)
    if (option === 'interval') into.times.push(periodPolicy(value))
    else if (Math.floor(value) >= 1) into.sizes.push(Math.floor(value))
    else refuseCondition(option, describe(value) + where)
    return
  }
  if (typeof value !== 'string') return refuseCondition(option, describe(value) + where)
  const spelling = readRotationSpelling(value)
  switch (spelling.kind) {
    case 'size':
      into.sizes.push(spelling.bytes)
      return
    case 'period':
      into.times.push(periodPolicy(spelling.ms))
      return
    case 'frequency':
      into.times.push(frequencyPolicy(spelling.frequency))
      return
    case 'daytime': {
      const { weekday, time } = spelling
      into.times.push({ next: (now) => nextAt(now, weekday, time), ...BY_DAY })
      return
    }
    case 'invalid':
      return refuseCondition(option, describe(value) + where, spelling.reason)
  }
}

function gather(option: 'interval' | 'rotation', value: unknown, into: Conditions): void {
  if (value === undefined || value === false) return
  if (!Array.isArray(value)) return addCondition(option, value, into, false)
  if (value.length === 0) refuseCondition(option, 'an empty list')
  for (const item of value as unknown[]) addCondition(option, item, into, true)
}

/**
 * Compiles `maxSize`, `interval` and `rotation` once, into a size limit, a time policy and
 * a function: the write path only compares and calls. All conditions apply; the first one
 * met rotates. `maxSize` defaults to 10 MB, unless `rotation` is given (loguru's option says
 * the whole of when) or `interval` names a size.
 */
export function compileRotation(options: { maxSize?: string | number | false | undefined; interval?: unknown; rotation?: unknown }): RotationPolicy {
  const conditions: Conditions = { sizes: [], times: [], functions: [] }
  gather('interval', options.interval, conditions)
  const sizedByInterval = conditions.sizes.length > 0
  gather('rotation', options.rotation, conditions)
  const { maxSize } = options
  let limit = Number.POSITIVE_INFINITY
  if (maxSize === undefined) {
    if (options.rotation === undefined && !sizedByInterval) limit = DEFAULT_MAX_SIZE_BYTES
  } else if (maxSize !== false) limit = parseSize(maxSize, 'maxSize')
  const { functions } = conditions
  return {
    maxSize: Math.min(limit, ...conditions.sizes),
    time: earliest(conditions.times),
    decide: functions.length <= 1 ? functions[0] : (record, file, line) => functions.some((decide) => decide(record, file, line)),
  }
}

/** What to keep: a number of backups, an age past which backups go, and a function that sees what is left. */
export interface RetentionPolicy {
  maxFiles: number
  maxAgeMs: number | undefined
  select: RetentionFunction | undefined
}

function refuseRetention(value: unknown): never {
  throw new TypeError(
    `Expected \`retention\` to be a count of backups, a duration like "7 days", "1 week, 3 days" or "2 h 30 min", or a function of the managed files, got ${describe(value)}`,
  )
}

/**
 * Compiles `maxFiles` and `retention` once. `maxFiles` defaults to 5 only when `retention` is
 * not given: `retention: 10` keeps ten backups, `'7 days'` all those of the last week.
 */
export function compileRetention(maxFiles: unknown, retention: unknown): RetentionPolicy {
  if (maxFiles !== undefined && (typeof maxFiles !== 'number' || !Number.isInteger(maxFiles) || maxFiles < 0)) {
    throw new TypeError(`Expected \`maxFiles\` to be a non-negative integer, got ${describe(maxFiles)}`)
  }
  const files = maxFiles ?? (retention === undefined ? DEFAULT_MAX_FILES : Number.POSITIVE_INFINITY)
  if (retention === undefined) return { maxFiles: files, maxAgeMs: undefined, select: undefined }
  if (typeof retention === 'function') return { maxFiles: files, maxAgeMs: undefined, select: retention as RetentionFunction }
  if (typeof retention === 'number') {
    if (!Number.isInteger(retention) || retention < 0) refuseRetention(retention)
    return { maxFiles: Math.min(files, retention), maxAgeMs: undefined, select: undefined }
  }
  const maxAgeMs = typeof retention === 'string' ? durationFrom(retention) : undefined
  if (maxAgeMs === undefined) refuseRetention(retention)
  return { maxFiles: files, maxAgeMs, select: undefined }
}
