import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** A file to create: its bytes, and the modification time to give it. */
export interface TreeFile {
  readonly content: string | Uint8Array
  /** Default: left as written (now). */
  readonly mtime?: Date | number
}

/** Creates files (and their folders) under `root`; keys are paths relative to it, with `/`. */
export function writeTree(root: string, files: Readonly<Record<string, string | Uint8Array | TreeFile>>): void {
  for (const [relative, spec] of Object.entries(files)) {
    const file: TreeFile = typeof spec === 'string' || spec instanceof Uint8Array ? { content: spec } : spec
    const path = join(root, ...relative.split('/'))
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, file.content)
    if (file.mtime !== undefined) utimesSync(path, file.mtime, file.mtime)
  }
}

/** Every file and folder under `root`, relative, with `/`; folders end with `/`. Sorted. */
export function listTree(root: string): string[] {
  const found: string[] = []
  const walk = (folder: string, prefix: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const relative = `${prefix}${entry.name}`
      if (entry.isDirectory()) {
        found.push(`${relative}/`)
        walk(join(folder, entry.name), `${relative}/`)
      } else found.push(relative)
    }
  }
  walk(root, '')
  return found.sort()
}

/** Epoch ms of a local `YYYY-MM-DD HH:mm:ss.SSS`, as the text formats write times. */
export function localMs(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(text)
  if (!match) throw new Error(`Expected a local time like 2026-11-21 05:52:25.123, got ${JSON.stringify(text)}`)
  const [year, month, day, hours, minutes, seconds, ms] = match.slice(1).map(Number) as [number, number, number, number, number, number, number]
  return new Date(year, month - 1, day, hours, minutes, seconds, ms).getTime()
}
