import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { LEVEL_VALUES } from '../core/levels.js'
import { createLogger } from '../create-logger.js'
import { createRunFile } from '../layout/run-file.js'
import { VERDICT_TEXT, type Verdict } from '../layout/verdict.js'
import { resilientFileSink } from '../sinks/resilient.js'
import { startCollector, type Collector } from '../transport/collector.js'
import { formatSeconds } from './call-records.js'
import { collectSystemInfo } from './system-info.js'

/** How often a child that logs with blackbox checks in, when `heartbeatInterval` is not given. */
export const DEFAULT_RUN_HEARTBEAT_MS = 10_000
/** How often the supervisor looks at the child's memory and heartbeats. */
export const SAMPLE_INTERVAL_MS = 1000
/** The exit status for a command that is not there, as shells give it (POSIX XCU 2.8.2). */
export const EXIT_COMMAND_NOT_FOUND = 127
/** The exit status for a command found but not started (not executable, …), as shells give it. */
export const EXIT_CANNOT_EXECUTE = 126

export interface RunOptions {
  command: string
  args?: readonly string[]
  /** Where the run file goes; default `logs`. */
  dir?: string
  /** Run files are `<name>_HH-MM-SS.log`; default the command's name. */
  name?: string
  /** How often a blackbox-logging child checks in; default 10,000 ms. */
  heartbeatInterval?: number
  /** No heartbeat for this long means hung; default 3 × heartbeatInterval. */
  hangAfter?: number
  /** What to do with a hung child: ask it for a diagnostic report (default), kill it, or restart it. */
  onHang?: 'report' | 'kill' | 'restart'
  restart?: 'no' | 'on-failure' | 'always'
  maxRestarts?: number
  /** ms before the first restart, doubled for each further one; default 1,000. */
  backoff?: number
  /** Also show the child's output on this process's stdout and stderr; default true. */
  echo?: boolean
  /** ms between memory samples of the child; default 1,000. */
  sampleInterval?: number
}

/** How a supervised run ended. */
export interface RunResult {
  verdict: Verdict
  code: number | null
  signal: NodeJS.Signals | null
  /** What a shell would report: the code, or 128 + the signal's number; 127 or 126 for a command that could not be started. */
  exitStatus: number
  /** Why the command could not be started (`command not found: ./job.sh`), for the verdict `not-started`; else undefined. */
  startError: string | undefined
  runFile: string
  durationMs: number
  restarts: number
}

interface Attempt {
  child: ChildProcess
  /** Set when the command could not be started at all (spawn's error, before any pid). */
  startError: NodeJS.ErrnoException | undefined
  uncaught: boolean
  lastHeartbeat: number | undefined
  hangReported: boolean
  hangKilled: boolean
  /** Every memory cgroup the child was seen in, with its OOM-kill count then. */
  cgroups: Map<string, number>
}

/**
 * The file that counts the kernel's OOM kills in the child's memory cgroup: `memory.events`
 * (cgroup v2) or `memory.oom_control` (v1, with the `memory` controller); from /proc, so
 * undefined off Linux.
 */
