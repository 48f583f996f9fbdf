import type { Logger } from '../core/logger.js'
import { addEndingHook } from '../sinks/registry.js'
import { activeGuardLogger, guardOf, unwrapRejection, type CrashInfo } from '../crash/guard.js'

/** The longest failure reason kept in a status, in characters. */
export const MAX_REASON_LENGTH = 500

/** A reason as one line of bounded length: `Error: boom`, `'a string'`, `signal SIGTERM`. */
export function describeReason(reason: unknown): string {
  let text: string
  try {
    text = reason instanceof Error ? `${reason.name}: ${reason.message}` : typeof reason === 'string' ? reason : String(reason)
  } catch {
    text = 'a reason that cannot be printed'
  }
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH)}…` : line
}

function describeThrown(thrown: unknown, origin: string): string {
  if (origin !== 'unhandledRejection') return `uncaught ${describeReason(thrown)}`
  return `unhandled rejection: ${describeReason(unwrapRejection(thrown))}`
}

/** How a crash is described in a `failed: <reason>` status. */
export function describeCrash(info: CrashInfo): string {
  if (info.kind === 'signal') return `signal ${info.signal ?? 'unknown'}`
  return describeThrown(info.error, info.kind === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException')
}

/** What a progress is told about the end of its process. */
export interface EndingListener {
  /** A fatal error, or a signal the crash guard saw: the process is going. Synchronous. */
  onFatal(reason: string): void
  /** The process is exiting with this code (Node's `exit` event). Synchronous. */
  onExit(code: number): void
}

/** Stops listening; safe to call twice. */
export type StopWatching = () => void

/**
 * Tells `listener` how the process ends, as far as JavaScript can see it:
 *
 * - an uncaught exception or unhandled rejection that will end the process, through
 *   `uncaughtExceptionMonitor` (which, unlike `uncaughtException`, changes nothing about
 *   what Node then does);
 * - `exit`, with its code (after `process.exit()`, the end of the event loop, and the
 *   fatal errors above), through the registry's ending hooks: before the sinks' last flush;
 * - a signal, through the crash guard of `logger` (or the newest installed guard). A
 *   signal ends a Node process without running any JavaScript unless something listens
 *   for it, and listening here would change what the signal does; the guard listens
 *   already, re-raises it, and tells its crash listeners first.
 *
 * SIGKILL and the OOM killer run nothing: the status then stays `running` with a pid that
 * is gone, which `blackbox progress` reports.
 */
export function watchEnding(listener: EndingListener, logger?: Logger): StopWatching {
  const onUncaught = (thrown: unknown, origin: string): void => {
    // With listeners of the application's own, Node goes on: then the run is not over.
    if (process.listenerCount('uncaughtException') === 0) listener.onFatal(describeThrown(thrown, origin))
  }
  const onExit = (code: number): void => listener.onExit(code)
  process.on('uncaughtExceptionMonitor', onUncaught)
  const removeEndingHook = addEndingHook(onExit)
  const guardLogger = logger ?? activeGuardLogger()
  const guard = guardLogger === undefined ? undefined : guardOf(guardLogger)
  const stopGuard = guard?.addCrashListener((info) => listener.onFatal(describeCrash(info)))
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    process.removeListener('uncaughtExceptionMonitor', onUncaught)
    removeEndingHook()
    stopGuard?.()
  }
}
