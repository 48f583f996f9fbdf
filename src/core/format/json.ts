import { hostname } from 'node:os'
import type { LoggerContext, LogRecord } from '../record.js'
import { jsonMembers, jsonString } from '../serialize.js'
import { escapeJsonUnsafe } from './escape.js'
import type { Formatter } from './formatter.js'

function renderContext(context: LoggerContext): string {
  const name = context.name === undefined ? '' : `,"name":${JSON.stringify(context.name)}`
  return name + jsonMembers(JSON.stringify(context.bindings))
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
    let body = record.fieldsJson ?? (record.fields === undefined ? '' : jsonMembers(JSON.stringify(record.fields)))
    if (record.err !== undefined) body += `,"err":${JSON.stringify(record.err)}`
    return escapeJsonUnsafe(`{"level":${record.level},"time":${record.time}${this.#fixed}${context}${body},"msg":${jsonString(record.msg)}}\n`)
  }
}
