import { WIRE } from './proto-writer.js'

/** One field of a protobuf message: a varint's value, or the bytes of a length-delimited field. */
export type ProtoField =
  | { readonly field: number; readonly wireType: typeof WIRE.VARINT; readonly value: bigint }
  | { readonly field: number; readonly wireType: typeof WIRE.LEN; readonly bytes: Uint8Array }
  | { readonly field: number; readonly wireType: typeof WIRE.FIXED64 | typeof WIRE.FIXED32 }

/** A message that does not follow the wire format; a server's answer is not trusted to. */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError'
}

/**
 * The fields of one message, in order, for reading a server's answer (an
 * ExportLogsServiceResponse or a google.rpc.Status). Fixed-size values are skipped, as
 * these messages hold none; groups (wire types 3 and 4, deprecated) are an error.
 */
export function* protoFields(bytes: Uint8Array): Generator<ProtoField> {
  let at = 0
  const varint = (): bigint => {
    let value = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = bytes[at++]
      if (byte === undefined) throw new ProtoDecodeError('a varint runs past the end')
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }
    throw new ProtoDecodeError('a varint is longer than ten bytes')
  }
  while (at < bytes.length) {
    const key = varint()
    const field = Number(key >> 3n)
    const wireType = Number(key & 7n)
    switch (wireType) {
      case WIRE.VARINT:
        yield { field, wireType, value: varint() }
        break
      case WIRE.LEN: {
        const size = Number(varint())
        if (at + size > bytes.length) throw new ProtoDecodeError(`field ${field} claims ${size} bytes, past the end`)
        yield { field, wireType, bytes: bytes.subarray(at, at + size) }
        at += size
        break
      }
      case WIRE.FIXED64:
      case WIRE.FIXED32:
        at += wireType === WIRE.FIXED64 ? 8 : 4
        if (at > bytes.length) throw new ProtoDecodeError(`field ${field} runs past the end`)
        yield { field, wireType }
        break
      default:
        throw new ProtoDecodeError(`field ${field} has wire type ${wireType}, which no OTLP message uses`)
    }
  }
}
