// The declarations use Node's types (Buffer, NodeJS.Signals, node:fs). TypeScript 6 and later
// load no @types package by itself, so the published index.d.ts names them; `preserve` keeps
// the directive in the emitted file (TypeScript 5.5 and later drop it otherwise).
/// <reference types="node" preserve="true" />
export { createLogger } from './create-logger.js'
export { Logger, type LoggerOptions, type LogMethod } from './core/logger.js'
export { LEVEL_NAMES, LEVEL_VALUES, LEVEL_LABELS, levelValue, type LevelName, type LevelInput } from './core/levels.js'
export type { LogRecord, CallSite, LoggerContext } from './core/record.js'
export { FailureReport, type Sink, type SinkOptions } from './core/sink.js'
export { serialize, serializeError, DEFAULT_LIMITS, type SerializeLimits, type SerializedError, type Plain } from './core/serialize.js'
export { REDACTED, type RedactOption } from './core/redact.js'
export { resolveFormat, PRESETS, CONTINUATION_PREFIX, JsonFormatter, PatternFormatter, type Formatter, type FormatOption, type LevelPainter } from './core/format/index.js'
export { FileSink, BATCH_SIZE_BYTES, BATCH_INTERVAL_MS, type FileSinkOptions, type Durability, type FsyncPolicy } from './sinks/file.js'
export { consoleSink, ConsoleSink, shouldColour, CONSOLE_MAX_FIELDS_CHARS, type ConsoleSinkOptions } from './sinks/console.js'
export { flushAllSinksSync, liveSinks } from './sinks/registry.js'
export { WriteStalledError, MAX_EAGAIN_RETRIES, type WriterFs } from './sinks/fd-writer.js'
export { setupLogging, DEFAULT_HEARTBEAT_INTERVAL_MS, type SetupLoggingOptions, type LoggingSetup } from './crash/setup-logging.js'
export { installCrashGuard, guardOf, defaultSignals, unhandledRejectionsMode, SIGNAL_MEANINGS, type CrashGuard, type CrashGuardOptions, type CrashInfo, type Ending } from './crash/guard.js'
export { crashSafe, type CrashSafeOptions } from './crash/crash-safe.js'
export { logged, type LoggedOptions } from './crash/logged.js'
export { startHeartbeat, BLOCKED_THRESHOLD_MS, type Heartbeat } from './crash/heartbeat.js'
export { collectSystemInfo, ENV_ALLOW_LIST, type SystemInfo } from './crash/system-info.js'
export { readEnvDefaults, type EnvDefaults } from './crash/env-config.js'
export { createRunFile, validatePrefix, DEFAULT_RUN_PREFIX } from './layout/run-file.js'
export { parseSize, parseDuration } from './core/units.js'
export { rotatingFileSink, RotatingFileSink, INODE_CHECK_INTERVAL_MS, type RotatingFileSinkOptions } from './sinks/rotating.js'
export { FileLockedError } from './sinks/lock.js'
export type { Compression, CompressionFormat, CompressionFunction } from './sinks/compress.js'
export type { IntervalOption, RotationOption, RotationCondition, RotationFunction, RotationFile, RetentionFunction } from './sinks/rotation-policy.js'
export { listLogFiles, getLatestLogFile, findLatestLogFile, DEFAULT_LOG_DIR, type LogFileEntry, type ListLogFilesOptions, type OnUnreadable, type UnreadableEntry } from './layout/catalog.js'
export { summarizeLogFile, ENDING_STRENGTH, NO_ENDING_TEXT, type LogFileSummary, type RunEnding, type LevelCounts } from './layout/summarize.js'
export { printLogSummary, type PrintLogSummaryOptions, type TextOutput } from './layout/print-summary.js'
export { cleanLogs, type CleanLogsOptions, type CleanLogsResult } from './layout/clean.js'
export { readRecords, readRecordsFrom, MAX_LINE_CHARS, UNKNOWN_LEVEL, UNKNOWN_LABEL, type ReadRecord, type RecordFormat, type ReadRecordsOptions, type TornTail } from './layout/read-records.js'
export { MAX_FIELD_DEPTH } from './layout/json-depth.js'
export { MAX_ERROR_LINES } from './layout/render-record.js'
export { parseRunFileName, type RunFileName } from './layout/run-file-name.js'
export { resilientFileSink, ResilientFileSink, DISK_ERROR_CODES, WRITE_RETRY_INTERVAL_MS, type ResilientFileSinkOptions, type ResilientState, type ResilientEvents, type Fallback } from './sinks/resilient.js'
export { startCollector, ACK_INTERVAL_MS, type Collector, type CollectorOptions, type ClientInfo } from './transport/collector.js'
export { CollectorClient, type CollectorClientOptions, type WhenFull } from './transport/client.js'
export { connectLogger, getLogger, getLoggerFromEnv, type ConnectLoggerOptions, type GetLoggerOptions } from './transport/connect.js'
export { appLogDir, type AppLogDirOptions } from './layout/app-log-dir.js'
export { ProtocolError, PROTOCOL_VERSION } from './transport/frame.js'
export { runSupervised, EXIT_COMMAND_NOT_FOUND, EXIT_CANNOT_EXECUTE, type RunOptions, type RunResult } from './crash/supervisor.js'
export { VERDICT_TEXT, type Verdict } from './layout/verdict.js'
export { syslogSink, SyslogSink, SYSLOG_QUEUE_BYTES, SOCKET_HIGH_WATER_BYTES, WRITE_BATCH_BYTES, UDP_MAX_MESSAGE_BYTES, MIN_DATAGRAM_BYTES, SYSLOG_FLUSH_TIMEOUT_MS, DEFAULT_SYSLOG_PORTS, type SyslogSinkOptions, type SyslogProtocol } from './sinks/syslog/syslog-sink.js'
export { relpSink, RelpSink, DEFAULT_RELP_PORT, RELP_FLUSH_TIMEOUT_MS, type RelpSinkOptions } from './sinks/syslog/relp-sink.js'
export { Rfc5424Formatter, DEFAULT_ENTERPRISE_ID, type Rfc5424Options } from './sinks/syslog/rfc5424.js'
export { FACILITIES, SEVERITY_OF_LEVEL, type Facility } from './sinks/syslog/priority.js'
export { FlushTimeoutError } from './sinks/delivery/flush-timeout.js'
export { RELP_WINDOW_FRAMES, RELP_ACK_TIMEOUT_MS } from './sinks/syslog/relp-client.js'
export { SPOOL_MAX_BYTES, SPOOL_COMPACT_BYTES, SPOOL_CACHE_BYTES, MAX_SPOOL_SLOTS } from './sinks/syslog/spool.js'
export type { Framing } from './sinks/syslog/framing.js'
export type { OverflowPolicy } from './sinks/delivery/byte-queue.js'
export type { TlsOptions as SyslogTlsOptions } from './sinks/syslog/options.js'
export { createProgress, Progress, readStatus, readCheckpoint, statusPathOf, jobOf, escapeTsvField, unescapeTsvField, HEARTBEAT_COLUMNS, BATCH_COLUMNS, DEFAULT_STATUS_INTERVAL_MS, DEFAULT_CHECKPOINT_INTERVAL_MS, COMPACT_MIN_ENTRIES, RSS_SAMPLE_INTERVAL_MS, type ProgressOptions, type ProgressStatus, type RunStatus, type HeartbeatFields, type BatchFields, type CheckpointJson, type ProgressPaths } from './progress/index.js'
export {
  discordSink, telegramSink, slackSink, webhookSink, WebhookSink, WebhookDeliveryError, WebhookRequestError, WebhookHttpError, defaultWebhookBody,
  DISCORD_MAX_CONTENT_CHARS, TELEGRAM_MAX_TEXT_CHARS, TELEGRAM_API_URL, SLACK_MAX_TEXT_CHARS, WEBHOOK_MAX_BATCH_RECORDS, EXIT_MAX_MESSAGES, SYNC_BUDGET_WINDOW_MS,
  MAX_RETRY_AFTER_MS, MAX_PARTS_PER_RECORD, CHAT_FORMAT, WEBHOOK_BATCH_INTERVAL_MS, WEBHOOK_MAX_QUEUE_RECORDS, WEBHOOK_MAX_RETRIES, WEBHOOK_RETRY_BASE_DELAY_MS,
  WEBHOOK_RETRY_MAX_DELAY_MS, WEBHOOK_TIMEOUT_MS, WEBHOOK_FLUSH_TIMEOUT_MS, WEBHOOK_EXIT_TIMEOUT_MS,
  type DiscordSinkOptions, type TelegramSinkOptions, type TelegramParseMode, type SlackSinkOptions, type WebhookSinkOptions, type WebhookSinkBaseOptions, type WebhookBody, type WebhookRecord,
} from './sinks/webhook/index.js'
export { analyzeRunFile, logDirOf, LAST_RECORDS, HANG_FACTOR, ERRORS_KEPT_FIRST, ERRORS_KEPT_LAST, POSTMORTEM_VERSION, MEMORY_SOURCE_TEXT, type Postmortem, type PostmortemRecord, type PostmortemVerdict, type PostmortemSource, type PostmortemMemory, type PostmortemAttempt, type HeartbeatMark, type SeriesPair, type AnalyzeRunOptions, type PostmortemProgress, type ProgressMark } from './layout/postmortem.js'
export { formatPostmortem, type PostmortemTextOptions } from './layout/postmortem-text.js'
export { renderPostmortemHtml, REPORT_COLOURS, type PostmortemHtmlOptions } from './layout/postmortem-html.js'
export { detectLeak, LEAK_WINDOWS, LEAK_MIN_SAMPLES, LEAK_MAX_DROP, LEAK_MIN_RISE, LEAK_MIN_RISE_MB, type LeakVerdict } from './layout/memory-trend.js'
export { sparkline } from './layout/sparkline.js'
export {
  otlpSink, OtlpSink, OtlpExportError, OtlpRequestError, OTLP_RETRYABLE_STATUSES, OTLP_SEVERITY, OTLP_SCOPE_NAME,
  OTLP_BATCH_SIZE, OTLP_BATCH_INTERVAL_MS, OTLP_MAX_QUEUE_RECORDS, OTLP_MAX_REQUEST_BYTES, OTLP_MAX_RETRIES, OTLP_RETRY_BASE_DELAY_MS,
  OTLP_RETRY_MAX_DELAY_MS, OTLP_TIMEOUT_MS, OTLP_FLUSH_TIMEOUT_MS, OTLP_EXIT_TIMEOUT_MS,
  type OtlpSinkOptions, type OtlpEncoding, type OtlpDropCounts, type OtlpSeverity,
} from './sinks/otlp/index.js'
export { fileSink, type AnyFileSinkOptions } from './ring/file-sink.js'
export { ringFileSink, RingFileSink, RING_BLOCK_TIMEOUT_MS, type RingFileSinkOptions, type RingWhenFull, type RingStats } from './ring/ring-sink.js'
export { recoverRing, RingInUseError, type RecoverResult, type RecoverOptions } from './ring/recover.js'
export { RingFormatError, RingCorruptError, RING_VERSION, DEFAULT_RING_BYTES } from './ring/ring-file.js'
export { NO_ADDON_ENV, RING_FALLBACK_WARNING_CODE } from './ring/addon.js'
