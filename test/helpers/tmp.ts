import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** What `tempDir()` needs of a test context: a place to register the cleanup. */
export interface CleanupHost {
  after(fn: () => Promise<void> | void): void
}

/** A fresh directory under the OS temp dir, removed with everything in it when the test ends. */
export async function tempDir(t: CleanupHost, prefix = 'blackbox-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(() => removeTempDir(dir))
  return dir
}

/** Removes a directory made by `tempDir()` or `mkdtemp()`; a missing one is not an error. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 })
}
