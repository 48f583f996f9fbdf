import { constants, type Dirent } from 'node:fs'
import { access, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { localDate } from './run-file.js'
import { isDateFolder, parseRunFileName, type RunFileName } from './run-file-name.js'

/** The folder run files go into when none is given. */
export const DEFAULT_LOG_DIR = 'logs'

/** One run file, or a rotated backup of one, in a day's folder. */
export interface LogFileEntry {
  readonly path: string
  /** `2026-11-21`, the day's folder. */
  readonly date: string
  /** `execution_21-02-34.log`, `execution_21-02-34.log.2.gz`. */
  readonly name: string
  /** Bytes on disk (compressed, for `.gz`). */
  readonly size: number
  /** Last modification, epoch ms. */
  readonly mtime: number
  /** The run file itself, or the one this is a backup of. */
  readonly run: string
  /** Whether this is a rotated backup of `run` rather than the run file itself. */
  readonly backup: boolean
  /** N of a numbered backup (`.N`, `.N.gz`); undefined otherwise. */
  readonly rotation: number | undefined
  /** The stamp of a dated backup (`.2026-11-21_14`); undefined otherwise. */
  readonly stamp: string | undefined
  /** How a backup is compressed; undefined when it is not. */
  readonly compression: 'gzip' | 'zip' | undefined
}

/** A day folder or run file that could not be read (permissions, an I/O error), and was skipped. */
export interface UnreadableEntry {
  readonly path: string
  /** `permission denied (EACCES)`. */
  readonly reason: string
}

/** Told of each entry skipped because it could not be read; the rest goes on. */
export type OnUnreadable = (entry: UnreadableEntry) => void

export interface ListLogFilesOptions {
  /** Default `logs`. */
  dir?: string
  /** Only the folders of the last N days, today counting as 1. Default: every day. */
  daysBack?: number
  /** What "today" is for `daysBack`; default now. */
  now?: Date | number
  /**
   * Told of each day folder or file that could not be read, which is left out. Default:
   * left out without a word. The log folder itself that cannot be read throws.
   */
  onUnreadable?: OnUnreadable
}

/** A `YYYY-MM-DD` folder under the log folder. */
export interface DateFolder {
  readonly date: string
  readonly path: string
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * Why a file system call failed, in words: `permission denied (EACCES)`. Node's messages
 * are `EACCES: permission denied, scandir '/path'`; the path is said by whoever reports it.
 */
export function describeFsError(error: unknown): string {
  const { code, message } = (error ?? {}) as Partial<NodeJS.ErrnoException>
  if (typeof message !== 'string') return String(error)
  const words = typeof code === 'string' && message.startsWith(`${code}: `) ? message.slice(code.length + 2).replace(/, \w+ '.*'$/s, '') : message
  return typeof code === 'string' && words !== message ? `${words} (${code})` : message
}

/** The entry for `onUnreadable`: the path and why. */
export function unreadable(path: string, error: unknown): UnreadableEntry {
  return { path, reason: describeFsError(error) }
}

/** Validates `daysBack` once, with the option named in the error. */
export function checkDaysBack(daysBack: unknown, option = 'daysBack'): number {
  if (typeof daysBack !== 'number' || !Number.isSafeInteger(daysBack) || daysBack < 1) {
    throw new TypeError(`Expected \`${option}\` to be a positive integer, got \`${String(daysBack)}\` (${typeof daysBack})`)
  }
  return daysBack
}

/** The oldest day folder kept by `daysBack`: today counts as 1. */
function oldestDay(daysBack: number, now: Date | number): string {
  const today = new Date(now)
  // Calendar arithmetic on the local date, so a DST change does not shift the day.
  return localDate(new Date(today.getFullYear(), today.getMonth(), today.getDate() - (daysBack - 1)))
}

/** The `YYYY-MM-DD` folders directly under `dir`, newest first; none when `dir` does not exist. */
export async function listDateFolders(dir: string): Promise<DateFolder[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
  return entries
    .filter((entry) => entry.isDirectory() && isDateFolder(entry.name))
    .map((entry) => ({ date: entry.name, path: join(dir, entry.name) }))
    .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0))
}

/**
 * The regular files in a day folder whose names are ours, with what the names say. A folder
 * that cannot be read has none; `onUnreadable` is told (without it, this throws).
 */
