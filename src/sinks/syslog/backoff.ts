/** Where the reconnect delay starts. */
export const MIN_RECONNECT_DELAY_MS = 100
/** Where the reconnect delay stops growing. */
export const MAX_RECONNECT_DELAY_MS = 10_000

/**
 * Reconnect delays: doubling from `minMs` to `maxMs`, each with up to half of it taken
 * off at random so that many clients of one restarted server do not come back in step.
 */
export class Backoff {
  #attempt = 0

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const full = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.#attempt, 30))
    this.#attempt++
    return Math.max(this.minMs, Math.round(full * (1 - this.random() / 2)))
  }

  /** After real progress (a connection that worked): start again from `minMs`. */
  reset(): void {
    this.#attempt = 0
  }
}