function oomCounterOf(pid: number): string | undefined {
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
function oomKills(counter: string | undefined): number {
  if (!counter) return 0
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(counter, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

function rssMB(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Math.round(Number(kb) / 102.4) / 10
  } catch {
    return undefined
  }
}

// `node app.js` is named after app.js, not after node.
const INTERPRETERS: ReadonlySet<string> = new Set(['node', 'nodejs', 'bun', 'deno', 'tsx', 'ts-node', 'python', 'python3', 'sh', 'bash'])

function defaultName(command: string, args: readonly string[]): string {
  const base = basename(command)
  const script = INTERPRETERS.has(base) ? args.find((arg) => !arg.startsWith('-')) : undefined
  return basename(script ?? base).replace(/\.[cm]?[jt]s$|\.py$|\.sh$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'run'
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0)
  return code ?? 1
}

/** Why a command could not be started, in a shell's words, and the status a shell exits with then. */
function startFailure(error: NodeJS.ErrnoException): { reason: string; status: number } {
  if (error.code === 'ENOENT') return { reason: 'command not found', status: EXIT_COMMAND_NOT_FOUND }
  if (error.code === 'EACCES') return { reason: 'permission denied', status: EXIT_CANNOT_EXECUTE }
  return { reason: `cannot run it (${error.code ?? error.message})`, status: EXIT_CANNOT_EXECUTE }
}

/** The end of one attempt; `start` when the command could not be started. */
interface AttemptEnd {
  code: number | null
  signal: NodeJS.Signals | null
  verdict: Verdict
  start?: { reason: string; status: number }
}

/**
 * Runs a command under supervision: a collector of its own for the child's structured
 * records (`BLACKBOX_SOCKET`, `BLACKBOX_ROLE`), its stdout and stderr captured line by line,
 * its memory sampled, its heartbeats watched; the start and the end (exit code, signal,
 * duration and a verdict) recorded in `logs/YYYY-MM-DD/<name>_HH-MM-SS.log`.
 */
export async function runSupervised(options: RunOptions): Promise<RunResult> {
  const name = options.name ?? defaultName(options.command, options.args ?? [])
  const dir = options.dir ?? 'logs'
  const heartbeatInterval = options.heartbeatInterval ?? DEFAULT_RUN_HEARTBEAT_MS
  const hangAfter = options.hangAfter ?? 3 * heartbeatInterval
  const onHang = options.onHang ?? 'report'
  const restart = options.restart ?? 'no'
  const maxRestarts = options.maxRestarts ?? 3
  const echo = options.echo ?? true
  const runFile = createRunFile(dir, name)
  const sink = resilientFileSink({ path: runFile, maxSize: false, format: 'text' })
  const logger = createLogger({ name, level: 'debug', sinks: [sink] })
  const socketDir = mkdtempSync(join(tmpdir(), 'blackbox-run-'))
  const socket = join(socketDir, 'run.sock')
  let current: Attempt | undefined
  const collector: Collector = await startCollector({
    socket,
    // The collector's own files stay in the private temporary folder; what matters goes to the run file.
    dir: join(socketDir, 'collector'),
    heartbeatTimeout: hangAfter,
    onClientEvent: (client, event) => {
      if (event === 'late') logger.warn({ event: 'child-late', client: client.name, pid: client.pid }, `${client.name} (pid ${client.pid}) is late with its heartbeat`)
      else if (event === 'finished') logger.info({ event: 'child-bye', client: client.name, pid: client.pid }, `${client.name} (pid ${client.pid}) said goodbye`)
    },
    // Every role's records go into the run file, as the child formatted them.
    route: () => ({ write: (text) => sink.write(text), flushSync: () => sink.flushSync(), close: async () => {} }),
    onRecord: (_client, level, text) => {
      if (current && level >= LEVEL_VALUES.fatal && /event[=":]+(uncaught|unhandledRejection)/.test(text)) current.uncaught = true
    },
    onHeartbeat: (client, beat) => {
      if (current) current.lastHeartbeat = Date.now()
      logger.debug(
        { event: 'child-heartbeat', client: client.name, pid: client.pid, rssMB: Math.round(beat.rssBytes / 104857.6) / 10, heapUsedMB: Math.round(beat.heapUsedBytes / 104857.6) / 10, loopDelayMs: beat.loopDelayMs, uptimeS: beat.uptimeS },
        `heartbeat from ${client.name}`,
      )
    },
  })
  const started = Date.now()
  const system = collectSystemInfo()
  logger.info({ event: 'run-start', command: [options.command, ...(options.args ?? [])].join(' '), system }, `run started: ${[options.command, ...(options.args ?? [])].join(' ')}`)

  const forwarded: NodeJS.Signals[] = []
  const forward = (signal: NodeJS.Signals): void => {
    forwarded.push(signal)
    logger.warn({ event: 'forward-signal', signal }, `forwarding ${signal} to the child`)
    current?.child.kill(signal)
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, forward)

  let restarts = 0
  let backoff = options.backoff ?? 1000
  let result: AttemptEnd
  try {
    for (;;) {
      result = await runOnce()
      const failed = result.verdict !== 'clean'
      // A command that is not there will not be there a second later either.
      const again = result.verdict !== 'not-started' && forwarded.length === 0 && restarts < maxRestarts && (restart === 'always' || (restart === 'on-failure' && failed) || (result.verdict === 'hang' && onHang === 'restart'))
      if (!again) break
      restarts++
      logger.warn({ event: 'restart', attempt: restarts, afterMs: backoff, verdict: result.verdict }, `restarting (${restarts} of ${maxRestarts}) in ${formatSeconds(backoff)} after: ${VERDICT_TEXT[result.verdict]}`)
      await new Promise((resolve) => setTimeout(resolve, backoff))
      backoff *= 2
    }
  } finally {
    for (const signal of signals) process.removeListener(signal, forward)
  }
  const durationMs = Date.now() - started
  const status = result.start?.status ?? exitStatus(result.code, result.signal)
  const how = result.start?.reason ?? (result.signal ? `signal ${result.signal}` : `exit code ${result.code}`)
  const startError = result.start && `${result.start.reason}: ${options.command}`
  const fields = { event: 'run-end', verdict: result.verdict, code: result.code ?? undefined, signal: result.signal ?? undefined, exitStatus: status, durationMs, restarts, startError }
  const message = `run ended: ${VERDICT_TEXT[result.verdict]} (${how}) after ${formatSeconds(durationMs)}`
  if (result.verdict === 'clean') logger.success(fields, message)
  else logger.error(fields, message)
  await collector.close()
  await logger.close()
  rmSync(socketDir, { recursive: true, force: true })
  return { verdict: result.verdict, code: result.code, signal: result.signal, exitStatus: status, startError, runFile, durationMs, restarts }

  function runOnce(): Promise<AttemptEnd> {
    const child = spawn(options.command, [...(options.args ?? [])], {
      stdio: ['inherit', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BLACKBOX_SOCKET: socket,
        BLACKBOX_ROLE: process.env['BLACKBOX_ROLE'] ?? 'worker',
        BLACKBOX_HEARTBEAT_INTERVAL: String(heartbeatInterval),
        // A Node child writes a diagnostic report on SIGUSR2, into the run's folder.
        NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --report-on-signal --report-signal=SIGUSR2 --report-directory=${dirname(runFile)}`.trim(),
      },
    })
    const attempt: Attempt = { child, startError: undefined, uncaught: false, lastHeartbeat: undefined, hangReported: false, hangKilled: false, cgroups: new Map() }
    current = attempt
    collector.attach(child)
    return new Promise((resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => {
        // Without a pid the command never ran: said once, when the child closes.
        if (child.pid === undefined) attempt.startError ??= error
        else logger.error({ event: 'child-error', pid: child.pid, err: error }, `child ${child.pid}: ${error.message}`)
      })
      if (child.pid !== undefined) {
        const counter = oomCounterOf(child.pid)
        if (counter) attempt.cgroups.set(counter, oomKills(counter))
        logger.info({ event: 'child-start', pid: child.pid }, `child started: pid ${child.pid}`)
      }
      for (const [stream, out, level] of [[child.stdout, process.stdout, 'info'], [child.stderr, process.stderr, 'warn']] as const) {
        if (!stream) continue
        const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
        lines.on('line', (line) => {
          if (echo) out.write(`${line}\n`)
          logger[level]({ stream: stream === child.stdout ? 'stdout' : 'stderr' }, line)
        })
      }
      const sampler = setInterval(() => sample(attempt), options.sampleInterval ?? SAMPLE_INTERVAL_MS)
      child.once('close', (code, signal) => {
        clearInterval(sampler)
        if (attempt.startError !== undefined) {
          // spawn(2) failed: no process, no exit code (Node reports the negative errno as one).
          const start = startFailure(attempt.startError)
          logger.error({ event: 'spawn-error', err: attempt.startError }, `could not start ${options.command}: ${start.reason}`)
          resolve({ code: null, signal: null, verdict: 'not-started', start })
          return
        }
        // A child that died before its client connected left its records in a spool.
        collector.deliverSpools()
        // The cgroups' OOM counts, read after the death: the kernel counts before it kills.
        // Every cgroup the child was seen in is asked: a dying task may already show the root.
        const oom = [...attempt.cgroups].some(([counter, before]) => oomKills(counter) > before)
        const verdict: Verdict = attempt.hangKilled
          ? 'hang'
          : signal === 'SIGKILL' ? (oom ? 'oom' : 'sigkill')
          : signal ? 'signal'
          : code === 0 ? 'clean'
          : attempt.uncaught ? 'uncaught' : 'error'
        logger[verdict === 'clean' ? 'info' : 'error']({ event: 'child-exit', pid: child.pid, code: code ?? undefined, signal: signal ?? undefined, verdict }, `child ${child.pid} ended: ${VERDICT_TEXT[verdict]} (${signal ? `signal ${signal}` : `exit code ${code}`})`)
        resolve({ code, signal, verdict })
      })
    })
  }

  function sample(attempt: Attempt): void {
    const pid = attempt.child.pid
    if (pid === undefined) return
    // Where the child is now: a test or a tool may move it into a cgroup of its own.
    const counter = oomCounterOf(pid)
    if (counter !== undefined && !attempt.cgroups.has(counter)) {
      attempt.cgroups.set(counter, oomKills(counter))
      logger.debug({ event: 'cgroup', pid, counter }, `child ${pid} is in the memory cgroup of ${dirname(counter)}`)
    }
    const rss = rssMB(pid)
    if (rss !== undefined) logger.debug({ event: 'sample', pid, rssMB: rss }, `child memory: ${rss} MB`)
    const last = attempt.lastHeartbeat
    if (last === undefined || attempt.hangReported || Date.now() - last < hangAfter) return
    attempt.hangReported = true
    logger.error({ event: 'hang', pid, silentMs: Date.now() - last, action: onHang }, `no heartbeat from the child for ${formatSeconds(Date.now() - last)}: it seems hung (${onHang})`)
    if (onHang === 'report') attempt.child.kill('SIGUSR2')
    else {
      attempt.hangKilled = true
      attempt.child.kill('SIGKILL')
    }
  }
}

