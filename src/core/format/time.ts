/** Turns epoch milliseconds into text. */
export type TimeFormatter = (epochMs: number) => string

export const DEFAULT_TIME_FORMAT = 'YYYY-MM-DD HH:mm:ss.SSS'

const TOKEN = /YYYY|MM|DD|HH|mm|ss|SSS|ZZ|Z|\[([^\]]*)\]/g

interface Parts {
  YYYY: number
  MM: number
  DD: number
  HH: number
  mm: number
  ss: number
  offsetMinutes: number
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

function offset(minutes: number, colon: boolean): string {
  if (minutes === 0) return 'Z'
  const sign = minutes > 0 ? '+' : '-'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ':' : ''}${pad(abs % 60, 2)}`
}

function partsOf(date: Date, utc: boolean): Parts {
  return utc
    ? { YYYY: date.getUTCFullYear(), MM: date.getUTCMonth() + 1, DD: date.getUTCDate(), HH: date.getUTCHours(), mm: date.getUTCMinutes(), ss: date.getUTCSeconds(), offsetMinutes: 0 }
    : { YYYY: date.getFullYear(), MM: date.getMonth() + 1, DD: date.getDate(), HH: date.getHours(), mm: date.getMinutes(), ss: date.getSeconds(), offsetMinutes: -date.getTimezoneOffset() }
}

/**
 * Compiles a time format once: `YYYY MM DD HH mm ss SSS` (milliseconds), `Z` (`+01:00`),
 * `ZZ` (`+0100`), `[literal]`; a trailing `!UTC` renders in UTC, like loguru. `iso`
 * is ISO 8601 in UTC. Everything but the milliseconds is cached per second.
 */
export function compileTimeFormat(spec: string = DEFAULT_TIME_FORMAT): TimeFormatter {
  if (spec === 'iso') return (ms) => new Date(ms).toISOString()
  if (spec === 'epoch') return (ms) => String(ms)
  const utc = spec.endsWith('!UTC')
  const format = utc ? spec.slice(0, -4) : spec
  // Split the format at every SSS: the pieces between depend only on the second.
  const pieces = format.split('SSS')
  let cachedSecond = Number.NaN
  let cached: string[] = []
  return (ms) => {
    const second = Math.floor(ms / 1000)
    if (second !== cachedSecond) {
      const parts = partsOf(new Date(ms), utc)
      cached = pieces.map((piece) => renderPiece(piece, parts))
      cachedSecond = second
    }
    if (cached.length === 1) return cached[0] as string
    const millis = pad(ms - second * 1000, 3)
    return cached.join(millis)
  }
}

function renderPiece(piece: string, parts: Parts): string {
  return piece.replace(TOKEN, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal
    switch (token) {
      case 'YYYY':
        return pad(parts.YYYY, 4)
      case 'Z':
        return offset(parts.offsetMinutes, true)
      case 'ZZ':
        return offset(parts.offsetMinutes, false)
      default:
        return pad(parts[token as 'MM'], 2)
    }
  })
}
