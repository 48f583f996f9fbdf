import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { LEVEL_VALUES } from '../core/levels.js'
import { createLogger } from '../create-logger.js'
import { createRunFile } from '../layout/run-file.js'
import { VERDICT_TEXT, type Verdict } from '../layout/verdict.js'
import { resilientFileSink } from '../sinks/resilient.js'
import { startCollector, type ClientExit, type ClientInfo, type Collector } from '../transport/collector.js'
import { formatSeconds } from './call-records.js'
import { isRunning, OomWatch, ppidOf, rssMB } from './proc-info.js'
import { blockMessage, StderrBlocks, type StderrPiece } from './stderr-blocks.js'
import { collectSystemInfo } from './system-info.js'

/** How often a child that logs with blackbox checks in, when `heartbeatInterval` is not given. */
export const DEFAULT_RUN_HEARTBEAT_MS = 10_000
/** How often the supervisor looks at the child's memory and heartbeats. */
export const SAMPLE_INTERVAL_MS = 1000
/**
 * How long, once the child has ended, the supervisor waits for the collector to see the
 * child's own connections close (the kernel closed them; the collector reads the end soon),
 * so that how they ended is recorded before the child's end.
 */
export const CHILD_CLIENTS_CLOSE_WAIT_MS = 1000
/**
 * Workers share the child's stderr: Node's report of an uncaught exception there is taken
 * for the child's only when no other process of the run ended (said goodbye or died) within
 * this many ms of it, before the child exited.
 */
export const STDERR_REPORT_OWNER_WINDOW_MS = 1000
/** How often the supervisor looks again while it waits for the collector. */
const POLL_INTERVAL_MS = 5
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
  /** The child's own fatal uncaught/unhandledRejection record came. */
  uncaught: boolean
  /** When Node's reports of an uncaught exception came on the child's stderr (the child's, or a worker's: they share it). */
  stderrReports: number[]
  /** When the child exited. */
  exitedAt: number | undefined
  lastHeartbeat: number | undefined
  /** The child itself checks in (it logs through the collector), not only its workers. */
  ownHeartbeats: boolean
  hangReported: boolean
  hangKilled: boolean
}

// `node app.js` is named after app.js, not after node.
const INTERPRETERS: ReadonlySet<string> = new Set(['node', 'nodejs', 'bun', 'deno', 'tsx', 'ts-node', 'python', 'python3', 'sh', 'bash'])

