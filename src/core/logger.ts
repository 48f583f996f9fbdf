import { format as formatMessage } from 'node:util'
import { callerOf } from './callsite.js'
import type { Formatter } from './format/formatter.js'
import { JsonFormatter } from './format/json.js'
import { LEVEL_NAMES, LEVEL_VALUES, SILENT_LEVEL, levelNameOf, levelValue, type LevelInput, type LevelName } from './levels.js'
import { JsonFieldsRecord, LoggerContext, type CallSite, type LogRecord } from './record.js'
import { compileRedaction, type RedactOption, type Redactor } from './redact.js'
import { withoutReservedKeys } from './field-names.js'
import { FailureReport, type Sink } from './sink.js'
import {
  asText, resolveLimits, serializeError, serializeFields, serializeFieldsToJson, truncate,
  type Plain, type SerializedError, type SerializeLimits,
} from './serialize.js'

/**
 * A message followed by arguments: its text, when known, must hold a `%` token for them.
 * Catches pino's order mistaken for ours, `log.info('saved', { user })`, whose fields would
 * only be appended to the message; a message known only as `string` passes.
 */
type FormatTemplate<T extends string> = string extends T ? T
  : T extends `${string}%${string}` ? T
  : 'a message followed by arguments needs a % token; fields go first: log.info({ user }, message)'

/**
 * `log.info('message %s', arg)`, `log.info({ user }, 'message')`, `log.error(err)`,
 * `log.error(err, 'while saving')`. Never throws.
 */
export interface LogMethod {
  (message: string): void
  <T extends string>(template: FormatTemplate<T>, ...args: unknown[]): void
  (fields: object, message?: string, ...args: unknown[]): void
  (value: unknown, message?: string, ...args: unknown[]): void
}

export interface LoggerOptions {
  /** Shown as `name` in JSON and `{name}` in patterns. */
  name?: string
  /** The lowest level logged; default `info`. Readable and settable later as `logger.level`. */
  level?: LevelInput
  /** Default: one console sink. */
  sinks?: readonly Sink[]
  /** Paths whose values are replaced by `[Redacted]` in every sink: `['password', 'req.headers.authorization', '*.token']`. */
  redact?: RedactOption
  /** Fields on every record of this logger, as if given to `child()`. */
  bindings?: object
  /** Bounds on strings, depth, arrays and objects in a record. */
  limits?: Partial<SerializeLimits>
}

/** A sink as the logger sees it: with its formatter and the report its failures go to. */
interface Slot {
  readonly sink: Sink
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
}

/** What a logger shares with its children. */
interface Shared {
  readonly slots: readonly Slot[]
  readonly lowestSinkLevel: number
  readonly needsCallsite: boolean
  readonly redact: Redactor | undefined
  readonly limits: SerializeLimits
  /** Every sink formats JSON and nothing is redacted: fields go straight to JSON text, with no copy. */
  readonly fieldsAsJson: boolean
  /** Set by the first `close()` of the logger or a child. */
  closing?: Promise<void>
  /** Failures of the logger itself (a record that could not be built), not of any sink. */
  readonly failures: FailureReport
  /** Failures of a formatter, by its key: a record it cannot format is not the sink's fault. */
  readonly formatterFailures: Map<string, FailureReport>
}

const OWN_FILE = new URL(import.meta.url).pathname

function noop(): void {}

const NO_ARGUMENTS: readonly unknown[] = Object.freeze([])

function isError(value: unknown): value is Error {
  try {
    return value instanceof Error
  } catch {
    // A revoked Proxy, or one whose getPrototypeOf trap throws: not an error; its fields say what it is.
    return false
  }
}

function buildMessage(template: unknown, args: readonly unknown[]): string {
  if (typeof template !== 'string') return template === undefined ? '' : asText(template, 'null')
  if (args.length === 0) return template
  try {
    return formatMessage(template, ...args)
  } catch (error) {
    return `${template} [arguments could not be formatted: ${asText(error, 'unknown error')}]`
  }
}

function slotsOf(sinks: readonly Sink[]): Slot[] {
  return sinks.map((sink, index) => {
    if (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function' || !sink.formatter) {
      throw new TypeError(`Expected \`sinks[${index}]\` to be a sink such as fileSink() or consoleSink(), got \`${String(sink)}\` (${typeof sink})`)
    }
    const level = typeof sink.level === 'number' ? sink.level : 0
    return { sink, level, formatter: sink.formatter, failures: sink.failures ?? new FailureReport(sink.name ?? `sinks[${index}]`) }
  })
}

