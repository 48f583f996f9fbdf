/** Where the reconnect delay starts. */
export const MIN_RECONNECT_DELAY_MS = 100
/** Where the reconnect delay stops growing. */
export const MAX_RECONNECT_DELAY_MS = 10_000

/**
 * The one backoff of blackbox's network sinks: exponential with "equal jitter". The ceiling
 * doubles from `baseMs` on each retry (the first retry is 1) up to `maxMs`, and the wait is
 * between half the ceiling and the ceiling, so many processes that failed together (one
 * restarted server) do not come back together, and none retries at once.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, retry - 1), 30))
  return ceiling / 2 + (random() * ceiling) / 2
}

/** Reconnect delays by `backoffMs`, counting the attempts since the last real progress. */
export class Backoff {
  #attempt = 0

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, never below `minMs`. */
  next(): number {
    this.#attempt++
    return Math.max(this.minMs, Math.round(backoffMs(this.#attempt, this.minMs, this.maxMs, this.random)))
  }

  /** After real progress (a connection that worked): start again from `minMs`. */
  reset(): void {
    this.#attempt = 0
  }
}
