import { levelNameOf, type LevelName } from '../../core/levels.js'

/** A level as the OpenTelemetry logs data model has it: a SeverityNumber and its short name. */
export interface Severity {
  readonly number: number
  readonly text: string
}

/**
 * Each level at the start of its OpenTelemetry range (logs data model, "Field:
 * SeverityNumber": TRACE 1–4, DEBUG 5–8, INFO 9–12, WARN 13–16, ERROR 17–20, FATAL 21–24),
 * with the range's short name. `success` is a kind of info above plain info: INFO2.
 */
export const OTLP_SEVERITY: Readonly<Record<LevelName, Severity>> = {
  trace: { number: 1, text: 'TRACE' },
  debug: { number: 5, text: 'DEBUG' },
  info: { number: 9, text: 'INFO' },
  success: { number: 10, text: 'INFO2' },
  warn: { number: 13, text: 'WARN' },
  error: { number: 17, text: 'ERROR' },
  fatal: { number: 21, text: 'FATAL' },
}

/** The severity of a level number: that of the highest level at or below it, so custom numbers fall in a range. */
export function severityOf(level: number): Severity {
  return OTLP_SEVERITY[levelNameOf(level)]
}