export async function listRunFilesIn(folder: DateFolder, onUnreadable?: OnUnreadable): Promise<Array<{ path: string; name: string; parsed: RunFileName }>> {
  let entries: Dirent[]
  try {
    entries = await readdir(folder.path, { withFileTypes: true })
  } catch (error) {
    // The folder went away since it was listed (a concurrent clean): nothing in it.
    if (isMissing(error)) return []
    if (onUnreadable === undefined) throw error
    onUnreadable(unreadable(folder.path, error))
    return []
  }
  const files: Array<{ path: string; name: string; parsed: RunFileName }> = []
  for (const entry of entries) {
    // Symbolic links and folders are never ours, whatever their names.
    if (!entry.isFile()) continue
    const parsed = parseRunFileName(entry.name)
    if (parsed) files.push({ path: join(folder.path, entry.name), name: entry.name, parsed })
  }
  return files
}

function compareNewestFirst(a: LogFileEntry & { readonly key: RunFileName }, b: LogFileEntry & { readonly key: RunFileName }): number {
  if (a.date !== b.date) return a.date < b.date ? 1 : -1
  if (a.key.time !== b.key.time) return a.key.time < b.key.time ? 1 : -1
  if (a.key.sequence !== b.key.sequence) return b.key.sequence - a.key.sequence
  if (a.mtime !== b.mtime) return b.mtime - a.mtime
  // Equal times (files written in the same instant): the run file, then .1, .2… (older), then by name.
  if (a.backup !== b.backup) return a.backup ? 1 : -1
  const rotation = (a.rotation ?? Number.MAX_SAFE_INTEGER) - (b.rotation ?? Number.MAX_SAFE_INTEGER)
  if (rotation !== 0) return rotation
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * Run files and their rotated backups under `dir/YYYY-MM-DD/`, newest first: by day, by
 * the start time in the name, then by modification time. A missing `dir` has none; a day
 * folder or file that cannot be read is left out (see `onUnreadable`).
 */
export async function listLogFiles(options: ListLogFilesOptions = {}): Promise<LogFileEntry[]> {
  const dir = options.dir ?? DEFAULT_LOG_DIR
  const oldest = options.daysBack === undefined ? undefined : oldestDay(checkDaysBack(options.daysBack), options.now ?? Date.now())
  const folders = (await listDateFolders(dir)).filter((folder) => oldest === undefined || folder.date >= oldest)
  const onUnreadable = options.onUnreadable ?? (() => {})
  const entries: Array<LogFileEntry & { readonly key: RunFileName }> = []
  for (const folder of folders) {
    for (const file of await listRunFilesIn(folder, onUnreadable)) {
      let info
      try {
        info = await stat(file.path)
      } catch (error) {
        if (!isMissing(error)) onUnreadable(unreadable(file.path, error))
        continue
      }
      const { run, backup, rotation, stamp, compression } = file.parsed
      entries.push({ path: file.path, date: folder.date, name: file.name, size: info.size, mtime: Math.round(info.mtimeMs), run, backup, rotation, stamp, compression, key: file.parsed })
    }
  }
  return entries.sort(compareNewestFirst).map(({ key: _key, ...entry }) => entry)
}

/**
 * The newest run file (not a rotated backup) under `dir` that this process can read, or
 * undefined when there is none. Run files it cannot read are passed over, and
 * `onUnreadable` is told, as it is of day folders it cannot read.
 */
export async function findLatestLogFile(options: Pick<ListLogFilesOptions, 'dir' | 'onUnreadable'> = {}): Promise<LogFileEntry | undefined> {
  for (const file of await listLogFiles(options)) {
    if (file.backup) continue
    try {
      await access(file.path, constants.R_OK)
      return file
    } catch (error) {
      if (!isMissing(error)) options.onUnreadable?.(unreadable(file.path, error))
    }
  }
  return undefined
}

/** The path of the newest run file (not a rotated backup) under `dir` that can be read, or undefined when there is none. */
export async function getLatestLogFile(options: Pick<ListLogFilesOptions, 'dir' | 'onUnreadable'> = {}): Promise<string | undefined> {
  return (await findLatestLogFile(options))?.path
}
