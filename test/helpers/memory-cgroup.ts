import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

/** A memory cgroup made for a test: where it is, and how to move a process into it. */
export interface MemoryCgroup {
  readonly path: string
  add(pid: number): void
}

/**
 * A memory cgroup (v1) of our own under this process's, limited to `limitMB`, where the
 * kernel can be made to kill for memory; removed after the test. Skips the test, saying
 * why, where the machine has no such controller or does not let us make one.
 */
export function memoryCgroup(t: TestContext, limitMB: number): MemoryCgroup | undefined {
  let line: string | undefined
  try {
    line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(entry))
  } catch {
    line = undefined
  }
  const base = line ? join('/sys/fs/cgroup/memory', line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1)) : undefined
  if (!base || !existsSync(join(base, 'memory.limit_in_bytes'))) {
    t.skip('no cgroup v1 memory controller to limit a child with here')
    return undefined
  }
  const path = join(base, `blackbox-oom-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  const bytes = String(limitMB * 1024 * 1024)
  try {
    mkdirSync(path)
    writeFileSync(join(path, 'memory.limit_in_bytes'), bytes)
    if (existsSync(join(path, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(path, 'memory.memsw.limit_in_bytes'), bytes)
  } catch (error) {
    t.skip(`cannot make a memory cgroup here: ${(error as Error).message}`)
    return undefined
  }
  // The processes in it are dead by then: an empty cgroup can be removed.
  t.after(() => rmdirSync(path))
  return { path, add: (pid) => writeFileSync(join(path, 'cgroup.procs'), String(pid)) }
}
