import { LEVEL_LABELS, LEVEL_VALUES, levelNameOf, levelValue } from '../core/levels.js'
import { boundJsonDepth, setMember } from './json-depth.js'
import { readTrailingFields } from './text-fields.js'

/** The level of a record whose line matched no known format. */
export const UNKNOWN_LEVEL = 0
/** The label of such a record. */
export const UNKNOWN_LABEL = 'UNKNOWN'

export { MAX_FIELD_DEPTH } from './json-depth.js'

/** How a record's first line was read. */
export type RecordFormat = 'text' | 'loguru' | 'json' | 'unknown'

/** One record read back from a run file. */
export interface ReadRecord {
  /** Epoch ms; undefined when the line carries no time that could be read. */
  time: number | undefined
  /** pino's number (30 for info); `UNKNOWN_LEVEL` when the line matched no format. */
  level: number
  /** `INFO`, `WARNING`…, as text formats write it; `UNKNOWN` when the line matched no format. */
  levelLabel: string
  /**
   * The message; further lines (continuation lines, stack traces) follow after `\n`. A JSON
   * `msg` that is not a string is its JSON text (`123`, `{"a":1}`).
   */
  msg: string
  /**
   * Text: the ` key=value` fields at the end of the first line, bare values as strings
   * (`code: '3'`). JSON: every member but `level`, `time` and `msg`, as written (values
   * nested deeper than `MAX_FIELD_DEPTH` replaced by a marker), and `time` too when it
   * names no moment.
   */
  fields: Record<string, unknown>
  /** The record's lines as in the file, joined with `\n`, without the final newline. */
  raw: string
  /** 1-based number of the record's first line in the file. */
  line: number
  format: RecordFormat
}

// Text labels and the aliases a hand-made pattern might use.
const LABEL_VALUES: ReadonlyMap<string, number> = new Map([
  ...Object.entries(LEVEL_LABELS).map(([name, label]) => [label, LEVEL_VALUES[name as keyof typeof LEVEL_VALUES]] as const),
  ['WARN', LEVEL_VALUES.warn],
  ['FATAL', LEVEL_VALUES.fatal],
])

const TIME = String.raw`(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})`
// `{time} [{pid}] [{level}] {message}{fields}`, PRESETS.default.
const DEFAULT_LINE = new RegExp(String.raw`^${TIME} \[\d+\] \[([A-Z]+)\] ?`)
// `{time} | {level: <8} | {process}:{thread} | {file}:{line} | {message}{fields}`, PRESETS.loguru.
// The file may hold ` | ` itself; the line number after it anchors the match.
const LOGURU_LINE = new RegExp(String.raw`^${TIME} \| ([A-Z]+) *\| [^|]*? \| .*?:\d+ \| ?`)

/** Epoch ms of the local second `YYYY-MM-DD HH:mm:ss` in a match of TIME; undefined if no such moment. */
function localSecond(match: RegExpExecArray): number | undefined {
  const [year, month, day, hours, minutes, seconds] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const date = new Date(year, month - 1, day, hours, minutes, seconds)
  // Date rolls 2026-02-31 over into March: such a line was not written by a formatter.
  if (date.getMonth() !== month - 1 || date.getDate() !== day) return undefined
  return date.getTime()
}

function unknownRecord(text: string, line: number): ReadRecord {
  return { time: undefined, level: UNKNOWN_LEVEL, levelLabel: UNKNOWN_LABEL, msg: text, fields: {}, raw: text, line, format: 'unknown' }
}

function levelOf(value: unknown): { level: number; label: string } {
  if (typeof value === 'number' && Number.isFinite(value)) return { level: value, label: LEVEL_LABELS[levelNameOf(value)] }
  if (typeof value === 'string') {
    try {
      const level = levelValue(value)
      if (Number.isFinite(level)) return { level, label: LEVEL_LABELS[levelNameOf(level)] }
    } catch {
      // Not a level name: the record's level is unknown, the record is still read.
    }
  }
  return { level: UNKNOWN_LEVEL, label: UNKNOWN_LABEL }
}

// ECMA-262 §21.4.1.22: a Date holds ±8.64e15 ms around the epoch; past that no moment is meant.
const MAX_TIME_MS = 8.64e15

/** Epoch ms of a JSON `time`: a number of ms, or text `Date.parse` reads; undefined when it names no moment. */
function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && Math.abs(value) <= MAX_TIME_MS ? value : undefined
  if (typeof value === 'string') {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

/** A message as text: a string as it is, nothing as '', anything else (`123`, an object) as its JSON. */
function messageOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined || value === null) return ''
  return JSON.stringify(value)
}

function jsonRecord(text: string, line: number): ReadRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const object = value as Record<string, unknown>
  boundJsonDepth(object, text.length)
  const time = timeOf(object['time'])
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(object)) {
    // A `time` that names no moment (`1e300`, `"yesterday"`) stays a field: it is shown as written.
    if (key === 'level' || (key === 'time' && time !== undefined) || key === 'msg') continue
    // JSON.parse makes an own `__proto__` key; assigning it would set the prototype instead.
    setMember(fields, key, object[key])
  }
  const { level, label } = levelOf(object['level'])
  // pino's `msg`; else `message` (winston, bunyan's kin) when it is text, or it stays a field.
  const msg = object['msg'] ?? (typeof object['message'] === 'string' ? object['message'] : undefined)
  return { time, level, levelLabel: label, msg: messageOf(msg), fields, raw: text, line, format: 'json' }
}

/**
 * Reads the first line of a record: a JSON line, the default text preset or the loguru
 * preset, decided per line (a file may mix them). A line that is none of these is kept as
 * a record of level `UNKNOWN`, its text the message: nothing in a file is dropped.
 * One parser per file: it remembers the last second read, which the next records share.
 */
export class FirstLineParser {
  #second = ''
  #secondMs: number | undefined

  parse(text: string, line: number): ReadRecord {
    if (text.startsWith('{')) {
      const json = jsonRecord(text, line)
      if (json) return json
    }
    const plain = DEFAULT_LINE.exec(text)
    if (plain) return this.#text(text, line, plain, 'text') ?? unknownRecord(text, line)
    const loguru = LOGURU_LINE.exec(text)
    if (loguru) return this.#text(text, line, loguru, 'loguru') ?? unknownRecord(text, line)
    return unknownRecord(text, line)
  }

  #text(text: string, line: number, match: RegExpExecArray, format: 'text' | 'loguru'): ReadRecord | undefined {
    const label = match[8] ?? ''
    const level = LABEL_VALUES.get(label)
    if (level === undefined) return undefined
    const rest = text.slice(match[0].length)
    const { fields, start } = readTrailingFields(rest)
    return { time: this.#time(text, match), level, levelLabel: label, msg: rest.slice(0, start), fields, raw: text, line, format }
  }

  /** Local time to epoch ms costs a time-zone lookup; records of the same second share it. */
  #time(text: string, match: RegExpExecArray): number | undefined {
    const second = text.slice(0, 19)
    if (second !== this.#second) {
      this.#second = second
      this.#secondMs = localSecond(match)
    }
    return this.#secondMs === undefined ? undefined : this.#secondMs + Number(match[7])
  }
}
