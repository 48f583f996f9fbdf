import * as fs from 'node:fs'
import { dirname } from 'node:path'
import { FdWriter, writeFully } from '../fd-writer.js'
import { acquireFileLock, FileLockedError } from '../lock.js'

/** The most a spool holds of records not yet acknowledged; past it, new records are dropped and counted (see `Spool.append`). */
export const SPOOL_MAX_BYTES = 64 * 1024 * 1024
/** An acknowledged prefix at least this long (and at least as long as the rest) is cut off the file. */
export const SPOOL_COMPACT_BYTES = 1024 * 1024
/** Bytes read from the file at a time when records are read back. */
export const SPOOL_READ_CHUNK_BYTES = 64 * 1024
/** Recent records are also kept in memory, up to this many bytes, so a connected sink does not read back what it just wrote. */
export const SPOOL_CACHE_BYTES = 1024 * 1024
/** How many spools (`path`, `path.1`, … `path.15`) processes sharing one spool path can use at once. */
export const MAX_SPOOL_SLOTS = 16

// The header is rewritten in place, so its length never changes: the magic, then the
// offset of the first byte not yet acknowledged, in 20 digits, then LF.
const MAGIC = 'blackbox-relp-spool 1 acked='
const OFFSET_DIGITS = 20
const HEADER_BYTES = MAGIC.length + OFFSET_DIGITS + 1
const LF = 0x0a

function header(acked: number): Buffer {
  return Buffer.from(`${MAGIC}${String(acked).padStart(OFFSET_DIGITS, '0')}\n`)
}

/** One record read back: the message and the spool position right after it, which acknowledges it. */
export interface SpoolEntry {
  readonly data: Buffer
  readonly token: number
}

function parseLine(line: Buffer): string | undefined {
  try {
    const value: unknown = JSON.parse(line.toString())
    return typeof value === 'string' ? value : undefined
  } catch {
    // A line cut by a SIGKILL in a previous run: its call had not returned, it was never owed.
    return undefined
  }
}

/**
 * A disk queue of records waiting for acknowledgement. The file is a header, rewritten in
 * place with `pwrite`, that says how many bytes are acknowledged, then one record per line
 * (a JSON string), appended with one complete `write(2)` each (`FdWriter`), so a record is
 * in the kernel before the log call returns and survives a SIGKILL.
 *
 * Invariant: the header never names a byte as acknowledged before it is. After a crash
 * the next run resends everything after the header's offset: duplicates are possible,
 * loss is not. A drained spool is truncated; a long acknowledged prefix is cut off by
 * writing the rest to a new file and renaming it over the old one (atomic, rename(2)).
 *
 * Positions handed out (`SpoolEntry.token`) are logical: they keep growing across those
 * rewrites, so tokens in flight stay valid. One process owns a spool (`<path>.lock`).
 */
export class Spool {
  /** The file used: the path asked for, or `<path>.N` when other live processes hold the first slots. */
  readonly path: string
  readonly maxBytes: number
  readonly #release: () => void
  #writer: FdWriter
  #fd: number | undefined
  /** Physical offsets: the first unacknowledged byte, the next unread byte, the end of the file. */
  #acked: number
  #cursor: number
  #size: number
  /** The logical position of physical offset HEADER_BYTES. */
  #base = 0
  #pending: number
  /** Tokens of records read and not yet acknowledged, in order. */
  #handedOut: number[] = []
  /** Records between the cursor and the end, when `#cacheValid`: they are served from memory. */
  #cache: SpoolEntry[] = []
  #cacheBytes = 0
  #cacheValid: boolean
  #closed = false

  private constructor(path: string, maxBytes: number, release: () => void, state: { fd: number; acked: number; size: number; pending: number }) {
    this.path = path
    this.maxBytes = maxBytes
    this.#release = release
    this.#fd = state.fd
    this.#writer = new FdWriter(path, { mkdir: false, mode: 0o600 })
    this.#acked = state.acked
    this.#cursor = state.acked
    this.#size = state.size
    this.#pending = state.pending
    this.#cacheValid = state.acked === state.size
  }

  /**
   * Opens (or creates) the spool at `path`, taking the first slot no live process holds.
   * Throws if the file is not a spool, or if every slot is taken.
   */
  static open(path: string, maxBytes = SPOOL_MAX_BYTES): Spool {
    fs.mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    for (let slot = 0; slot < MAX_SPOOL_SLOTS; slot++) {
      const candidate = slot === 0 ? path : `${path}.${slot}`
      let release: () => void
      try {
        release = acquireFileLock(candidate)
      } catch (error) {
        if (error instanceof FileLockedError) continue
        throw error
      }
      try {
        return new Spool(candidate, maxBytes, release, recover(candidate))
      } catch (error) {
        release()
        throw error
      }
    }
    throw new Error(`Every spool slot of ${path} (${MAX_SPOOL_SLOTS}, MAX_SPOOL_SLOTS) is held by a live process: give each process its own \`spool\``)
  }

