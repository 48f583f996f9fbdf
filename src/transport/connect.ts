import { writeSync } from 'node:fs'
import type { FormatOption } from '../core/format/index.js'
import type { LevelInput } from '../core/levels.js'
import type { Logger } from '../core/logger.js'
import { createLogger } from '../create-logger.js'
import { appLogDir } from '../layout/app-log-dir.js'
import { fileSink } from '../ring/file-sink.js'
import { FileLockedError } from '../sinks/lock.js'
import { resilientFileSink } from '../sinks/resilient.js'
import { CollectorClient, type CollectorClientOptions } from './client.js'
import { checkFileName } from './endpoint.js'

export interface ConnectLoggerOptions extends CollectorClientOptions {
  /**
   * The level of the returned logger, default `debug`; settable later as `logger.level`.
   * `level` is the client sink's own: a record is sent when it passes both.
   */
  loggerLevel?: LevelInput
}

/**
 * A logger whose records go to the collector at `socket`. Resolves once connected;
 * rejects when no collector answers there. `close()` sends BYE: a clean goodbye.
 * Takes the client's options, and `loggerLevel` for the logger's own level.
 */
export async function connectLogger(options: ConnectLoggerOptions): Promise<Logger> {
  const client = new CollectorClient(options)
  const logger = createLogger({ name: client.clientName, level: options.loggerLevel ?? 'debug', sinks: [client] })
  try {
    await client.connected()
  } catch (error) {
    await logger.close()
    throw error
  }
  return logger
}

export interface GetLoggerOptions {
  /** The collector's socket; default `BLACKBOX_SOCKET`. */
  socket?: string
  /** Where the role file goes without a collector; default `appLogDir(appName)`. */
  dir?: string
  /** For `appLogDir`; default none (a temporary directory, for development). */
  appName?: string
  /** The client name; default the role. */
  name?: string
  level?: LevelInput
  format?: FormatOption
  heartbeatInterval?: number
  /** With a collector: the client's durability; default `BLACKBOX_DURABILITY` (`sync`, `batched` or `ring`), else `sync`. */
  durability?: CollectorClientOptions['durability']
}

const DURABILITIES: ReadonlySet<string> = new Set(['sync', 'batched', 'ring'])

/** `BLACKBOX_DURABILITY`, checked: a typo must not silently weaken what a program relies on. */
function durabilityFromEnv(): CollectorClientOptions['durability'] {
  const value = process.env['BLACKBOX_DURABILITY']
  if (value === undefined || value === '') return undefined
  if (!DURABILITIES.has(value)) throw new TypeError(`Expected \`BLACKBOX_DURABILITY\` to be 'sync', 'batched' or 'ring', got \`${value}\` (string)`)
  return value as CollectorClientOptions['durability']
}

// getLogger('host') twice gives the same logger, as Python's logging.getLogger does: one
// per role in this process (per thread, since each worker thread has its own modules).
const loggers = new Map<string, Logger>()

/**
 * A logger for a role, at once (synchronously). With a collector in the environment
 * (`BLACKBOX_SOCKET` or `socket`), records go to it; those logged before the connection
 * is up wait in the spool and are delivered. Without one, they go to `<dir>/<role>.log`.
 */
export function getLogger(role: string, options: GetLoggerOptions = {}): Logger {
  checkFileName(role, 'role')
  const known = loggers.get(role)
  if (known) return known
  const socket = options.socket ?? process.env['BLACKBOX_SOCKET']
  const common = { ...(options.format === undefined ? {} : { format: options.format }) }
  let logger: Logger
  if (socket) {
    // `blackbox run` tells its child how often to check in, to match its hang detection.
    const fromEnv = Number.parseInt(process.env['BLACKBOX_HEARTBEAT_INTERVAL'] ?? '', 10)
    const heartbeatInterval = options.heartbeatInterval ?? (Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : undefined)
    const durability = options.durability ?? durabilityFromEnv()
    const client = new CollectorClient({
      socket, role, name: options.name ?? role, ...common, ...(heartbeatInterval === undefined ? {} : { heartbeatInterval }), ...(durability === undefined ? {} : { durability }),
    })
    logger = createLogger({ name: options.name ?? role, level: options.level ?? 'debug', sinks: [client] })
  } else {
    const chosen = options.dir ?? process.env['BLACKBOX_DIR']
    const path = `${chosen ?? appLogDir(options.appName)}/${role}.log`
    // A folder nobody named: said once per process, so the records can be found.
    if (chosen === undefined && !toldWhere) sayWhere(role, path)
    let sink
    try {
      sink = resilientFileSink({ path, ...common })
    } catch (error) {
      // Another thread of this process (or another process) rotates that file: append only.
      if (!(error instanceof FileLockedError)) throw error
      sink = fileSink({ path, ...common })
    }
    logger = createLogger({ name: options.name ?? role, level: options.level ?? 'debug', sinks: [sink] })
  }
  loggers.set(role, logger)
  return logger
}

// Whether a getLogger() without a folder has said where its records go (once per process).
let toldWhere = false

function sayWhere(role: string, path: string): void {
  toldWhere = true
  try {
    writeSync(2, `blackbox: getLogger('${role}'): no collector (BLACKBOX_SOCKET is not set) and no dir given: records go to ${path}\n`)
  } catch {
    // stderr itself is gone: there is nowhere left to say it.
  }
}
