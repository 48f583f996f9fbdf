import type { Plain } from './serialize.js'

/**
 * The keys a record writes itself, in JSON (`level`, `time`, `pid`, `hostname`, `name`,
 * `msg`) and, in text, in its prefix. A field or binding of the same name would write the key
 * twice, and a reader would keep the forged one (issue #15): such a field is written under
 * its name with `_` appended (`time_`), and more `_` while that name is taken too.
 */
export const RECORD_KEYS: ReadonlySet<string> = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg'])

/**
 * For the keys of one object, in order, the new name of each key in `reserved`: its name with
 * `_` appended until it is neither reserved, nor another key of the object, nor a name given
 * before. Undefined when no key is reserved (the common case: nothing is allocated).
 */
export function renamesFor(keys: readonly string[], reserved: ReadonlySet<string>): ReadonlyMap<string, string> | undefined {
  let renames: Map<string, string> | undefined
  for (const key of keys) if (reserved.has(key)) renames ??= new Map()
  if (renames === undefined) return undefined
  const used = new Set<string>()
  for (const key of keys) if (!reserved.has(key)) used.add(key)
  for (const key of keys) {
    if (!reserved.has(key)) continue
    let name = `${key}_`
    while (reserved.has(name) || used.has(name)) name += '_'
    used.add(name)
    renames.set(key, name)
  }
  return renames
}

/** `fields` with its reserved keys renamed (see `renamesFor`); the same object when none is. */
export function withoutReservedKeys(fields: { [key: string]: Plain }, reserved: ReadonlySet<string>): { [key: string]: Plain } {
  const keys = Object.keys(fields)
  const renames = renamesFor(keys, reserved)
  if (renames === undefined) return fields
  const out: { [key: string]: Plain } = {}
  for (const key of keys) Object.defineProperty(out, renames.get(key) ?? key, { value: fields[key], enumerable: true, writable: true, configurable: true })
  return out
}

/** The keys a record of a logger with these bindings writes itself, bindings included. */
export function reservedKeysWith(bindings: { readonly [key: string]: Plain }): ReadonlySet<string> {
  const keys = Object.keys(bindings)
  return keys.length === 0 ? RECORD_KEYS : new Set([...RECORD_KEYS, ...keys])
}
