// A protobuf reader for the tests, written apart from the sink's writer (and from its
// response reader), that decodes an ExportLogsServiceRequest into the shape of its OTLP/JSON
// encoding: lowerCamelCase names, int64 and fixed64 as decimal strings, ids as hex. One set
// of assertions then checks both encodings. It is strict: an unknown field, a wrong wire
// type, an AnyValue with two values or a string that is not UTF-8 is an error, since the
// sink must send nothing a receiver could misread.
// Field numbers: opentelemetry-proto, collector/logs/v1/logs_service.proto and what it imports.

/** What JSON.parse gives. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const utf8 = new TextDecoder('utf-8', { fatal: true })

type Field =
  | { field: number; wire: 0; varint: bigint }
  | { field: number; wire: 1; bytes: Buffer }
  | { field: number; wire: 2; bytes: Buffer }
  | { field: number; wire: 5; bytes: Buffer }

function readFields(bytes: Buffer): Field[] {
  const fields: Field[] = []
  let at = 0
  const varint = (): bigint => {
    let result = 0n
    for (let i = 0; i < 10; i++) {
      if (at >= bytes.length) throw new Error('truncated varint')
      const byte = bytes[at++] as number
      result += BigInt(byte & 0x7f) << BigInt(7 * i)
      if ((byte & 0x80) === 0) return result
    }
    throw new Error('varint longer than 10 bytes')
  }
  const take = (size: number): Buffer => {
    if (at + size > bytes.length) throw new Error(`field of ${size} bytes runs past the end`)
    const out = bytes.subarray(at, at + size)
    at += size
    return out
  }
  while (at < bytes.length) {
    const key = Number(varint())
    const field = key >>> 3
    const wire = key & 7
    if (field === 0) throw new Error('field number 0')
    if (wire === 0) fields.push({ field, wire, varint: varint() })
    else if (wire === 1) fields.push({ field, wire, bytes: take(8) })
    else if (wire === 2) fields.push({ field, wire, bytes: take(Number(varint())) })
    else if (wire === 5) fields.push({ field, wire, bytes: take(4) })
    else throw new Error(`wire type ${wire}`)
  }
  return fields
}

function expectWire(message: string, field: Field, wire: number): void {
  if (field.wire !== wire) throw new Error(`${message}.${field.field}: wire type ${field.wire}, expected ${wire}`)
}

function bytesOf(message: string, field: Field): Buffer {
  expectWire(message, field, 2)
  return (field as { bytes: Buffer }).bytes
}

function fixedOf(message: string, field: Field, wire: 1 | 5): Buffer {
  expectWire(message, field, wire)
  return (field as { bytes: Buffer }).bytes
}

function stringOf(message: string, field: Field): string {
  return utf8.decode(bytesOf(message, field))
}

function varintOf(message: string, field: Field): bigint {
  expectWire(message, field, 0)
  return (field as { varint: bigint }).varint
}

function unknown(message: string, field: Field): never {
  throw new Error(`${message}: unexpected field ${field.field}`)
}

export function decodeAnyValue(bytes: Buffer): { [key: string]: Json } {
  const fields = readFields(bytes)
  if (fields.length > 1) throw new Error(`AnyValue with ${fields.length} values set`)
  const field = fields[0]
  if (field === undefined) return {}
  switch (field.field) {
    case 1:
      return { stringValue: stringOf('AnyValue', field) }
    case 2: {
      const value = varintOf('AnyValue', field)
      if (value > 1n) throw new Error(`bool_value ${value}`)
      return { boolValue: value === 1n }
    }
    case 3:
      return { intValue: String(BigInt.asIntN(64, varintOf('AnyValue', field))) }
    case 4: {
      const value = fixedOf('AnyValue', field, 1).readDoubleLE(0)
      return { doubleValue: Number.isFinite(value) ? value : String(value) }
    }
    case 5:
      return { arrayValue: { values: readFields(bytesOf('ArrayValue', field)).map((item) => (item.field === 1 ? decodeAnyValue(bytesOf('ArrayValue', item)) : unknown('ArrayValue', item))) } }
    case 6:
      return { kvlistValue: { values: readFields(bytesOf('KeyValueList', field)).map((item) => (item.field === 1 ? decodeKeyValue(bytesOf('KeyValueList', item)) : unknown('KeyValueList', item))) } }
    default:
      return unknown('AnyValue', field)
  }
}

function decodeKeyValue(bytes: Buffer): { [key: string]: Json } {
  let key: string | undefined
  let value: { [key: string]: Json } = {}
  for (const field of readFields(bytes)) {
    if (field.field === 1) key = stringOf('KeyValue', field)
    else if (field.field === 2) value = decodeAnyValue(bytesOf('KeyValue', field))
    else unknown('KeyValue', field)
  }
  return { key: key ?? '', value }
}

function decodeLogRecord(bytes: Buffer): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  const attributes: Json[] = []
  for (const field of readFields(bytes)) {
    switch (field.field) {
      case 1:
      case 11:
        out[field.field === 1 ? 'timeUnixNano' : 'observedTimeUnixNano'] = String(fixedOf('LogRecord', field, 1).readBigUInt64LE(0))
        break
      case 2:
        out['severityNumber'] = Number(varintOf('LogRecord', field))
        break
      case 3:
        out['severityText'] = stringOf('LogRecord', field)
        break
      case 5:
        out['body'] = decodeAnyValue(bytesOf('LogRecord', field))
        break
      case 6:
        attributes.push(decodeKeyValue(bytesOf('LogRecord', field)))
        break
      case 8:
        out['flags'] = fixedOf('LogRecord', field, 5).readUInt32LE(0)
        break
      case 9:
        out['traceId'] = bytesOf('LogRecord', field).toString('hex')
        break
      case 10:
        out['spanId'] = bytesOf('LogRecord', field).toString('hex')
        break
      default:
        unknown('LogRecord', field)
    }
  }
  out['attributes'] = attributes
  return out
}

function decodeResource(bytes: Buffer): { [key: string]: Json } {
  return { attributes: readFields(bytes).map((field) => (field.field === 1 ? decodeKeyValue(bytesOf('Resource', field)) : unknown('Resource', field))) }
}

function decodeScope(bytes: Buffer): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  for (const field of readFields(bytes)) {
    if (field.field === 1) out['name'] = stringOf('InstrumentationScope', field)
    else if (field.field === 2) out['version'] = stringOf('InstrumentationScope', field)
    else unknown('InstrumentationScope', field)
  }
  return out
}

function decodeScopeLogs(bytes: Buffer): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  const logRecords: Json[] = []
  for (const field of readFields(bytes)) {
    if (field.field === 1) out['scope'] = decodeScope(bytesOf('ScopeLogs', field))
    else if (field.field === 2) logRecords.push(decodeLogRecord(bytesOf('ScopeLogs', field)))
    else unknown('ScopeLogs', field)
  }
  out['logRecords'] = logRecords
  return out
}

function decodeResourceLogs(bytes: Buffer): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  const scopeLogs: Json[] = []
  for (const field of readFields(bytes)) {
    if (field.field === 1) out['resource'] = decodeResource(bytesOf('ResourceLogs', field))
    else if (field.field === 2) scopeLogs.push(decodeScopeLogs(bytesOf('ResourceLogs', field)))
    else unknown('ResourceLogs', field)
  }
  out['scopeLogs'] = scopeLogs
  return out
}

/** An ExportLogsServiceRequest in binary protobuf, as the OTLP/JSON encoding would read. */
export function decodeExportLogsRequest(bytes: Buffer): { [key: string]: Json } {
  return { resourceLogs: readFields(bytes).map((field) => (field.field === 1 ? decodeResourceLogs(bytesOf('ExportLogsServiceRequest', field)) : unknown('ExportLogsServiceRequest', field))) }
}

