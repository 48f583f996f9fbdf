/**
 * The ring file: its layout, the header, publishing (one producer) and consuming (one
 * drainer at a time). The format is documented in docs/ring.md; keep the two in step.
 *
 * Indices are byte counters that only grow, kept modulo 2³² in Int32 header slots; the
 * capacity is a power of two, so `index & (capacity - 1)` is a position in the data area
 * and `(write - drained) >>> 0` the bytes in use, across the wrap of the counters too.
 */

/** The first 8 bytes of every ring file. */
export const RING_MAGIC = 'BBXRING\0'
/** The format version this code writes and reads. */
export const RING_VERSION = 1
/** Bytes before the data area; the data area starts on a page boundary. */
export const RING_HEADER_BYTES = 4096
/** Data area of a new ring when no `ringSize` is given. */
export const DEFAULT_RING_BYTES = 4 * 1024 * 1024
export const MIN_RING_BYTES = 4096
export const MAX_RING_BYTES = 1024 * 1024 * 1024
/** A frame length meaning "the rest of the data area is unused; continue at its start". */
export const WRAP_MARKER = 0xffffffff
/** The u32 length in front of every record. */
export const FRAME_HEADER_BYTES = 4
/** Where the UTF-8 path of the file the records belong to starts in the header. */
export const TARGET_OFFSET_BYTES = 512
export const MAX_TARGET_BYTES = RING_HEADER_BYTES - TARGET_OFFSET_BYTES

/**
 * Header slots, as indexes into an Int32Array over the header (byte offset = slot × 4).
 * What the producer writes on every record (WRITE), what the drainer writes (DRAINED,
 * PENDING…) and what the producer writes rarely (DROPPED) sit on separate 64-byte cache
 * lines, so the two threads do not keep taking a line from each other.
 */
export const SLOT = {
  VERSION: 2,
  HEADER_BYTES: 3,
  CAPACITY: 4,
  OWNER_PID: 5,
  /** FORMAT_JSON when the records are JSON lines, for the drop notice recovery writes. */
  FORMAT: 6,
  TARGET_BYTES: 7,
  /**
   * Bytes of metadata in front of each record's text: 0 (a file sink's ring: the text only)
   * or RECORD_META_BYTES (a collector client's ring: level and time, for the collector).
   */
  META_BYTES: 8,
  /** Published bytes (byte 128): advanced with Atomics.store after the record's bytes are in place. */
  WRITE: 32,
  /** Bytes whose records the target file holds (byte 192): advanced only after write(2) has returned. */
  DRAINED: 48,
  /** PENDING_SET while a drain's write(2) may be under way (byte 256); see `resolvePending` in recover.ts. */
  PENDING: 64,
  PENDING_END: 65,
  PENDING_BYTES: 66,
  PENDING_SIZE_LOW: 67,
  PENDING_SIZE_HIGH: 68,
  /** Records dropped (`whenFull: 'drop'`) not yet told in the file (byte 320). */
  DROPPED: 80,
  /**
   * A collector client's ring: the sequence number (mod 2³²) of the last record that
   * client sent on the socket and the collector has written (byte 384, the collector's line).
   */
  SOCKET_SEQ: 96,
  /** A collector client's ring: the pid of the collector draining it, 0 when none (byte 388). */
  DRAINER_PID: 97,
} as const

export const PENDING_CLEAR = 0
export const PENDING_SET = 1
export const FORMAT_TEXT = 0
export const FORMAT_JSON = 1
/** A collector client's record metadata: the level (u8), then the time in epoch ms (float64, little-endian). */
export const RECORD_META_BYTES = 9

/** What `RingWriter.publish` did with a record. */
export const PUBLISHED = 0
/** Not enough free space now: the `whenFull` policy decides. */
export const RING_FULL = 1
/** Larger than half the ring: never fits well; written directly, in order. */
export const RECORD_OVERSIZE = 2
export type PublishResult = typeof PUBLISHED | typeof RING_FULL | typeof RECORD_OVERSIZE

