import type { LogRecord } from '../../core/record.js'
import type { Plain, SerializedError } from '../../core/serialize.js'
import type { Entry, EntrySource, Packed, Packer } from './packer.js'

/** A record in the default body of `webhookSink`. */
export interface WebhookRecord {
  /** The level number (pino's: 50 is error). */
  level: number
  /** Epoch milliseconds. */
  time: number
  msg: string
  /** The logger's bindings and the call's own fields, in one object. */
  fields: { [key: string]: Plain }
  err?: SerializedError
}

/** Maps a batch of records (and the lines the sink's format made of them) to the JSON body of one request. */
export type WebhookBody = (records: readonly LogRecord[], lines: readonly string[]) => unknown

/** The default body: `{ records: [{ level, time, msg, fields, err }] }`. */
export function defaultWebhookBody(records: readonly LogRecord[]): { records: WebhookRecord[] } {
  return {
    records: records.map((record) => {
      const out: WebhookRecord = { level: record.level, time: record.time, msg: record.msg, fields: { ...record.context.bindings, ...record.fields } }
      if (record.err !== undefined) out.err = record.err
      return out
    }),
  }
}

/** Packs up to `maxRecords` records into one JSON body. */
export class JsonPacker implements Packer {
  constructor(
    readonly maxRecords: number,
    readonly body: WebhookBody,
  ) {}

  pack(source: EntrySource, notice: Entry | undefined): Packed {
    const entries: Entry[] = notice === undefined ? [] : [notice]
    // At least one record per request, even when the notice takes the only place.
    const used = Math.min(source.length, Math.max(1, this.maxRecords - entries.length))
    for (let index = 0; index < used; index++) entries.push(source.at(index) as Entry)
    try {
      const text: unknown = JSON.stringify(this.body(entries.map((entry) => entry.record), entries.map((entry) => entry.line)))
      if (typeof text !== 'string') throw new TypeError(`Expected \`body\` to return a value JSON can represent, got \`${String(text)}\` (${typeof text})`)
      return { payloads: [{ body: text, entries }], used }
    } catch (error) {
      return { payloads: [], used, error }
    }
  }
}
