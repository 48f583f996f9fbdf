import { join } from 'node:path'
import type { Logger } from '../core/logger.js'
import { addEndingHook, flushAllSinksSync } from '../sinks/registry.js'
import { formatSeconds, messageOf, recordEnd, type CallOutcome } from './call-records.js'
import { startHeartbeat, type Heartbeat } from './heartbeat.js'
import { collectSystemInfo, describeSystem } from './system-info.js'

/** What each signal the guard listens for usually means, for the record. */
export const SIGNAL_MEANINGS: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGINT: 'Ctrl+C: an interrupt from the terminal',
  SIGTERM: 'a termination request: kill, systemd, docker stop, Kubernetes',
  SIGHUP: 'hang-up: the terminal closed, or a reload request',
  SIGQUIT: 'quit from the terminal (Ctrl+\\)',
  SIGBREAK: 'Ctrl+Break (Windows)',
}

/** The signals guarded by default. */
export function defaultSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']
  if (platform === 'win32') signals.push('SIGBREAK')
  return signals
}

/** How the guard's records say the run ended; `blackbox summary` reads them. */
export type Ending = 'completed' | 'error' | 'signal' | 'uncaught'

/** What the guard saw, for hooks such as a progress file's status. */
export interface CrashInfo {
  kind: 'uncaught' | 'unhandledRejection' | 'signal'
  error?: unknown
  signal?: NodeJS.Signals
}

export interface CrashGuardOptions {
  /** Names the run in its records (`completed <name> in 1.2 s`); default the logger's name or `run`. */
  name?: string
  /** Signals to record; default SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGBREAK on Windows). */
  signals?: readonly NodeJS.Signals[]
  /** Heartbeat every N ms; 0 (default here) for none. */
  heartbeatInterval?: number
  /** Log system information now; default false here (setupLogging turns it on). */
  systemInfo?: boolean
  /** Extra environment variables allowed into the system-information record. */
  env?: readonly string[]
  /** On a fatal error, write a Node diagnostic report into this folder (or beside `reportNextTo`); default none. */
  report?: boolean | string
  /** A path the report is written beside when `report` is true (setupLogging passes the run file). */
  reportNextTo?: string
  /** Record process `warning` events as warnings; default true. */
  warnings?: boolean
  /** Called after a crash has been recorded and flushed, before the process goes. */
  onCrash?: (info: CrashInfo) => void
  /** Close the logger at the end of `cleanup()`: for loggers the guard's creator owns (setupLogging). */
  closeLogger?: boolean
}

/** An installed crash guard; see `installCrashGuard()`. */
export interface CrashGuard {
  readonly logger: Logger
  readonly name: string
  /** `Date.now()` when the guard was installed. */
  readonly startedAt: number
  readonly installed: boolean
  /**
   * Logs completion with the duration (or the failure, when given an error), stops the
   * heartbeat, flushes, removes every handler the guard added. Safe to call twice.
   */
  cleanup(outcome?: CallOutcome): Promise<void>
  /** Removes the handlers without logging anything. */
  uninstall(): void
  /**
   * Calls `listener` with what the guard saw on a fatal error or a signal that ends the
   * process, after the record is written and flushed and after `options.onCrash`;
   * returns a function that removes it. A listener that throws is ignored.
   */
  addCrashListener(listener: (info: CrashInfo) => void): () => void
}

type UnhandledMode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code'

/** Node's `--unhandled-rejections` mode, from the command line or NODE_OPTIONS. */
export function unhandledRejectionsMode(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): UnhandledMode {
  const args = [...execArgv, ...nodeOptions.split(/\s+/)]
  let mode: string | undefined
  args.forEach((arg, i) => {
    if (arg.startsWith('--unhandled-rejections=')) mode = arg.slice('--unhandled-rejections='.length)
    else if (arg === '--unhandled-rejections') mode = args[i + 1]
  })
  return mode === 'strict' || mode === 'warn' || mode === 'none' || mode === 'warn-with-error-code' ? mode : 'throw'
}


// The guards installed, newest last. Process handlers are process-wide, so this is
// process-wide state by nature: installing a second guard suspends the first (no record
// is written twice), and uninstalling it brings the first back.
const installed: GuardImpl[] = []

/** The installed guard of this logger, if any. */
export function guardOf(logger: Logger): CrashGuard | undefined {
  return installed.find((guard) => guard.logger === logger)
}

