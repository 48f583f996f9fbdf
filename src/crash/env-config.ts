import { writeSync } from 'node:fs'
import { resolveFormat, type FormatOption } from '../core/format/index.js'
import { levelValue, type LevelInput } from '../core/levels.js'
import { parseDuration, parseSize } from '../core/units.js'

/** Defaults for `setupLogging` that a deployed program takes from its environment. */
export interface EnvDefaults {
  level?: LevelInput
  dir?: string
  format?: FormatOption
  /** Bytes; for rotation. */
  maxSize?: number
  /** Milliseconds: run files older than this are removed at start. */
  retention?: number
}

type Reader = (value: string, name: string) => Partial<EnvDefaults>

const READERS: Readonly<Record<string, Reader>> = {
  BLACKBOX_LEVEL: (value, name) => (levelValue(value, name), { level: value as LevelInput }),
  BLACKBOX_DIR: (value) => ({ dir: value }),
  BLACKBOX_FORMAT: (value) => (resolveFormat(value, 'text'), { format: value }),
  BLACKBOX_MAX_SIZE: (value, name) => ({ maxSize: parseSize(value, name) }),
  BLACKBOX_RETENTION: (value, name) => ({ retention: parseDuration(value, name) }),
}

/**
 * Reads `BLACKBOX_LEVEL`, `BLACKBOX_DIR`, `BLACKBOX_FORMAT`, `BLACKBOX_MAX_SIZE` and
 * `BLACKBOX_RETENTION`. A value that cannot be used is reported on stderr, once per
 * call, and ignored: a typo in the environment never stops a program.
 */
export function readEnvDefaults(env: NodeJS.ProcessEnv = process.env): EnvDefaults {
  const defaults: EnvDefaults = {}
  for (const [name, read] of Object.entries(READERS)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    try {
      Object.assign(defaults, read(value, name))
    } catch (error) {
      try {
        writeSync(2, `blackbox: ignoring ${name}: ${(error as Error).message}\n`)
      } catch {
        // no stderr: nothing more to do
      }
    }
  }
  return defaults
}
