/**
 * Continuation lines of a text record (further message lines, stack traces) start with
 * this prefix, and a record's first line never does, so no message text can forge a record.
 */
export const CONTINUATION_PREFIX = '  | '

// C0 controls but tab, DEL, the C1 controls (NEL, CSI…) and the Unicode line and
// paragraph separators: each can break a line in some reader or drive a terminal.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/
const UNSAFE_ALL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g
// What JSON.stringify leaves raw of the above.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/
const JSON_UNSAFE_ALL = /[\u007f-\u009f\u2028\u2029]/g

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\u001b': '\\e' }

function escapeChar(char: string): string {
  return NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** Makes a single-line text safe: line breaks and controls become visible escapes. */
export function escapeInline(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text
}

/**
 * JSON.stringify leaves DEL, the C1 controls and U+2028/U+2029 raw; some readers split lines
 * on them, terminals act on them. A string whose UTF-8 is as long as itself is ASCII, where
 * only DEL can be: two quick native calls clear the common case before the regular expression.
 */
export function escapeJsonUnsafe(json: string): string {
  if (Buffer.byteLength(json) === json.length && !json.includes('\u007f')) return json
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, escapeChar) : json
}

/** Splits a message on line breaks, each piece escaped for the controls that remain. */
export function splitLines(text: string): string[] {
  if (!UNSAFE.test(text)) return [text]
  return text.split(/\r?\n/).map(escapeInline)
}

/** A first line must not look like a continuation line; a leading space is escaped if it would. */
export function guardFirstLine(line: string): string {
  return line.startsWith(CONTINUATION_PREFIX) ? `\\u0020${line.slice(1)}` : line
}
