import { crc32 } from 'node:zlib'

/**
 * Wire frames between clients and the collector (docs/protocol.md):
 *
 *   magic u16 'BB' | version u8 | type u8 | length u32 (payload bytes) | crc32 u32 | payload
 *
 * The CRC-32 covers the version, type and length bytes, then the payload: a type byte
 * turned into another valid type is caught like a damaged payload.
 * All integers big-endian. A frame whose magic, version, type, length or checksum is wrong
 * is a protocol error: the connection that sent it is closed, nothing else.
 */
export const FRAME_MAGIC = 0x4242
export const PROTOCOL_VERSION = 1
export const HEADER_BYTES = 12
/** The largest payload accepted, unless a peer is configured otherwise. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024

/** The closed set of message types. */
export const FrameType = {
  HELLO: 1,
  LOGS: 2,
  HEARTBEAT: 3,
  ACK: 4,
  BYE: 5,
  /** Collector to client: whether it drains the ring the HELLO named. */
  RING: 6,
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]

const TYPES: ReadonlySet<number> = new Set(Object.values(FrameType))

export interface Frame {
  type: FrameType
  payload: Buffer
}

/** Why a connection was closed; `code` is one of a closed set. */
export class ProtocolError extends Error {
  constructor(
    readonly code: 'BAD_MAGIC' | 'BAD_VERSION' | 'BAD_TYPE' | 'OVERSIZE' | 'BAD_CHECKSUM' | 'TRUNCATED' | 'BAD_PAYLOAD' | 'BAD_SEQUENCE',
    message: string,
  ) {
    super(message)
    this.name = 'ProtocolError'
  }
}

/** The checksum of a frame: over its version, type and length bytes, then its payload. */
export function frameChecksum(header: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(header.subarray(2, 8)))
}

/** One frame's bytes. */
export function encodeFrame(type: FrameType, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
  frame.writeUInt16BE(FRAME_MAGIC, 0)
  frame.writeUInt8(PROTOCOL_VERSION, 2)
  frame.writeUInt8(type, 3)
  frame.writeUInt32BE(payload.length, 4)
  frame.writeUInt32BE(frameChecksum(frame, payload), 8)
  payload.copy(frame, HEADER_BYTES)
  return frame
}

export interface FrameDecoderOptions {
  /**
   * The largest payload of the first frame of the stream, when it must be smaller than the
   * others: the collector takes little before a HELLO has said who is talking.
   */
  firstMaxPayload?: number
  /**
   * Whether the chunks pushed are the decoder's to keep (default false: it copies what it
   * keeps, as the caller may reuse its chunk's memory). A socket's 'data' chunks are fresh
   * buffers: kept as they are, what the decoder holds is what has arrived, and no more.
   */
  ownsChunks?: boolean
}

/**
 * Splits a byte stream into frames, whatever the chunking. Throws `ProtocolError` on the
 * first bad frame; after that the decoder is done (the connection is to be closed).
 *
 * The bytes of a frame not yet whole are kept as the chunks they came in, and joined once
 * the frame is complete: each byte is copied a bounded number of times, and what the
 * decoder holds is what has arrived (a header announcing 8 MiB costs nothing until they come).
 */
export class FrameDecoder {
  #chunks: Buffer[] = []
  #buffered = 0
  /** Bytes of the frame at the head of what is kept (header and payload), once its header was checked. */
  #frameBytes: number | undefined
  #decoded = 0
  #failed = false
  // An error found after whole frames in the same push: those frames are returned first,
  // the error is thrown by the next call, so the chunking never changes what is delivered.
  #deferred: ProtocolError | undefined
  readonly #firstMaxPayload: number
  readonly #ownsChunks: boolean

