/**
 * How deep the JSON a reader hands on may nest. `JSON.parse` is not recursive, but much of
 * what walks its result is (`JSON.stringify`, the formatters, `util.inspect`), and a line
 * nested 5,000 deep overflows the stack of any of them (issue #15). A reader bounds what it
 * parses before anything walks it.
 */

/**
 * Deepest nesting of a JSON value kept: an object or array deeper than this is replaced by
 * the marker the logger's own serializer writes at its depth limit (`[Object: max depth]`,
 * `[Array: max depth]`). The logger writes 10 levels by default.
 */
export const MAX_FIELD_DEPTH = 512

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Whether JSON text nests deeper than `limit` (a quick scan, without parsing; text of N characters nests at most N / 2 deep). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= 2 * limit) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === BACKSLASH) i++
      else if (code === QUOTE) inString = false
    } else if (code === QUOTE) inString = true
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limit) return true
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--
  }
  return false
}

/** Sets a member of a parsed object or array; an own `__proto__` key is defined, since assigning it would set the prototype. */
export function setMember(container: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true })
  else container[key] = value
}

/**
 * Replaces, in place and without recursion, the objects and arrays nested deeper than
 * `MAX_FIELD_DEPTH` under `root` (at depth 0) by the logger's depth markers. `textLength`,
 * the length of the JSON `root` was parsed from, spares the walk for text too short to
 * nest that deep (nearly every line).
 */
export function boundJsonDepth(root: Record<string, unknown>, textLength: number): void {
  if (textLength <= 2 * MAX_FIELD_DEPTH) return
  const pending: Array<{ container: Record<string, unknown>; depth: number }> = [{ container: root, depth: 0 }]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { container, depth } = next
    for (const key of Object.keys(container)) {
      const value = container[key]
      if (value === null || typeof value !== 'object') continue
      if (depth + 1 >= MAX_FIELD_DEPTH) setMember(container, key, Array.isArray(value) ? '[Array: max depth]' : '[Object: max depth]')
      else pending.push({ container: value as Record<string, unknown>, depth: depth + 1 })
    }
  }
}
