import type { Readable } from 'node:stream'
import { crc32, createInflateRaw, type InflateRaw } from 'node:zlib'

/** A compressed backup that cannot be decompressed (further): cut while being written, or damaged. */
export class CorruptArchiveError extends Error {
  override readonly name = 'CorruptArchiveError'
}

/** How a file is compressed, by its name: `.gz`, `.zip` (the rotating sink's `compress` option) or not at all. */
export function compressionOf(path: string): 'gzip' | 'zip' | undefined {
  if (path.endsWith('.gz')) return 'gzip'
  if (path.endsWith('.zip')) return 'zip'
  return undefined
}

/**
 * Most compressed bytes handed to the inflater at once: what one write can turn into
 * (deflate expands at most about 1,032 times) is held in memory before it is handed on.
 */
export const INFLATE_PIECE_BYTES = 16 * 1024
/** Longest gzip header read (its optional name and comment have no bound of their own). */
export const MAX_GZIP_HEADER_BYTES = 1024 * 1024
/** Bytes kept of a zip archive's end, where its central directory is (1 MiB: some 15,000 entries). */
export const ZIP_TAIL_BYTES = 1024 * 1024

// RFC 1952 §2.3: the member header and its flags.
const GZIP_ID1 = 0x1f
const GZIP_ID2 = 0x8b
const GZIP_FIXED_HEADER_BYTES = 10
const CM_DEFLATE = 8
const FHCRC = 0x02
const FEXTRA = 0x04
const FNAME = 0x08
const FCOMMENT = 0x10
const FRESERVED = 0xe0
// CRC-32 then ISIZE (the data's length modulo 2^32), both little-endian.
const GZIP_TRAILER_BYTES = 8
const UINT32 = 2 ** 32

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`
}

/**
 * The length of the gzip member header at the start of `bytes`, or undefined while more
 * bytes are needed to tell. Throws `CorruptArchiveError` when they are no gzip header.
 */
function gzipHeaderLength(bytes: Buffer, member: number): number | undefined {
  const what = member === 1 ? 'not a gzip file' : `${bytes.length} bytes after the end of gzip member ${member - 1} that are no gzip member`
  if ((bytes.length > 0 && bytes[0] !== GZIP_ID1) || (bytes.length > 1 && bytes[1] !== GZIP_ID2)) throw new CorruptArchiveError(`incorrect header check: ${what}`)
  if (bytes.length < GZIP_FIXED_HEADER_BYTES) return undefined
  if (bytes[2] !== CM_DEFLATE) throw new CorruptArchiveError(`incorrect header check: gzip member ${member} is not deflate (method ${bytes[2]})`)
  const flags = bytes[3] ?? 0
  if ((flags & FRESERVED) !== 0) throw new CorruptArchiveError(`incorrect header check: gzip member ${member} sets reserved flags`)
  let at = GZIP_FIXED_HEADER_BYTES
  if ((flags & FEXTRA) !== 0) {
    if (bytes.length < at + 2) return undefined
    at += 2 + bytes.readUInt16LE(at)
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue
    const end = at < bytes.length ? bytes.indexOf(0, at) : -1
    if (end === -1) return undefined
    at = end + 1
  }
  if ((flags & FHCRC) !== 0) at += 2
  return bytes.length < at ? undefined : at
}

/**
 * One gzip member's deflate data, inflated a piece at a time. zlib stops at the end of the
 * deflate stream and leaves the rest of a piece unread; `bytesWritten` counts what it read,
 * so the trailer and the next member are found where the data ends.
 */
class MemberInflater {
  readonly #stream: InflateRaw = createInflateRaw()
  readonly #out: Buffer[] = []
  #error: Error | undefined

  constructor() {
    this.#stream.on('data', (chunk: Buffer) => this.#out.push(chunk))
    this.#stream.on('error', (error) => {
      this.#error ??= error
    })
  }

  /** Inflates `piece`: the bytes it gave, how many of the piece it read, and whether the deflate stream ended. */
  write(piece: Buffer): Promise<{ out: Buffer[]; used: number; ended: boolean }> {
    const before = this.#stream.bytesWritten
    return new Promise((resolve, reject) => {
      const settle = (error?: Error | null): void => {
        this.#stream.off('error', settle)
        const failure = this.#error ?? error ?? undefined
        if (failure) return reject(new CorruptArchiveError(failure.message))
        const used = this.#stream.bytesWritten - before
        resolve({ out: this.#out.splice(0), used, ended: used < piece.length })
      }
      this.#stream.once('error', settle)
      this.#stream.write(piece, settle)
    })
  }

  close(): void {
    this.#stream.destroy()
  }
}

/**
 * gzip (RFC 1952), member by member: each member's data is inflated and handed on as it
 * comes, then checked against the member's trailer, CRC-32 and length. A file that ends
 * inside a member, before or within its trailer, is reported as corrupt, never read as a
 * shorter whole file; so are bytes after the last member that begin no member.
 */
async function* gunzip(file: Readable): AsyncGenerator<Uint8Array> {
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  let held: Buffer = Buffer.alloc(0)
  let inflater: MemberInflater | undefined
  /** Reads the next chunk of the file into `held`; false at its end. */
  const more = async (): Promise<boolean> => {
    const next = await chunks.next()
    if (next.done === true) return false
    held = held.length === 0 ? next.value : Buffer.concat([held, next.value])
    return true
  }
  try {
    for (let member = 1; ; member++) {
      let header: number | undefined
      while ((header = gzipHeaderLength(held, member)) === undefined) {
        if (held.length > MAX_GZIP_HEADER_BYTES) throw new CorruptArchiveError(`the header of gzip member ${member} is longer than ${MAX_GZIP_HEADER_BYTES} bytes`)
        if (!(await more())) {
          if (held.length > 0) throw new CorruptArchiveError(`cut short in the header of gzip member ${member}`)
          if (member === 1) throw new CorruptArchiveError('empty: no gzip member at all')
          return
        }
      }
      held = held.subarray(header)
      inflater = new MemberInflater()
      let crc = 0
      let size = 0
      for (;;) {
        if (held.length === 0 && !(await more())) {
          throw new CorruptArchiveError(`cut short in gzip member ${member} after ${size} bytes of data: its end or its ${GZIP_TRAILER_BYTES}-byte trailer (CRC-32 and size) is missing`)
        }
        const { out, used, ended } = await inflater.write(held.subarray(0, INFLATE_PIECE_BYTES))
        held = held.subarray(used)
        for (const chunk of out) {
          crc = crc32(chunk, crc)
          size += chunk.length
          yield chunk
        }
        if (ended) break
      }
      inflater.close()
      inflater = undefined
      while (held.length < GZIP_TRAILER_BYTES) {
        if (!(await more())) throw new CorruptArchiveError(`cut short in the ${GZIP_TRAILER_BYTES}-byte trailer (CRC-32 and size) of gzip member ${member}`)
      }
      const expectedCrc = held.readUInt32LE(0)
      const expectedSize = held.readUInt32LE(4)
      held = held.subarray(GZIP_TRAILER_BYTES)
      if (crc !== expectedCrc) throw new CorruptArchiveError(`gzip member ${member} is damaged: its data has CRC-32 ${hex(crc)}, its trailer says ${hex(expectedCrc)}`)
      if (size % UINT32 !== expectedSize) throw new CorruptArchiveError(`gzip member ${member} is damaged: its data has size ${size}, its trailer says ${expectedSize} (modulo 2^32)`)
      if (held.length === 0 && !(await more())) return
    }
  } finally {
    inflater?.close()
    await chunks.return?.()
  }
}

// APPNOTE.TXT (PKWARE's .ZIP File Format Specification) §4.3.12, §4.3.14–16.
const EOCD_SIGNATURE = 0x06054b50
const EOCD_BYTES = 22
const MAX_ZIP_COMMENT_BYTES = 0xffff
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50
const ZIP64_LOCATOR_BYTES = 20
const ZIP64_EOCD_SIGNATURE = 0x06064b50
const CENTRAL_HEADER_SIGNATURE = 0x02014b50
const CENTRAL_HEADER_BYTES = 46
const ZIP64_EXTRA_ID = 0x0001
const ZIP64_MARK_32 = 0xffffffff
const ZIP64_MARK_16 = 0xffff

/** The last bytes of a stream, at most `limit` of them, and where they begin in it. */
class Tail {
  readonly #chunks: Buffer[] = []
  #held = 0
  #total = 0

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#held += chunk.length
    this.#total += chunk.length
    while (this.#chunks.length > 1 && this.#held - (this.#chunks[0]?.length ?? 0) >= this.limit) this.#held -= this.#chunks.shift()?.length ?? 0
  }

  bytes(): { bytes: Buffer; start: number } {
    const bytes = Buffer.concat(this.#chunks)
    return { bytes, start: this.#total - bytes.length }
  }
}

/** What the central directory says of the archive's first entry, or why it cannot say. */
function firstEntryOfDirectory(tail: Buffer, tailStart: number): { crc: number; size: number } | 'beyond' {
  // The end record is the last thing in the file but its comment, which says its own length.
  let eocd = -1
  for (let at = tail.length - EOCD_BYTES; at >= Math.max(0, tail.length - EOCD_BYTES - MAX_ZIP_COMMENT_BYTES); at--) {
    if (tail.readUInt32LE(at) === EOCD_SIGNATURE && tail.readUInt16LE(at + 20) === tail.length - at - EOCD_BYTES) {
      eocd = at
      break
    }
  }
  if (eocd === -1) throw new CorruptArchiveError('no end of central directory record: the zip archive was cut short')
  let entries = tail.readUInt16LE(eocd + 10)
  let directorySize = tail.readUInt32LE(eocd + 12)
  let directoryEnd = eocd
  if (entries === ZIP64_MARK_16 || directorySize === ZIP64_MARK_32) {
    const locator = eocd - ZIP64_LOCATOR_BYTES
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) throw new CorruptArchiveError('the zip64 end of central directory locator is missing')
    const record = Number(tail.readBigUInt64LE(locator + 8)) - tailStart
    if (record < 0) return 'beyond'
    if (record + 56 > locator || tail.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) throw new CorruptArchiveError('the zip64 end of central directory record is missing')
    entries = Number(tail.readBigUInt64LE(record + 32))
    directorySize = Number(tail.readBigUInt64LE(record + 40))
    directoryEnd = record
  }
  if (entries === 0) throw new CorruptArchiveError('the central directory lists no file')
  // The directory ends where the end record begins (an archive may follow other bytes, so
  // its own offsets are not trusted for this).
  const start = directoryEnd - directorySize
  if (start < 0) return 'beyond'
  if (start + CENTRAL_HEADER_BYTES > directoryEnd || tail.readUInt32LE(start) !== CENTRAL_HEADER_SIGNATURE) throw new CorruptArchiveError('the central directory is damaged: no file header where it begins')
  const crc = tail.readUInt32LE(start + 16)
  let size = tail.readUInt32LE(start + 24)
  if (size === ZIP64_MARK_32) {
    // The zip64 extra field holds the real size, first of its members (§4.5.3).
    const extraStart = start + CENTRAL_HEADER_BYTES + tail.readUInt16LE(start + 28)
    const extraEnd = Math.min(directoryEnd, extraStart + tail.readUInt16LE(start + 30))
    for (let at = extraStart; at + 4 <= extraEnd; at += 4 + tail.readUInt16LE(at + 2)) {
      if (tail.readUInt16LE(at) === ZIP64_EXTRA_ID && at + 12 <= extraEnd) size = Number(tail.readBigUInt64LE(at + 4))
    }
  }
  return { crc, size }
}

/**
 * A zip archive's first entry (a backup holds one file, the log), inflated as it comes,
 * then checked against the central directory at the archive's end: an archive cut short
 * has none, and an entry whose CRC-32 or size differs from what it lists is damaged.
 */
async function* unzip(file: Readable): AsyncGenerator<Uint8Array> {
  // Loaded when a zip is read, not with the package (issue #18).
  const { Unzip, UnzipInflate } = await import('fflate')
  const out: Uint8Array[] = []
  const tail = new Tail(ZIP_TAIL_BYTES)
  let failure: Error | undefined
  let entries = 0
  let crc = 0
  let size = 0
  // A backup archive holds one file, the log; a second entry is not ours to read.
  const reader = new Unzip((entry) => {
    if (++entries > 1) return
    entry.ondata = (error, data) => {
      if (error) failure ??= error
      else {
        crc = crc32(data, crc)
        size += data.length
        out.push(data)
      }
    }
    entry.start()
  })
  reader.register(UnzipInflate)
  // fflate inflates synchronously inside push(): what a chunk held is in `out` right after.
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      reader.push(chunk, final)
    } catch (error) {
      failure ??= error as Error
    }
  }
  for await (const chunk of file) {
    tail.push(chunk as Buffer)
    push(chunk as Buffer, false)
    yield* out.splice(0)
    if (failure) throw new CorruptArchiveError(failure.message)
  }
  push(new Uint8Array(0), true)
  yield* out.splice(0)
  if (failure) throw new CorruptArchiveError(failure.message)
  if (entries === 0) throw new CorruptArchiveError('no file in the zip archive')
  const { bytes, start } = tail.bytes()
  const listed = firstEntryOfDirectory(bytes, start)
  // A directory longer than ZIP_TAIL_BYTES (thousands of entries: not a backup of ours) is not checked.
  if (listed === 'beyond') return
  if (listed.crc !== crc) throw new CorruptArchiveError(`the zip entry is damaged: its data has CRC-32 ${hex(crc)}, the central directory says ${hex(listed.crc)}`)
  if (listed.size !== size) throw new CorruptArchiveError(`the zip entry is damaged: its data has size ${size}, the central directory says ${listed.size}`)
}

/**
 * The decompressed bytes of a file being read; decoder failures, and archives that end
 * early or fail their checks, are `CorruptArchiveError`s, thrown after the bytes before
 * the damage.
 */
export function decompress(file: Readable, compression: 'gzip' | 'zip' | undefined): AsyncIterable<Uint8Array> {
  if (compression === 'gzip') return gunzip(file)
  if (compression === 'zip') return unzip(file)
  return file
}
