import type { LevelName } from './levels.js'
import { RECORD_KEYS, reservedKeysWith, withoutReservedKeys } from './field-names.js'
import type { Plain, SerializedError } from './serialize.js'

/** Where a log call was made; computed only when a format asks for it. */
export interface CallSite {
  file: string
  line: number
  column: number
  function: string
}

/**
 * What a logger and its children share: the name and the bindings, serialized and
 * redacted once at `child()`, plus each format's rendering of them, made on first use.
 */
export class LoggerContext {
  readonly rendered = new Map<string, string>()
  /** The keys this context's records write themselves: a field of one of these names is renamed (see field-names.ts). */
  readonly reserved: ReadonlySet<string>
  /** `bindings` have their own reserved keys renamed here, once. */
  readonly bindings: { readonly [key: string]: Plain }

  constructor(
    readonly name: string | undefined,
    bindings: { readonly [key: string]: Plain },
  ) {
    this.bindings = withoutReservedKeys(bindings as { [key: string]: Plain }, RECORD_KEYS)
    this.reserved = reservedKeysWith(this.bindings)
  }

  /** Renders the context once per format key; the hot path then only concatenates. */
  render(key: string, render: (context: LoggerContext) => string): string {
    let text = this.rendered.get(key)
    if (text === undefined) this.rendered.set(key, (text = render(this)))
    return text
  }
}

/** One log call, built once and handed to every sink. */
export interface LogRecord {
  /** The level number (pino-compatible). */
  readonly level: number
  /** The name of the level the number falls in. */
  readonly levelName: LevelName
  /** Epoch milliseconds. */
  readonly time: number
  readonly msg: string
  readonly context: LoggerContext
  /** This call's own fields, serialized and redacted; undefined when there are none. */
  readonly fields: { readonly [key: string]: Plain } | undefined
  /**
   * The same fields as JSON members (`,"a":1,"b":"x"`), when the logger wrote them straight
   * to JSON (every sink formats JSON and nothing is redacted); `fields` is then read back
   * from this text on first use. Copy a record with `fields: record.fields` spelled out.
   */
  readonly fieldsJson?: string
  readonly err: SerializedError | undefined
  readonly callsite: CallSite | undefined
}

/**
 * A record whose fields the logger rendered straight to JSON text at the call. `fields`
 * is parsed from that text when a sink asks for it, so it holds the values of the
 * moment of the call, as an eagerly serialized record does.
 */
export class JsonFieldsRecord implements LogRecord {
  #fields: { readonly [key: string]: Plain } | undefined
  constructor(
    readonly level: number,
    readonly levelName: LevelName,
    readonly time: number,
    readonly msg: string,
    readonly context: LoggerContext,
    readonly fieldsJson: string,
    readonly err: SerializedError | undefined,
    readonly callsite: CallSite | undefined,
  ) {}

  get fields(): { readonly [key: string]: Plain } {
    return (this.#fields ??= this.fieldsJson === '' ? {} : (JSON.parse(`{${this.fieldsJson.slice(1)}}`) as { [key: string]: Plain }))
  }
}
