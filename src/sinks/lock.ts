import { closeSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeSync } from 'node:fs'

/** Thrown when another live process already writes a rotating file. */
export class FileLockedError extends Error {
  constructor(path: string, owner: number) {
    super(
      `${path} is already written by process ${owner}: several processes rotating one file would corrupt it. ` +
        'Log through the collector (startCollector() and connectLogger()), which owns the files, or give each process its own file.',
    )
    this.name = 'FileLockedError'
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// The lock is a symbolic link whose target is the owner's pid: created atomically, and
// it needs no data block, so it can be taken on a full disk (the resilient sink must start
// there). Where symbolic links are not allowed (Windows without the privilege), a file
// created exclusively holds the pid instead.
function create(lock: string): void {
  try {
    symlinkSync(String(process.pid), lock)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
    const fd = openSync(lock, 'wx', 0o644)
    try {
      writeSync(fd, `${process.pid}\n`)
    } finally {
      closeSync(fd)
    }
  }
}

function ownerOf(lock: string): number {
  try {
    return Number.parseInt(readlinkSync(lock), 10)
  } catch {
    try {
      return Number.parseInt(readFileSync(lock, 'utf8'), 10)
    } catch {
      return Number.NaN
    }
  }
}

/**
 * Takes `<path>.lock` for this process. A lock left by a process that no longer exists
 * (killed) is taken over; one held by a live process, this one included, is refused with
 * `FileLockedError`. Returns the release function.
 */
export function acquireFileLock(path: string): () => void {
  const lock = `${path}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      create(lock)
      let released = false
      return () => {
        if (released) return
        released = true
        rmSync(lock, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = ownerOf(lock)
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw new FileLockedError(path, owner)
    rmSync(lock, { force: true })
  }
  throw new Error(`Could not take the lock ${lock}: it keeps reappearing`)
}
