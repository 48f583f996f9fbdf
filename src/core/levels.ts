/** Level names a logger has methods for, in increasing severity. */
export const LEVEL_NAMES = ['trace', 'debug', 'info', 'success', 'warn', 'error', 'fatal'] as const

export type LevelName = (typeof LEVEL_NAMES)[number]

/** Names accepted wherever a level is configured: the level names, their aliases and `silent`. */
export type LevelInput = LevelName | 'warning' | 'critical' | 'silent' | number

/** pino-compatible numbers, so pino's tools read our JSON lines unchanged. */
export const LEVEL_VALUES: Readonly<Record<LevelName, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  success: 35,
  warn: 40,
  error: 50,
  fatal: 60,
}

/** Above every level: nothing is logged. */
export const SILENT_LEVEL = Number.POSITIVE_INFINITY

// Python's names, for users coming from `logging` and loguru.
const ALIASES: Readonly<Record<string, LevelName>> = { warning: 'warn', critical: 'fatal' }

/** Labels shown in text formats; they follow Python's spelling (WARNING, CRITICAL) like the seeds. */
export const LEVEL_LABELS: Readonly<Record<LevelName, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  success: 'SUCCESS',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
}

/** The numbers a level may be configured as: each level's own, 0 (everything) and Infinity (`silent`). */
const CONFIGURABLE_NUMBERS: ReadonlySet<number> = new Set([0, ...Object.values(LEVEL_VALUES), SILENT_LEVEL])

/**
 * Resolves a level name, alias or number to its number; throws on anything else. A number
 * must be one of the levels' own (10, 20, 30, 35, 40, 50, 60), 0 or Infinity, so that a level
 * read back (`logger.level`) and set again means the same; `anyNumber` lets a reader's filter
 * (`blackbox tail --level 45`) take any finite number.
 */
export function levelValue(input: unknown, option = 'level', { anyNumber = false }: { anyNumber?: boolean } = {}): number {
  if (typeof input === 'number') {
    if (CONFIGURABLE_NUMBERS.has(input) || (anyNumber && Number.isFinite(input))) return input
  } else if (typeof input === 'string') {
    const name = input.toLowerCase()
    if (name === 'silent') return SILENT_LEVEL
    const canonical = ALIASES[name] ?? name
    if (Object.hasOwn(LEVEL_VALUES, canonical)) return LEVEL_VALUES[canonical as LevelName]
  }
  const numbers = anyNumber ? 'a number' : `one of their numbers (${Object.values(LEVEL_VALUES).join(', ')})`
  let shown: string
  try {
    shown = String(input)
  } catch {
    shown = 'an unprintable value'
  }
  throw new TypeError(`Expected \`${option}\` to be one of ${[...LEVEL_NAMES, 'warning', 'critical', 'silent'].join(', ')} or ${numbers}, got \`${shown}\` (${input === null ? 'null' : typeof input})`)
}

/** The name of the highest level at or below `value`, for labelling custom numbers. */
export function levelNameOf(value: number): LevelName {
  let found: LevelName = 'trace'
  for (const name of LEVEL_NAMES) if (LEVEL_VALUES[name] <= value) found = name
  return found
}
