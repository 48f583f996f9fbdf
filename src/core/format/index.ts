import type { Formatter } from './formatter.js'
import { JsonFormatter } from './json.js'
import { PatternFormatter, type PatternOptions } from './pattern.js'

export type { Formatter } from './formatter.js'
export { JsonFormatter } from './json.js'
export { PatternFormatter, type LevelPainter } from './pattern.js'
export { CONTINUATION_PREFIX } from './escape.js'

/** Named patterns for `format`. */
export const PRESETS = {
  /** `2026-11-21 05:52:25.123 [1234] [INFO] message key=value` */
  default: '{time} [{pid}] [{level}] {message}{fields}',
  /** `2026-11-21 05:52:25.123 | INFO     | MainProcess:main | app.ts:42 | message` */
  loguru: '{time} | {level: <8} | {process}:{thread} | {file}:{line} | {message}{fields}',
  /** `[05:52:25] [1234] [INFO] message key=value`, the console's compact form. */
  console: '[{time:HH:mm:ss}] [{pid}] [{level}] {message}{fields}',
} as const

/** `'text'` (the default preset), `'json'`, a preset name, a pattern, or a formatter of your own. */
export type FormatOption = 'text' | 'json' | keyof typeof PRESETS | (string & {}) | Formatter

/** Resolves a `format` option once, when a sink is created. */
export function resolveFormat(option: FormatOption | undefined, fallback: string, options: PatternOptions = {}): Formatter {
  const spec = option ?? fallback
  if (typeof spec === 'object' && spec !== null && typeof spec.format === 'function') return spec
  if (spec === 'json') return new JsonFormatter()
  if (spec === 'text') return new PatternFormatter(PRESETS.default, options)
  if (typeof spec === 'string' && Object.hasOwn(PRESETS, spec)) return new PatternFormatter(PRESETS[spec as keyof typeof PRESETS], options)
  if (typeof spec === 'string' && spec.includes('{')) return new PatternFormatter(spec, options)
  throw new TypeError(
    `Expected \`format\` to be 'text', 'json', ${Object.keys(PRESETS).map((name) => `'${name}'`).join(', ')}, a pattern with {tokens} or a formatter, got \`${String(spec)}\` (${typeof spec})`,
  )
}
