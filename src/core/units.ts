/**
 * Sizes and durations as people write them, loguru's spelling: "10 MB", "0.5 GiB",
 * "7 days", "1 week", "12 h". Parsed once, when an option is read; a string that cannot
 * be parsed is refused with the input quoted.
 */

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1, byte: 1, bytes: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
}

const MS_PER: Readonly<Record<string, number>> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
}

const QUANTITY = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i

function describe(input: unknown): string {
  return `\`${String(input)}\` (${typeof input})`
}

/** Bytes from `"10 MB"` (decimal), `"0.5 GiB"` (binary), `"512 KiB"`, `"100 b"` or a number of bytes. */
export function parseSize(input: string | number, option = 'size'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return Math.floor(input)
  } else if (typeof input === 'string') {
    const match = QUANTITY.exec(input)
    const unit = SIZE_UNITS[(match?.[2] || 'b').toLowerCase()]
    if (match && unit !== undefined) {
      const bytes = Math.floor(Number(match[1]) * unit)
      if (bytes > 0) return bytes
    }
  }
  throw new TypeError(`Expected \`${option}\` to be a positive size like "10 MB", "0.5 GiB" or a number of bytes, got ${describe(input)}`)
}

/** Milliseconds from `"7 days"`, `"1 week"`, `"12 h"`, `"1.5 hours"`, `"90 s"`, `"2 weeks 3 days"` or a number of ms. */
export function parseDuration(input: string | number, option = 'duration'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return input
  } else if (typeof input === 'string' && input.trim() !== '') {
    // Several quantities add up: "1 day 12 hours".
    const parts = input.trim().split(/\s*,\s*|\s+(?=\d|\.)/)
    let total = 0
    let understood = true
    for (const part of parts) {
      const match = QUANTITY.exec(part)
      const unit = match ? MS_PER[match[2]?.toLowerCase() ?? ''] : undefined
      if (!match || unit === undefined) {
        understood = false
        break
      }
      total += Number(match[1]) * unit
    }
    if (understood && total > 0) return total
  }
  throw new TypeError(`Expected \`${option}\` to be a positive duration like "7 days", "12 h", "1 week" or a number of ms, got ${describe(input)}`)
}
