import type { LogRecord } from '../record.js'

/** Turns a record into one line of output, ending with a newline. */
export interface Formatter {
  /** Formatters with equal keys produce equal output: the logger formats once per key. */
  readonly key: string
  /** Whether the logger must compute the call site (costly) for this format. */
  readonly needsCallsite: boolean
  format(record: LogRecord): string
}
