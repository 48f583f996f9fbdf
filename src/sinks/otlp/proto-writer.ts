/**
 * The few protobuf wire-format primitives the OTLP messages need
 * (https://protobuf.dev/programming-guides/encoding/), written into one growing buffer.
 * A nested message reserves one byte for its length and moves its content when the length
 * needs more: most nested messages here (a KeyValue, an AnyValue) are under 128 bytes.
 */

/** Wire types used by the OTLP messages. */
export const WIRE = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const

const INITIAL_BYTES = 256

/** Bytes a varint of `value` takes (a non-negative safe integer). */
export function varintSize(value: number): number {
  let size = 1
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++
  return size
}

export class ProtoWriter {
  #buffer: Buffer
  #length = 0

  constructor(initialBytes = INITIAL_BYTES) {
    this.#buffer = Buffer.allocUnsafe(initialBytes)
  }

  /** Varint `int64`/`uint32`/enum field; for a oneof member even when 0 (its presence is the value). */
  varintField(field: number, value: number): void {
    this.#tag(field, WIRE.VARINT)
    this.#varint(value)
  }

  /** `int64` field of any safe integer: a negative one is its 64-bit two's complement, ten bytes. */
  int64Field(field: number, value: number): void {
    this.#tag(field, WIRE.VARINT)
    if (value >= 0) this.#varint(value)
    else this.#bigVarint(BigInt.asUintN(64, BigInt(value)))
  }

  boolField(field: number, value: boolean): void {
    this.varintField(field, value ? 1 : 0)
  }

  doubleField(field: number, value: number): void {
    this.#tag(field, WIRE.FIXED64)
    this.#reserve(8)
    this.#buffer.writeDoubleLE(value, this.#length)
    this.#length += 8
  }

  fixed64Field(field: number, value: bigint): void {
    this.#tag(field, WIRE.FIXED64)
    this.#reserve(8)
    this.#buffer.writeBigUInt64LE(value, this.#length)
    this.#length += 8
  }

  fixed32Field(field: number, value: number): void {
    this.#tag(field, WIRE.FIXED32)
    this.#reserve(4)
    this.#buffer.writeUInt32LE(value >>> 0, this.#length)
    this.#length += 4
  }

  /** A string field. Lone surrogates become U+FFFD, as proto3 strings must be valid UTF-8. */
  stringField(field: number, value: string): void {
    this.#tag(field, WIRE.LEN)
    // Short ASCII (keys, most values) is copied here: two native calls per string cost more.
    if (value.length < 0x80) {
      this.#reserve(1 + value.length)
      const buffer = this.#buffer
      const start = this.#length + 1
      let index = 0
      for (; index < value.length; index++) {
        const code = value.charCodeAt(index)
        if (code >= 0x80) break
        buffer[start + index] = code
      }
      if (index === value.length) {
        buffer[this.#length] = value.length
        this.#length = start + value.length
        return
      }
    }
    const size = Buffer.byteLength(value, 'utf8')
    this.#varint(size)
    this.#reserve(size)
    this.#length += this.#buffer.write(value, this.#length, size, 'utf8')
  }

  bytesField(field: number, value: Uint8Array): void {
    this.#tag(field, WIRE.LEN)
    this.#varint(value.length)
    this.raw(value)
  }

  /** Bytes already encoded (a field or several), copied as they are. */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length)
    this.#buffer.set(bytes, this.#length)
    this.#length += bytes.length
  }

  /** The tag and length of a length-delimited field whose `size` bytes of content the caller writes next. */
  lengthPrefix(field: number, size: number): void {
    this.#tag(field, WIRE.LEN)
    this.#varint(size)
  }

  /**
   * Starts a nested message field: what is written until `endMessage()` with the position
   * returned here is its content. One byte is reserved for the length, moved over when the
   * length needs more (a pair of calls rather than a callback: no closure per field).
   */
  beginMessage(field: number): number {
    this.#tag(field, WIRE.LEN)
    const lengthAt = this.#length
    this.#reserve(1)
    this.#length += 1
    return lengthAt
  }

  endMessage(lengthAt: number): void {
    const size = this.#length - lengthAt - 1
    const extra = varintSize(size) - 1
    if (extra > 0) {
      this.#reserve(extra)
      this.#buffer.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.#length)
      this.#length += extra
    }
    let at = lengthAt
    let rest = size
    while (rest >= 0x80) {
      this.#buffer[at++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.#buffer[at] = rest
  }

  /** Starts again from empty, keeping the buffer. */
  reset(): void {
    this.#length = 0
  }

  /** A copy of what was written, sized to fit. */
  finish(): Buffer {
    return Buffer.from(this.#buffer.subarray(0, this.#length))
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType)
  }

  #varint(value: number): void {
    this.#reserve(10)
    let rest = value
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.#buffer[this.#length++] = rest
  }

  #bigVarint(value: bigint): void {
    this.#reserve(10)
    let rest = value
    while (rest >= 0x80n) {
      this.#buffer[this.#length++] = Number(rest & 0x7fn) | 0x80
      rest >>= 7n
    }
    this.#buffer[this.#length++] = Number(rest)
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes
    if (needed <= this.#buffer.length) return
    let size = this.#buffer.length * 2
    while (size < needed) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.#buffer.copy(grown, 0, 0, this.#length)
    this.#buffer = grown
  }
}