  /** Records appended and not yet acknowledged. */
  get pending(): number {
    return this.#pending
  }

  /** Bytes of those records on disk. */
  get pendingBytes(): number {
    return this.#size - this.#acked
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Appends a record before returning. Returns false, writing nothing, when the spool is
   * full (`maxBytes` of unacknowledged records): the newest records are the ones dropped,
   * so what the spool keeps is the start of an outage, in order. Throws if the disk fails.
   */
  append(message: string): boolean {
    const line = `${JSON.stringify(message)}\n`
    const bytes = Buffer.byteLength(line)
    if (this.#size - this.#acked + bytes > this.maxBytes) return false
    try {
      this.#writer.write(line)
    } catch (error) {
      // A torn part (ENOSPC midway) would glue itself to the next record: take it back.
      try {
        this.#writer.truncate(this.#size)
      } catch {
        // The next open ends a torn line with LF; only this record is lost, and it is counted.
      }
      throw error
    }
    const end = this.#size + bytes
    if (this.#cacheValid && this.#cacheBytes + bytes <= SPOOL_CACHE_BYTES) {
      this.#cache.push({ data: Buffer.from(message), token: this.#logical(end) })
      this.#cacheBytes += bytes
    } else if (this.#cacheValid) {
      // Too much unsent: the rest is read back from the file when there is room to send it.
      this.#cacheValid = false
      this.#cache = []
      this.#cacheBytes = 0
    }
    this.#size = end
    this.#pending++
    return true
  }

  /** Up to `max` records after the last one read, oldest first. */
  read(max: number): SpoolEntry[] {
    const entries: SpoolEntry[] = []
    while (entries.length < max) {
      if (this.#cacheValid) {
        const entry = this.#cache.shift()
        if (entry === undefined) break
        this.#cacheBytes -= entry.data.length
        this.#cursor = this.#physical(entry.token)
        entries.push(entry)
        continue
      }
      if (this.#cursor >= this.#size) {
        this.#cacheValid = true
        break
      }
      this.#readFromFile(entries, max)
    }
    for (const entry of entries) this.#handedOut.push(entry.token)
    return entries
  }

  /** Everything up to `token` is acknowledged: records the fact in the header, and shrinks the file when it pays. */
  acknowledge(token: number): void {
    const upTo = this.#physical(token)
    if (upTo <= this.#acked || upTo > this.#cursor) return
    let settled = 0
    while (this.#handedOut.length > settled && (this.#handedOut[settled] as number) <= token) settled++
    this.#handedOut.splice(0, settled)
    this.#pending -= settled
    this.#acked = upTo
    const prefix = this.#acked - HEADER_BYTES
    if (this.#pending === 0 && this.#cursor === this.#size && prefix >= SPOOL_COMPACT_BYTES) this.#truncate()
    else if (prefix >= SPOOL_COMPACT_BYTES && prefix >= this.#size - this.#acked) this.#rewrite()
    else this.#writeHeader(this.#acked)
  }

  /** Closes the files and releases the slot; a drained spool is removed. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#writer.close()
      if (this.#fd !== undefined) fs.closeSync(this.#fd)
      this.#fd = undefined
      if (this.#pending === 0) fs.rmSync(this.path, { force: true })
    } finally {
      this.#release()
    }
  }

  #logical(physical: number): number {
    return physical - HEADER_BYTES + this.#base
  }

  #physical(token: number): number {
    return token - this.#base + HEADER_BYTES
  }

  #file(): number {
    this.#fd ??= fs.openSync(this.path, fs.constants.O_RDWR)
    return this.#fd
  }

  #writeHeader(acked: number): void {
    fs.writeSync(this.#file(), header(acked), 0, HEADER_BYTES, 0)
  }

  #readFromFile(entries: SpoolEntry[], max: number): void {
    let length = Math.min(SPOOL_READ_CHUNK_BYTES, this.#size - this.#cursor)
    for (;;) {
      const chunk = Buffer.allocUnsafe(length)
      const got = fs.readSync(this.#file(), chunk, 0, length, this.#cursor)
      let start = 0
      for (let end = chunk.indexOf(LF, 0); end !== -1 && end < got && entries.length < max; end = chunk.indexOf(LF, start)) {
        const message = parseLine(chunk.subarray(start, end))
        start = end + 1
        // A torn line is passed over; the acknowledgement of the next record covers it.
        if (message !== undefined) entries.push({ data: Buffer.from(message), token: this.#logical(this.#cursor + start) })
      }
      if (start > 0) {
        this.#cursor += start
        return
      }
      if (got < length || this.#cursor + length >= this.#size) {
        // No LF before the end: only a torn last line can look like this; it is skipped.
        this.#cursor = this.#size
        return
      }
      length = Math.min(length * 2, this.#size - this.#cursor)
    }
  }

  #truncate(): void {
    // Header first: until the truncation, the file holds acknowledged records the header
    // calls unacknowledged (resent after a crash: a duplicate), never the other way round.
    this.#writeHeader(HEADER_BYTES)
    fs.ftruncateSync(this.#file(), HEADER_BYTES)
    this.#base = this.#logical(this.#size)
    this.#acked = this.#cursor = this.#size = HEADER_BYTES
  }

  #rewrite(): void {
    const temporary = `${this.path}.tmp`
    const out = fs.openSync(temporary, 'w', 0o600)
    try {
      fs.writeSync(out, header(HEADER_BYTES))
      const buffer = Buffer.allocUnsafe(SPOOL_READ_CHUNK_BYTES * 16)
      for (let at = this.#acked; at < this.#size; ) {
        const got = fs.readSync(this.#file(), buffer, 0, Math.min(buffer.length, this.#size - at), at)
        if (got === 0) break
        writeFully(fs, out, buffer.subarray(0, got), temporary)
        at += got
      }
    } finally {
      fs.closeSync(out)
    }
    fs.renameSync(temporary, this.path)
    const removed = this.#acked - HEADER_BYTES
    this.#writer.close()
    if (this.#fd !== undefined) fs.closeSync(this.#fd)
    this.#fd = undefined
    this.#base += removed
    this.#acked = HEADER_BYTES
    this.#cursor -= removed
    this.#size -= removed
  }
}

/** Reads the header of an existing spool (or writes one in a new file) and counts the records not yet acknowledged. */
function recover(path: string): { fd: number; acked: number; size: number; pending: number } {
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600)
  try {
    // A temporary file left by a rewrite that a crash interrupted: the spool itself is intact.
    fs.rmSync(`${path}.tmp`, { force: true })
    let size = fs.fstatSync(fd).size
    const head = Buffer.alloc(Math.min(size, HEADER_BYTES))
    fs.readSync(fd, head, 0, head.length, 0)
    const text = head.toString('latin1')
    if (size < HEADER_BYTES && (MAGIC.startsWith(text) || text.startsWith(MAGIC))) {
      // New, or a header cut by a crash while the spool was being created.
      fs.ftruncateSync(fd, 0)
      fs.writeSync(fd, header(HEADER_BYTES), 0, HEADER_BYTES, 0)
      return { fd, acked: HEADER_BYTES, size: HEADER_BYTES, pending: 0 }
    }
    if (!text.startsWith(MAGIC)) {
      throw new TypeError(`Expected \`spool\` to be a blackbox RELP spool or a new file, but ${path} begins with something else; it was left untouched`)
    }
    // A record cut by a SIGKILL must not glue itself to the next one.
    const last = Buffer.alloc(1)
    fs.readSync(fd, last, 0, 1, size - 1)
    if (size > HEADER_BYTES && last[0] !== LF) {
      fs.writeSync(fd, '\n', size)
      size++
    }
    let acked = Number(text.slice(MAGIC.length, MAGIC.length + OFFSET_DIGITS))
    if (!Number.isSafeInteger(acked) || acked < HEADER_BYTES || acked > size) acked = HEADER_BYTES
    if (acked > HEADER_BYTES) {
      // The offset must fall right after a record; anything else means resend everything.
      fs.readSync(fd, last, 0, 1, acked - 1)
      if (last[0] !== LF) acked = HEADER_BYTES
    }
    // Rewritten at once, normalized: a stale offset must not cover records appended later.
    fs.writeSync(fd, header(acked), 0, HEADER_BYTES, 0)
    return { fd, acked, size, pending: countRecords(fd, acked, size) }
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}

function countRecords(fd: number, from: number, to: number): number {
  let count = 0
  let carry: Buffer = Buffer.alloc(0)
  const chunk = Buffer.allocUnsafe(SPOOL_READ_CHUNK_BYTES * 16)
  for (let at = from; at < to; ) {
    const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - at), at)
    if (got === 0) break
    at += got
    const data = carry.length === 0 ? chunk.subarray(0, got) : Buffer.concat([carry, chunk.subarray(0, got)])
    let start = 0
    for (let end = data.indexOf(LF); end !== -1; end = data.indexOf(LF, start)) {
      if (parseLine(data.subarray(start, end)) !== undefined) count++
      start = end + 1
    }
    carry = Buffer.from(data.subarray(start))
  }
  return count
}
