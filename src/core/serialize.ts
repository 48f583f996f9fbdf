import { types } from 'node:util'
import { renamesFor, withoutReservedKeys } from './field-names.js'

/** Bounds that keep one record small whatever the application hands over. */
export interface SerializeLimits {
  /** Characters kept of any string (messages included); the rest is replaced by a marker with the original length. */
  maxStringLength: number
  /** Nesting depth below which objects are replaced by a marker. */
  maxDepth: number
  /** Items kept of an array, Set or Map. */
  maxArrayLength: number
  /** Properties kept of an object. */
  maxProperties: number
  /** Bytes of a Buffer or typed array shown in its summary. */
  maxBinaryPreview: number
}

export const DEFAULT_LIMITS: Readonly<SerializeLimits> = {
  maxStringLength: 64 * 1024,
  maxDepth: 10,
  maxArrayLength: 100,
  maxProperties: 100,
  maxBinaryPreview: 32,
}

/** What serialization produces: plain data that `JSON.stringify` turns into text without calling user code. */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain }

/** The JSON shape of an error, compatible with pino's `err` serializer. */
export interface SerializedError {
  [key: string]: Plain
  type: string
  message: string
  stack: string
}

/** Validates user limits once, at construction. */
export function resolveLimits(input: Partial<SerializeLimits> | undefined): SerializeLimits {
  const limits = { ...DEFAULT_LIMITS, ...input }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(`Expected \`limits.${key}\` to be a positive integer, got \`${String(value)}\` (${typeof value})`)
    }
  }
  return limits
}

/** Truncates a string past the limit, noting its original length. */
export function truncate(text: string, limits: SerializeLimits): string {
  if (text.length <= limits.maxStringLength) return text
  return `${text.slice(0, limits.maxStringLength)}…[truncated, ${text.length} chars]`
}

function describeThrown(what: string, error: unknown): string {
  let message: string
  try {
    message = error instanceof Error ? error.message : String(error)
  } catch {
    message = 'unprintable'
  }
  return `[${what} threw: ${message}]`
}

function isErrorLike(value: object): value is Error {
  return value instanceof Error || types.isNativeError(value)
}

function summarizeBinary(view: ArrayBufferView | ArrayBuffer, limits: SerializeLimits): string {
  const bytes = view instanceof ArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
  const kind = Buffer.isBuffer(view) ? 'Buffer' : view.constructor?.name ?? 'Binary'
  const shown = Buffer.from(bytes.subarray(0, limits.maxBinaryPreview)).toString('hex')
  const more = bytes.byteLength > limits.maxBinaryPreview ? '…' : ''
  return `[${kind} ${bytes.byteLength} bytes: ${shown}${more}]`
}

/**
 * Turns any value into plain data. Never throws: cycles, BigInt, throwing getters
 * and `toJSON`, Proxies and oversize input all become visible markers.
 */
export function serialize(value: unknown, limits: SerializeLimits = DEFAULT_LIMITS): Plain {
  return new Walker(limits).walk(value, 0) ?? null
}

/** Serializes an error with its cause chain; never throws. */
export function serializeError(error: Error, limits: SerializeLimits = DEFAULT_LIMITS): SerializedError {
  return new Walker(limits).error(error, 0)
}

/**
 * The one field a fields object that cannot be read at all becomes (a revoked Proxy, a Proxy
 * whose `ownKeys` trap throws): `{ fields: "[Serializing threw: message]" }`.
 */
export const UNREADABLE_FIELDS_KEY = 'fields'

/** Serializes the own properties of an object into a fresh plain object; never throws. */
export function serializeFields(fields: object, limits: SerializeLimits = DEFAULT_LIMITS): { [key: string]: Plain } {
  const walker = new Walker(limits)
  walker.ancestors.add(fields)
  try {
    return walker.properties(fields, 0)
  } catch (error) {
    return { [UNREADABLE_FIELDS_KEY]: describeThrown('Serializing', error) }
  }
}

const NOTHING_RESERVED: ReadonlySet<string> = new Set()

/** Characters a JSON string cannot hold raw: controls, the quote, the backslash, and surrogates (a lone one is escaped). */
const JSON_ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/

