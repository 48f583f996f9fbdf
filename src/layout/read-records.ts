import { open } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'
import { CONTINUATION_PREFIX } from '../core/format/escape.js'
import { compressionOf, CorruptArchiveError, decompress } from './decompress.js'
import { FirstLineParser, UNKNOWN_LABEL, UNKNOWN_LEVEL, type ReadRecord } from './parse-record.js'

export { UNKNOWN_LABEL, UNKNOWN_LEVEL, type ReadRecord, type RecordFormat } from './parse-record.js'

/**
 * Longest line kept, in characters; the rest of a longer line is dropped. The logger caps
 * strings at 64 Ki characters, so only a damaged or foreign file has such lines, and this
 * keeps reading one from holding all of it in memory.
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024

/** The end of a file that was cut off mid-write. */
export interface TornTail {
  /** 1-based number of the line that was cut. */
  readonly line: number
  /** What could be read of that line ('' when the cut fell between lines of a compressed file). */
  readonly text: string
  /**
   * `unterminated`: the file ends without a newline (a write cut by `SIGKILL`);
   * `corrupt-archive`: a `.gz` or `.zip` backup could not be decompressed to its end.
   */
  readonly reason: 'unterminated' | 'corrupt-archive'
  /** What the decompressor said, for `corrupt-archive`. */
  readonly detail?: string
}

export interface ReadRecordsOptions {
  /** Called at most once, when the file ends in a torn line (not yielded as a record) or a compressed file is corrupt. */
  onTorn?: (torn: TornTail) => void
}

/**
 * The complete lines of text in chunks of bytes, a batch per chunk (one await per chunk, not
 * per line); what follows the last newline is left in `tail.text`.
 */
async function* splitLines(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, tail: { text: string; error?: Error }): AsyncGenerator<string[]> {
  // A multi-byte character split between two chunks is decoded whole.
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const take = (piece: string): void => {
    if (pending.length < MAX_LINE_CHARS) pending += piece.length > MAX_LINE_CHARS - pending.length ? piece.slice(0, MAX_LINE_CHARS - pending.length) : piece
  }
  const split = (text: string): string[] => {
    const lines: string[] = []
    let start = 0
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      take(text.slice(start, newline))
      lines.push(pending.endsWith('\r') ? pending.slice(0, -1) : pending)
      pending = ''
      start = newline + 1
    }
    take(text.slice(start))
    return lines
  }
  try {
    for await (const chunk of source) yield split(typeof chunk === 'string' ? chunk : decoder.write(chunk))
  } catch (error) {
    if (!(error instanceof CorruptArchiveError)) throw error
    tail.error = error
  }
  yield split(decoder.end())
  tail.text = pending
}

/**
 * Records from a run file's bytes or text, in chunks (a stream, or an array): JSON lines,
 * the default text preset or the loguru preset (decided per line), continuation lines
 * (`CONTINUATION_PREFIX`) joined to their record. A torn last line is reported through
 * `onTorn`, never thrown.
 */
export async function* readRecordsFrom(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, options: ReadRecordsOptions = {}): AsyncGenerator<ReadRecord> {
  const tail: { text: string; error?: Error } = { text: '' }
  const parser = new FirstLineParser()
  let current: ReadRecord | undefined
  let number = 0
  for await (const lines of splitLines(source, tail)) {
    for (const line of lines) {
      number++
      if (line === '') continue
      if (line.startsWith(CONTINUATION_PREFIX)) {
        const text = line.slice(CONTINUATION_PREFIX.length)
        if (current) {
          current.raw += `\n${line}`
          current.msg += `\n${text}`
        } else {
          // The file begins inside a record (a rotated file, a cut copy): keep what is there.
          current = { time: undefined, level: UNKNOWN_LEVEL, levelLabel: UNKNOWN_LABEL, msg: text, fields: {}, raw: line, line: number, format: 'unknown' }
        }
        continue
      }
      if (current) yield current
      current = parser.parse(line, number)
    }
  }
  if (current) yield current
  if (tail.error) {
    options.onTorn?.({ line: number + 1, text: tail.text, reason: 'corrupt-archive', detail: tail.error.message })
  } else if (tail.text !== '') {
    options.onTorn?.({ line: number + 1, text: tail.text, reason: 'unterminated' })
  }
}

/**
 * Records of a run file, plain or compressed (by the name: `.gz`, `.zip`), streamed: a
 * large file is never held in memory. Throws when the file cannot be opened or read; a torn
 * or corrupt end is reported through `onTorn` instead.
 */
export async function* readRecords(path: string, options: ReadRecordsOptions = {}): AsyncGenerator<ReadRecord> {
  // Opened first, so a missing file is an error of its own and not a "torn" one. The stream
  // closes the handle when it ends or is destroyed (autoClose).
  const handle = await open(path, 'r')
  const file = handle.createReadStream()
  try {
    yield* readRecordsFrom(decompress(file, compressionOf(path)), options)
  } finally {
    file.destroy()
  }
}
