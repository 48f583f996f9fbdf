import type { Logger } from '../core/logger.js'
import { getLogger, type GetLoggerOptions } from '../transport/connect.js'
import { activeGuardLogger, installCrashGuard } from './guard.js'

export interface LoggerFromEnvOptions extends Omit<GetLoggerOptions, 'socket'> {
  /**
   * With a collector (`BLACKBOX_SOCKET`): install the crash guard on the logger, so that an
   * uncaught exception, an unhandled rejection or a signal is one record with its stack, sent
   * to the collector before the process goes; default true. `false` for a program that
   * records its own ending.
   */
  crashGuard?: boolean
}

/**
 * `getLogger(BLACKBOX_ROLE)`, with the socket from `BLACKBOX_SOCKET`: what a child of
 * `blackbox run` or of a collector uses. With a collector it also installs the crash guard
 * (heartbeats are the collector client's own, so the guard sends none), unless
 * `crashGuard: false` or a guard is installed in this process already: a program's own
 * guard keeps its place. Called again, returns the same logger, guarded once.
 */
export function getLoggerFromEnv(options: LoggerFromEnvOptions = {}): Logger {
  const { crashGuard = true, ...loggerOptions } = options
  const logger = getLogger(process.env['BLACKBOX_ROLE'] || 'worker', loggerOptions)
  // installCrashGuard() would suspend a guard installed before; one per process, the first.
  if (crashGuard && process.env['BLACKBOX_SOCKET'] && activeGuardLogger() === undefined) {
    installCrashGuard(logger, { heartbeatInterval: 0, systemInfo: false })
  }
  return logger
}
