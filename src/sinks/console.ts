import picocolors from 'picocolors'
import { levelValue, type LevelName } from '../core/levels.js'
import { resolveFormat } from '../core/format/index.js'
import type { Formatter } from '../core/format/formatter.js'
import type { LevelPainter } from '../core/format/pattern.js'
import { FailureReport, type Sink, type SinkOptions } from '../core/sink.js'

export interface ConsoleSinkOptions extends SinkOptions {
  /** Where records go; default `process.stderr`, which keeps stdout for the program's own output. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number }
  /** Colour the level: `true`, `false`, or `'auto'` (default: a TTY, unless `NO_COLOR`; `FORCE_COLOR` forces). */
  colors?: boolean | 'auto'
}

type Colour = (text: string) => string
type ErrorListener = (error: NodeJS.ErrnoException) => void

// The console sinks of one stream share one 'error' listener, kept on the stream itself,
// so a program that makes many loggers does not pile listeners up on process.stderr.
const WATCHERS = Symbol.for('blackbox-log.consoleErrorWatchers')

function watchErrors(stream: NodeJS.WritableStream, listener: ErrorListener): () => void {
  const holder = stream as NodeJS.WritableStream & { [WATCHERS]?: Set<ErrorListener> }
  let watchers = holder[WATCHERS]
  if (watchers === undefined) {
    const all = (watchers = new Set())
    holder[WATCHERS] = all
    stream.on('error', (error: NodeJS.ErrnoException) => {
      for (const watcher of all) watcher(error)
    })
  }
  watchers.add(listener)
  return () => watchers.delete(listener)
}

/** Decides colour once: `NO_COLOR` wins, then `FORCE_COLOR`, then whether the stream is a TTY. */
export function shouldColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false
  const force = env['FORCE_COLOR']
  if (force !== undefined) return force !== '0' && force !== 'false'
  return stream.isTTY === true && env['TERM'] !== 'dumb'
}

/** The console's level colours (DEBUG cyan, INFO green, …), or undefined when colour is off. */
export function levelPainter(enabled: boolean): LevelPainter | undefined {
  if (!enabled) return undefined
  const c = picocolors.createColors(true)
  const colours: Readonly<Record<LevelName, Colour>> = {
    trace: c.gray,
    debug: c.cyan,
    info: c.green,
    success: (text) => c.bold(c.greenBright(text)),
    warn: c.yellow,
    error: c.red,
    fatal: (text) => c.bold(c.magenta(text)),
  }
  return (level, label) => colours[level](label)
}

/** The default console line shows at most this many characters of bindings and fields, then `…`. */
export const CONSOLE_MAX_FIELDS_CHARS = 200

/** A sink that writes to the terminal; see `consoleSink()`. */
export class ConsoleSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
  readonly colors: boolean
  readonly #stream: NodeJS.WritableStream
  readonly #unwatch: () => void
  #disabled = false

  constructor(options: ConsoleSinkOptions = {}) {
    this.#stream = options.stream ?? process.stderr
    const colors = options.colors ?? 'auto'
    if (colors !== true && colors !== false && colors !== 'auto') {
      throw new TypeError(`Expected \`colors\` to be true, false or 'auto', got \`${String(colors)}\` (${typeof colors})`)
    }
    this.colors = colors === 'auto' ? shouldColour(this.#stream as { isTTY?: boolean }) : colors
    const paint = levelPainter(this.colors)
    // The default line is compact: a long record (setupLogging's system information) shows its
    // fields cut; a file sink beside it keeps them whole. A format given is taken as it is.
    const compact = options.format === undefined ? { maxFieldsChars: CONSOLE_MAX_FIELDS_CHARS } : {}
    this.formatter = resolveFormat(options.format, 'console', paint ? { paint, ...compact } : compact)
    this.level = options.level === undefined ? 0 : levelValue(options.level)
    this.name = this.#stream === process.stdout ? 'console stdout' : this.#stream === process.stderr ? 'console stderr' : 'console stream'
    this.failures = new FailureReport(this.name)
    // A reader that went away (`node app | head`) must not crash the program: the
    // stream's 'error' event would be unhandled. EPIPE quietly disables the sink.
    this.#unwatch = watchErrors(this.#stream, (error) => {
      this.#disabled = true
      if (error.code !== 'EPIPE') this.failures.report(error, 'write')
    })
  }

  /** Whether the sink stopped writing (its reader went away). */
  get disabled(): boolean {
    return this.#disabled
  }

  write(line: string): void {
    if (this.#disabled) return
    try {
      this.#stream.write(line)
    } catch (error) {
      this.#disabled = true
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error
    }
  }

  // process.stdout and stderr write synchronously to files, TTYs and pipes on Linux,
  // so there is nothing held back to flush; other streams are waited for in flush().
  flushSync(): void {}

  async flush(): Promise<void> {
    const stream = this.#stream as NodeJS.WritableStream & { writableNeedDrain?: boolean }
    if (this.#disabled || !stream.writableNeedDrain) return
    await new Promise<void>((resolve) => {
      stream.once('drain', resolve)
      stream.once('error', resolve)
    })
  }

  async close(): Promise<void> {
    await this.flush()
    this.#unwatch()
  }
}

/** A sink for the terminal: compact `[05:52:25] [1234] [INFO] message`, levels coloured when the stream is a TTY. */
export function consoleSink(options: ConsoleSinkOptions = {}): ConsoleSink {
  return new ConsoleSink(options)
}
