import type { Formatter } from '../../core/format/formatter.js'
import type { Markup } from './escape.js'
import type { Entry, EntrySource, Packed, Packer, Payload } from './packer.js'
import { recordSegments } from './render.js'
import { renderParts } from './split.js'

/** Between two records in one message. */
const RECORD_SEPARATOR = '\n'

/** Packs records into chat messages of at most `maxChars` characters of marked-up text. */
export class ChatPacker implements Packer {
  // A record is rendered once, even when it waits through several rounds.
  readonly #parts = new WeakMap<Entry, readonly string[]>()

  constructor(
    readonly markup: Markup,
    readonly maxChars: number,
    readonly formatter: Formatter,
    /** Wraps a message's text in the service's JSON body. */
    readonly body: (text: string) => string,
  ) {}

  /** The message parts of one entry (one, unless the record is too long for a message). */
  partsOf(entry: Entry): readonly string[] {
    let parts = this.#parts.get(entry)
    if (parts === undefined) {
      parts = renderParts(recordSegments(entry.record, entry.line, this.formatter), this.markup, this.maxChars)
      this.#parts.set(entry, parts)
    }
    return parts
  }

  pack(source: EntrySource, notice: Entry | undefined): Packed {
    let text = ''
    const entries: Entry[] = []
    let used = 0
    const offset = notice === undefined ? 0 : 1
    for (let index = 0; ; index++) {
      const entry = index < offset ? notice : source.at(index - offset)
      if (entry === undefined) break
      const parts = this.partsOf(entry)
      if (parts.length === 1) {
        const part = parts[0] as string
        if (text !== '' && text.length + RECORD_SEPARATOR.length + part.length > this.maxChars) break
        text = text === '' ? part : text + RECORD_SEPARATOR + part
        entries.push(entry)
        if (!entry.notice) used++
        continue
      }
      // A record of several parts goes alone, once what came before it is sent.
      if (text !== '') break
      const payloads: Payload[] = parts.map((part) => ({ body: this.body(part), entries: [entry] }))
      return { payloads, used: entry.notice ? 0 : 1 }
    }
    return { payloads: text === '' ? [] : [{ body: this.body(text), entries }], used }
  }
}
