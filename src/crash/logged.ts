import { levelValue, type LevelInput } from '../core/levels.js'
import { Logger } from '../core/logger.js'
import { createLogger } from '../create-logger.js'
import { activeGuardLogger } from './guard.js'
import { observeCall, recordEnd } from './call-records.js'

export interface LoggedOptions {
  /** The label in the records; default `ClassName.method`. */
  name?: string
  /** Level of the start and completion records; default `info`. Errors are `error`. */
  level?: LevelInput
  /** The logger to use; default the instance's `logger` or `log` property, then the crash guard's, then the console. */
  logger?: Logger
}

// Made on first need, for a decorated method called with no logger anywhere in sight.
let consoleFallback: Logger | undefined

function loggerFor(instance: unknown, options: LoggedOptions): Logger {
  if (options.logger) return options.logger
  if (instance !== null && typeof instance === 'object') {
    const own = (instance as { logger?: unknown; log?: unknown }).logger ?? (instance as { log?: unknown }).log
    if (own instanceof Logger) return own
  }
  return activeGuardLogger() ?? (consoleFallback ??= createLogger())
}

function methodOf(level: number): 'trace' | 'debug' | 'info' | 'success' | 'warn' | 'error' | 'fatal' {
  if (level >= 60) return 'fatal'
  if (level >= 50) return 'error'
  if (level >= 40) return 'warn'
  if (level >= 35) return 'success'
  if (level >= 30) return 'info'
  return level >= 20 ? 'debug' : 'trace'
}

/**
 * A standard (TC39) method decorator: records the start, the completion with its
 * duration, or the error with its stack, of every call; sync stays sync.
 *
 * @example
 * class Job { @logged() async run() { … } }
 */
export function logged(options: LoggedOptions = {}) {
  const method = methodOf(levelValue(options.level ?? 'info'))
  return function decorate<This, A extends unknown[], R>(
    target: (this: This, ...args: A) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
  ): (this: This, ...args: A) => R {
    const methodName = String(context.name)
    return function loggedCall(this: This, ...args: A): R {
      const owner = context.static ? (this as { name?: string }).name : (this as object | null)?.constructor?.name
      const label = options.name ?? (owner ? `${owner}.${methodName}` : methodName)
      const logger = loggerFor(this, options)
      const started = performance.now()
      logger[method]({ event: 'call', function: label }, `starting ${label}`)
      return observeCall(
        () => target.apply(this, args),
        (outcome) =>
          recordEnd(logger, label, Math.round(performance.now() - started), outcome, { event: 'error' in outcome ? 'throw' : 'return', function: label }, (fields, message) =>
            logger[method](fields, message),
          ),
      )
    }
  }
}
