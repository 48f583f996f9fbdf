import { durationFrom, sizeFrom } from '../core/units.js'

/**
 * What one rotation string says, read the way loguru's `_string_parsers.py` reads it and in
 * its order: a size, else a duration, else a frequency, else a weekday and/or a time of day.
 * Case and surrounding spaces do not matter.
 */
export type RotationSpelling =
  | { kind: 'size'; bytes: number }
  | { kind: 'period'; ms: number }
  | { kind: 'frequency'; frequency: Frequency }
  /** `weekday`: 0 is Monday … 6 Sunday (loguru's `w0`…`w6`); undefined for every day. */
  | { kind: 'daytime'; weekday: number | undefined; time: TimeOfDay }
  /** Not a rotation; `reason` says what was wrong when a part was recognised (`w7`, `11:99`). */
  | { kind: 'invalid'; reason: string | undefined }

export type Frequency = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly'

export interface TimeOfDay {
  hours: number
  minutes: number
  seconds: number
  milliseconds: number
}

const FREQUENCIES: ReadonlySet<string> = new Set<Frequency>(['hourly', 'daily', 'weekly', 'monthly', 'yearly'])
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const
const MIDNIGHT: TimeOfDay = { hours: 0, minutes: 0, seconds: 0, milliseconds: 0 }

/** "13", "13:00", "13:00:00", "13:00:00.123456", "1 pm", "1:00 pm", "11:00:00 AM", "1:0:0.0 pm". */
const TIME = /^(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?(?:\s*([ap])m)?$/i
/** What loguru takes for a try at a time of day (and then refuses when it is none). */
const TIME_LIKE = /^[\d.:]+\s*(?:[ap]m)?$/i
const DAY_AT_TIME = /^(.*?)\s+at\s+(.*)$/i

const NOT_A_DAY = (text: string) => `\`${text}\` is no weekday: w0 (Monday) to w6 (Sunday), or a day's name`
const NOT_A_TIME = (text: string) => `\`${text}\` is no time of day: hours 0-23 (1-12 with am or pm), then minutes, seconds and a fraction, each optional`

/** 0 (Monday) to 6 (Sunday), undefined if `text` is no day, or a reason for a `w` that is out of range. */
function readDay(text: string): number | undefined | { reason: string } {
  const lower = text.trim().toLowerCase()
  const named = (DAY_NAMES as readonly string[]).indexOf(lower)
  if (named !== -1) return named
  if (!/^w\d+$/.test(lower)) return undefined
  const index = Number(lower.slice(1))
  return index <= 6 ? index : { reason: NOT_A_DAY(text.trim()) }
}

/** The time of day, undefined if `text` does not look like one, or a reason if it looks like one but is none. */
function readTime(text: string): TimeOfDay | undefined | { reason: string } {
  const trimmed = text.trim()
  if (!TIME_LIKE.test(trimmed)) return undefined
  const match = TIME.exec(trimmed)
  if (!match) return { reason: NOT_A_TIME(trimmed) }
  let hours = Number(match[1])
  const minutes = Number(match[2] ?? 0)
  const seconds = Number(match[3] ?? 0)
  // Below a millisecond the clock cannot tell: "13:00:00.123456" rotates at 13:00:00.123.
  const milliseconds = Math.floor(Number(`0.${match[4] ?? '0'}`) * 1000)
  const half = match[5]?.toLowerCase()
  if (half !== undefined) {
    if (hours < 1 || hours > 12) return { reason: NOT_A_TIME(trimmed) }
    hours = (hours % 12) + (half === 'p' ? 12 : 0)
  }
  if (hours > 23 || minutes > 59 || seconds > 59) return { reason: NOT_A_TIME(trimmed) }
  return { hours, minutes, seconds, milliseconds }
}

function isReason(value: unknown): value is { reason: string } {
  return typeof value === 'object' && value !== null && 'reason' in value
}

/** "monday", "w0", "13:00", "monday at 12:00", "w6 at 13", " W6 at 13 ". */
function readDaytime(text: string): RotationSpelling {
  const match = DAY_AT_TIME.exec(text)
  const dayText = match ? (match[1] as string) : text
  const timeText = match ? (match[2] as string) : text
  const day = readDay(dayText)
  if (isReason(day)) return { kind: 'invalid', reason: day.reason }
  if (match && day === undefined) return { kind: 'invalid', reason: NOT_A_DAY(dayText.trim()) }
  const time = readTime(timeText)
  if (isReason(time)) return { kind: 'invalid', reason: time.reason }
  if (match && time === undefined) return { kind: 'invalid', reason: NOT_A_TIME(timeText.trim()) }
  if (day === undefined && time === undefined) return { kind: 'invalid', reason: undefined }
  return { kind: 'daytime', weekday: day, time: time ?? MIDNIGHT }
}

/** Reads one rotation string; see `RotationSpelling`. */
export function readRotationSpelling(text: string): RotationSpelling {
  // A size must name bytes ("10 MB", "8 b"): a bare "5 m" is five minutes, as `interval` always read it.
  const bytes = sizeFrom(text, true)
  if (bytes !== undefined) return { kind: 'size', bytes }
  const ms = durationFrom(text)
  if (ms !== undefined) return { kind: 'period', ms }
  const frequency = text.trim().toLowerCase()
  if (FREQUENCIES.has(frequency)) return { kind: 'frequency', frequency: frequency as Frequency }
  return readDaytime(text.trim())
}
