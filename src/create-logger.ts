import { LoggerContext } from './core/record.js'
import { Logger, createShared, type LoggerOptions } from './core/logger.js'
import { levelValue } from './core/levels.js'
import { resolveLimits, serializeFields } from './core/serialize.js'
import { compileRedaction } from './core/redact.js'
import { consoleSink } from './sinks/console.js'

/**
 * Creates a logger. With no options it logs to the console at `info`.
 *
 * @example
 * const log = createLogger({ name: 'app', level: 'debug', sinks: [fileSink({ path: 'logs/app.log' }), consoleSink()] })
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected \`options\` to be an object, got \`${String(options)}\` (${typeof options})`)
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new TypeError(`Expected \`name\` to be a string, got \`${String(options.name)}\` (${typeof options.name})`)
  }
  const level = levelValue(options.level ?? 'info')
  const shared = createShared(options, options.sinks ?? [consoleSink()])
  const bindings = options.bindings === undefined ? {} : serializeFields(options.bindings, resolveLimits(options.limits))
  compileRedaction(options.redact)?.(bindings)
  return new Logger(shared, new LoggerContext(options.name, bindings), level)
}
