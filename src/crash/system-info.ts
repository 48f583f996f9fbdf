import os from 'node:os'

/** Environment variables that may appear in a record: none that could hold a secret. */
export const ENV_ALLOW_LIST = [
  'NODE_ENV', 'NODE_OPTIONS', 'TZ', 'LANG', 'LC_ALL', 'CI', 'UV_THREADPOOL_SIZE',
  'BLACKBOX_LEVEL', 'BLACKBOX_DIR', 'BLACKBOX_FORMAT', 'BLACKBOX_MAX_SIZE', 'BLACKBOX_RETENTION', 'BLACKBOX_ROLE',
] as const

export interface SystemInfo {
  node: string
  v8: string
  platform: string
  arch: string
  osRelease: string
  osVersion: string
  hostname: string
  pid: number
  ppid: number
  cwd: string
  argv: string[]
  execArgv: string[]
  user: string
  cpuModel: string
  cpuCount: number
  totalMemory: number
  freeMemory: number
  timeZone: string
  env: Record<string, string>
}

function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read()
  } catch {
    return fallback
  }
}

/** What the machine and the process are, for the first records of a run. Never throws. */
export function collectSystemInfo(extraEnv: readonly string[] = []): SystemInfo {
  const env: Record<string, string> = {}
  for (const name of [...ENV_ALLOW_LIST, ...extraEnv]) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  const cpus = attempt(() => os.cpus(), [])
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    osRelease: attempt(() => os.release(), 'unknown'),
    osVersion: attempt(() => os.version(), 'unknown'),
    hostname: attempt(() => os.hostname(), 'unknown'),
    pid: process.pid,
    ppid: process.ppid,
    cwd: attempt(() => process.cwd(), 'unknown'),
    argv: process.argv,
    execArgv: process.execArgv,
    user: attempt(() => os.userInfo().username, 'unknown'),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: attempt(() => os.availableParallelism(), cpus.length),
    totalMemory: os.totalmem(),
    freeMemory: os.freemem(),
    timeZone: attempt(() => Intl.DateTimeFormat().resolvedOptions().timeZone, 'unknown'),
    env,
  }
}

/** `Node v20.20.2 on linux x64 (6.1.0), 2 × AMD EPYC, 24.0 GB memory`. */
export function describeSystem(info: SystemInfo): string {
  return `Node ${info.node} on ${info.platform} ${info.arch} (${info.osRelease}), ${info.cpuCount} × ${info.cpuModel}, ${(info.totalMemory / 1e9).toFixed(1)} GB memory, pid ${info.pid}`
}
