import { writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FormatOption } from '../core/format/index.js'
import type { LevelInput } from '../core/levels.js'
import type { Logger } from '../core/logger.js'
import type { Sink } from '../core/sink.js'
import { createLogger } from '../create-logger.js'
import { cleanLogs } from '../layout/clean.js'
import { createRunFile, DEFAULT_RUN_PREFIX, validatePrefix } from '../layout/run-file.js'
import { consoleSink, type ConsoleSinkOptions } from '../sinks/console.js'
import { isEnvironmental } from '../sinks/environmental.js'
import { resilientFileSink, type ResilientFileSinkOptions } from '../sinks/resilient.js'
import { readEnvDefaults } from './env-config.js'
import { installCrashGuard, type CrashGuard, type CrashGuardOptions } from './guard.js'

/** The heartbeat interval of `setupLogging` when none is given. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000

export interface SetupLoggingOptions
  extends Omit<ResilientFileSinkOptions, 'path' | 'format' | 'level' | 'clock' | 'maxSize'>,
    Pick<CrashGuardOptions, 'signals' | 'report' | 'warnings' | 'onCrash' | 'env'> {
  /** Where the date folders go; default `logs` (or `BLACKBOX_DIR`). */
  dir?: string
  /** Run files are `<prefix>_HH-MM-SS.log`; default `execution`. */
  prefix?: string
  /** ms between heartbeats; default 10,000; 0 turns them off. */
  heartbeatInterval?: number
  /** Lowest level logged; default `debug` (or `BLACKBOX_LEVEL`). */
  level?: LevelInput
  /** Log system information at start; default true. */
  systemInfo?: boolean
  /** Also log to the console (at `info` and above unless given options); default true. */
  console?: boolean | ConsoleSinkOptions
  /** The run file's format; default `text` (or `BLACKBOX_FORMAT`). */
  format?: FormatOption
  /** The logger's name; default the prefix. */
  name?: string
  /** Rotate the run file past this size (or `BLACKBOX_MAX_SIZE`); default no size limit. */
  maxSize?: string | number | false
}

export interface LoggingSetup {
  logger: Logger
  guard: CrashGuard
  /** The run file's path: in `dir`, or in the temporary fallback folder when `dir` cannot be written; `''` when no file could be made (the run logs to the console). */
  file: string
}

/**
 * Crash-safe logging in one call: a run file `logs/YYYY-MM-DD/<prefix>_HH-MM-SS.log`,
 * the console, the crash guard, a heartbeat and the system information.
 *
 * @example
 * const { logger, guard } = setupLogging({ dir: 'logs', prefix: 'manual_task' })
 * try { logger.info('Starting my process') } finally { await guard.cleanup() }
 */
export function setupLogging(options: SetupLoggingOptions = {}): LoggingSetup {
  const env = readEnvDefaults()
  const {
    dir = env.dir ?? 'logs', prefix = DEFAULT_RUN_PREFIX, heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL_MS,
    level = env.level ?? 'debug', systemInfo = true, console = true, format = env.format ?? 'text', name,
    signals, report, warnings, onCrash, env: extraEnv, ...fileOptions
  } = options
  validatePrefix(prefix)
  if (!Number.isInteger(heartbeatInterval) || heartbeatInterval < 0) {
    throw new TypeError(`Expected \`heartbeatInterval\` to be a non-negative integer of ms, got \`${String(heartbeatInterval)}\` (${typeof heartbeatInterval})`)
  }
  const file = runFileOrFallback(dir, prefix)
  // A run file survives a full disk (resilient) and rotates by size only when asked to.
  const maxSize = fileOptions.maxSize ?? env.maxSize ?? false
  const sinks: Sink[] = file === undefined ? [] : [resilientFileSink({ ...fileOptions, maxSize, path: file, format })]
  if (console || file === undefined) sinks.push(consoleSink(console === true || console === false ? { level: 'info' } : console))
  const logger = createLogger({ name: name ?? prefix, level, sinks })
  const guard = installCrashGuard(logger, {
    name: name ?? prefix,
    heartbeatInterval,
    systemInfo,
    ...(file === undefined ? {} : { reportNextTo: file }),
    closeLogger: true,
    ...(signals === undefined ? {} : { signals }),
    ...(report === undefined ? {} : { report }),
    ...(warnings === undefined ? {} : { warnings }),
    ...(onCrash === undefined ? {} : { onCrash }),
    ...(extraEnv === undefined ? {} : { env: extraEnv }),
  })
  if (env.retention !== undefined) removeOldRuns(dir, env.retention, logger)
  return { logger, guard, file: file ?? '' }
}

/**
 * The run file in `dir`; when `dir` cannot be written (permissions, a read-only disk), one in
 * `<tmpdir>/blackbox-<uid>/logs`, said once on stderr; when neither can, undefined (the run
 * logs to the console, and that is said too). The program runs in every case.
 */
function runFileOrFallback(dir: string, prefix: string): string | undefined {
  try {
    return createRunFile(dir, prefix)
  } catch (error) {
    if (!isEnvironmental(error)) throw error
    const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user'
    const fallback = join(tmpdir(), `blackbox-${user}`, 'logs')
    try {
      const file = createRunFile(fallback, prefix)
      say(`blackbox: cannot write run files in ${dir} (${describe(error)}); this run logs to ${file}`)
      return file
    } catch (second) {
      say(`blackbox: cannot write run files in ${dir} (${describe(error)}) nor in ${fallback} (${describe(second)}); this run logs to the console only`)
      return undefined
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function say(line: string): void {
  try {
    writeSync(2, `${line}\n`)
  } catch {
    // stderr itself is gone: there is nowhere left to say it.
  }
}

/** BLACKBOX_RETENTION: run files older than the limit go, in the background; this run's file is new, so never among them. */
function removeOldRuns(dir: string, olderThan: number, logger: Logger): void {
  cleanLogs({ dir, olderThan }).then(
    (result) => {
      if (result.removed.length > 0) logger.info({ event: 'retention', removed: result.removed.length, freedBytes: result.freedBytes }, `removed ${result.removed.length} run files older than BLACKBOX_RETENTION`)
    },
    (error: unknown) => logger.warn({ event: 'retention', err: error }, 'could not apply BLACKBOX_RETENTION'),
  )
}
