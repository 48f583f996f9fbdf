import { execFileSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { removeTempDir, type CleanupHost } from './tmp.ts'

/** Why a small disk of our own could not be had here, or undefined when it can. */
let unavailable: string | undefined

/**
 * A real, small file system: a tmpfs of `size` bytes mounted on a fresh temporary
 * directory, unmounted when the test ends. Mounting needs root (CI runs as root); where it
 * is refused, resolves to `{ reason }` so the test can say why it does without.
 */
export async function smallDisk(t: CleanupHost, size: number): Promise<{ dir: string } | { reason: string }> {
  if (unavailable) return { reason: unavailable }
  const dir = await mkdtemp(join(tmpdir(), 'blackbox-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    await removeTempDir(dir)
    unavailable = `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`
    return { reason: unavailable }
  }
  // Unmounted first, then the empty mount point removed.
  t.after(async () => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
    await removeTempDir(dir)
  })
  return { dir }
}

/** Fills the disk holding `dir` with one file, until ENOSPC; returns the file's path, to delete to free the space. */
export function fillDisk(dir: string, name = 'filler'): string {
  const path = join(dir, name)
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(16 * 1024, 0x2e)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return path
}
