/**
 * Recognising the names `createRunFile()` (run-file.ts) gives, and the names the rotating
 * sink (sinks/backups.ts) gives their backups. Whatever does not match is not ours: the
 * catalog does not list it and `cleanLogs()` never removes it.
 */

/** What a run file's name says. */
export interface RunFileName {
  /** `execution`. */
  readonly prefix: string
  /** `21-02-34`, the local time the run started. */
  readonly time: string
  /** 1 for `<prefix>_HH-MM-SS.log`, N for the Nth run started in that second (`_N.log`). */
  readonly sequence: number
  /** The run file itself, or the one this is a backup of: `execution_21-02-34.log`. */
  readonly run: string
  /** Whether this is a rotated backup rather than the run file itself. */
  readonly backup: boolean
  /** N of a numbered backup, `<run>.N` (size rotation); undefined otherwise. */
  readonly rotation: number | undefined
  /** The stamp of a dated backup, `<run>.2026-11-21[_14[-30]][.N]` (time rotation); undefined otherwise. */
  readonly stamp: string | undefined
  /** How the backup is compressed, by its extension. */
  readonly compression: 'gzip' | 'zip' | undefined
}

// <prefix>_HH-MM-SS[_N].log, then for a backup .N or .YYYY-MM-DD[_HH[-mm]][.N], then .gz or .zip.
const RUN_FILE = new RegExp(
  String.raw`^(?<run>(?<prefix>.+)_(?<time>(?:[01]\d|2[0-3])-[0-5]\d-[0-5]\d)(?:_(?<sequence>[1-9]\d{0,5}))?\.log)` +
    String.raw`(?:\.(?:(?<rotation>\d{1,6})|(?<stamp>\d{4}-\d\d-\d\d(?:_\d\d(?:-\d\d)?)?)(?:\.\d{1,6})?)(?<extension>\.gz|\.zip)?)?$`,
)

const DATE_FOLDER = /^(\d{4})-(\d{2})-(\d{2})$/

/** Reads a run file's or backup's name; undefined when the name is not one. */
export function parseRunFileName(name: string): RunFileName | undefined {
  const match = RUN_FILE.exec(name)
  const groups = match?.groups
  if (!match || !groups) return undefined
  const { run = '', prefix = '', time = '', sequence, rotation, stamp, extension } = groups
  // The same refusals as validatePrefix(): no prefix with a path separator, `..` or a control character was written by us.
  if (prefix.includes('..') || /[/\\\u0000-\u001f\u007f]/.test(prefix)) return undefined
  return {
    prefix,
    time,
    sequence: sequence === undefined ? 1 : Number(sequence),
    run,
    backup: name !== run,
    rotation: rotation === undefined ? undefined : Number(rotation),
    stamp,
    compression: extension === '.gz' ? 'gzip' : extension === '.zip' ? 'zip' : undefined,
  }
}

/** Whether `name` is a day's folder, `YYYY-MM-DD`, of a date that exists. */
export function isDateFolder(name: string): boolean {
  const match = DATE_FOLDER.exec(name)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}