/** A logger: level methods, child loggers with bindings, flush and close. Create one with `createLogger()`. */
export class Logger {
  declare trace: LogMethod
  declare debug: LogMethod
  declare info: LogMethod
  declare success: LogMethod
  declare warn: LogMethod
  declare error: LogMethod
  declare fatal: LogMethod
  /** Alias of `warn`, for users coming from Python. */
  declare warning: LogMethod
  /** Alias of `fatal`, for users coming from Python. */
  declare critical: LogMethod

  readonly #shared: Shared
  readonly #context: LoggerContext
  #level: number

  /** @internal Use `createLogger()` and `logger.child()`. */
  constructor(shared: Shared, context: LoggerContext, level: number) {
    this.#shared = shared
    this.#context = context
    this.#level = level
    this.#bindMethods()
  }

  /** The name of the current level (`'silent'` when nothing is logged); assign a name, alias or number. */
  get level(): LevelName | 'silent' {
    return this.#level === SILENT_LEVEL ? 'silent' : levelNameOf(this.#level)
  }

  set level(value: LevelInput) {
    this.#level = levelValue(value)
    this.#bindMethods()
  }

  /** The current level as a number. */
  get levelValue(): number {
    return this.#level
  }

  get name(): string | undefined {
    return this.#context.name
  }

  /** The fields bound to this logger, serialized. */
  get bindings(): { readonly [key: string]: Plain } {
    return this.#context.bindings
  }

  /** The sinks this logger (and its children) write to. */
  get sinks(): readonly Sink[] {
    return this.#shared.slots.map((slot) => slot.sink)
  }

  /** Whether a record of this level would be written: the logger's level and at least one sink's allow it. */
  isLevelEnabled(level: LevelInput): boolean {
    const value = levelValue(level)
    return value >= this.#level && value >= this.#shared.lowestSinkLevel && value !== SILENT_LEVEL
  }

