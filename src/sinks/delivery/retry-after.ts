import type { IncomingHttpHeaders } from 'node:http'

/** The longest a 429 (or 503) is obeyed; a longer wait is taken as this, so a bad answer cannot park a sink for days. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000

/** Seconds, as a number or a string of one, to ms; undefined for anything else. */
export function secondsToMs(value: unknown): number | undefined {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined
}

/** The `Retry-After` header (seconds or an HTTP date, RFC 9110 §10.2.3), in ms, capped at MAX_RETRY_AFTER_MS. */
export function retryAfterHeaderMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const raw = headers['retry-after']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value === undefined) return undefined
  let wait = secondsToMs(value)
  if (wait === undefined) {
    const date = Date.parse(value)
    if (Number.isFinite(date)) wait = Math.max(0, date - now)
  }
  return wait === undefined ? undefined : Math.min(wait, MAX_RETRY_AFTER_MS)
}