/** The logger of the newest installed guard, if any: the default for `@logged`. */
export function activeGuardLogger(): Logger | undefined {
  return installed[installed.length - 1]?.logger
}

// Node wraps a rejection reason that is not an Error in an error whose message quotes it.
const WRAPPED_REASON = /The promise rejected with the reason "(.*)"\.$/s

/** The reason of an unhandled rejection as it was given, where Node wrapped it. */
export function unwrapRejection(error: unknown): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'ERR_UNHANDLED_REJECTION') return error
  return WRAPPED_REASON.exec(error.message)?.[1] ?? error
}

/**
 * Records how the process ends: uncaught exceptions and unhandled rejections (fatal, with
 * the stack and cause chain), signals (then re-raised so the exit status is what it would
 * have been), `exit` with its code and the run's duration, warnings; flushes every sink
 * synchronously on each path. Installing the same logger twice returns the same guard.
 */
export function installCrashGuard(logger: Logger, options: CrashGuardOptions = {}): CrashGuard {
  const existing = installed.find((guard) => guard.logger === logger)
  if (existing) return existing
  const guard = new GuardImpl(logger, options)
  installed[installed.length - 1]?.detach()
  installed.push(guard)
  guard.attach()
  guard.start()
  return guard
}

class GuardImpl implements CrashGuard {
  readonly name: string
  readonly startedAt = Date.now()
  #installed = true
  #attached = false
  #removeEndingHook: (() => void) | undefined
  #cleanedUp = false
  #heartbeat: Heartbeat | undefined
  #beforeExitSeen = false
  readonly #crashListeners = new Set<(info: CrashInfo) => void>()
  readonly #signals: readonly NodeJS.Signals[]
  readonly #mode = unhandledRejectionsMode()

  constructor(
    readonly logger: Logger,
    readonly options: CrashGuardOptions,
  ) {
    this.name = options.name ?? logger.name ?? 'run'
    this.#signals = options.signals ?? defaultSignals()
    for (const signal of this.#signals) {
      if (typeof signal !== 'string' || !signal.startsWith('SIG')) {
        throw new TypeError(`Expected \`signals\` to hold signal names like 'SIGTERM', got \`${String(signal)}\` (${typeof signal})`)
      }
    }
  }

  get installed(): boolean {
    return this.#installed
  }

  start(): void {
    if (this.options.systemInfo) {
      const system = collectSystemInfo(this.options.env)
      this.logger.info({ event: 'system', system }, `system: ${describeSystem(system)}`)
    }
    const interval = this.options.heartbeatInterval ?? 0
    if (interval > 0) this.#heartbeat = startHeartbeat(this.logger, interval)
  }