/** A file that is not a ring file this version of blackbox can read; it is left untouched. */
export class RingFormatError extends Error {
  override readonly name = 'RingFormatError'
}

/** A record frame that cannot be: a length past the published bytes. The file is left as it is. */
export class RingCorruptError extends Error {
  override readonly name = 'RingCorruptError'
}

export function align4(bytes: number): number {
  return (bytes + 3) & ~3
}

/** Checks a requested data size: a power of two between MIN_RING_BYTES and MAX_RING_BYTES. */
export function checkRingBytes(value: number, option = 'ringSize'): number {
  if (!Number.isInteger(value) || value < MIN_RING_BYTES || value > MAX_RING_BYTES || (value & (value - 1)) !== 0) {
    throw new TypeError(`Expected \`${option}\` to be a power of two between ${MIN_RING_BYTES} and ${MAX_RING_BYTES} bytes, got \`${String(value)}\` (${typeof value})`)
  }
  return value
}

/** The smallest power of two ≥ `bytes`, so `ringSize: '4 MB'` means 4 MiB. */
export function roundUpToPowerOfTwo(bytes: number): number {
  let size = MIN_RING_BYTES
  while (size < bytes && size < MAX_RING_BYTES * 2) size *= 2
  return size
}

/**
 * Checks the first bytes of a ring file (at least TARGET_OFFSET_BYTES of them) and the
 * file's size; throws RingFormatError naming what is wrong. A file of zeros is a ring
 * whose creation was cut short (the magic is written last): the caller starts it afresh.
 */
export function checkHeader(head: Buffer, fileSize: number, path: string): { capacity: number; blank: boolean } {
  if (head.length < TARGET_OFFSET_BYTES || fileSize < RING_HEADER_BYTES) {
    if (head.every((byte) => byte === 0)) return { capacity: 0, blank: true }
    throw new RingFormatError(`${path} is not a blackbox ring file: ${fileSize} bytes is shorter than the ${RING_HEADER_BYTES}-byte header. It was left untouched.`)
  }
  const magic = head.toString('latin1', 0, 8)
  if (magic !== RING_MAGIC) {
    if (head.every((byte) => byte === 0)) return { capacity: 0, blank: true }
    throw new RingFormatError(`${path} is not a blackbox ring file (it starts with ${JSON.stringify(magic)}, not "BBXRING"). It was left untouched.`)
  }
  const version = head.readUInt32LE(SLOT.VERSION * 4)
  if (version !== RING_VERSION) {
    throw new RingFormatError(
      `${path} is a blackbox ring file of format version ${version}; this blackbox reads version ${RING_VERSION} only. ` +
        `Recover it with the blackbox release that wrote it (blackbox recover), or move it away. It was left untouched.`,
    )
  }
  const headerBytes = head.readUInt32LE(SLOT.HEADER_BYTES * 4)
  const capacity = head.readUInt32LE(SLOT.CAPACITY * 4)
  if (headerBytes !== RING_HEADER_BYTES || (capacity & (capacity - 1)) !== 0 || capacity < MIN_RING_BYTES || fileSize !== headerBytes + capacity) {
    throw new RingFormatError(`${path} has a damaged ring header (header ${headerBytes} bytes, data ${capacity} bytes, file ${fileSize} bytes). It was left untouched.`)
  }
  const meta = head.readUInt32LE(SLOT.META_BYTES * 4)
  if (meta !== 0 && meta !== RECORD_META_BYTES) {
    throw new RingFormatError(`${path} has a damaged ring header (${meta} metadata bytes per record). It was left untouched.`)
  }
  return { capacity, blank: false }
}

/** Writes a fresh header; the magic goes last, so a ring cut short while being made reads as blank. */
export function initHeader(bytes: Buffer, capacity: number): void {
  bytes.fill(0, 0, RING_HEADER_BYTES)
  bytes.writeUInt32LE(RING_VERSION, SLOT.VERSION * 4)
  bytes.writeUInt32LE(RING_HEADER_BYTES, SLOT.HEADER_BYTES * 4)
  bytes.writeUInt32LE(capacity, SLOT.CAPACITY * 4)
  bytes.write(RING_MAGIC, 0, 'latin1')
}

