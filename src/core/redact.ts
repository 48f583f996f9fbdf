import type { Plain } from './serialize.js'

export const REDACTED = '[Redacted]'

/** `redact: ['password', 'req.headers.authorization', '*.token']`, or the same with a censor of your own. */
export type RedactOption = readonly string[] | { paths: readonly string[]; censor?: string }

interface PathNode {
  children: Map<string, PathNode>
  wildcard: PathNode | undefined
  terminal: boolean
}

/** Replaces the values at the compiled paths, in place, in plain data the logger owns. */
export type Redactor = (target: { [key: string]: Plain }) => void

const SEGMENT = /\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\d+|\*))\s*\]|([^.[\]]+)/gy

/** Splits `a.b["c.d"].*` into segments; throws with the path quoted when it cannot. */
export function parsePath(path: string): string[] {
  const segments: string[] = []
  SEGMENT.lastIndex = 0
  let index = 0
  while (index < path.length) {
    if (segments.length > 0 && path[index] === '.') index++
    SEGMENT.lastIndex = index
    const match = SEGMENT.exec(path)
    if (!match) break
    segments.push((match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').replace(/\\(.)/g, '$1'))
    index = SEGMENT.lastIndex
  }
  if (path.length === 0 || index !== path.length) {
    throw new TypeError(`Expected \`redact\` paths like \`a.b\`, \`*.token\` or \`a["b-c"]\`, got \`${path}\` (string)`)
  }
  return segments
}

function newNode(): PathNode {
  return { children: new Map(), wildcard: undefined, terminal: false }
}

/** Compiles redaction paths once; returns undefined when there is nothing to redact. */
export function compileRedaction(option: RedactOption | undefined): Redactor | undefined {
  if (option === undefined) return undefined
  const paths = Array.isArray(option) ? (option as readonly string[]) : (option as { paths: readonly string[] }).paths
  const censor = Array.isArray(option) ? REDACTED : ((option as { censor?: string }).censor ?? REDACTED)
  if (!Array.isArray(paths)) {
    throw new TypeError(`Expected \`redact\` to be an array of paths or { paths, censor }, got \`${String(option)}\` (${typeof option})`)
  }
  if (paths.length === 0) return undefined
  const root = newNode()
  for (const path of paths) {
    if (typeof path !== 'string') throw new TypeError(`Expected \`redact\` paths to be strings, got \`${String(path)}\` (${typeof path})`)
    let node = root
    for (const segment of parsePath(path)) {
      if (segment === '*') node = node.wildcard ??= newNode()
      else {
        let child = node.children.get(segment)
        if (!child) node.children.set(segment, (child = newNode()))
        node = child
      }
    }
    node.terminal = true
  }
  return (target) => apply(target, root, censor)
}

function apply(target: Plain, node: PathNode, censor: string): void {
  if (target === null || typeof target !== 'object') return
  const record = target as { [key: string]: Plain }
  for (const [key, child] of node.children) {
    if (!Object.hasOwn(record, key)) continue
    visit(record, key, child, censor)
  }
  if (node.wildcard) for (const key of Object.keys(record)) visit(record, key, node.wildcard, censor)
}

function visit(record: { [key: string]: Plain }, key: string, node: PathNode, censor: string): void {
  if (node.terminal) record[key] = censor
  else apply(record[key] as Plain, node, censor)
}
