import { escapeInline } from '../core/format/escape.js'
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

// `YYYY-MM-DD HH:mm:ss.SSS`, the time at the start of both text presets.
const TIME_CHARS = 23

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
  readonly #formatters = new Map<string, PatternFormatter>()
  // JSON records have no logger bindings: their members are all fields.
  readonly #context = new LoggerContext(undefined, {})

  constructor(options: { colour: boolean }) {
    this.#paint = levelPainter(options.colour === true)
  }

  /** The record's lines, each ending with a newline. */
  render(record: ReadRecord): string {
    if (record.format === 'json' && record.level !== UNKNOWN_LEVEL) return this.#json(record)
    if (this.#paint && (record.format === 'text' || record.format === 'loguru')) {
      const start = labelStart(record)
      if (start !== -1) {
        const end = start + record.levelLabel.length
        return `${record.raw.slice(0, start)}${this.#paint(levelNameOf(record.level), record.levelLabel)}${record.raw.slice(end)}\n`
      }
    }
    return `${record.raw}\n`
  }

  #json(record: ReadRecord): string {
    const fields: { [key: string]: Plain } = {}
    let err: SerializedError | undefined
    let pid: string | undefined
    for (const key of Object.keys(record.fields)) {
      const value = record.fields[key] as Plain
      if (key === 'hostname') continue
      if (key === 'pid' && (typeof value === 'number' || typeof value === 'string')) pid = String(value)
      // pino's `err` is `{ type, message, stack }`; the formatter prints what there is of it.
      else if (key === 'err' && value !== null && typeof value === 'object' && !Array.isArray(value)) err = value as SerializedError
      // parse-record falls back on `message` when there is no `msg`: not shown twice.
      else if (key === 'message' && value === record.msg) continue
      else if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true })
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
