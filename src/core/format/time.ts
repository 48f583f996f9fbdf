/** Turns epoch milliseconds into text. */
export type TimeFormatter = (epochMs: number) => string

export const DEFAULT_TIME_FORMAT = 'YYYY-MM-DD HH:mm:ss.SSS'

// `[...]` is literal text; everything that is not a token is copied.
const TOKEN = /\[([^\]]*)\]|YYYY|SSS|MM|DD|HH|mm|ss|ZZ|Z|[^[YMDHmsSZ]+|./g

interface Parts {
  YYYY: number
  MM: number
  DD: number
  HH: number
  mm: number
  ss: number
  offsetMinutes: number
}

type Piece = (parts: Parts) => string

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

function offset(minutes: number, colon: boolean): string {
  if (minutes === 0 && colon) return 'Z'
  const sign = minutes >= 0 ? '+' : '-'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ':' : ''}${pad(abs % 60, 2)}`
}

function partsOf(date: Date, utc: boolean): Parts {
  return utc
    ? { YYYY: date.getUTCFullYear(), MM: date.getUTCMonth() + 1, DD: date.getUTCDate(), HH: date.getUTCHours(), mm: date.getUTCMinutes(), ss: date.getUTCSeconds(), offsetMinutes: 0 }
    : { YYYY: date.getFullYear(), MM: date.getMonth() + 1, DD: date.getDate(), HH: date.getHours(), mm: date.getMinutes(), ss: date.getSeconds(), offsetMinutes: -date.getTimezoneOffset() }
}

function piece(token: string, literal: string | undefined): Piece {
  if (literal !== undefined) return () => literal
  switch (token) {
    case 'YYYY':
      return (parts) => pad(parts.YYYY, 4)
    case 'MM':
    case 'DD':
    case 'HH':
    case 'mm':
    case 'ss':
      return (parts) => pad(parts[token], 2)
    case 'Z':
      return (parts) => offset(parts.offsetMinutes, true)
    case 'ZZ':
      return (parts) => offset(parts.offsetMinutes, false)
    default:
      return () => token
  }
}

/**
 * Compiles a time format once: `YYYY MM DD HH mm ss SSS` (milliseconds), `Z` (`+01:00`,
 * `Z` at UTC), `ZZ` (`+0100`), `[literal]`; a trailing `!UTC` renders in UTC, like loguru.
 * `iso` is ISO 8601 in UTC, `epoch` the milliseconds. Everything but the milliseconds is
 * cached per second.
 */
export function compileTimeFormat(spec: string = DEFAULT_TIME_FORMAT): TimeFormatter {
  if (spec === 'iso') return (ms) => new Date(ms).toISOString()
  if (spec === 'epoch') return (ms) => String(ms)
  const utc = spec.endsWith('!UTC')
  const format = utc ? spec.slice(0, -4) : spec
  // The pieces between two SSS depend only on the second: rendered once per second.
  const segments: Piece[][] = [[]]
  for (const match of format.matchAll(TOKEN)) {
    if (match[0] === 'SSS') segments.push([])
    else segments[segments.length - 1]?.push(piece(match[0], match[1]))
  }
  let cachedSecond = Number.NaN
  let cached: string[] = []
  return (ms) => {
    const second = Math.floor(ms / 1000)
    if (second !== cachedSecond) {
      const parts = partsOf(new Date(ms), utc)
      cached = segments.map((pieces) => pieces.map((render) => render(parts)).join(''))
      cachedSecond = second
    }
    if (cached.length === 1) return cached[0] as string
    return cached.join(pad(ms - second * 1000, 3))
  }
}
