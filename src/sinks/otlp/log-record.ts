import type { LogRecord } from '../../core/record.js'
import type { Plain, SerializedError } from '../../core/serialize.js'
import { wellFormedEntries } from './any-value.js'
import { severityOf, type Severity } from './severity.js'
import { takeTraceIds, type ActiveTraceReader, type TraceIds } from './trace-context.js'

/** The attribute that carries the logger's `name` (`createLogger({ name })`, `child({ name })`); no semantic convention names one. */
export const LOGGER_NAME_ATTRIBUTE = 'logger.name'
/** The attribute that carries what a serialized error holds besides its type, message and stack: `code`, `cause`, own properties. */
export const ERROR_DETAILS_ATTRIBUTE = 'err'

const NANOS_PER_MS = 1_000_000n

/** One record in the OpenTelemetry logs data model, ready for either encoding. */
export interface OtlpLogRecord {
  readonly timeUnixNano: bigint
  readonly observedTimeUnixNano: bigint
  readonly severity: Severity
  /** The message, sent as a string AnyValue. */
  readonly body: string
  /** In order: the logger's name, its bindings, the call's fields (a field overrides a binding of the same key), then the exception. */
  readonly attributes: ReadonlyMap<string, Plain>
  readonly trace: TraceIds | undefined
}

/** Epoch milliseconds as OTLP's nanoseconds. */
export function unixNanos(epochMs: number): bigint {
  return BigInt(Math.trunc(epochMs)) * NANOS_PER_MS
}

/**
 * An error as the semantic conventions for exceptions have it (`exception.type`,
 * `exception.message`, `exception.stacktrace`), plus whatever else it holds under `err`.
 */
function addException(attributes: Map<string, Plain>, err: SerializedError): void {
  const { type, message, stack, ...details } = err
  attributes.set('exception.type', type)
  attributes.set('exception.message', message)
  if (stack !== '') attributes.set('exception.stacktrace', stack)
  if (Object.keys(details).length > 0) attributes.set(ERROR_DETAILS_ATTRIBUTE, details)
}

/**
 * Maps a record to the logs data model. The trace ids come from the record's fields or
 * bindings when it names them, else from the active OpenTelemetry span (read now, on the
 * log call's path: later the context is gone).
 */
export function toOtlpRecord(record: LogRecord, observedMs: number, activeTrace: ActiveTraceReader | undefined): OtlpLogRecord {
  const attributes = new Map<string, Plain>()
  const { name, bindings } = record.context
  if (name !== undefined) attributes.set(LOGGER_NAME_ATTRIBUTE, name)
  for (const [key, value] of wellFormedEntries(Object.entries(bindings))) attributes.set(key, value)
  if (record.fields !== undefined) for (const [key, value] of wellFormedEntries(Object.entries(record.fields))) attributes.set(key, value)
  const trace = takeTraceIds(attributes) ?? activeTrace?.()
  if (record.err !== undefined) addException(attributes, record.err)
  return {
    timeUnixNano: unixNanos(record.time),
    observedTimeUnixNano: unixNanos(observedMs),
    severity: severityOf(record.level),
    body: record.msg,
    attributes,
    trace,
  }
}
