import { hostname } from 'node:os'
import type { LoggerContext, LogRecord } from '../record.js'
import { escapeJsonUnsafe } from './escape.js'
import type { Formatter } from './formatter.js'

/** `{"a":1}` → `,"a":1`, to splice an object's members into a line. */
function members(json: string): string {
  return json.length > 2 ? `,${json.slice(1, -1)}` : ''
}

function renderContext(context: LoggerContext): string {
  const name = context.name === undefined ? '' : `,"name":${JSON.stringify(context.name)}`
  return escapeJsonUnsafe(name + members(JSON.stringify(context.bindings)))
}

/**
 * JSON lines that pino's tools read unchanged: `level` (number), `time` (epoch ms), `pid`,
 * `hostname`, `name`, the bindings, the fields, `err`, then `msg`, as pino orders them.
 */
export class JsonFormatter implements Formatter {
  readonly key = 'json'
  readonly needsCallsite = false
  readonly #fixed = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`

  format(record: LogRecord): string {
    const context = record.context.render(this.key, renderContext)
    let body = record.fields === undefined ? '' : escapeJsonUnsafe(members(JSON.stringify(record.fields)))
    if (record.err !== undefined) body += `,"err":${escapeJsonUnsafe(JSON.stringify(record.err))}`
    return `{"level":${record.level},"time":${record.time}${this.#fixed}${context}${body},"msg":${escapeJsonUnsafe(JSON.stringify(record.msg))}}\n`
  }
}
