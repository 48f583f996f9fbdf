import { escapeInline, splitLines } from '../core/format/escape.js'
import { PatternFormatter, type LevelPainter } from '../core/format/index.js'
import { levelNameOf } from '../core/levels.js'
import { LoggerContext, type LogRecord } from '../core/record.js'
import type { Plain, SerializedError } from '../core/serialize.js'
import { levelPainter } from '../sinks/console.js'
import { UNKNOWN_LEVEL, type ReadRecord } from './parse-record.js'

/**
 * Patterns kept compiled for JSON records (one per pid seen, see `#formatterFor`); past
 * this many the cache starts over, so a file with endless pids cannot grow it without bound.
 */
export const MAX_CACHED_PATTERNS = 256

/**
 * Most continuation lines an `err` may take (its stack and its causes' stacks, its
 * `errors`); one that would take more is shown as a JSON field on the first line. No real
 * stack comes near it, and the text formatter spreads an error's lines into one call, which
 * a stack of 200,000 lines (a damaged or hostile file) would overflow (issue #15).
 */
export const MAX_ERROR_LINES = 10_000

// The text formatter (errorLines in core/format/pattern.ts) follows this many causes.
const MAX_CAUSES = 10

// `YYYY-MM-DD HH:mm:ss.SSS`, the time at the start of both text presets.
const TIME_CHARS = 23

type ErrorShape = { [key: string]: Plain }

/** The members of an error the text formatter prints on the lines of their own. */
const ERROR_OWN_KEYS: ReadonlySet<string> = new Set(['type', 'message', 'stack', 'cause', 'errors'])

/** A value as text: a string as it is, anything else as its JSON. */
function textOf(value: Plain): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * The text an error's first lines say: its stack when that is text; a stack that is not
 * text as its JSON; else `type: message`, with what there is of the two; undefined when
 * it has none of the three.
 */
function errorHead(error: ErrorShape): string | undefined {
  const { stack, type, message } = error
  if (typeof stack === 'string' && stack !== '') return stack
  if (stack !== undefined && stack !== null && stack !== '') return JSON.stringify(stack)
  if (type === undefined || type === null) return message === undefined || message === null ? undefined : textOf(message)
  return message === undefined || message === null ? textOf(type) : `${textOf(type)}: ${textOf(message)}`
}

/** The lines of `text`, counted up to `limit` (and one past it). */
function lineCount(text: string, limit: number): number {
  let count = 1
  for (let at = text.indexOf('\n'); at !== -1 && count <= limit; at = text.indexOf('\n', at + 1)) count++
  return count
}

/**
 * A JSON record's `err` as the text formatter should see it: each error of the chain (as
 * far as the formatter follows it) with a `stack` of text that says what the error holds;
 * undefined when it is no error (no stack, type or message) or would take more than
 * `MAX_ERROR_LINES` lines, and is shown as a field instead.
 */
function errorForText(err: ErrorShape): SerializedError | undefined {
  if (errorHead(err) === undefined) return undefined
  const chain: ErrorShape[] = []
  let lines = 0
  let current: Plain | undefined = err
  for (let depth = 0; current !== undefined && depth < MAX_CAUSES; depth++) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) {
      lines++
      break
    }
    const error: ErrorShape = current
    // A cause with none of the three says what it is: its members.
    const head = errorHead(error) ?? JSON.stringify(Object.fromEntries(Object.entries(error).filter(([key]) => key !== 'cause' && key !== 'errors')))
    const errors = error['errors']
    lines += lineCount(head, MAX_ERROR_LINES) + (Object.keys(error).some((key) => !ERROR_OWN_KEYS.has(key)) ? 1 : 0) + (Array.isArray(errors) ? errors.length : 0)
    if (lines > MAX_ERROR_LINES) return undefined
    // A copy: spread defines an own `__proto__` key as data, never as the prototype.
    chain.push({ ...error, stack: head })
    current = error['cause']
  }
  for (let i = chain.length - 2; i >= 0; i--) (chain[i] as ErrorShape)['cause'] = chain[i + 1] as ErrorShape
  return chain[0] as SerializedError
}

/** Text lines from a file, joined with `\n`, with the controls in them escaped. */
function escapeLines(text: string): string {
  return splitLines(text).join('\n')
}

/** Where the level label starts in a text record's first line, or -1 when it is not where the preset puts it. */
function labelStart(record: ReadRecord): number {
  let start: number
  if (record.format === 'text') {
    // `… [1234] [INFO] …`
    const bracket = record.raw.indexOf('] [', TIME_CHARS)
    if (bracket === -1) return -1
    start = bracket + '] ['.length
  } else {
    // `… | INFO     | …`
    start = TIME_CHARS + ' | '.length
  }
  return record.raw.startsWith(record.levelLabel, start) ? start : -1
}