/** An ExportLogsServiceResponse with a partial success, in binary protobuf, written by hand for the receiver to answer with. */
export function partialSuccessProtobuf(rejected: number, message: string): Buffer {
  const text = Buffer.from(message)
  const inner = Buffer.concat([Buffer.from([0x08, rejected]), Buffer.from([0x12, text.length]), text])
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner])
}

/** A google.rpc.Status { code, message } in binary protobuf (short values only). */
export function statusProtobuf(code: number, message: string): Buffer {
  const text = Buffer.from(message)
  return Buffer.concat([Buffer.from([0x08, code, 0x12, text.length]), text])
}

/**
 * The plain value an OTLP/JSON AnyValue stands for, checking that it is valid: exactly one
 * of the known value fields (or none, for null), intValue a decimal string of a safe
 * integer, keys of a kvlist unique.
 */
export function fromAnyValue(value: Json): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`AnyValue is not an object: ${JSON.stringify(value)}`)
  const keys = Object.keys(value)
  if (keys.length === 0) return null
  if (keys.length > 1) throw new Error(`AnyValue with ${keys.join(', ')}`)
  const [kind] = keys as [string]
  const inner = value[kind] as Json
  switch (kind) {
    case 'stringValue':
      if (typeof inner !== 'string') throw new Error('stringValue is not a string')
      return inner
    case 'boolValue':
      if (typeof inner !== 'boolean') throw new Error('boolValue is not a boolean')
      return inner
    case 'intValue': {
      if (typeof inner !== 'string' || !/^-?\d+$/.test(inner)) throw new Error(`intValue ${JSON.stringify(inner)} is not a decimal string`)
      const number = Number(inner)
      if (!Number.isSafeInteger(number)) throw new Error(`intValue ${inner} is past 2^53`)
      return number
    }
    case 'doubleValue':
      if (typeof inner !== 'number') throw new Error(`doubleValue ${JSON.stringify(inner)} is not a number`)
      return inner
    case 'arrayValue':
      return listOf(inner).map(fromAnyValue)
    case 'kvlistValue':
      return attributesObject(listOf(inner))
    default:
      throw new Error(`AnyValue with unknown field ${kind}`)
  }
}

function listOf(value: Json): Json[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('list value is not an object')
  const values = value['values'] ?? []
  if (!Array.isArray(values)) throw new Error('values is not an array')
  return values
}

/** A list of OTLP/JSON KeyValues as an object; keys must be unique. */
export function attributesObject(keyValues: Json): { [key: string]: Json } {
  if (!Array.isArray(keyValues)) throw new Error('attributes are not an array')
  const entries = keyValues.map((keyValue): [string, Json] => {
    if (keyValue === null || typeof keyValue !== 'object' || Array.isArray(keyValue) || typeof keyValue['key'] !== 'string') throw new Error(`bad KeyValue ${JSON.stringify(keyValue)}`)
    return [keyValue['key'], fromAnyValue(keyValue['value'] ?? {})]
  })
  const keys = new Set(entries.map(([key]) => key))
  if (keys.size !== entries.length) throw new Error(`duplicate keys in ${JSON.stringify(entries.map(([key]) => key))}`)
  return Object.fromEntries(entries)
}
