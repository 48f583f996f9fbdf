import type { Plain } from '../../core/serialize.js'
import { visitAnyValue, type AnyValueVisitor } from './any-value.js'
import { SCOPE_NAME, type OtlpEncoder } from './encoding.js'
import type { OtlpLogRecord } from './log-record.js'
import { ProtoWriter, varintSize } from './proto-writer.js'

/**
 * Field numbers from opentelemetry-proto (common/v1/common.proto, resource/v1/resource.proto,
 * logs/v1/logs.proto, collector/logs/v1/logs_service.proto). Only what this sink sends.
 */
const FIELD = {
  anyValue: { string: 1, bool: 2, int: 3, double: 4, array: 5, kvlist: 6 },
  /** ArrayValue.values and KeyValueList.values. */
  listValues: 1,
  keyValue: { key: 1, value: 2 },
  resource: { attributes: 1 },
  scope: { name: 1 },
  logRecord: { timeUnixNano: 1, severityNumber: 2, severityText: 3, body: 5, attributes: 6, flags: 8, traceId: 9, spanId: 10, observedTimeUnixNano: 11 },
  scopeLogs: { scope: 1, logRecords: 2 },
  resourceLogs: { resource: 1, scopeLogs: 2 },
  request: { resourceLogs: 1 },
} as const

/**
 * Writes records into one writer, kept for the sink's life: a record is encoded on the log
 * call's path, which must not allocate more than the bytes it keeps.
 */
class RecordWriter {
  readonly writer = new ProtoWriter()
  /** Writes an AnyValue's one field (a oneof: written even when 0, false or empty, since its presence is the value). */
  readonly #anyValue: AnyValueVisitor<void>

  constructor() {
    const writer = this.writer
    this.#anyValue = {
      string: (value) => writer.stringField(FIELD.anyValue.string, value),
      bool: (value) => writer.boolField(FIELD.anyValue.bool, value),
      int: (value) => writer.int64Field(FIELD.anyValue.int, value),
      double: (value) => writer.doubleField(FIELD.anyValue.double, value),
      array: (values) => {
        const array = writer.beginMessage(FIELD.anyValue.array)
        for (const value of values) {
          const item = writer.beginMessage(FIELD.listValues)
          visitAnyValue(value, this.#anyValue)
          writer.endMessage(item)
        }
        writer.endMessage(array)
      },
      kvlist: (entries) => {
        const list = writer.beginMessage(FIELD.anyValue.kvlist)
        for (const [key, value] of entries) this.keyValue(FIELD.listValues, key, value)
        writer.endMessage(list)
      },
      empty: () => {},
    }
  }

  /** A KeyValue message as field `field`. */
  keyValue(field: number, key: string, value: Plain): void {
    const at = this.writer.beginMessage(field)
    this.writer.stringField(FIELD.keyValue.key, key)
    const valueAt = this.writer.beginMessage(FIELD.keyValue.value)
    visitAnyValue(value, this.#anyValue)
    this.writer.endMessage(valueAt)
    this.writer.endMessage(at)
  }

  /** Repeated KeyValue fields numbered `field`. */
  attributes(field: number, attributes: ReadonlyMap<string, Plain>): void {
    for (const [key, value] of attributes) this.keyValue(field, key, value)
  }
}

/** A ready-made field: tag, length and content, to splice into each request. */
function encodedField(field: number, write: (out: RecordWriter) => void): Buffer {
  const out = new RecordWriter()
  const at = out.writer.beginMessage(field)
  write(out)
  out.writer.endMessage(at)
  return out.writer.finish()
}

/** Binary protobuf (OTLP spec, "Binary Protobuf Encoding"), written by hand: see docs/otlp.md for why not a library. */
export function protobufEncoder(resource: ReadonlyMap<string, Plain>): OtlpEncoder {
  const resourceField = encodedField(FIELD.resourceLogs.resource, (out) => out.attributes(FIELD.resource.attributes, resource))
  const scopeField = encodedField(FIELD.scopeLogs.scope, (out) => out.writer.stringField(FIELD.scope.name, SCOPE_NAME))
  const out = new RecordWriter()
  return {
    encoding: 'protobuf',
    contentType: 'application/x-protobuf',
    // The tag and a length of up to 5 bytes that frame each LogRecord in ScopeLogs.
    overheadPerRecord: 6,
    record(record: OtlpLogRecord): Buffer {
      const { writer } = out
      const field = FIELD.logRecord
      const { trace } = record
      writer.reset()
      writer.fixed64Field(field.timeUnixNano, record.timeUnixNano)
      writer.varintField(field.severityNumber, record.severity.number)
      writer.stringField(field.severityText, record.severity.text)
      const body = writer.beginMessage(field.body)
      writer.stringField(FIELD.anyValue.string, record.body)
      writer.endMessage(body)
      out.attributes(field.attributes, record.attributes)
      if (trace?.flags !== undefined) writer.fixed32Field(field.flags, trace.flags)
      if (trace !== undefined) writer.bytesField(field.traceId, Buffer.from(trace.traceId, 'hex'))
      if (trace?.spanId !== undefined) writer.bytesField(field.spanId, Buffer.from(trace.spanId, 'hex'))
      writer.fixed64Field(field.observedTimeUnixNano, record.observedTimeUnixNano)
      return writer.finish()
    },
    request(records: readonly Uint8Array[]): Buffer {
      // Sizes first, so the records are copied once, straight to their place.
      let scopeLogsSize = scopeField.length
      for (const record of records) scopeLogsSize += 1 + varintSize(record.length) + record.length
      const resourceLogsSize = resourceField.length + 1 + varintSize(scopeLogsSize) + scopeLogsSize
      const writer = new ProtoWriter(1 + varintSize(resourceLogsSize) + resourceLogsSize)
      writer.lengthPrefix(FIELD.request.resourceLogs, resourceLogsSize)
      writer.raw(resourceField)
      writer.lengthPrefix(FIELD.resourceLogs.scopeLogs, scopeLogsSize)
      writer.raw(scopeField)
      for (const record of records) writer.bytesField(FIELD.scopeLogs.logRecords, record)
      return writer.finish()
    },
  }
}
