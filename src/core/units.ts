/**
 * Sizes and durations as people write them, loguru's spelling: "10 MB", "0.5 GiB", "1e3 KB",
 * "7 days", "1 week, 3 days", "2h30min". Parsed once, when an option is read; a string that
 * cannot be parsed is refused with the input quoted.
 */

/** A number as loguru reads it (Python's float): digits, a fraction, an exponent; no sign. */
const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?`

/** Bytes per unit, and for decimal units the power of ten (applied to the exponent, so "1.001 kB" is exactly 1001). */
interface SizeUnit {
  bytes: number
  decimalExponent: number | undefined
}

function decimal(exponent: number): SizeUnit {
  return { bytes: 10 ** exponent, decimalExponent: exponent }
}

function binary(power: number): SizeUnit {
  return { bytes: 1024 ** power, decimalExponent: undefined }
}

/** loguru's prefixes k m g t p e z y, decimal (`kb`) or binary (`kib`); `b` is a byte here whatever its case. */
const BYTE_UNITS: Readonly<Record<string, SizeUnit>> = Object.fromEntries([
  ['b', decimal(0)], ['byte', decimal(0)], ['bytes', decimal(0)],
  ...[...'kmgtpezy'].flatMap((prefix, i) => [[`${prefix}b`, decimal(3 * (i + 1))], [`${prefix}ib`, binary(i + 1)]] as const),
])

/** blackbox's own, kept for the callers that have them: a bare number is bytes, a bare k m g t is binary. */
const BARE_UNITS: Readonly<Record<string, SizeUnit>> = { '': decimal(0), k: binary(1), m: binary(2), g: binary(3), t: binary(4) }

/** loguru's month and year are fixed lengths (2,628,000 s and 365 days), as here. */
const MS_PER: Readonly<Record<string, number>> = {
  us: 0.001, microsecond: 0.001, microseconds: 0.001,
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  month: 2_628_000_000, months: 2_628_000_000,
  y: 31_536_000_000, year: 31_536_000_000, years: 31_536_000_000,
}

const SIZE = new RegExp(`^\\s*${NUMBER}\\s*([a-z]*)\\s*$`, 'i')
/** One quantity of a duration and what may follow it: "2 h, ", "30min". Sticky, so made per call. */
const DURATION_PART = `${NUMBER}\\s*([a-z]+)[\\s,]*`

function describe(input: unknown): string {
  return `\`${String(input)}\` (${typeof input})`
}

/** `digits` × 10^`exponent` × the unit, exactly where the unit is decimal. */
function scale(digits: string, exponent: string | undefined, unit: SizeUnit): number {
  const power = Number(exponent ?? 0)
  return unit.decimalExponent === undefined ? Number(`${digits}e${power}`) * unit.bytes : Number(`${digits}e${power + unit.decimalExponent}`)
}

/**
 * Bytes from a size string, or undefined if it is none. `byteUnit` asks for a unit that says
 * bytes outright ("10 MB", "64 b"), as where a size and a duration share one option and a
 * bare "5 m" must stay five minutes.
 */
export function sizeFrom(text: string, byteUnit = false): number | undefined {
  const match = SIZE.exec(text)
  if (!match) return undefined
  const name = (match[3] ?? '').toLowerCase()
  const unit = BYTE_UNITS[name] ?? (byteUnit ? undefined : BARE_UNITS[name])
  if (unit === undefined) return undefined
  const bytes = Math.floor(scale(match[1] as string, match[2], unit))
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined
}

/** Milliseconds from a duration string ("1 week, 3 days", "2h30min", "1.5d"), or undefined if it is none. */
export function durationFrom(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  const part = new RegExp(DURATION_PART, 'iy')
  let total = 0
  while (part.lastIndex < trimmed.length) {
    const match = part.exec(trimmed)
    const unit = match ? MS_PER[(match[3] as string).toLowerCase()] : undefined
    if (!match || unit === undefined) return undefined
    total += Number(`${match[1] as string}e${match[2] ?? 0}`) * unit
  }
  return Number.isFinite(total) && total > 0 ? total : undefined
}

/** Bytes from `"10 MB"` (decimal), `"0.5 GiB"` (binary), `"1e3 KB"`, `"100 b"` or a number of bytes. */
export function parseSize(input: string | number, option = 'size'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return Math.floor(input)
  } else if (typeof input === 'string') {
    const bytes = sizeFrom(input)
    if (bytes !== undefined) return bytes
  }
  throw new TypeError(`Expected \`${option}\` to be a positive size like "10 MB", "0.5 GiB" or a number of bytes, got ${describe(input)}`)
}

/** Milliseconds from `"7 days"`, `"1 week, 3 days"`, `"12 h"`, `"1.5 hours"`, `"2h30min"`, `"1 month"` or a number of ms. */
export function parseDuration(input: string | number, option = 'duration'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return input
  } else if (typeof input === 'string') {
    const ms = durationFrom(input)
    if (ms !== undefined) return ms
  }
  throw new TypeError(`Expected \`${option}\` to be a positive duration like "7 days", "12 h", "1 week" or a number of ms, got ${describe(input)}`)
}