/** `JSON.stringify(text)`, with a quick way out for the common string that needs no escaping. */
export function jsonString(text: string): string {
  return JSON_ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`
}

/** Bounded cache of `,"key":` for the keys records use again and again. */
const KEY_TEXT = new Map<string, string>()
const KEY_TEXT_ENTRIES = 1024

function keyText(name: string): string {
  let text = KEY_TEXT.get(name)
  if (text === undefined) {
    text = `,${jsonString(name)}:`
    if (KEY_TEXT.size < KEY_TEXT_ENTRIES && name.length <= 64) KEY_TEXT.set(name, text)
  }
  return text
}

/**
 * The own properties of an object as JSON members, `,"a":1,"b":"x"` (empty for none):
 * exactly what `serializeFields` then `JSON.stringify` give, without building the copy.
 * Strings, numbers and booleans are written directly; anything else goes through the
 * same walk as `serializeFields`. Never calls user code twice for one property.
 */
export function serializeFieldsToJson(fields: object, limits: SerializeLimits = DEFAULT_LIMITS, reserved: ReadonlySet<string> = NOTHING_RESERVED): string {
  let keys: string[]
  try {
    keys = Object.keys(fields)
  } catch (error) {
    return jsonMembers(JSON.stringify(withoutReservedKeys({ [UNREADABLE_FIELDS_KEY]: describeThrown('Serializing', error) }, reserved)))
  }
  // Past the bounds, names can collide (two keys cut to one, or a key named like the
  // "…" marker) and the copy keeps the last value in the first place: take the copy.
  if (keys.length > limits.maxProperties || keys.some((key) => key.length > limits.maxStringLength)) {
    return jsonMembers(JSON.stringify(withoutReservedKeys(serializeFields(fields, limits), reserved)))
  }
  const renames = renamesFor(keys, reserved)
  let walker: Walker | undefined
  let out = ''
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const name = keyText(renames?.get(key) ?? key)
    let item: unknown
    try {
      item = (fields as Record<string, unknown>)[key]
    } catch (error) {
      out += name + JSON.stringify(describeThrown('Getter', error))
      continue
    }
    switch (typeof item) {
      case 'string':
        out += name + (item.length <= limits.maxStringLength ? jsonString(item) : JSON.stringify(truncate(item, limits)))
        continue
      case 'number':
        out += name + (Number.isFinite(item) ? `${item}` : `"${item}"`)
        continue
      case 'boolean':
        out += name + (item ? 'true' : 'false')
        continue
      case 'undefined':
        continue
    }
    if (walker === undefined) {
      walker = new Walker(limits)
      walker.ancestors.add(fields)
    }
    out += name + JSON.stringify(walker.walk(item, 0) ?? null)
  }
  return out
}

/** `{"a":1}` → `,"a":1`: an object's members, to splice into a line. */
export function jsonMembers(json: string): string {
  return json.length > 2 ? `,${json.slice(1, -1)}` : ''
}

class Walker {
  readonly ancestors = new Set<object>()
  constructor(private readonly limits: SerializeLimits) {}

  /** `undefined` means "leave out", as JSON does for undefined and in objects. */
  walk(value: unknown, depth: number): Plain | undefined {
    switch (typeof value) {
      case 'string':
        return truncate(value, this.limits)
      case 'number':
        return Number.isFinite(value) ? value : String(value)
      case 'boolean':
        return value
      case 'bigint':
        return value.toString()
      case 'undefined':
        return undefined
      case 'symbol':
        return value.toString()
      case 'function':
        return `[Function: ${value.name || 'anonymous'}]`
    }
    if (value === null) return null
    return this.object(value as object, depth)
  }

  private object(value: object, depth: number): Plain {
    if (this.ancestors.has(value)) return '[Circular]'
    try {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return summarizeBinary(value, this.limits)
      if (depth >= this.limits.maxDepth) return Array.isArray(value) ? '[Array: max depth]' : '[Object: max depth]'
      this.ancestors.add(value)
      try {
        return this.container(value, depth + 1)
      } finally {
        this.ancestors.delete(value)
      }
    } catch (error) {
      // A Proxy whose traps throw, or a hostile prototype.
      return describeThrown('Serializing', error)
    }
  }

  private container(value: object, depth: number): Plain {
    if (isErrorLike(value)) return this.error(value, depth)
    if (Array.isArray(value)) return this.items(value, value.length, depth)
    if (value instanceof Set) return this.items(value, value.size, depth)
    if (value instanceof Map) return this.map(value, depth)
    const toJSON = (value as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') {
      let converted: unknown
      try {
        converted = toJSON.call(value)
      } catch (error) {
        return describeThrown('toJSON', error)
      }
      return this.walk(converted, depth) ?? null
    }
    return this.properties(value, depth)
  }

  private items(source: Iterable<unknown>, size: number, depth: number): Plain[] {
    const out: Plain[] = []
    for (const item of source) {
      if (out.length === this.limits.maxArrayLength) {
        out.push(`[… ${size - this.limits.maxArrayLength} more items]`)
        break
      }
      out.push(this.walk(item, depth) ?? null)
    }
    return out
  }

  private map(source: Map<unknown, unknown>, depth: number): { [key: string]: Plain } {
    const out: { [key: string]: Plain } = {}
    let count = 0
    for (const [key, item] of source) {
      if (count++ === this.limits.maxProperties) {
        out['…'] = `${source.size - this.limits.maxProperties} more entries`
        break
      }
      const name = typeof key === 'string' ? truncate(key, this.limits) : JSON.stringify(this.walk(key, depth) ?? null)
      const plain = this.walk(item, depth)
      if (plain !== undefined) setOwn(out, name, plain)
    }
    return out
  }

  properties(value: object, depth: number): { [key: string]: Plain } {
    const out: { [key: string]: Plain } = {}
    const keys = Object.keys(value)
    const kept = Math.min(keys.length, this.limits.maxProperties)
    for (let i = 0; i < kept; i++) {
      const key = keys[i] as string
      const name = truncate(key, this.limits)
      let item: unknown
      try {
        item = (value as Record<string, unknown>)[key]
      } catch (error) {
        setOwn(out, name, describeThrown('Getter', error))
        continue
      }
      const plain = this.walk(item, depth)
      if (plain !== undefined) setOwn(out, name, plain)
    }
    if (keys.length > kept) out['…'] = `${keys.length - kept} more properties`
    return out
  }

  error(error: Error, depth: number): SerializedError {
    this.ancestors.add(error)
    try {
      const out: SerializedError = {
        type: errorType(error),
        message: truncate(asText(attempt(() => error.message), ''), this.limits),
        stack: truncate(asText(attempt(() => error.stack), ''), this.limits),
      }
      const code = attempt(() => (error as { code?: unknown }).code)
      if (code !== undefined) out['code'] = this.walk(code, depth) ?? null
      for (const [key, item] of Object.entries(this.properties(error, depth))) {
        if (!Object.hasOwn(out, key)) setOwn(out, key, item)
      }
      const cause = attempt(() => error.cause)
      if (cause !== undefined) out['cause'] = this.walk(cause, depth) ?? null
      const errors = attempt(() => (error instanceof AggregateError ? error.errors : undefined))
      if (Array.isArray(errors)) out['errors'] = this.items(errors, errors.length, depth)
      return out
    } finally {
      this.ancestors.delete(error)
    }
  }
}

/**
 * `out[key] = value`, except that a `__proto__` key (from parsed JSON, say) becomes an own
 * property as it was in the input, instead of replacing the prototype.
 */
function setOwn(out: { [key: string]: Plain }, key: string, value: Plain): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

/** The instance's `name` when it was set to something telling, otherwise the class name (`HttpError`), as pino does. */
function errorType(error: Error): string {
  const name = asText(attempt(() => error.name), '')
  if (name !== '' && name !== 'Error') return name
  return asText(attempt(() => error.constructor?.name), '') || name || 'Error'
}

/** Reads a property that may be a throwing getter; the failure becomes a marker. */
function attempt(get: () => unknown): unknown {
  try {
    return get()
  } catch (error) {
    return describeThrown('Reading', error)
  }
}

/** `String(value)` that survives a throwing `toString`. */
export function asText(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback
  if (typeof value === 'string') return value
  try {
    return String(value)
  } catch (error) {
    return describeThrown('toString', error)
  }
}