  constructor(private readonly maxPayload = MAX_PAYLOAD_BYTES, options: FrameDecoderOptions = {}) {
    this.#firstMaxPayload = options.firstMaxPayload ?? maxPayload
    this.#ownsChunks = options.ownsChunks ?? false
  }

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.#buffered
  }

  /** Every whole frame in what has arrived so far. */
  push(chunk: Buffer): Frame[] {
    this.#throwDeferred()
    if (this.#failed) throw new ProtocolError('BAD_PAYLOAD', 'the decoder already failed on this connection')
    if (chunk.length === 0) return []
    const total = this.#buffered + chunk.length
    try {
      // A header completed by this chunk is checked now: an oversize frame is refused before its payload comes.
      if (this.#frameBytes === undefined && total >= HEADER_BYTES) {
        const head = this.#buffered === 0 ? chunk : Buffer.concat([...this.#chunks, chunk.subarray(0, HEADER_BYTES - this.#buffered)])
        this.#frameBytes = HEADER_BYTES + this.#header(head, 0).length
      }
    } catch (error) {
      this.#fail()
      throw error
    }
    if (this.#frameBytes === undefined || total < this.#frameBytes) {
      this.#chunks.push(this.#ownsChunks ? chunk : Buffer.from(chunk))
      this.#buffered = total
      return []
    }
    const bytes = this.#buffered === 0 ? chunk : Buffer.concat([...this.#chunks, chunk], total)
    this.#chunks = []
    this.#buffered = 0
    this.#frameBytes = undefined
    const frames: Frame[] = []
    let offset = 0
    try {
      while (bytes.length - offset >= HEADER_BYTES) {
        const frame = this.#header(bytes, offset)
        const end = offset + HEADER_BYTES + frame.length
        if (bytes.length < end) {
          this.#frameBytes = HEADER_BYTES + frame.length
          break
        }
        const payload = bytes.subarray(offset + HEADER_BYTES, end)
        if (frameChecksum(bytes.subarray(offset), payload) !== frame.checksum) throw new ProtocolError('BAD_CHECKSUM', `checksum mismatch in a frame of type ${frame.type}`)
        frames.push({ type: frame.type, payload: Buffer.from(payload) })
        this.#decoded++
        offset = end
      }
    } catch (error) {
      this.#fail()
      if (frames.length === 0) throw error
      this.#deferred = error as ProtocolError
      return frames
    }
    if (offset < bytes.length) {
      // A copy of the rest only: a view would keep the whole of `bytes` alive.
      this.#chunks = [Buffer.from(bytes.subarray(offset))]
      this.#buffered = bytes.length - offset
    }
    return frames
  }

  #fail(): void {
    this.#failed = true
    this.#chunks = []
    this.#buffered = 0
    this.#frameBytes = undefined
  }

  #throwDeferred(): void {
    const deferred = this.#deferred
    if (deferred === undefined) return
    this.#deferred = undefined
    throw deferred
  }

  /** Forgets everything: for a new connection. */
  reset(): void {
    this.#chunks = []
    this.#buffered = 0
    this.#frameBytes = undefined
    this.#decoded = 0
    this.#failed = false
    this.#deferred = undefined
  }

  /** Call at end of stream: a partial frame left over is a truncated frame. */
  end(): void {
    this.#throwDeferred()
    if (this.#buffered > 0 && !this.#failed) {
      const left = this.#buffered
      this.#fail()
      throw new ProtocolError('TRUNCATED', `the connection ended inside a frame (${left} bytes left)`)
    }
  }

  #header(bytes: Buffer, offset: number): { type: FrameType; length: number; checksum: number } {
    const magic = bytes.readUInt16BE(offset)
    if (magic !== FRAME_MAGIC) throw new ProtocolError('BAD_MAGIC', `bad magic 0x${magic.toString(16).padStart(4, '0')}`)
    const version = bytes.readUInt8(offset + 2)
    if (version !== PROTOCOL_VERSION) throw new ProtocolError('BAD_VERSION', `protocol version ${version}, expected ${PROTOCOL_VERSION}`)
    const type = bytes.readUInt8(offset + 3)
    if (!TYPES.has(type)) throw new ProtocolError('BAD_TYPE', `unknown frame type ${type}`)
    const length = bytes.readUInt32BE(offset + 4)
    const limit = this.#decoded === 0 ? this.#firstMaxPayload : this.maxPayload
    if (length > limit) throw new ProtocolError('OVERSIZE', `a ${this.#decoded === 0 && limit !== this.maxPayload ? 'first ' : ''}frame of ${length} bytes is over the limit of ${limit}`)
    return { type: type as FrameType, length, checksum: bytes.readUInt32BE(offset + 8) }
  }
}