/**
 * Views over one ring's bytes: a MAP_SHARED mapping (the sink, the drain worker), or a
 * copy read from the file (recovery), in which case `persist` writes each header slot
 * stored back to the file.
 */
export class RingView {
  readonly bytes: Buffer
  readonly header: Int32Array
  readonly words: Uint32Array
  readonly capacity: number
  readonly mask: number
  /** Bytes of metadata before each record's text (SLOT.META_BYTES), fixed when the ring is claimed. */
  metaBytes: number
  /** Where readBatch gathers records, reused: a drain copies each record once and allocates nothing. */
  scratch: Buffer = Buffer.alloc(0)
  readonly #persist: ((slot: number) => void) | undefined

  constructor(buffer: ArrayBuffer, persist?: (slot: number) => void) {
    this.bytes = Buffer.from(buffer)
    this.header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4)
    this.words = new Uint32Array(buffer)
    this.capacity = this.header[SLOT.CAPACITY] as number
    this.mask = this.capacity - 1
    this.metaBytes = this.header[SLOT.META_BYTES] as number
    this.#persist = persist
  }

  load(slot: number): number {
    return Atomics.load(this.header, slot) >>> 0
  }

  store(slot: number, value: number): void {
    Atomics.store(this.header, slot, value | 0)
    this.#persist?.(slot)
  }

  get target(): string {
    return this.bytes.toString('utf8', TARGET_OFFSET_BYTES, TARGET_OFFSET_BYTES + this.load(SLOT.TARGET_BYTES))
  }

  /** Names the owner and the file the records belong to; called before anything is published. */
  claim(pid: number, target: string, format: number, metaBytes = 0): void {
    const length = Buffer.byteLength(target)
    if (length > MAX_TARGET_BYTES) throw new TypeError(`Expected \`path\` to be at most ${MAX_TARGET_BYTES} bytes for a ring, got ${length} bytes`)
    this.bytes.write(target, TARGET_OFFSET_BYTES, 'utf8')
    this.store(SLOT.TARGET_BYTES, length)
    this.store(SLOT.FORMAT, format)
    this.store(SLOT.META_BYTES, metaBytes)
    this.metaBytes = metaBytes
    this.store(SLOT.OWNER_PID, pid)
  }
}

/**
 * The producer side: one per ring, in one thread. It keeps the write index to itself
 * and publishes each record with one Atomics.store after its bytes are in place: a
 * writer killed mid-copy has published nothing, so no reader ever sees a torn record.
 */
export class RingWriter {
  readonly #view: RingView
  readonly #bytes: Buffer
  readonly #words: Uint32Array
  readonly #header: Int32Array
  readonly #capacity: number
  readonly #mask: number
  readonly #meta: number
  #write: number
  /** DRAINED as last read: the producer reads the drainer's line only when this leaves too little room. */
  #drained: number

  constructor(view: RingView) {
    this.#view = view
    this.#bytes = view.bytes
    this.#words = view.words
    this.#header = view.header
    this.#capacity = view.capacity
    this.#mask = view.mask
    this.#meta = view.metaBytes
    this.#write = view.load(SLOT.WRITE)
    this.#drained = view.load(SLOT.DRAINED)
  }

