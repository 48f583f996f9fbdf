import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The file that counts the kernel's OOM kills in a process's memory cgroup: `memory.events`
 * (cgroup v2) or `memory.oom_control` (v1, with the `memory` controller); from /proc, so
 * undefined off Linux.
 */
export function oomCounterOf(pid: number): string | undefined {
  try {
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
    const v1 = lines.find((entry) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(entry))
    if (v1) return join('/sys/fs/cgroup/memory', v1.slice(v1.indexOf(':', v1.indexOf(':') + 1) + 1), 'memory.oom_control')
    const v2 = lines.find((entry) => entry.startsWith('0::'))
    return v2 === undefined ? undefined : join('/sys/fs/cgroup', v2.slice(3), 'memory.events')
  } catch {
    return undefined
  }
}

/** `oom_kill` from that file: how many processes the kernel killed there for memory. */
export function oomKills(counter: string | undefined): number {
  if (!counter) return 0
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(counter, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

/** A process's resident memory in MB (VmRSS), one decimal; undefined when it is gone or off Linux. */
export function rssMB(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Math.round(Number(kb) / 102.4) / 10
  } catch {
    return undefined
  }
}

/** The fields of /proc/<pid>/stat after the command name, from the state on; undefined when unreadable. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces and parentheses itself: proc(5).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** A process's parent pid (field 4 of /proc/<pid>/stat); undefined when unreadable (gone, or off Linux). */
export function ppidOf(pid: number): number | undefined {
  const ppid = Number(statFields(pid)?.[1])
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined
}

/**
 * Whether a process still runs: a zombie (dead, not yet reaped by its parent) does not,
 * although `kill(pid, 0)` still finds it. Off Linux, `kill(pid, 0)` alone.
 */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0]
  if (state !== undefined) return state !== 'Z' && state !== 'X'
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The memory cgroups each process was seen in, with their OOM-kill counts then: a count
 * that rose since tells that the kernel killed for memory where the process lived. The
 * counts are read when a death is noticed, which is right: the kernel counts before it kills.
 */
export class OomWatch {
  readonly #seen = new Map<number, Map<string, number>>()

  /**
   * Notes the cgroup the process is in now. Returns its counter file when the process was
   * seen before elsewhere (moved: worth a record); undefined at first sight or when it stayed.
   */
  see(pid: number): string | undefined {
    const counter = oomCounterOf(pid)
    if (counter === undefined) return undefined
    const cgroups = this.#seen.get(pid)
    if (!cgroups) {
      this.#seen.set(pid, new Map([[counter, oomKills(counter)]]))
      return undefined
    }
    if (cgroups.has(counter)) return undefined
    cgroups.set(counter, oomKills(counter))
    return counter
  }

  /** Whether the OOM-kill count rose in any cgroup the process was seen in (a dying task may already show the root). */
  rose(pid: number): boolean {
    return [...(this.#seen.get(pid) ?? [])].some(([counter, before]) => oomKills(counter) > before)
  }
}
