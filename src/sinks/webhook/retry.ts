import type { HttpAnswer } from '../delivery/http.js'
import { MAX_RETRY_AFTER_MS, retryAfterHeaderMs, secondsToMs } from '../delivery/retry-after.js'

export { MAX_RETRY_AFTER_MS } from '../delivery/retry-after.js'

/** Characters of an error answer quoted in the error message. */
const MAX_QUOTED_ANSWER_CHARS = 200

/** An answer that is not a success; the message quotes the service's own description, scrubbed. */
export class WebhookHttpError extends Error {
  override readonly name = 'WebhookHttpError'

  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

/** What to do after an answer, a closed set. */
export type Outcome =
  | { readonly kind: 'sent' }
  /** 429: wait what the service says (when it says), then retry. */
  | { readonly kind: 'rate-limited'; readonly waitMs: number | undefined; readonly error: Error }
  /** 5xx, 408: back off, then retry. */
  | { readonly kind: 'retry'; readonly error: Error }
  /** Any other 4xx: the same request would fail again. */
  | { readonly kind: 'rejected'; readonly error: Error }

/** The JSON of an answer, or undefined when it is not JSON. */
export function answerJson(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body)
  } catch {
    return undefined
  }
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * How long a 429 asks to wait: Discord's JSON `retry_after` (seconds, fractional),
 * Telegram's `parameters.retry_after` (seconds), else the `Retry-After` header. Capped at
 * MAX_RETRY_AFTER_MS.
 */
export function retryAfterMs(answer: HttpAnswer, now = Date.now()): number | undefined {
  const json = answerJson(answer)
  const wait = secondsToMs(field(json, 'retry_after')) ?? secondsToMs(field(field(json, 'parameters'), 'retry_after'))
  return wait === undefined ? retryAfterHeaderMs(answer.headers, now) : Math.min(wait, MAX_RETRY_AFTER_MS)
}

/** Discord tells in advance when a bucket is empty: `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset-After` seconds. */
export function bucketResetMs(answer: HttpAnswer): number | undefined {
  if (header(answer, 'x-ratelimit-remaining') !== '0') return undefined
  const wait = secondsToMs(header(answer, 'x-ratelimit-reset-after'))
  return wait === undefined ? undefined : Math.min(wait, MAX_RETRY_AFTER_MS)
}

/** The service's description of a failure: Discord's `message`, Telegram's `description`, or the text (Slack's `invalid_payload`). */
function describeAnswer(answer: HttpAnswer): string {
  const json = answerJson(answer)
  const described = field(json, 'description') ?? field(json, 'message') ?? field(json, 'error')
  const text = typeof described === 'string' ? described : answer.body
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_QUOTED_ANSWER_CHARS ? `${oneLine.slice(0, MAX_QUOTED_ANSWER_CHARS)}…` : oneLine
}

/** Reads an answer. `accepts` decides what a 2xx is worth (Telegram says `ok: false` in the body). */
export function classify(answer: HttpAnswer, scrub: (text: string) => string, accepts: (answer: HttpAnswer) => boolean = () => true): Outcome {
  const { status } = answer
  if (status >= 200 && status < 300 && accepts(answer)) return { kind: 'sent' }
  const description = describeAnswer(answer)
  const refusedInBody = status >= 200 && status < 300 ? ' (refused in the body)' : ''
  const error = new WebhookHttpError(scrub(`HTTP ${status}${refusedInBody}${description === '' ? '' : `: ${description}`}`), status)
  if (status === 429) return { kind: 'rate-limited', waitMs: retryAfterMs(answer), error }
  if (status >= 500 || status === 408) return { kind: 'retry', error }
  return { kind: 'rejected', error }
}
