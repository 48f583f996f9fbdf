import { writeSync } from 'node:fs'

/**
 * The one block on stderr for a run whose progress files cannot be written: printed for
 * the first failure, then only counted, so a full disk cannot flood the terminal. The
 * job goes on; a progress call never throws into it.
 */
export class FailureNotice {
  #count = 0
  #lastError: unknown = undefined

  constructor(readonly runId: string) {}

  /** How many progress calls failed. */
  get count(): number {
    return this.#count
  }

  get lastError(): unknown {
    return this.#lastError
  }

  report(error: unknown, during: string): void {
    this.#count++
    this.#lastError = error
    if (this.#count > 1) return
    let detail: string
    try {
      detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
    } catch {
      detail = 'an error that cannot be printed'
    }
    const block =
      `\n── blackbox: the progress files of run "${this.runId}" failed during ${during} ──\n` +
      `${detail.replace(/^/gm, '  ')}\n` +
      `── the job goes on; further failures are counted (progress.failures), not printed ──\n\n`
    try {
      writeSync(2, block)
    } catch {
      // stderr itself is gone: there is nowhere left to say it.
    }
  }
}