  /** Bytes published and not drained yet. */
  get used(): number {
    return (this.#write - Atomics.load(this.#header, SLOT.DRAINED)) >>> 0
  }

  get view(): RingView {
    return this.#view
  }

  /** Publishes one record; `level` and `time` are stored only in a ring whose records carry metadata. */
  publish(line: string, level = 0, time = 0): PublishResult {
    const write = this.#write
    const at = write & this.#mask
    const tail = this.#capacity - at
    const meta = this.#meta
    // Fast path: room for the longest UTF-8 the string could be (3 bytes per UTF-16 unit),
    // so the string is encoded once, straight into the ring.
    const most = line.length * 3 + FRAME_HEADER_BYTES + meta + 3
    let free = this.#capacity - ((write - this.#drained) >>> 0)
    if (most > free) {
      this.#drained = Atomics.load(this.#header, SLOT.DRAINED) >>> 0
      free = this.#capacity - ((write - this.#drained) >>> 0)
    }
    if (most <= tail && most <= free) {
      const length = meta + this.#bytes.write(line, RING_HEADER_BYTES + at + FRAME_HEADER_BYTES + meta, 'utf8')
      return this.#place(write, at, length, level, time, align4(FRAME_HEADER_BYTES + length))
    }
    const length = meta + Buffer.byteLength(line)
    const frame = align4(FRAME_HEADER_BYTES + length)
    if (frame > this.#capacity / 2) return RECORD_OVERSIZE
    this.#drained = Atomics.load(this.#header, SLOT.DRAINED) >>> 0
    free = this.#capacity - ((write - this.#drained) >>> 0)
    if (frame <= tail) {
      if (frame > free) return RING_FULL
      this.#bytes.write(line, RING_HEADER_BYTES + at + FRAME_HEADER_BYTES + meta, length - meta, 'utf8')
      return this.#place(write, at, length, level, time, frame)
    }
    // Does not fit before the end: mark the tail unused and start over at the beginning.
    // Marker and record are published by the same store.
    if (tail + frame > free) return RING_FULL
    this.#bytes.write(line, RING_HEADER_BYTES + FRAME_HEADER_BYTES + meta, length - meta, 'utf8')
    this.#words[(RING_HEADER_BYTES + at) >> 2] = WRAP_MARKER
    return this.#place(write, 0, length, level, time, tail + frame)
  }

  /** Writes the frame's length (and metadata) at `at`, then publishes `bytes` more. */
  #place(write: number, at: number, length: number, level: number, time: number, bytes: number): PublishResult {
    const offset = RING_HEADER_BYTES + at
    this.#words[offset >> 2] = length
    if (this.#meta !== 0) {
      this.#bytes[offset + FRAME_HEADER_BYTES] = level
      this.#bytes.writeDoubleLE(time, offset + FRAME_HEADER_BYTES + 1)
    }
    this.#write = (write + bytes) >>> 0
    Atomics.store(this.#header, SLOT.WRITE, this.#write | 0)
    return PUBLISHED
  }

}

/** Published records between two indices, their frames removed. */
export interface Batch {
  /** The records' bytes, in the view's scratch buffer: valid until the next readBatch of that view. */
  readonly data: Buffer
  readonly records: number
  /** The index just past the last frame taken. */
  readonly end: number
}

/**
 * Reads the records published in [from, to), up to about `maxBytes` of them (always at
 * least one). Throws RingCorruptError on a frame that cannot be.
 */
export function readBatch(view: RingView, from: number, to: number, maxBytes = Number.POSITIVE_INFINITY): Batch {
  let bytes = 0
  const meta = view.metaBytes
  const { records, end } = walkFrames(view, from, to, maxBytes, (start, length) => {
    const size = length - meta
    let scratch = view.scratch
    if (bytes + size > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * scratch.length, bytes + size, 64 * 1024))
      scratch.copy(grown, 0, 0, bytes)
      view.scratch = scratch = grown
    }
    view.bytes.copy(scratch, bytes, start + meta, start + length)
    bytes += size
  })
  return { data: view.scratch.subarray(0, bytes), records, end }
}

/** A record of a ring whose records carry metadata (a collector client's). */
export interface MetaRecord {
  readonly level: number
  /** Epoch ms. */
  readonly time: number
  /** The formatted record, newline included: a view into the ring, valid until it is drained. */
  readonly text: Buffer
}

