import { writeSync } from 'node:fs'
import type { Formatter } from './format/formatter.js'
import type { LogRecord } from './record.js'

/** Where records go. The logger formats once per format and hands each sink its line. */
export interface Sink {
  /** Names the sink in error reports, e.g. `file logs/app.log`. */
  readonly name: string
  /** The lowest level number this sink takes. */
  readonly level: number
  readonly formatter: Formatter
  /** Failures are reported through this, once per sink; logger-made if a sink has none. */
  readonly failures?: FailureReport
  /** Takes one formatted line (newline included); must not throw, but the logger survives if it does. */
  write(line: string, record: LogRecord): void
  /** Resolves when everything written so far has reached its destination. */
  flush(): Promise<void>
  /** Pushes everything out before returning; used on every exit path. */
  flushSync(): void
  /**
   * Flushes what the sink holds, once, then lets go of its resources; always settles. The
   * logger's `close()` calls only this (not `flush()` first). See docs/sinks.md, "Lifecycle".
   */
  close(): Promise<void>
}

/**
 * The one clear block on stderr for a failing sink: printed for its first failure,
 * then only counted, so a broken sink cannot flood the terminal. The program goes on.
 */
export class FailureReport {
  #count = 0
  #lastError: unknown = undefined
  #lossTold = false

  /** `subject` and `after` word the block for a reporter that is not a sink (the progress files). */
  constructor(
    readonly sinkName: string,
    private readonly wording: { subject?: string; after?: string } = {},
  ) {}

  /** How many failures this sink has had. */
  get count(): number {
    return this.#count
  }

  get lastError(): unknown {
    return this.#lastError
  }

  /**
   * Says once, at the sink's end (`close()` or exit), how many records it did not deliver:
   * `blackbox: sink "relp 10.0.0.5:2514": 12 records not delivered: they stay in the spool …`.
   * `why` follows the count as written. A second call says nothing: the loss is told once.
   */
  tellLoss(count: number, why: string): void {
    if (count <= 0 || this.#lossTold) return
    this.#lossTold = true
    try {
      writeSync(2, `blackbox: sink "${this.sinkName}": ${count === 1 ? '1 record' : `${count} records`} not delivered${why}\n`)
    } catch {
      // stderr itself is gone: there is nowhere left to say it.
    }
  }

  report(error: unknown, during = 'write'): void {
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
      `\n── blackbox: ${this.wording.subject ?? `sink "${this.sinkName}"`} failed during ${during} ──\n` +
      `${detail.replace(/^/gm, '  ')}\n` +
      `── ${this.wording.after ?? 'the other sinks go on; further failures of this sink are counted, not printed'} ──\n\n`
    try {
      writeSync(2, block)
    } catch {
      // stderr itself is gone: there is nowhere left to say it.
    }
  }
}

/** Options every sink takes. */
export interface SinkOptions {
  /** The lowest level this sink writes; default: everything the logger passes. */
  level?: import('./levels.js').LevelInput
  /** `'text'`, `'json'`, a preset name (`'loguru'`), a pattern, or a formatter. */
  format?: import('./format/index.js').FormatOption
}
