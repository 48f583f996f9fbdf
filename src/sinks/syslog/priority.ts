import type { LevelName } from '../../core/levels.js'

/** Facility codes by name, RFC 5424 §6.2.1 table 1 (with the usual aliases of syslog.h). */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  audit: 13,
  console: 14,
  alert: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
}

/** A facility by name (`'local0'`) or code (0 to 23). */
export type Facility = keyof typeof FACILITIES | number

/** The facility when none is configured: `user` (1), what syslog(3) uses by default. */
export const DEFAULT_FACILITY = FACILITIES['user'] as number

/**
 * Syslog severities of blackbox's levels, RFC 5424 §6.2.1 table 2. Syslog has no level
 * below debug, so trace shares 7; `success` is a notice (5), just above info.
 */
export const SEVERITY_OF_LEVEL: Readonly<Record<LevelName, number>> = {
  trace: 7,
  debug: 7,
  info: 6,
  success: 5,
  warn: 4,
  error: 3,
  fatal: 2,
}

/** Resolves a `facility` option once, when a sink is created; throws on anything else. */
export function facilityCode(input: unknown): number {
  if (input === undefined) return DEFAULT_FACILITY
  if (typeof input === 'number' && Number.isInteger(input) && input >= 0 && input <= 23) return input
  if (typeof input === 'string' && Object.hasOwn(FACILITIES, input.toLowerCase())) return FACILITIES[input.toLowerCase()] as number
  throw new TypeError(
    `Expected \`facility\` to be one of ${Object.keys(FACILITIES).join(', ')} or an integer from 0 to 23, got \`${String(input)}\` (${typeof input})`,
  )
}

/** PRI = facility × 8 + severity (RFC 5424 §6.2.1). */
export function priority(facility: number, level: LevelName): number {
  return facility * 8 + SEVERITY_OF_LEVEL[level]
}
