export { otlpSink, OtlpSink, OtlpExportError, OTLP_RETRYABLE_STATUSES, type OtlpDropCounts } from './sink.js'
export {
  OTLP_BATCH_SIZE, OTLP_BATCH_INTERVAL_MS, OTLP_MAX_QUEUE_RECORDS, OTLP_MAX_REQUEST_BYTES, OTLP_MAX_RETRIES, OTLP_RETRY_BASE_DELAY_MS,
  OTLP_RETRY_MAX_DELAY_MS, OTLP_TIMEOUT_MS, OTLP_FLUSH_TIMEOUT_MS, OTLP_EXIT_TIMEOUT_MS, type OtlpSinkOptions,
} from './options.js'
export { OtlpRequestError } from './request-error.js'
export { OTLP_SEVERITY, type Severity as OtlpSeverity } from './severity.js'
export { SCOPE_NAME as OTLP_SCOPE_NAME, type OtlpEncoding } from './encoding.js'
export { LOGGER_NAME_ATTRIBUTE, ERROR_DETAILS_ATTRIBUTE } from './log-record.js'
export { TRACE_ID_KEYS, SPAN_ID_KEYS, TRACE_FLAGS_KEYS } from './trace-context.js'
