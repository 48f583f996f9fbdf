import assert from 'node:assert/strict'

/**
 * Reads `value[path[0]][path[1]]…`, failing with the path when a step is not an object
 * or lacks the key, so assertions on nested output stay typed and readable.
 */
export function at(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current = value
  for (const [index, key] of path.entries()) {
    // Messages are built only on failure: the value may have a `toString` of its own.
    const where = (): string => path.slice(0, index).map((step) => JSON.stringify(step)).join('.') || 'the root'
    if (current === null || typeof current !== 'object') assert.fail(`Expected an object at ${where()}, got ${typeof current}`)
    if (!Object.hasOwn(current, key)) assert.fail(`Expected ${where()} to have its own key ${JSON.stringify(key)}`)
    current = (current as Record<string | number, unknown>)[key]
  }
  return current
}

/** `at()` for a value that must be a string. */
export function textAt(value: unknown, ...path: readonly (string | number)[]): string {
  const found = at(value, ...path)
  if (typeof found !== 'string') assert.fail(`Expected ${path.map((step) => JSON.stringify(step)).join('.')} to be a string, got ${typeof found}`)
  return found
}

/**
 * The value as a JSON reader sees it. Comparing this rather than the value itself keeps
 * assertions true whatever prototype the serializer gives its objects (a null prototype is fine).
 */
export function viaJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown
}

/**
 * Fails unless `value` is data that `JSON.stringify` writes without calling user code or
 * losing anything: finite numbers, strings, booleans, null, dense arrays, and objects
 * with only own enumerable data properties and a plain or null prototype.
 */
export function assertJsonData(value: unknown, path = '$'): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      assert.ok(Number.isFinite(value), `${path} is the number ${value}, which JSON writes as null`)
      return
    case 'object': {
      if (value === null) return
      if (Array.isArray(value)) {
        assert.equal(Object.getPrototypeOf(value), Array.prototype, `${path} is an array of another class`)
        for (let i = 0; i < value.length; i++) {
          assert.ok(Object.hasOwn(value, i), `${path}[${i}] is a hole`)
          assertJsonData(value[i], `${path}[${i}]`)
        }
        return
      }
      const prototype: unknown = Object.getPrototypeOf(value)
      assert.ok(prototype === Object.prototype || prototype === null, `${path} has a prototype other than Object.prototype or null`)
      assert.equal(Object.getOwnPropertySymbols(value).length, 0, `${path} has symbol keys`)
      for (const key of Object.getOwnPropertyNames(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)
        assert.ok(descriptor !== undefined && 'value' in descriptor && descriptor.enumerable === true, `${path}[${JSON.stringify(key)}] is not an enumerable data property`)
        assertJsonData(descriptor.value, `${path}[${JSON.stringify(key)}]`)
      }
      return
    }
    default:
      assert.fail(`${path} is a ${typeof value}, which is not JSON data`)
  }
}
