import type { Logger } from '../core/logger.js'
import { observeCall, recordEnd } from './call-records.js'
import { guardOf, installCrashGuard } from './guard.js'
import { setupLogging, type SetupLoggingOptions } from './setup-logging.js'

export interface CrashSafeOptions extends SetupLoggingOptions {
  /** Log through this logger instead of setting up a run file. */
  logger?: Logger
}

/**
 * Wraps a program's main function: each call sets up crash-safe logging (or guards the
 * given logger), records "starting <name>", runs `fn`, records its completion with the
 * duration or its error with the stack, rethrows, and cleans up. Sync stays sync.
 *
 * @example
 * const main = crashSafe(async () => { … }, { prefix: 'my_task', heartbeatInterval: 5_000, level: 'info' })
 * await main()
 */
export function crashSafe<This, A extends unknown[], R>(fn: (this: This, ...args: A) => R, options: CrashSafeOptions = {}): (this: This, ...args: A) => R {
  if (typeof fn !== 'function') throw new TypeError(`Expected \`fn\` to be a function, got \`${String(fn)}\` (${typeof fn})`)
  const { logger: given, ...setupOptions } = options
  const name = options.name ?? (fn.name || options.prefix || 'main')
  return function crashSafeCall(this: This, ...args: A): R {
    const started = Date.now()
    // A logger that is guarded already keeps its guard: only this call's records are added.
    const kept = given ? guardOf(given) : undefined
    const { logger, guard } = given
      ? { logger: given, guard: kept ?? installCrashGuard(given, { name, heartbeatInterval: options.heartbeatInterval ?? 0, systemInfo: options.systemInfo ?? false }) }
      : setupLogging({ ...setupOptions, name })
    logger.info({ event: 'start', function: name }, `starting ${name}`)
    return observeCall(
      () => fn.apply(this, args),
      (outcome) => (kept ? recordEnd(logger, name, Date.now() - started, outcome, { event: 'return', function: name }) : guard.cleanup(outcome)),
    )
  }
}
