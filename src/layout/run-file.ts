import { closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'

/** The prefix of run files when none is given. */
export const DEFAULT_RUN_PREFIX = 'execution'
/** How many `_2`, `_3`… names are tried for runs started in the same second. */
export const MAX_SAME_SECOND_RUNS = 1000

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

/** `2026-11-21`: the local date, which names the day's folder. */
export function localDate(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

/** `21-02-34`: the local 24-hour time, which ends a run file's name. */
export function localTime(date: Date): string {
  return `${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
}

/**
 * Refuses a prefix that could leave the date folder or hide in a listing: path
 * separators, `..`, NUL and other control characters, or nothing at all.
 */
export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix === '' || prefix === '.' || prefix.includes('..') || /[/\\\u0000-\u001f\u007f]/.test(prefix)) {
    throw new TypeError(
      `Expected \`prefix\` to be a file-name part without path separators, \`..\` or control characters, got \`${JSON.stringify(prefix) ?? String(prefix)}\` (${typeof prefix})`,
    )
  }
  return prefix
}

/**
 * Creates `dir/YYYY-MM-DD/<prefix>_HH-MM-SS.log` for a run started at `start`, and
 * returns its path. The file is created exclusively (O_EXCL), so a second run in the same
 * second, in this process or another, gets `_2`, `_3`… and never shares a file.
 */
export function createRunFile(dir: string, prefix: string, start: Date = new Date()): string {
  validatePrefix(prefix)
  const folder = join(dir, localDate(start))
  mkdirSync(folder, { recursive: true })
  const stem = `${prefix}_${localTime(start)}`
  for (let n = 1; n <= MAX_SAME_SECOND_RUNS; n++) {
    const path = join(folder, n === 1 ? `${stem}.log` : `${stem}_${n}.log`)
    try {
      closeSync(openSync(path, 'wx', 0o644))
      return path
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  throw new Error(`Could not create a run file for ${stem}: ${MAX_SAME_SECOND_RUNS} runs already started in that second (MAX_SAME_SECOND_RUNS)`)
}
