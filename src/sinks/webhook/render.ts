import { escapeInline } from '../../core/format/escape.js'
import type { Formatter } from '../../core/format/formatter.js'
import type { LogRecord } from '../../core/record.js'
import type { Plain, SerializedError } from '../../core/serialize.js'

/** A piece of a chat message before escaping: text, or a code block (a stack). */
export interface Segment {
  readonly kind: 'text' | 'code'
  readonly raw: string
}

/** How deep a chain of causes is followed, as the text formats do. */
const MAX_CAUSE_DEPTH = 10

// A lone surrogate is not UTF-8: chats refuse the whole message over it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * Keeps line breaks and tabs, makes every other control visible (`\u001b` …) and replaces
 * lone surrogates: a chat message must not drive a terminal or be refused as bad UTF-8.
 */
export function sanitize(text: string): string {
  const wellFormed = text.replace(LONE_SURROGATE, '\ufffd')
  return wellFormed.split(/\r?\n/).map(escapeInline).join('\n')
}

function describePlain(value: Plain): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The stack of an error, then of each cause (`Caused by: …`), then the errors of an AggregateError. */
export function errorText(err: SerializedError): string {
  const lines: string[] = []
  let current: Plain | undefined = err
  let prefix = ''
  for (let depth = 0; current !== undefined && depth < MAX_CAUSE_DEPTH; depth++) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) {
      lines.push(prefix + describePlain(current))
      break
    }
    const stack = current['stack']
    lines.push(prefix + (typeof stack === 'string' && stack !== '' ? stack : `${String(current['type'])}: ${String(current['message'])}`))
    const errors = current['errors']
    if (Array.isArray(errors)) {
      errors.forEach((inner, index) => {
        const text = inner !== null && typeof inner === 'object' && !Array.isArray(inner) && typeof inner['stack'] === 'string' ? inner['stack'] : describePlain(inner)
        lines.push(`  [${index}] ${text}`)
      })
    }
    current = current['cause']
    prefix = 'Caused by: '
  }
  return lines.join('\n')
}

/**
 * A record as a chat shows it: the line of its format, then its stack in a code block.
 * The line is formatted again without the error, which the code block shows instead.
 */
export function recordSegments(record: LogRecord, line: string, formatter: Formatter): Segment[] {
  const head = record.err === undefined ? line : formatter.format({ ...record, fields: record.fields, err: undefined })
  const segments: Segment[] = [{ kind: 'text', raw: sanitize(head.replace(/\r?\n$/, '')) }]
  if (record.err !== undefined) segments.push({ kind: 'code', raw: sanitize(errorText(record.err)) })
  return segments
}
