import { hostname } from 'node:os'
import { isMainThread, threadId } from 'node:worker_threads'
import { LEVEL_LABELS, type LevelName } from '../levels.js'
import type { LoggerContext, LogRecord } from '../record.js'
import type { Plain, SerializedError } from '../serialize.js'
import { CONTINUATION_PREFIX, escapeInline, escapeJsonUnsafe, guardFirstLine, splitLines } from './escape.js'
import type { Formatter } from './formatter.js'
import { compileTimeFormat } from './time.js'

/** Colours one level's label; given by the console sink. */
export type LevelPainter = (level: LevelName, label: string) => string

export interface PatternOptions {
  /** Colours the `{level}` token. */
  paint?: LevelPainter
  /** `{fields}` (bindings and fields) cut past this many characters, with `…`: the console's compact line. */
  maxFieldsChars?: number
}

type Render = (record: LogRecord) => string

/** Tokens a pattern may use, with what they render. */
export const PATTERN_TOKENS = [
  'time', 'level', 'levelno', 'pid', 'hostname', 'process', 'thread', 'name',
  'file', 'line', 'function', 'message', 'fields',
] as const

// A cluster worker has NODE_UNIQUE_ID; worker threads have a thread id. Fixed for the process.
const PROCESS_NAME = process.env['NODE_UNIQUE_ID'] ? `Worker-${process.env['NODE_UNIQUE_ID']}` : 'MainProcess'
const THREAD_NAME = isMainThread ? 'main' : `worker-${threadId}`

/** A bare value when it cannot be misread, JSON otherwise: `user=alice note="two words"`. */
function fieldValue(value: Plain): string {
  if (typeof value === 'string') {
    return /^[^\s="\\\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/.test(value) ? value : escapeJsonUnsafe(JSON.stringify(value))
  }
  if (value === null || typeof value !== 'object') return String(value)
  return escapeJsonUnsafe(JSON.stringify(value))
}

function fieldList(fields: { readonly [key: string]: Plain } | undefined): string {
  if (fields === undefined) return ''
  let out = ''
  // Object.keys, not for…in: an own `__proto__` key must show as itself, not as its members.
  for (const key of Object.keys(fields)) out += ` ${fieldValue(key)}=${fieldValue(fields[key] as Plain)}`
  return out
}

function renderBindings(context: LoggerContext): string {
  return fieldList(context.bindings)
}

/** The stack of an error and of its causes, for continuation lines. */
function errorLines(err: SerializedError): string[] {
  const lines: string[] = []
  let current: Plain | undefined = err
  let prefix = ''
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) {
      lines.push(`${prefix}${fieldValue(current)}`)
      break
    }
    const stack = typeof current['stack'] === 'string' && current['stack'] !== '' ? current['stack'] : `${String(current['type'])}: ${String(current['message'])}`
    const stackLines = splitLines(stack)
    // One push per line: spreading a stack of tens of thousands of lines into push() overflows the call stack.
    lines.push(prefix + (stackLines[0] ?? ''))
    for (let index = 1; index < stackLines.length; index++) lines.push(stackLines[index] as string)
    const extras = Object.entries(current).filter(([key]) => !['type', 'message', 'stack', 'cause', 'errors'].includes(key))
    if (extras.length > 0) lines.push(`    ${fieldList(Object.fromEntries(extras)).trimStart()}`)
    const errors = current['errors']
    if (Array.isArray(errors)) errors.forEach((inner, i) => lines.push(`  [${i}] ${fieldValue(inner).slice(0, 2000)}`))
    current = current['cause']
    prefix = 'Caused by: '
  }
  return lines
}

function pad(spec: string, token: string, pattern: string): (text: string) => string {
  const match = /^(.?)([<>^])(\d+)$|^(\d+)$/.exec(spec)
  if (!match) throw new TypeError(`Expected \`format\` token \`{${token}:…}\` to have a width like \`: <8\` or \`>5\`, got \`${spec}\` in \`${pattern}\``)
  const fill = match[1] || ' '
  const align = match[2] ?? '<'
  const width = Number(match[3] ?? match[4])
  return (value) => {
    const missing = width - value.length
    if (missing <= 0) return value
    if (align === '>') return fill.repeat(missing) + value
    if (align === '^') return fill.repeat(Math.floor(missing / 2)) + value + fill.repeat(Math.ceil(missing / 2))
    return value + fill.repeat(missing)
  }
}

/**
 * A text format from a pattern such as `{time} [{pid}] [{level}] {message}{fields}`,
 * compiled once. Further message lines and stack traces follow on continuation lines.
 */
