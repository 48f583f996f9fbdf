import type { Plain } from '../../core/serialize.js'
import type { OtlpLogRecord } from './log-record.js'

/** The OTLP/HTTP payload encodings: binary protobuf (Stable in the OTLP spec) or its JSON mapping (Experimental). */
export type OtlpEncoding = 'protobuf' | 'json'

/** The accepted values of `encoding`, the default first. */
export const OTLP_ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json']

/** The instrumentation scope every record is sent under. */
export const SCOPE_NAME = 'blackbox-log'

/** Turns records into an ExportLogsServiceRequest, one record at a time. */
export interface OtlpEncoder {
  readonly encoding: OtlpEncoding
  /** The `Content-Type` of a request, and of the answer the server must send back (OTLP spec, "OTLP/HTTP Response"). */
  readonly contentType: string
  /** One LogRecord message, encoded when the record is logged so the queue holds bytes. */
  record(record: OtlpLogRecord): Buffer
  /** The request carrying `records` under the sink's resource and scope. */
  request(records: readonly Uint8Array[]): Buffer
  /** Bytes the request adds to each record (framing, separators), for sizing batches. */
  readonly overheadPerRecord: number
}

/** Makes an encoder; the resource and the scope are encoded once, here. */
export type EncoderFactory = (resource: ReadonlyMap<string, Plain>) => OtlpEncoder
