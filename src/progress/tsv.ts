/**
 * The text of one TSV field. A line is a record and a tab ends a field, so a value must
 * hold neither: backslash, tab, line feed and carriage return become `\\`, `\t`, `\n`,
 * `\r` (the escapes of PostgreSQL's text COPY format and of `tail -f` readers alike), and
 * the other controls that can break a line in some reader or drive a terminal (C0, DEL,
 * C1, U+2028, U+2029) become `\uXXXX`. Every value written can be read back exactly.
 */

const NEEDS_ESCAPE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const NEEDS_ESCAPE_ALL = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const ESCAPED_ALL = /\\(u[0-9a-fA-F]{4}|[\\tnr])/g

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const UNNAMED: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r' }

function escapeChar(char: string): string {
  return NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** A value made safe for one TSV field. */
export function escapeTsvField(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(NEEDS_ESCAPE_ALL, escapeChar) : text
}

/** The value `escapeTsvField()` was given. */
export function unescapeTsvField(field: string): string {
  if (!field.includes('\\')) return field
  return field.replace(ESCAPED_ALL, (_, code: string) => UNNAMED[code] ?? String.fromCharCode(Number.parseInt(code.slice(1), 16)))
}

/** One TSV line of fields already escaped, newline included. */
export function tsvLine(fields: readonly string[]): string {
  return `${fields.join('\t')}\n`
}
