import { escapeJsonUnsafe } from '../core/format/escape.js'
import { MAX_FIELD_DEPTH, nestsDeeperThan } from './json-depth.js'

/**
 * Reading back the ` key=value` fields that text formats put at the end of a record's first
 * line (see `{fields}` in docs/formats.md). A writer renders a value bare when it cannot be
 * misread (`code=3`, `signal=SIGTERM`) and as JSON otherwise (`note="two words"`,
 * `warning={"name":"Warning"}`); keys likewise.
 *
 * The line is read from its end: the fields follow the message, and the message is free
 * text that may itself contain `=` or quotes. Reading stops at the first word that is not a
 * field, so a message ending in `x=1` is read as a field; text formats cannot tell them apart.
 */

/** Most fields read from one line; a guard against pathological lines, far above what a logger writes. */
export const MAX_TRAILING_FIELDS = 256
/** Most `=` positions tried as the start of a JSON object or array value, per field. */
export const MAX_JSON_CANDIDATES = 32

/** Fields read from the end of a line, and where the text before them ends. */
export interface TrailingFields {
  /** Bare values and JSON strings as strings; JSON objects and arrays parsed. */
  readonly fields: Record<string, unknown>
  /** The index in the line where the fields begin (the space before the first one); the line's length when there are none. */
  readonly start: number
}

interface Token {
  readonly key: string
  readonly value: unknown
  /** Index of the space that precedes the key. */
  readonly start: number
}

const SPACE = 0x20
const EQUALS = 0x3d
const QUOTE = 0x22
const BACKSLASH = 0x5c

// What `fieldValue()` in core/format/pattern.ts never writes bare. Character codes, not
// one-character strings: this runs for every character of every field read.
function breaksBareWord(code: number): boolean {
  return code === SPACE || code === EQUALS || code === QUOTE
}

/** Index of the unescaped `"` that opens the JSON string whose closing quote is at `close`, or -1. */
function openingQuote(line: string, close: number): number {
  for (let i = line.lastIndexOf('"', close - 1); i >= 0; i = i > 0 ? line.lastIndexOf('"', i - 1) : -1) {
    let backslashes = 0
    while (i - 1 - backslashes >= 0 && line.charCodeAt(i - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return i
  }
  return -1
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

/** A JSON-quoted word ending at `end` (exclusive): its text and where it starts. */
function quotedEndingAt(line: string, end: number): { text: string; start: number } | undefined {
  const open = openingQuote(line, end - 1)
  if (open < 0) return undefined
  const parsed = parseJson(line.slice(open, end))
  return parsed.ok && typeof parsed.value === 'string' ? { text: parsed.value, start: open } : undefined
}

/** A bare word ending at `end` (exclusive), or undefined when there is none. */
function bareEndingAt(line: string, end: number): { text: string; start: number } | undefined {
  let start = end
  while (start > 0 && !breaksBareWord(line.charCodeAt(start - 1))) start--
  return start < end ? { text: line.slice(start, end), start } : undefined
}

/** A JSON object or array value ending at `end`: the nearest `={`/`=[` whose rest parses. */
function jsonValueEndingAt(line: string, end: number): { value: unknown; start: number } | undefined {
  let candidates = 0
  // lastIndexOf treats a negative start as 0, so the walk stops explicitly at the line's start.
  for (let eq = line.lastIndexOf('=', end - 2); eq > 0 && candidates < MAX_JSON_CANDIDATES; eq = line.lastIndexOf('=', eq - 1)) {
    const opener = line[eq + 1]
    if (opener !== '{' && opener !== '[') continue
    candidates++
    const text = line.slice(eq + 1, end)
    // Deeper than a JSON line's values may be (what walks it would overflow the stack): text.
    if (nestsDeeperThan(text, MAX_FIELD_DEPTH - 1)) continue
    const parsed = parseJson(text)
    // Only what the writer would have written for that value: `[1.0]` or `{ }` is a bare string.
    if (parsed.ok && parsed.value !== null && typeof parsed.value === 'object' && escapeJsonUnsafe(JSON.stringify(parsed.value)) === text) {
      return { value: parsed.value, start: eq + 1 }
    }
  }
  return undefined
}

function valueEndingAt(line: string, end: number): { value: unknown; start: number } | undefined {
  const last = line[end - 1]
  if (last === '"') {
    const quoted = quotedEndingAt(line, end)
    return quoted && { value: quoted.text, start: quoted.start }
  }
  if (last === '}' || last === ']') {
    const json = jsonValueEndingAt(line, end)
    if (json) return json
  }
  const bare = bareEndingAt(line, end)
  return bare && { value: bare.text, start: bare.start }
}

function tokenEndingAt(line: string, end: number): Token | undefined {
  const value = valueEndingAt(line, end)
  if (!value || line[value.start - 1] !== '=') return undefined
  const keyEnd = value.start - 1
  const key = line[keyEnd - 1] === '"' ? quotedEndingAt(line, keyEnd) : bareEndingAt(line, keyEnd)
  if (!key || key.start < 1 || line[key.start - 1] !== ' ') return undefined
  return { key: key.text, value: value.value, start: key.start - 1 }
}

/** Reads the ` key=value` fields at the end of a text record's first line. */
export function readTrailingFields(line: string): TrailingFields {
  const tokens: Token[] = []
  let end = line.length
  while (end > 0 && tokens.length < MAX_TRAILING_FIELDS) {
    const token = tokenEndingAt(line, end)
    if (!token) break
    tokens.push(token)
    end = token.start
  }
  const fields: Record<string, unknown> = {}
  // Left to right, so a later field of the same name wins, as it does in JSON.parse.
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i] as Token
    // Assignment to `__proto__` would set the prototype; that key is defined as data instead.
    if (token.key === '__proto__') Object.defineProperty(fields, token.key, { value: token.value, enumerable: true, writable: true, configurable: true })
    else fields[token.key] = token.value
  }
  return { fields, start: end }
}
