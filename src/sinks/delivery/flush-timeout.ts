/** Thrown by a network sink's `flush()` when its bound passes first; the message names the bound and what is left. */
export class FlushTimeoutError extends Error {
  /** Records not yet delivered (sent, or for RELP acknowledged) when the bound passed. */
  readonly pending: number

  constructor(sinkName: string, pending: number, timeoutMs: number, what: string) {
    super(`${sinkName}: ${pending} records not yet ${what} after ${timeoutMs} ms (flushTimeout)`)
    this.name = 'FlushTimeoutError'
    this.pending = pending
  }
}

/**
 * Resolves when `isDone()` holds, checked each time `notify()` is called; rejects with
 * `FlushTimeoutError` when `timeoutMs` passes first. One per sink.
 */
export class FlushWaiters {
  readonly #waiters = new Set<() => void>()

  /** How many wait now. */
  get size(): number {
    return this.#waiters.size
  }

  /** Call after anything that may have made `isDone()` true. */
  notify(): void {
    for (const waiter of this.#waiters) waiter()
  }

  wait(isDone: () => boolean, timeoutMs: number, timeoutError: () => Error): Promise<void> {
    if (isDone()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(timeoutError())
      }, timeoutMs)
      // Not unref'd: a program awaiting flush() stays alive until it resolves or the bound passes.
      const check = (): void => {
        if (!isDone()) return
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      this.#waiters.add(check)
    })
  }
}
