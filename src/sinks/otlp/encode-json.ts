import type { Plain } from '../../core/serialize.js'
import { visitAnyValue, wellFormed, type AnyValueVisitor } from './any-value.js'
import { SCOPE_NAME, type OtlpEncoder } from './encoding.js'
import type { OtlpLogRecord } from './log-record.js'

type JsonAnyValue = { readonly [key: string]: unknown }

interface JsonKeyValue {
  readonly key: string
  readonly value: JsonAnyValue
}

/**
 * The proto3 JSON mapping of AnyValue, as OTLP/JSON takes it: lowerCamelCase names,
 * int64 as a decimal string, a double that is not finite as "NaN"/"Infinity"/"-Infinity".
 */
const JSON_ANY_VALUE: AnyValueVisitor<JsonAnyValue> = {
  string: (value) => ({ stringValue: wellFormed(value) }),
  bool: (value) => ({ boolValue: value }),
  int: (value) => ({ intValue: String(value) }),
  double: (value) => ({ doubleValue: Number.isFinite(value) ? value : String(value) }),
  array: (values) => ({ arrayValue: { values: values.map(jsonAnyValue) } }),
  kvlist: (entries) => ({ kvlistValue: { values: entries.map(([key, value]) => keyValue(key, value)) } }),
  empty: () => ({}),
}

function jsonAnyValue(value: Plain): JsonAnyValue {
  return visitAnyValue(value, JSON_ANY_VALUE)
}

function keyValue(key: string, value: Plain): JsonKeyValue {
  return { key: wellFormed(key), value: jsonAnyValue(value) }
}

function attributes(map: ReadonlyMap<string, Plain>): JsonKeyValue[] {
  const out: JsonKeyValue[] = []
  for (const [key, value] of map) out.push(keyValue(key, value))
  return out
}

/**
 * OTLP/JSON (OTLP spec, "JSON Protobuf Encoding"): the proto3 JSON mapping with trace and
 * span ids as hex strings, enums as numbers, 64-bit integers as decimal strings.
 */
export function jsonEncoder(resource: ReadonlyMap<string, Plain>): OtlpEncoder {
  const head = `{"resourceLogs":[{"resource":${JSON.stringify({ attributes: attributes(resource) })},"scopeLogs":[{"scope":${JSON.stringify({ name: SCOPE_NAME })},"logRecords":[`
  const tail = ']}]}]}'
  const headBytes = Buffer.from(head)
  const tailBytes = Buffer.from(tail)
  const comma = Buffer.from(',')
  return {
    encoding: 'json',
    contentType: 'application/json',
    overheadPerRecord: 1,
    record(record: OtlpLogRecord): Buffer {
      const { trace } = record
      const json = {
        timeUnixNano: String(record.timeUnixNano),
        observedTimeUnixNano: String(record.observedTimeUnixNano),
        severityNumber: record.severity.number,
        severityText: record.severity.text,
        body: { stringValue: wellFormed(record.body) },
        attributes: attributes(record.attributes),
        ...(trace?.flags === undefined ? {} : { flags: trace.flags }),
        ...(trace === undefined ? {} : { traceId: trace.traceId }),
        ...(trace?.spanId === undefined ? {} : { spanId: trace.spanId }),
      }
      return Buffer.from(JSON.stringify(json))
    },
    request(records: readonly Uint8Array[]): Buffer {
      const parts: Uint8Array[] = [headBytes]
      records.forEach((record, index) => {
        if (index > 0) parts.push(comma)
        parts.push(record)
      })
      parts.push(tailBytes)
      return Buffer.concat(parts)
    },
  }
}