/** Reads the records published in [from, to) of a ring with metadata, up to about `maxBytes`. */
export function readMetaRecords(view: RingView, from: number, to: number, maxBytes = Number.POSITIVE_INFINITY): { records: MetaRecord[]; end: number } {
  if (view.metaBytes !== RECORD_META_BYTES) throw new RingFormatError(`the ring has ${view.metaBytes} metadata bytes per record, not ${RECORD_META_BYTES}: it is not a collector client's ring`)
  const records: MetaRecord[] = []
  const { end } = walkFrames(view, from, to, maxBytes, (start, length) => {
    if (length < RECORD_META_BYTES) throw new RingCorruptError(`a record of ${length} bytes is shorter than its metadata`)
    records.push({ level: view.bytes[start] as number, time: view.bytes.readDoubleLE(start + 1), text: view.bytes.subarray(start + RECORD_META_BYTES, start + length) })
  })
  return { records, end }
}

/**
 * Visits the frames published in [from, to) (each as the byte offset of its payload and
 * its length) until about `maxBytes` of payload; returns how many and the index after the
 * last. Throws RingCorruptError on a frame that cannot be.
 */
function walkFrames(view: RingView, from: number, to: number, maxBytes: number, visit: (start: number, length: number) => void): { records: number; end: number } {
  // A damaged header could claim up to 4 GiB published: that many frames to walk.
  if (((to - from) >>> 0) > view.capacity) throw new RingCorruptError(`${(to - from) >>> 0} bytes published past the drained index, more than the ring's ${view.capacity}`)
  let bytes = 0
  let records = 0
  let at = from
  while (at !== to && bytes < maxBytes) {
    const offset = at & view.mask
    const length = view.words[(RING_HEADER_BYTES + offset) >> 2] as number
    const left = (to - at) >>> 0
    if (length === WRAP_MARKER) {
      const tail = view.capacity - offset
      if (tail > left) throw new RingCorruptError(`wrap marker at index ${at} runs past the published bytes`)
      at = (at + tail) >>> 0
      continue
    }
    // Checked before the frame is rounded up: a damaged length near 2³² would round to a negative int32.
    const frame = length <= left ? align4(FRAME_HEADER_BYTES + length) : Number.POSITIVE_INFINITY
    if (frame > left || offset + frame > view.capacity) {
      throw new RingCorruptError(`record of ${length} bytes at index ${at} runs past the published bytes (${left} left)`)
    }
    visit(RING_HEADER_BYTES + offset + FRAME_HEADER_BYTES, length)
    bytes += length
    records++
    at = (at + frame) >>> 0
  }
  return { records, end: at }
}

/** Where a drain writes: the target file's size now, and a complete write(2) of data. */
export interface DrainTarget {
  size(): number
  write(data: Buffer): void
}

/** Most bytes one drain step writes with one write(2). */
export const DRAIN_BATCH_BYTES = 1024 * 1024

/**
 * Moves one batch of published records to `target`; returns the records moved (0 when
 * there were none). The caller holds the drain lock. Before the write, the header notes
 * the file size and the batch (PENDING); the drained index moves only after write(2) has
 * returned. A kill between the two leaves PENDING set, and recovery looks in the file to
 * decide whether the batch got there: nothing is written twice or lost.
 */
export function drainStep(view: RingView, target: DrainTarget, maxBytes = DRAIN_BATCH_BYTES): number {
  const from = view.load(SLOT.DRAINED)
  const to = view.load(SLOT.WRITE)
  if (from === to) return 0
  const batch = readBatch(view, from, to, maxBytes)
  if (batch.records > 0) {
    const size = target.size()
    view.store(SLOT.PENDING_END, batch.end)
    view.store(SLOT.PENDING_BYTES, batch.data.length)
    view.store(SLOT.PENDING_SIZE_LOW, size % 2 ** 32)
    view.store(SLOT.PENDING_SIZE_HIGH, Math.floor(size / 2 ** 32))
    view.store(SLOT.PENDING, PENDING_SET)
    target.write(batch.data)
  }
  view.store(SLOT.DRAINED, batch.end)
  view.store(SLOT.PENDING, PENDING_CLEAR)
  return batch.records
}

/** Drains everything published so far; returns the records moved. The caller is the producer's own thread, or no producer is left. */
export function drainAll(view: RingView, target: DrainTarget): number {
  let records = 0
  while (view.load(SLOT.DRAINED) !== view.load(SLOT.WRITE)) records += drainStep(view, target)
  return records
}
