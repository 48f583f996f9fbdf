import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LEVEL_VALUES, levelValue, type LevelInput } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { registerSink, unregisterSink } from '../registry.js'
import { MAX_RECONNECT_DELAY_MS, MIN_RECONNECT_DELAY_MS } from '../delivery/backoff.js'
import { CLOSE_TIMEOUT_MS, CONNECT_TIMEOUT_MS, EXIT_TIMEOUT_MS } from './connection.js'
import { FlushTimeoutError, FlushWaiters } from '../delivery/flush-timeout.js'
import { checkHost, checkInteger, checkObject, checkPort, checkSize, fileSafe } from './options.js'
import { RELP_ACK_TIMEOUT_MS, RELP_WINDOW_FRAMES, RelpClient, type RelpEntry } from './relp-client.js'
import { Rfc5424Formatter, type Rfc5424Options } from './rfc5424.js'
import { Spool, SPOOL_MAX_BYTES } from './spool.js'

/** The port when none is given: 2514, the one rsyslog's documentation uses for imrelp (RELP has no IANA port). */
export const DEFAULT_RELP_PORT = 2514
/** How long `flush()` waits for every record to be acknowledged. */
export const RELP_FLUSH_TIMEOUT_MS = 10_000

/** Options of `relpSink()`; the message options (`appName`, `facility`…) are those of every syslog message. */
export interface RelpSinkOptions extends Rfc5424Options {
  /** The RELP server (rsyslog with imrelp). */
  host: string
  /** Default 2514. */
  port?: number
  /** The spool file; default `<os.tmpdir()>/blackbox-relp-<uid>/<host>-<port>.spool`. */
  spool?: string
  /** The most the spool keeps unacknowledged; newer records are dropped past it, and counted. Default 64 MiB; `"1 GB"` works. */
  maxSpoolBytes?: number | string
  /** Frames sent and not yet acknowledged, at most; default 128. */
  window?: number
  /** No answer for this long with frames outstanding, in ms, and the session is reopened; default 10,000. */
  ackTimeout?: number
  /** How long `flush()` waits for acknowledgements, in ms; default 10,000. `close()` flushes once, within it. */
  flushTimeout?: number
  /** How long `close()` then waits for the server to end the session and the connection, in ms; default 2,000. */
  closeTimeout?: number
  /**
   * At exit nothing needs sending: every record is in the spool, and the next run sends what
   * was not acknowledged. The exit only destroys the connection, well within this bound, in
   * ms (default 1,000); accepted for the one lifecycle of every network sink.
   */
  exitTimeout?: number
  /** How long a connection attempt may take, in ms; default 5,000. */
  connectTimeout?: number
  /** The first reconnect delay in ms; default 100, doubling up to `maxReconnectDelay`. */
  minReconnectDelay?: number
  /** The longest reconnect delay in ms; default 10,000. */
  maxReconnectDelay?: number
  /** The lowest level this sink writes; default everything the logger passes. */
  level?: LevelInput
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

function defaultSpoolPath(host: string, port: number): string {
  // Per user: another user's spool directory is not ours to write (it is created 0700).
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user'
  return join(tmpdir(), `blackbox-relp-${user}`, `${fileSafe(host)}-${port}.spool`)
}

/**
 * A sink that delivers records to rsyslog over RELP; see `relpSink()`. Every record is
 * appended to the spool before the log call returns; the spool forgets it only when the
 * server has acknowledged it.
 */
export class RelpSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Rfc5424Formatter
  readonly failures: FailureReport
  readonly host: string
  readonly port: number
  readonly #spoolPath: string
  readonly #maxSpoolBytes: number
  readonly #client: RelpClient
  readonly #flushTimeoutMs: number
  readonly #closeTimeoutMs: number
  readonly #waiters = new FlushWaiters()
  #spool: Spool | undefined
  #pumpScheduled = false
  #closed = false
  #closing: Promise<void> | undefined
  #dropped = 0
  #droppedTotal = 0
  #refused = 0

