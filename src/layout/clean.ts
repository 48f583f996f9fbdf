import { lstat, readdir, rmdir, unlink } from 'node:fs/promises'
import { parseDuration } from '../core/units.js'
import { DEFAULT_LOG_DIR, describeFsError, listDateFolders, listRunFilesIn } from './catalog.js'

export interface CleanLogsOptions {
  /** Default `logs`. */
  dir?: string
  /** Files last modified longer ago than this are removed: `'30 days'`, `'1 week'`, or ms. */
  olderThan: string | number
  /** Only say what would be removed. */
  dryRun?: boolean
  /** What "now" is; default `Date.now()`. */
  now?: number
}

export interface CleanLogsResult {
  /** Files removed (or, in a dry run, that would be), by path. */
  readonly removed: Array<{ readonly path: string; readonly size: number }>
  /** Day folders removed because the clean left them empty (or would). */
  readonly removedDirs: string[]
  /** The sum of the removed files' sizes. */
  readonly freedBytes: number
  readonly dryRun: boolean
  /**
   * Files that matched but could not be removed, and day folders that could not be read,
   * with the reason (`could not read: permission denied (EACCES)`); the clean went on
   * without them.
   */
  readonly failed: Array<{ readonly path: string; readonly message: string }>
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code
}

/**
 * Removes run files and rotated backups under `dir/YYYY-MM-DD/` last modified more than
 * `olderThan` ago, then the day folders that this left empty. Only names of the run-file
 * scheme are touched (see run-file-name.ts); other files and folders, even in a day folder,
 * are never removed, and a day folder that holds one is kept.
 */
export async function cleanLogs(options: CleanLogsOptions): Promise<CleanLogsResult> {
  const olderThanMs = parseDuration(options.olderThan, 'olderThan')
  const dir = options.dir ?? DEFAULT_LOG_DIR
  const dryRun = options.dryRun ?? false
  const cutoff = (options.now ?? Date.now()) - olderThanMs
  const removed: Array<{ path: string; size: number }> = []
  const removedDirs: string[] = []
  const failed: Array<{ path: string; message: string }> = []

  const couldNot = (path: string, what: string, error: unknown): void => {
    failed.push({ path, message: `could not ${what}: ${describeFsError(error)}` })
  }

  for (const folder of await listDateFolders(dir)) {
    let removedHere = 0
    // A day folder that cannot be read is kept, and said; the other days go on.
    for (const file of await listRunFilesIn(folder, ({ path, reason }) => failed.push({ path, message: `could not read: ${reason}` }))) {
      let info
      try {
        info = await lstat(file.path)
      } catch (error) {
        if (code(error) !== 'ENOENT') couldNot(file.path, 'read', error)
        continue
      }
      // Checked again on the file itself: it may have been replaced since it was listed.
      if (!info.isFile() || info.mtimeMs >= cutoff) continue
      if (!dryRun) {
        try {
          await unlink(file.path)
        } catch (error) {
          if (code(error) !== 'ENOENT') couldNot(file.path, 'remove', error)
          continue
        }
      }
      removed.push({ path: file.path, size: info.size })
      removedHere++
    }
    if (removedHere === 0) continue
    // Only a folder this clean emptied is removed: an empty folder it did not empty may be
    // today's, just made by a run about to create its file.
    if (dryRun) {
      const left = await readdir(folder.path).catch(() => [])
      if (left.length === removedHere) removedDirs.push(folder.path)
      continue
    }
    try {
      // rmdir(2) removes only an empty folder: a file that appeared meanwhile keeps it.
      await rmdir(folder.path)
      removedDirs.push(folder.path)
    } catch (error) {
      if (code(error) !== 'ENOTEMPTY' && code(error) !== 'EEXIST' && code(error) !== 'ENOENT') couldNot(folder.path, 'remove', error)
    }
  }
  removed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  removedDirs.sort()
  failed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { removed, removedDirs, freedBytes: removed.reduce((sum, file) => sum + file.size, 0), dryRun, failed }
}
