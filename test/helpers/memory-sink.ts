import { resolveFormat, type FormatOption } from '../../src/core/format/index.ts'
import { levelValue, type LevelInput } from '../../src/core/levels.ts'
import type { LogRecord } from '../../src/core/record.ts'
import { FailureReport, type Sink } from '../../src/core/sink.ts'

export interface MemorySinkOptions {
  /** Any `format` a real sink takes; default `'text'`. */
  format?: FormatOption
  /** The lowest level this sink takes; default everything. */
  level?: LevelInput
  /** Names the sink in failure reports; default `memory`. */
  name?: string
}

export interface MemorySink {
  readonly sink: Sink
  /** Every formatted line handed to the sink, newline included, in order. */
  readonly lines: string[]
  /** The record behind each entry of `lines`. */
  readonly records: LogRecord[]
  /** Everything written so far, as one string. */
  text(): string
  /** Forgets what was written. */
  clear(): void
}

/** A sink that keeps its output in memory, so tests observe exact lines without files. */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  const lines: string[] = []
  const records: LogRecord[] = []
  const name = options.name ?? 'memory'
  const sink: Sink = {
    name,
    level: options.level === undefined ? 0 : levelValue(options.level),
    formatter: resolveFormat(options.format, 'text'),
    failures: new FailureReport(name),
    write(line, record) {
      lines.push(line)
      records.push(record)
    },
    flush: async () => {},
    flushSync: () => {},
    close: async () => {},
  }
  return {
    sink,
    lines,
    records,
    text: () => lines.join(''),
    clear: () => {
      lines.length = 0
      records.length = 0
    },
  }
}