  /** A logger whose records carry these fields; it shares the sinks and starts at this logger's level. */
  child(bindings: object, options: { name?: string; level?: LevelInput } = {}): Logger {
    const shared = this.#shared
    const own = bindings !== null && typeof bindings === 'object' ? serializeFields(bindings, shared.limits) : {}
    const merged = { ...this.#context.bindings, ...own }
    shared.redact?.(merged)
    const context = new LoggerContext(options.name ?? this.#context.name, merged)
    return new Logger(shared, context, options.level === undefined ? this.#level : levelValue(options.level))
  }

  /** Resolves when every sink has written everything it holds. */
  async flush(): Promise<void> {
    await Promise.all(this.#shared.slots.map(async (slot) => {
      try {
        await slot.sink.flush()
      } catch (error) {
        slot.failures.report(error, 'flush')
      }
    }))
  }

  /** Writes everything every sink holds before returning. */
  flushSync(): void {
    for (const slot of this.#shared.slots) {
      try {
        slot.sink.flushSync()
      } catch (error) {
        slot.failures.report(error, 'flushSync')
      }
    }
  }

  /**
   * Closes every sink, which flushes it once (within its `flushTimeout`) and then ends it
   * (within its `closeTimeout`); the children share the sinks and are closed too. The logger
   * does not flush first: a second flush would wait a second `flushTimeout` on a peer that
   * did not answer the first. Always settles; a second call gets the same promise.
   */
  close(): Promise<void> {
    this.#shared.closing ??= Promise.all(this.#shared.slots.map(async (slot) => {
      try {
        await slot.sink.close()
      } catch (error) {
        slot.failures.report(error, 'close')
      }
    })).then(() => undefined)
    return this.#shared.closing
  }

  #bindMethods(): void {
    const threshold = Math.max(this.#level, this.#shared.lowestSinkLevel)
    for (const name of LEVEL_NAMES) {
      const value = LEVEL_VALUES[name]
      this[name] = value >= threshold && threshold !== SILENT_LEVEL ? this.#method(value, name) : noop
    }
    this.warning = this.warn
    this.critical = this.fatal
  }

  #method(level: number, levelName: LevelName): LogMethod {
    const logger = this
    // A plain function reading `arguments`, not a rest parameter: the common call (one or two
    // arguments) then allocates no array.
    return function log(first?: unknown, second?: unknown): void {
      try {
        logger.#write(level, levelName, first, second, arguments.length > 2 ? Array.prototype.slice.call(arguments, 2) : NO_ARGUMENTS)
      } catch (error) {
        // Only a bug of ours lands here; the promise is that a log call never throws.
        logger.#shared.failures.report(error, 'record building')
      }
    }
  }

  #write(level: number, levelName: LevelName, first: unknown, second: unknown, rest: readonly unknown[]): void {
    const shared = this.#shared
    const limits = shared.limits
    let msg: string
    let fields: { [key: string]: Plain } | undefined
    let fieldsJson: string | undefined
    let err: SerializedError | undefined
    if (typeof first === 'string') {
      msg = second === undefined && rest.length === 0 ? first : buildMessage(first, [second, ...rest])
    } else if (isError(first)) {
      err = serializeError(first, limits)
      msg = second === undefined ? err.message : buildMessage(second, rest)
    } else if (first !== null && typeof first === 'object' && shared.fieldsAsJson && !isErrorField(first)) {
      fieldsJson = serializeFieldsToJson(first, limits, this.#context.reserved)
      msg = second === undefined ? '' : buildMessage(second, rest)
    } else if (first !== null && typeof first === 'object') {
      fields = serializeFields(first, limits)
      const nested = fields['err']
      if (nested !== undefined && isErrorField(first)) {
        err = nested as SerializedError
        delete fields['err']
      }
      if (shared.redact) shared.redact(fields)
      fields = withoutReservedKeys(fields, this.#context.reserved)
      msg = second === undefined ? '' : buildMessage(second, rest)
    } else {
      msg = buildMessage(first, second === undefined ? [] : [second, ...rest])
    }
    const callsite = shared.needsCallsite ? callerOf(OWN_FILE) : undefined
    const record: LogRecord = fieldsJson === undefined
      ? { level, levelName, time: Date.now(), msg: truncate(msg, limits), context: this.#context, fields, err, callsite }
      : new JsonFieldsRecord(level, levelName, Date.now(), truncate(msg, limits), this.#context, fieldsJson, err, callsite)
    dispatch(shared, record)
    if (level >= LEVEL_VALUES.fatal) this.flushSync()
  }
}

function isErrorField(fields: object): boolean {
  try {
    return (fields as { err?: unknown }).err instanceof Error
  } catch {
    return false
  }
}

/**
 * Formats once per distinct format and hands each sink its line; one failing sink never
 * stops the others. A formatter that throws is reported as the formatter's failure, and the
 * sink gets the record without its fields and error, with a note, rather than nothing.
 */
function dispatch(shared: Shared, record: LogRecord): void {
  let firstKey: string | undefined
  let firstLine = ''
  let others: Map<string, string> | undefined
  for (const slot of shared.slots) {
    if (record.level < slot.level) continue
    const key = slot.formatter.key
    let line: string | undefined
    if (key === firstKey) line = firstLine
    else if (firstKey === undefined) {
      line = firstLine = formatOrNote(shared, slot.formatter, record)
      firstKey = key
    } else {
      others ??= new Map()
      line = others.get(key)
      if (line === undefined) others.set(key, (line = formatOrNote(shared, slot.formatter, record)))
    }
    try {
      slot.sink.write(line, record)
    } catch (error) {
      slot.failures.report(error)
    }
  }
}

/** The formatted line; when the formatter throws, the record's message and time with a note, reported once as the formatter's failure. */
function formatOrNote(shared: Shared, formatter: Formatter, record: LogRecord): string {
  try {
    return formatter.format(record)
  } catch (error) {
    let report = shared.formatterFailures.get(formatter.key)
    if (report === undefined) shared.formatterFailures.set(formatter.key, (report = new FailureReport(formatter.key, { subject: `formatter "${formatter.key}"`, after: 'the records go on without their fields; further failures of this formatter are counted, not printed' })))
    report.report(error, 'formatting')
    const msg = `${record.msg} [the record could not be formatted: ${asText(error, 'unknown error')}]`
    const bare: LogRecord = { level: record.level, levelName: record.levelName, time: record.time, msg, context: record.context, fields: undefined, err: undefined, callsite: record.callsite }
    try {
      return formatter.format(bare)
    } catch {
      return ''
    }
  }
}

/** Builds the shared part of a root logger from options; throws on bad configuration. */
export function createShared(options: LoggerOptions, sinks: readonly Sink[]): Shared {
  if (!Array.isArray(sinks)) throw new TypeError(`Expected \`sinks\` to be an array, got \`${String(sinks)}\` (${typeof sinks})`)
  const slots = slotsOf(sinks)
  const redact = compileRedaction(options.redact)
  return {
    slots,
    lowestSinkLevel: slots.length === 0 ? SILENT_LEVEL : Math.min(...slots.map((slot) => slot.level)),
    needsCallsite: slots.some((slot) => slot.formatter.needsCallsite),
    redact,
    limits: resolveLimits(options.limits),
    fieldsAsJson: redact === undefined && slots.length > 0 && slots.every((slot) => slot.formatter instanceof JsonFormatter),
    failures: new FailureReport('logger', { subject: `logger${options.name === undefined ? '' : ` "${String(options.name)}"`}`, after: 'the program goes on; further failures of the logger are counted, not printed' }),
    formatterFailures: new Map(),
  }
}

export type { CallSite }