/** A pid as literal text in a pattern: braces doubled, controls escaped. */
function patternLiteral(value: string): string {
  return escapeInline(value).replace(/[{}]/g, (brace) => brace + brace)
}

/**
 * Turns records read back from a run file (`ReadRecord`s) into text lines for a terminal:
 *
 * - text and loguru records as they are in the file, continuation lines included, the
 *   level label coloured;
 * - JSON records (blackbox's, pino's) in the default text preset,
 *   `2026-11-21 05:52:25.123 [1234] [INFO] message key=value`: the time local, the record's
 *   own pid, `hostname` left out (as the text presets leave it out), every other member a
 *   field (`name=app`), `err` as its stack on continuation lines;
 * - anything else (a line of no known format, JSON without a level) as it is.
 *
 * Colours are the console sink's, decided once, when the renderer is made.
 */
export class RecordRenderer {
  readonly #paint: LevelPainter | undefined
  readonly #onError: ((record: ReadRecord, error: Error) => void) | undefined
  readonly #formatters = new Map<string, PatternFormatter>()
  // JSON records have no logger bindings: their members are all fields.
  readonly #context = new LoggerContext(undefined, {})

  /** `onError`: told of a record that could not be rendered (and was printed as it is). */
  constructor(options: { colour: boolean; onError?: (record: ReadRecord, error: Error) => void }) {
    this.#paint = levelPainter(options.colour === true)
    this.#onError = options.onError
  }

  /**
   * The record's lines, each ending with a newline, control characters escaped. Never
   * throws: a record that cannot be rendered (a bug, not the input, as values are bounded
   * when read) is printed as it is in the file, escaped, and `onError` is told.
   */
  render(record: ReadRecord): string {
    try {
      if (record.format === 'json' && record.level !== UNKNOWN_LEVEL) return this.#json(record)
      if (this.#paint && (record.format === 'text' || record.format === 'loguru')) {
        const start = labelStart(record)
        if (start !== -1) {
          const end = start + record.levelLabel.length
          return `${escapeLines(record.raw.slice(0, start))}${this.#paint(levelNameOf(record.level), record.levelLabel)}${escapeLines(record.raw.slice(end))}\n`
        }
      }
    } catch (error) {
      this.#onError?.(record, error instanceof Error ? error : new Error(String(error)))
    }
    return `${escapeLines(record.raw)}\n`
  }

  #json(record: ReadRecord): string {
    const fields: { [key: string]: Plain } = {}
    let err: SerializedError | undefined
    let pid: string | undefined
    for (const key of Object.keys(record.fields)) {
      const value = record.fields[key] as Plain
      if (key === 'hostname') continue
      if (key === 'pid' && (typeof value === 'number' || typeof value === 'string')) {
        pid = String(value)
        continue
      }
      // pino's `err` is `{ type, message, stack }`: the formatter prints it on continuation
      // lines. One that is no error, or too long to print so, stays a field.
      if (key === 'err' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        err = errorForText(value)
        if (err !== undefined) continue
      }
      // parse-record falls back on `message` when there is no `msg`: not shown twice.
      if (key === 'message' && value === record.msg) continue
      if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true })
      else fields[key] = value
    }
    const line: LogRecord = {
      level: record.level,
      levelName: levelNameOf(record.level),
      time: record.time ?? 0,
      msg: record.msg,
      context: this.#context,
      fields: Object.keys(fields).length === 0 ? undefined : fields,
      err,
      callsite: undefined,
    }
    return this.#formatterFor(record.time !== undefined, pid).format(line)
  }

  /**
   * The default preset with the record's pid as literal text (`{pid}` would print this
   * process's), and without the time when the record has none.
   */
  #formatterFor(hasTime: boolean, pid: string | undefined): PatternFormatter {
    const key = `${hasTime ? 't' : '-'}${pid ?? ''}`
    let formatter = this.#formatters.get(key)
    if (formatter === undefined) {
      if (this.#formatters.size >= MAX_CACHED_PATTERNS) this.#formatters.clear()
      // PRESETS.default, `{time} [{pid}] [{level}] {message}{fields}`, with those changes.
      const pattern = `${hasTime ? '{time} ' : ''}${pid === undefined ? '' : `[${patternLiteral(pid)}] `}[{level}] {message}{fields}`
      formatter = new PatternFormatter(pattern, this.#paint ? { paint: this.#paint } : {})
      this.#formatters.set(key, formatter)
    }
    return formatter
  }
}