  constructor(options: RelpSinkOptions) {
    checkObject(options, 'relpSink()')
    this.host = checkHost(options.host)
    this.port = checkPort(options.port, DEFAULT_RELP_PORT)
    this.level = options.level === undefined ? 0 : levelValue(options.level)
    this.formatter = new Rfc5424Formatter(options)
    if (options.spool !== undefined && (typeof options.spool !== 'string' || options.spool === '')) {
      throw new TypeError(`Expected \`spool\` to be a file path, got \`${String(options.spool)}\` (${typeof options.spool})`)
    }
    this.#spoolPath = options.spool ?? defaultSpoolPath(this.host, this.port)
    this.#maxSpoolBytes = checkSize(options.maxSpoolBytes, 'maxSpoolBytes', SPOOL_MAX_BYTES)
    this.#flushTimeoutMs = checkInteger(options.flushTimeout, 'flushTimeout', RELP_FLUSH_TIMEOUT_MS)
    this.#closeTimeoutMs = checkInteger(options.closeTimeout, 'closeTimeout', CLOSE_TIMEOUT_MS)
    checkInteger(options.exitTimeout, 'exitTimeout', EXIT_TIMEOUT_MS)
    const minDelay = checkInteger(options.minReconnectDelay, 'minReconnectDelay', MIN_RECONNECT_DELAY_MS)
    const clientOptions = {
      host: this.host,
      port: this.port,
      tls: undefined,
      windowFrames: checkInteger(options.window, 'window', RELP_WINDOW_FRAMES),
      ackTimeoutMs: checkInteger(options.ackTimeout, 'ackTimeout', RELP_ACK_TIMEOUT_MS),
      connectTimeoutMs: checkInteger(options.connectTimeout, 'connectTimeout', CONNECT_TIMEOUT_MS),
      minReconnectDelayMs: minDelay,
      maxReconnectDelayMs: checkInteger(options.maxReconnectDelay, 'maxReconnectDelay', Math.max(MAX_RECONNECT_DELAY_MS, minDelay), minDelay),
    }
    this.name = `relp ${this.host}:${this.port}`
    this.failures = new FailureReport(this.name)
    // Opened here, so a spool that is not one, or every slot taken, is refused at creation.
    this.#spool = Spool.open(this.#spoolPath, this.#maxSpoolBytes)
    this.#client = new RelpClient(clientOptions, {
      settled: (token) => this.#settled(token),
      refused: (entry, response) => this.#onRefused(entry, response),
      ready: () => this.#pump(),
      failed: (error, during) => this.failures.report(error, during),
    })
    this.#client.start()
    registerSink(this)
  }

  /** The spool file in use (`spool`, or `spool.N` when other processes hold the first ones). */
  get spoolPath(): string {
    return this.#spool?.path ?? this.#spoolPath
  }

  /** Records written and not yet acknowledged (they are in the spool). */
  get pending(): number {
    return this.#spool?.pending ?? 0
  }

  /** Records dropped because the spool was full or could not be written. */
  get dropped(): number {
    return this.#droppedTotal
  }

  /** Records the server answered with an error; they are not resent. */
  get refused(): number {
    return this.#refused
  }

  /** Whether a RELP session is open now. */
  get connected(): boolean {
    return this.#client.open
  }

  write(line: string): void {
    const spool = this.#openSpool()
    if (spool === undefined) return this.#drop()
    try {
      if (this.#dropped > 0 && this.#appendDropNotice(spool) === false) return this.#drop()
      if (!spool.append(line.endsWith('\n') ? line.slice(0, -1) : line)) return this.#drop()
    } catch (error) {
      this.#drop()
      this.failures.report(error, `spool write to ${spool.path}`)
      return
    }
    if (!this.#pumpScheduled && !this.#closed) {
      // One socket write per burst of synchronous log calls.
      this.#pumpScheduled = true
      queueMicrotask(() => this.#pump())
    }
  }

  /** Nothing to do: every record is in the spool (in the kernel) before its call returns. */
  flushSync(): void {}

  /** Resolves when the server has acknowledged every record written; rejects with `FlushTimeoutError` after `flushTimeout` ms (the records stay in the spool). */
  async flush(): Promise<void> {
    this.#pump()
    await this.#waiters.wait(
      () => this.pending === 0,
      this.#flushTimeoutMs,
      () => new FlushTimeoutError(this.name, this.pending, this.#flushTimeoutMs, `acknowledged (they stay in the spool ${this.spoolPath} for the next run)`),
    )
  }

  /**
   * Flushes once (within `flushTimeout`, if a session is open) and ends the session (within
   * `closeTimeout`); always settles, and a second call gets the same promise. A drained
   * spool is removed; one that still holds records is kept, with its lock, until the process
   * ends, and the next run that opens it sends them (told once on stderr). Records written
   * after `close()` go to the spool too.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** At exit: every record is in the spool already; what was not acknowledged is told once, and the connection destroyed. */
  exitSync(): void {
    if (this.#closed) return
    this.#closed = true
    unregisterSink(this)
    this.#client.destroy()
    this.#tellLoss()
  }

  async #close(): Promise<void> {
    // With no session open there is nothing to wait for: the records are safe in the spool.
    if (this.#client.open) {
      try {
        await this.flush()
      } catch (error) {
        this.failures.report(error, 'close')
      }
    }
    this.#closed = true
    await this.#client.close(this.#closeTimeoutMs)
    unregisterSink(this)
    this.#tellLoss()
    if (this.#spool !== undefined && this.#spool.pending === 0) this.#spool.close()
  }

  #tellLoss(): void {
    const pending = this.pending
    const parts = []
    if (pending > 0) parts.push(`${pending} not acknowledged by ${this.host}:${this.port}: they stay in the spool ${this.spoolPath} for the next run`)
    if (this.#droppedTotal > 0) parts.push(`${this.#droppedTotal} dropped: the spool was full or could not be written`)
    this.failures.tellLoss(pending + this.#droppedTotal, ` (${parts.join('; ')})`)
  }

  #openSpool(): Spool | undefined {
    if (this.#spool !== undefined && !this.#spool.closed) return this.#spool
    try {
      this.#spool = Spool.open(this.#spoolPath, this.#maxSpoolBytes)
      return this.#spool
    } catch (error) {
      this.failures.report(error, 'spool open')
      return undefined
    }
  }

  #drop(): void {
    this.#dropped++
    this.#droppedTotal++
  }

  /** Appends the notice of earlier drops; false when it does not fit either. */
  #appendDropNotice(spool: Spool): boolean {
    const record: LogRecord = {
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: Date.now(),
      msg: `blackbox: ${this.#dropped} records were dropped: the spool ${spool.path} was full (maxSpoolBytes ${spool.maxBytes}) or could not be written while ${this.host}:${this.port} did not acknowledge`,
      context: NOTICE_CONTEXT,
      fields: { dropped: this.#dropped },
      err: undefined,
      callsite: undefined,
    }
    if (!spool.append(this.formatter.format(record).slice(0, -1))) return false
    this.#dropped = 0
    return true
  }

  #pump(): void {
    this.#pumpScheduled = false
    const spool = this.#spool
    if (spool === undefined || spool.closed || this.#closed) return
    try {
      for (let room = this.#client.room; room > 0; room = this.#client.room) {
        const entries = spool.read(room)
        if (entries.length === 0) break
        for (const entry of entries) this.#client.send(entry)
      }
    } catch (error) {
      this.failures.report(error, `spool read from ${spool.path}`)
    }
  }

  #settled(token: number): void {
    try {
      this.#spool?.acknowledge(token)
    } catch (error) {
      // The header lags behind: after a crash, more is resent than needed. Nothing is lost.
      this.failures.report(error, `spool update of ${this.spoolPath}`)
    }
    this.#waiters.notify()
  }

  #onRefused(entry: RelpEntry, response: string): void {
    this.#refused++
    this.failures.report(new Error(`${this.host}:${this.port} refused a record (${JSON.stringify(response)}); it is not resent: ${entry.data.toString().slice(0, 200)}`), 'delivery')
  }
}

/**
 * A sink that delivers RFC 5424 records to rsyslog over RELP, so that each one is
 * acknowledged by the server. Records wait in a disk spool until then: when the server is
 * down, when the connection breaks (unacknowledged records are resent in the next
 * session), and when the process dies (the next run that opens the spool sends them).
 * Duplicates after a crash are possible; loss is not.
 */
export function relpSink(options: RelpSinkOptions): RelpSink {
  return new RelpSink(options)
}