function defaultName(command: string, args: readonly string[]): string {
  const base = basename(command)
  const script = INTERPRETERS.has(base) ? args.find((arg) => !arg.startsWith('-')) : undefined
  return basename(script ?? base).replace(/\.[cm]?[jt]s$|\.py$|\.sh$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'run'
}

/** Polls `done` until it holds or `timeoutMs` has passed; resolves whether it held. */
async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
  return true
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
  // Every memory cgroup each process of the run was seen in: the child and every collector client.
  const oom = new OomWatch()
  // The clients introduced in the run file: a client says HELLO again when it reconnects.
  const introduced = new Set<string>()
  // When each process of the run but the child ended, for whose a report on the child's stderr is.
  const otherEndings: number[] = []
  const collector: Collector = await startCollector({
    socket,
    // The collector's own files stay in the private temporary folder; what matters goes to the run file.
    dir: join(socketDir, 'collector'),
    heartbeatTimeout: hangAfter,
    onClientEvent: (client, event, exit) => {
      if ((event === 'finished' || event === 'dead') && client.pid !== current?.child.pid) otherEndings.push(Date.now())
      if (event === 'hello') introduce(client)
      else if (event === 'dead') recordDeath(client, exit)
      else if (event === 'late') logger.warn({ event: 'child-late', client: client.name, pid: client.pid }, `${client.name} (pid ${client.pid}) is late with its heartbeat`)
      else if (event === 'finished') logger.info({ event: 'child-bye', client: client.name, pid: client.pid, reason: client.byeReason }, `${client.name} (pid ${client.pid}) said goodbye${client.byeReason === undefined ? '' : ` (${client.byeReason})`}`)
    },
    // Every role's records go into the run file, as the child formatted them.
    route: () => ({ write: (text) => sink.write(text), flushSync: () => sink.flushSync(), close: async () => {} }),
    onRecord: (client, level, text) => {
      // The child's own: a worker's crash is not the child's, whatever the child does after it.
      if (current && client.pid === current.child.pid && level >= LEVEL_VALUES.fatal && /event[=":]+(uncaught|unhandledRejection)/.test(text)) current.uncaught = true
    },
    onHeartbeat: (client, beat) => {
      // The child's own heartbeats, once it sends them: a worker that checks in says nothing
      // of whether the child is stuck. A child that logs nothing itself (a shell around the
      // workers) is judged by its workers'.
      if (current && client.pid === current.child.pid) current.ownHeartbeats = true
      if (current && (client.pid === current.child.pid || !current.ownHeartbeats)) current.lastHeartbeat = Date.now()
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
    const attempt: Attempt = { child, startError: undefined, uncaught: false, stderrReports: [], exitedAt: undefined, lastHeartbeat: undefined, ownHeartbeats: false, hangReported: false, hangKilled: false }
    current = attempt
    collector.attach(child)
    child.once('exit', () => {
      attempt.exitedAt = Date.now()
    })
    return new Promise((resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => {
        // Without a pid the command never ran: said once, when the child closes.
        if (child.pid === undefined) attempt.startError ??= error
        else logger.error({ event: 'child-error', pid: child.pid, err: error }, `child ${child.pid}: ${error.message}`)
      })
      if (child.pid !== undefined) {
        oom.see(child.pid)
        logger.info({ event: 'child-start', pid: child.pid }, `child started: pid ${child.pid}`)
      }
      if (child.stdout) {
        createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
          if (echo) process.stdout.write(`${line}\n`)
          logger.info({ stream: 'stdout', pid: child.pid }, line)
        })
      }
      // Node's report of an uncaught exception is one record, not a warning per line.
      const stderr = new StderrBlocks((piece) => recordStderr(attempt, piece))
      if (child.stderr) {
        const lines = createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY })
        lines.on('line', (line) => {
          if (echo) process.stderr.write(`${line}\n`)
          stderr.push(line)
        })
        lines.once('close', () => stderr.flush())
      }
      const sampler = setInterval(() => sample(attempt), options.sampleInterval ?? SAMPLE_INTERVAL_MS)
      child.once('close', (code, signal) => {
        clearInterval(sampler)
        stderr.flush()
        void attemptEnd(attempt, code, signal).then(resolve)
      })
    })
  }

  async function attemptEnd(attempt: Attempt, code: number | null, signal: NodeJS.Signals | null): Promise<AttemptEnd> {
    const child = attempt.child
    if (attempt.startError !== undefined) {
      // spawn(2) failed: no process, no exit code (Node reports the negative errno as one).
      const start = startFailure(attempt.startError)
      logger.error({ event: 'spawn-error', err: attempt.startError }, `could not start ${options.command}: ${start.reason}`)
      return { code: null, signal: null, verdict: 'not-started', start }
    }
    const pid = child.pid as number
    // How the child's own clients ended, and its workers gone meanwhile, before the child's end.
    await waitFor(() => !collector.clients().some((client) => client.pid === pid && client.connected), CHILD_CLIENTS_CLOSE_WAIT_MS)
    collector.reportDeaths()
    // A child that died before its client connected left its records in a spool.
    collector.deliverSpools()
    const verdict: Verdict = attempt.hangKilled
      ? 'hang'
      : signal === 'SIGKILL' ? (oom.rose(pid) ? 'oom' : 'sigkill')
      : signal ? 'signal'
      : code === 0 ? 'clean'
      : attempt.uncaught || ownStderrReport(attempt) ? 'uncaught' : 'error'
    logger[verdict === 'clean' ? 'info' : 'error']({ event: 'child-exit', pid, code: code ?? undefined, signal: signal ?? undefined, verdict }, `child ${pid} ended: ${VERDICT_TEXT[verdict]} (${signal ? `signal ${signal}` : `exit code ${code}`})`)
    return { code, signal, verdict }
  }

  /** Whether a report of an uncaught exception on the child's stderr was the child's: no other process ended then. */
  function ownStderrReport(attempt: Attempt): boolean {
    const exitedAt = attempt.exitedAt ?? Number.POSITIVE_INFINITY
    // What ended after the child is its consequence (a worker whose parent is gone), not a claim.
    const claims = otherEndings.filter((at) => at < exitedAt)
    return attempt.stderrReports.some((report) => !claims.some((at) => Math.abs(at - report) <= STDERR_REPORT_OWNER_WINDOW_MS))
  }

  /** A piece of the child's stderr: a line is a warning; Node's report of an uncaught exception, one error with its stack. */
  function recordStderr(attempt: Attempt, piece: StderrPiece): void {
    const pid = attempt.child.pid
    if (piece.kind === 'line') logger.warn({ stream: 'stderr', pid }, piece.line)
    else if (piece.fatal) {
      attempt.stderrReports.push(Date.now())
      logger.error({ event: 'uncaught', stream: 'stderr', pid }, blockMessage(piece.lines))
    } else logger.warn({ stream: 'stderr', pid }, blockMessage(piece.lines))
  }

  /** A collector client said HELLO: who it is, and whose child, once per client. */
  function introduce(client: ClientInfo): void {
    if (introduced.has(client.clientId)) return
    introduced.add(client.clientId)
    const { name, role, pid } = client
    noteCgroup(pid, `${name} (pid ${pid})`)
    logger.info({ event: 'child-hello', client: name, role, pid, ppid: ppidOf(pid) }, `${name} (pid ${pid}, role ${role}) connected`)
  }

  /** A collector client gone without BYE: how it ended, as far as its parent (when that is us) and its cgroups tell. */
  function recordDeath(client: ClientInfo, exit: ClientExit | undefined): void {
    const { name, role, pid } = client
    // Only a SIGKILL, or an end nobody told us, can be the OOM killer's.
    const killedForMemory = (exit === undefined || exit.signal === 'SIGKILL') && oom.rose(pid)
    const how = killedForMemory ? 'killed by the OOM killer'
      : exit?.signal ? `killed by ${exit.signal}`
      : exit ? `exit code ${exit.code}`
      : isRunning(pid) ? 'its connection dropped, yet the process still runs' : undefined
    logger.error(
      { event: 'child-dead', client: name, role, pid, code: exit?.code ?? undefined, signal: exit?.signal ?? undefined, oom: killedForMemory || undefined },
      `${name} (pid ${pid}) died without saying goodbye${how === undefined ? '' : ` (${how})`}`,
    )
  }

  /** Where a process is now: a test or a tool may move it into a memory cgroup of its own. */
  function noteCgroup(pid: number, who: string): void {
    const counter = oom.see(pid)
    if (counter !== undefined) logger.debug({ event: 'cgroup', pid, counter }, `${who} is in the memory cgroup of ${dirname(counter)}`)
  }

  function sampleMemory(pid: number, who: string): void {
    const rss = rssMB(pid)
    if (rss !== undefined) logger.debug({ event: 'sample', pid, rssMB: rss }, `${who} memory: ${rss} MB`)
  }

  function sample(attempt: Attempt): void {
    const pid = attempt.child.pid
    if (pid === undefined) return
    noteCgroup(pid, `child ${pid}`)
    sampleMemory(pid, 'child')
    // Every other process of the run that logs through the collector: workers, and theirs.
    const sampled = new Set([pid])
    for (const client of collector.clients()) {
      if (!client.connected || client.ended !== undefined || sampled.has(client.pid)) continue
      sampled.add(client.pid)
      noteCgroup(client.pid, `${client.name} (pid ${client.pid})`)
      sampleMemory(client.pid, `${client.name} (pid ${client.pid})`)
    }
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

