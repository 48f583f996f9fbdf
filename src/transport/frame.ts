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

/**
 * Splits a byte stream into frames, whatever the chunking. Throws `ProtocolError` on the
 * first bad frame; after that the decoder is done (the connection is to be closed).
 */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0)
  #failed = false
  // An error found after whole frames in the same push: those frames are returned first,
  // the error is thrown by the next call, so the chunking never changes what is delivered.
  #deferred: ProtocolError | undefined

  constructor(private readonly maxPayload = MAX_PAYLOAD_BYTES) {}

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.#pending.length
  }

  /** Every whole frame in what has arrived so far. */
  push(chunk: Buffer): Frame[] {
    this.#throwDeferred()
    if (this.#failed) throw new ProtocolError('BAD_PAYLOAD', 'the decoder already failed on this connection')
    const bytes = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const frames: Frame[] = []
    let offset = 0
    try {
      while (bytes.length - offset >= HEADER_BYTES) {
        const frame = this.#header(bytes, offset)
        const end = offset + HEADER_BYTES + frame.length
        if (bytes.length < end) break
        const payload = bytes.subarray(offset + HEADER_BYTES, end)
        if (frameChecksum(bytes.subarray(offset), payload) !== frame.checksum) throw new ProtocolError('BAD_CHECKSUM', `checksum mismatch in a frame of type ${frame.type}`)
        frames.push({ type: frame.type, payload: Buffer.from(payload) })
        offset = end
      }
    } catch (error) {
      this.#failed = true
      this.#pending = Buffer.alloc(0)
      if (frames.length === 0) throw error
      this.#deferred = error as ProtocolError
      return frames
    }
    // Kept as a copy: the caller may reuse its chunk's memory.
    this.#pending = offset === bytes.length ? Buffer.alloc(0) : Buffer.from(bytes.subarray(offset))
    return frames
  }

  #throwDeferred(): void {
    const deferred = this.#deferred
    if (deferred === undefined) return
    this.#deferred = undefined
    throw deferred
  }

  /** Forgets everything: for a new connection. */
  reset(): void {
    this.#pending = Buffer.alloc(0)
    this.#failed = false
    this.#deferred = undefined
  }

  /** Call at end of stream: a partial frame left over is a truncated frame. */
  end(): void {
    this.#throwDeferred()
    if (this.#pending.length > 0 && !this.#failed) {
      this.#failed = true
      throw new ProtocolError('TRUNCATED', `the connection ended inside a frame (${this.#pending.length} bytes left)`)
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
    if (length > this.maxPayload) throw new ProtocolError('OVERSIZE', `a frame of ${length} bytes is over the limit of ${this.maxPayload}`)
    return { type: type as FrameType, length, checksum: bytes.readUInt32BE(offset + 8) }
  }
}