export class PatternFormatter implements Formatter {
  readonly key: string
  readonly needsCallsite: boolean
  readonly #parts: Render[]
  readonly #hasMessage: boolean

  constructor(readonly pattern: string, options: PatternOptions = {}) {
    if (typeof pattern !== 'string' || pattern.length === 0) {
      throw new TypeError(`Expected \`format\` to be a non-empty pattern, got \`${String(pattern)}\` (${typeof pattern})`)
    }
    this.key = `${options.paint ? 'painted:' : ''}${options.maxFieldsChars === undefined ? '' : `fields<=${options.maxFieldsChars}:`}pattern:${pattern}`
    const { parts, tokens } = this.#compile(pattern, options)
    this.#parts = parts
    this.#hasMessage = tokens.has('message')
    this.needsCallsite = tokens.has('file') || tokens.has('line') || tokens.has('function')
  }

  #compile(pattern: string, options: PatternOptions): { parts: Render[]; tokens: Set<string> } {
    const parts: Render[] = []
    const tokens = new Set<string>()
    const grammar = /\{\{|\}\}|\{([A-Za-z_]\w*)(?::([^}]*))?\}|([^{}]+)|([{}])/gy
    let match: RegExpExecArray | null
    while ((match = grammar.exec(pattern)) !== null) {
      const [whole, token, spec, literal, stray] = match
      if (stray !== undefined) throw new TypeError(`Expected \`format\` braces to be paired or doubled (\`{{\`), got a lone \`${stray}\` in \`${pattern}\``)
      if (literal !== undefined || token === undefined) {
        const text = literal ?? whole[0] ?? ''
        parts.push(() => text)
        continue
      }
      tokens.add(token)
      const render = this.#token(token, spec, pattern, options)
      if (spec !== undefined && token !== 'time') {
        const align = pad(spec, token, pattern)
        parts.push((record) => align(render(record)))
      } else parts.push(render)
    }
    return { parts, tokens }
  }

  #token(token: string, spec: string | undefined, pattern: string, options: PatternOptions): Render {
    switch (token) {
      case 'time': {
        const time = compileTimeFormat(spec)
        return (record) => time(record.time)
      }
      case 'level': {
        const paint = options.paint
        if (paint && spec !== undefined) {
          // Pad before painting: escape codes have no width.
          const align = pad(spec, token, pattern)
          return (record) => paint(record.levelName, align(LEVEL_LABELS[record.levelName]))
        }
        return paint ? (record) => paint(record.levelName, LEVEL_LABELS[record.levelName]) : (record) => LEVEL_LABELS[record.levelName]
      }
      case 'levelno':
        return (record) => String(record.level)
      case 'pid': {
        const pid = String(process.pid)
        return () => pid
      }
      case 'hostname': {
        const host = escapeInline(hostname())
        return () => host
      }
      case 'process':
        return () => PROCESS_NAME
      case 'thread':
        return () => THREAD_NAME
      case 'name':
        return (record) => escapeInline(record.context.name ?? '')
      case 'file':
        return (record) => escapeInline(record.callsite?.file ?? '?')
      case 'line':
        return (record) => String(record.callsite?.line ?? 0)
      case 'function':
        return (record) => escapeInline(record.callsite?.function ?? '?')
      case 'message':
        // The first line only; the others are continuation lines (see format()).
        return (record) => firstLine(record.msg)
      case 'fields': {
        const max = options.maxFieldsChars
        if (max === undefined) return (record) => record.context.render('fields', renderBindings) + fieldList(record.fields)
        return (record) => {
          const text = record.context.render('fields', renderBindings) + fieldList(record.fields)
          return text.length <= max ? text : `${text.slice(0, max)}…`
        }
      }
      default:
        throw new TypeError(`Expected \`format\` tokens to be one of ${PATTERN_TOKENS.map((t) => `{${t}}`).join(', ')}, got \`{${token}}\` in \`${pattern}\``)
    }
  }

  format(record: LogRecord): string {
    let line = ''
    for (const part of this.#parts) line += part(record)
    line = guardFirstLine(line)
    const more = this.#hasMessage ? restLines(record.msg) : []
    if (record.err !== undefined) for (const errorLine of errorLines(record.err)) more.push(errorLine)
    if (more.length === 0) return `${line}\n`
    return `${line}\n${CONTINUATION_PREFIX}${more.join(`\n${CONTINUATION_PREFIX}`)}\n`
  }
}

function firstLine(message: string): string {
  const newline = message.indexOf('\n')
  return escapeInline(newline === -1 ? message : message.slice(0, newline).replace(/\r$/, ''))
}

function restLines(message: string): string[] {
  return message.includes('\n') ? splitLines(message).slice(1) : []
}
