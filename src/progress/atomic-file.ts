import * as nodeFs from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** How many times a rename refused with EPERM, EBUSY or EACCES is tried again. */
export const RENAME_RETRIES = 10
/** How long to wait before trying such a rename again. */
export const RENAME_RETRY_WAIT_MS = 5

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** The temporary file `writeFileAtomicSync(path)` writes first: hidden, and one per process. */
export function temporaryPathOf(path: string, pid: number = process.pid): string {
  return join(dirname(path), `.${basename(path)}.${pid}.tmp`)
}

function renameWithRetry(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      nodeFs.renameSync(from, to)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Windows refuses to replace a file another process holds open for a moment (a reader
      // of the status file); POSIX never does, so there this is a real error at once.
      if (attempt >= RENAME_RETRIES || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw error
      Atomics.wait(sleeper, 0, 0, RENAME_RETRY_WAIT_MS)
    }
  }
}

function writeTemporary(temporary: string, data: string): void {
  const fd = nodeFs.openSync(temporary, 'w', 0o644)
  try {
    nodeFs.writeFileSync(fd, data)
    // Without this, a power loss soon after the rename can leave the new name pointing at
    // an empty file on some file systems (ext4's delayed allocation, see rename(2)).
    nodeFs.fsyncSync(fd)
  } finally {
    nodeFs.closeSync(fd)
  }
}

/**
 * Replaces `path` with `data` so that a reader sees the old content or the new, never a
 * mix or a part, whatever happens to this process meanwhile: the data goes into a
 * temporary file beside it, which is fsynced and then renamed over `path` (rename(2) is
 * atomic). A process killed before the rename leaves the old file and a stray temporary
 * file, which the next write replaces. The folder must exist: one removed while a job
 * runs is not made again behind the back of whoever removed it.
 */
export function writeFileAtomicSync(path: string, data: string): void {
  const temporary = temporaryPathOf(path)
  try {
    writeTemporary(temporary, data)
    renameWithRetry(temporary, path)
  } catch (error) {
    nodeFs.rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * Removes the temporary files that processes killed in the middle of
 * `writeFileAtomicSync(path)` left beside `path`; never `path` itself or other files.
 * Never throws.
 */
export function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`
  let names: string[]
  try {
    names = nodeFs.readdirSync(dirname(path))
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.tmp$/.test(name.slice(prefix.length)) || name === basename(temporaryPathOf(path))) continue
    try {
      nodeFs.rmSync(join(dirname(path), name), { force: true })
    } catch {
      // Left for the next run: tidying up is no reason to stop a job.
    }
  }
}