  attach(): void {
    if (this.#attached) return
    this.#attached = true
    process.on('uncaughtExceptionMonitor', this.#onUncaught)
    if (this.#mode === 'warn' || this.#mode === 'none' || this.#mode === 'warn-with-error-code') {
      // In these modes Node does not raise the rejection; a listener is the only way to see it.
      process.on('unhandledRejection', this.#onRejection)
    }
    for (const signal of this.#signals) process.on(signal, this.#onSignal)
    this.#removeEndingHook = addEndingHook(this.#onExit)
    process.on('beforeExit', this.#onBeforeExit)
    if (this.options.warnings !== false) process.on('warning', this.#onWarning)
  }

  detach(): void {
    if (!this.#attached) return
    this.#attached = false
    process.removeListener('uncaughtExceptionMonitor', this.#onUncaught)
    process.removeListener('unhandledRejection', this.#onRejection)
    for (const signal of this.#signals) process.removeListener(signal, this.#onSignal)
    this.#removeEndingHook?.()
    this.#removeEndingHook = undefined
    process.removeListener('beforeExit', this.#onBeforeExit)
    process.removeListener('warning', this.#onWarning)
  }

  addCrashListener(listener: (info: CrashInfo) => void): () => void {
    this.#crashListeners.add(listener)
    return () => {
      this.#crashListeners.delete(listener)
    }
  }

  /** Tells `onCrash` and every crash listener; one that throws must not stop the crash path. */
  #notifyCrash(info: CrashInfo): void {
    for (const listener of [this.options.onCrash, ...this.#crashListeners]) {
      try {
        listener?.(info)
      } catch {
        // The process is going anyway; the record is already written.
      }
    }
  }

  uninstall(): void {
    if (!this.#installed) return
    this.#installed = false
    this.#heartbeat?.stop()
    this.detach()
    const index = installed.indexOf(this)
    if (index !== -1) installed.splice(index, 1)
    // The guard below this one takes over again.
    if (index === installed.length) installed[installed.length - 1]?.attach()
  }

  async cleanup(outcome: CallOutcome = {}): Promise<void> {
    if (this.#cleanedUp) return
    this.#cleanedUp = true
    const ending: Ending = 'error' in outcome ? 'error' : 'completed'
    recordEnd(this.logger, this.name, Date.now() - this.startedAt, outcome, { event: 'cleanup', ending })
    this.uninstall()
    this.#flush()
    if (this.options.closeLogger) await this.logger.close()
  }

  #flush(): void {
    this.logger.flushSync()
    flushAllSinksSync()
  }

  /** Writes a Node diagnostic report if asked to; returns its path, named in the fatal record. */
  #writeReport(): string | undefined {
    const option = this.options.report
    if (!option) return undefined
    const unique = `report-${process.pid}-${Date.now()}.json`
    const nextTo = this.options.reportNextTo
    const file = typeof option === 'string' ? join(option, unique) : nextTo ? `${nextTo.replace(/\.log$/, '')}.report.json` : join(process.cwd(), unique)
    try {
      return process.report?.writeReport(file)
    } catch {
      return undefined
    }
  }

  readonly #onUncaught = (thrown: unknown, origin: string): void => {
    const rejection = origin === 'unhandledRejection'
    const error = rejection ? unwrapRejection(thrown) : thrown
    // With listeners of the application's own, Node goes on: then this is only a record.
    const fatal = process.listenerCount('uncaughtException') === 0
    const report = fatal ? this.#writeReport() : undefined
    const kind = rejection ? 'unhandled rejection' : 'uncaught exception'
    this.logger.fatal(
      {
        event: rejection ? 'unhandledRejection' : 'uncaught',
        ...(fatal ? { ending: 'uncaught' satisfies Ending } : { handledBy: 'application' }),
        ...(report ? { report } : {}),
        ...(error instanceof Error ? { err: error } : { reason: error }),
      },
      `${kind}: ${messageOf(error)}`,
    )
    this.#flush()
    if (fatal) this.#notifyCrash({ kind: rejection ? 'unhandledRejection' : 'uncaught', error })
  }

  readonly #onRejection = (reason: unknown): void => {
    this.logger.error({ event: 'unhandledRejection', mode: this.#mode, ...(reason instanceof Error ? { err: reason } : { reason: reason === undefined ? 'undefined' : reason }) }, `unhandled rejection: ${messageOf(reason)}`)
    this.#flush()
    // Our listener stops Node from setting the exit code itself in this mode.
    if (this.#mode === 'warn-with-error-code' && process.listenerCount('unhandledRejection') === 1) process.exitCode = 1
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    const handledElsewhere = process.listeners(signal).some((listener) => listener !== this.#onSignal)
    const meaning = SIGNAL_MEANINGS[signal] ?? 'a signal'
    this.logger.warn(
      { event: 'signal', signal, ...(handledElsewhere ? { handledBy: 'application' } : { ending: 'signal' satisfies Ending }) },
      `received ${signal} (${meaning})`,
    )
    this.#flush()
    if (handledElsewhere) return
    this.#notifyCrash({ kind: 'signal', signal })
    // Put the default behaviour back and raise the signal again, so the process ends as it
    // would have without us (exit status 128 + the signal's number).
    this.uninstall()
    for (const guard of installed) guard.detach()
    process.kill(process.pid, signal)
  }

  readonly #onExit = (code: number): void => {
    const duration = Date.now() - this.startedAt
    const fields = { event: 'exit', code, durationMs: duration, ending: (code === 0 ? 'completed' : 'error') satisfies Ending }
    if (code === 0) this.logger.info(fields, `exiting with code 0 after ${formatSeconds(duration)}`)
    else this.logger.error(fields, `exiting with code ${code} after ${formatSeconds(duration)}`)
    this.#heartbeat?.stop()
    this.#flush()
  }

  readonly #onBeforeExit = (): void => {
    if (this.#beforeExitSeen) return
    this.#beforeExitSeen = true
    this.logger.debug({ event: 'beforeExit' }, 'the event loop is empty: the process is about to exit')
  }

  readonly #onWarning = (warning: Error & { code?: string }): void => {
    this.logger.warn({ event: 'warning', warning: { name: warning.name, code: warning.code, message: warning.message } }, `${warning.name}: ${warning.message}`)
  }
}
