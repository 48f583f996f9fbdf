import { constants } from 'node:os'
import { LEVEL_VALUES, levelValue } from '../core/levels.js'
import { LoggerContext } from '../core/record.js'
import { resolveFormat } from '../core/format/index.js'
import type { Formatter } from '../core/format/formatter.js'
import { FailureReport, type Sink, type SinkOptions } from '../core/sink.js'
import { FdWriter, type WriterFs } from './fd-writer.js'
import { registerSink, unregisterSink } from './registry.js'

/** Bytes gathered in `batched` mode before they are written; also the most a SIGKILL can lose. */
export const BATCH_SIZE_BYTES = 64 * 1024
/** The longest a record waits in `batched` mode before it is written. */
export const BATCH_INTERVAL_MS = 100
/** While the file cannot be written, `batched` mode keeps at most this much for the next attempt; older records are dropped and counted. */
export const MAX_RETAINED_BYTES = 4 * 1024 * 1024

function countLines(text: string): number {
  let count = 0
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++
  return count
}

export type Durability = 'sync' | 'batched'
export type FsyncPolicy = 'never' | 'always' | number

export interface FileSinkOptions extends SinkOptions {
  path: string
  /** `sync` (default): one write(2) per record before the call returns. `batched`: written in batches; every exit path flushes. */
  durability?: Durability
  /** `fsync(2)` after every write (`'always'`), at most every N ms, or never (default): needed only against power loss. */
  fsync?: FsyncPolicy
  /** Create the parent directories; default true. */
  mkdir?: boolean
  /** Append to an existing file (default) or truncate it. */
  append?: boolean
  /** `batched` mode: bytes gathered before a write; default 64 KiB. */
  batchSize?: number
  /** `batched` mode: the longest a record waits; default 100 ms. */
  batchInterval?: number
  /** Reopen the file on this signal, for an external logrotate; default none. Listening changes what the signal does: it no longer ends the process. */
  reopenOnSignal?: NodeJS.Signals
  /** Mode for a new file; default 0o644 less the umask. */
  mode?: number
  /** The file-system calls to use; for fault injection in tests. */
  fs?: WriterFs
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

function positiveInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${option}\` to be a positive integer, got \`${String(value)}\` (${typeof value})`)
  }
  return value
}

function checkFsync(value: unknown): FsyncPolicy {
  if (value === undefined) return 'never'
  if (value === 'never' || value === 'always') return value
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
  throw new TypeError(`Expected \`fsync\` to be 'never', 'always' or a positive number of ms, got \`${String(value)}\` (${typeof value})`)
}

/** A sink that appends records to a file; see `fileSink()`. */
export class FileSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
  readonly path: string
  readonly durability: Durability
  /** The descriptor records go to; subclasses close and reopen it to rotate. */
  protected readonly writer: FdWriter
  readonly #fsync: FsyncPolicy
  readonly #batchSize: number
  readonly #batchInterval: number
  readonly #signal: NodeJS.Signals | undefined
  #buffer = ''
  #bufferBytes = 0
  #timer: NodeJS.Timeout | undefined
  #fsyncTimer: NodeJS.Timeout | undefined
  #dirty = false
  #closed = false
  #dropped = 0
  readonly #onSignal = (): void => this.reopen()

  constructor(options: FileSinkOptions) {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
      throw new TypeError(`Expected \`path\` to be a non-empty string, got \`${String(options?.path)}\` (${typeof options?.path})`)
    }
    const durability = options.durability ?? 'sync'
    if (durability !== 'sync' && durability !== 'batched') {
      throw new TypeError(`Expected \`durability\` to be 'sync', 'batched' or 'ring' (through fileSink()), got \`${String(durability)}\` (${typeof durability})`)
    }
    this.path = options.path
    this.name = `${this.kind} ${options.path}`
    this.durability = durability
    const signal = checkReopenSignal(options.reopenOnSignal)
    this.level = options.level === undefined ? 0 : levelValue(options.level)
    this.formatter = resolveFormat(options.format, 'text')
    this.failures = new FailureReport(this.name)
    this.#fsync = checkFsync(options.fsync)
    this.#batchSize = positiveInteger(options.batchSize, 'batchSize', BATCH_SIZE_BYTES)
    this.#batchInterval = positiveInteger(options.batchInterval, 'batchInterval', BATCH_INTERVAL_MS)
    this.writer = new FdWriter(options.path, {
      ...(options.mkdir === undefined ? {} : { mkdir: options.mkdir }),
      ...(options.append === undefined ? {} : { append: options.append }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    })
    try {
      this.writer.open()
    } catch (error) {
      // Environmental (permissions, a full disk): reported, retried on the next write.
      this.failures.report(error, 'open')
    }
    this.#signal = signal
    if (this.#signal) process.on(this.#signal, this.#onSignal)
    if (typeof this.#fsync === 'number') {
      this.#fsyncTimer = setInterval(() => this.#fsyncIfDirty(), this.#fsync).unref()
    }
    registerSink(this)
  }

  write(line: string): void {
    if (this.#closed) return this.#writeAfterClose(line)
    if (this.durability === 'sync') {
      this.#writeNow(line)
      return
    }
    this.#buffer += line
    this.#bufferBytes += Buffer.byteLength(line)
    if (this.#bufferBytes >= this.#batchSize) this.flushSync()
    else this.#timer ??= setTimeout(() => this.#onTimer(), this.#batchInterval).unref()
  }

  #onTimer(): void {
    this.#timer = undefined
    try {
      this.flushSync()
    } catch (error) {
      this.failures.report(error, 'batch write')
    }
  }

  /** Names the kind of sink in reports (`file logs/app.log`). */
  protected get kind(): string {
    return 'file'
  }

  /** Records lost because the file could not be written; told in the file once writing works again. */
  get dropped(): number {
    return this.#dropped
  }

  /** Called before each write(2) with what is about to be written; the rotating sink rotates here. */
  protected beforeWrite(_data: string): void {}

  /**
   * Called when writing `data` failed; a subclass that takes the data over (the resilient
   * sink: fallback and replay) returns true, and the failure goes no further.
   */
  protected onWriteError(_data: string, _error: unknown): boolean {
    return false
  }

  #writeNow(data: string): void {
    const text = this.#dropped > 0 ? this.#dropNotice() + data : data
    try {
      this.beforeWrite(text)
      this.writer.write(text)
    } catch (error) {
      if (this.onWriteError(text, error)) return
      // A batch is kept for the next attempt (see flushSync); a single record is lost.
      if (this.durability === 'sync') this.#dropped++
      throw error
    }
    this.#dropped = 0
    this.#dirty = true
    if (this.#fsync === 'always') this.#fsyncIfDirty()
  }

  #dropNotice(): string {
    return this.formatter.format({
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: Date.now(),
      msg: `blackbox: ${this.#dropped} records were dropped while ${this.path} could not be written (${String(this.failures.lastError)})`,
      context: NOTICE_CONTEXT,
      fields: { dropped: this.#dropped },
      err: undefined,
      callsite: undefined,
    })
  }

  #fsyncIfDirty(): void {
    if (!this.#dirty) return
    this.#dirty = false
    try {
      this.writer.fsync()
    } catch (error) {
      this.failures.report(error, 'fsync')
    }
  }

  // A late record after close() is still written, through a short-lived descriptor,
  // rather than lost.
  #writeAfterClose(line: string): void {
    const writer = new FdWriter(this.path)
    try {
      writer.write(line)
    } finally {
      writer.close()
    }
  }

  /** Writes what `batched` mode holds; throws if the file cannot take it (the logger reports it). */
  flushSync(): void {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#buffer === '') return
    const data = this.#buffer
    const bytes = this.#bufferBytes
    this.#buffer = ''
    this.#bufferBytes = 0
    try {
      this.#writeNow(data)
    } catch (error) {
      // Keep the batch for the next attempt, within a bound (memory is bounded too).
      this.#buffer = data + this.#buffer
      this.#bufferBytes += bytes
      if (this.#bufferBytes > MAX_RETAINED_BYTES) {
        this.#dropped += countLines(this.#buffer)
        this.#buffer = ''
        this.#bufferBytes = 0
      }
      throw error
    }
  }

  async flush(): Promise<void> {
    this.flushSync()
  }

  /** Closes and reopens the path: after an external logrotate has renamed the file, writing goes on in a new one. */
  reopen(): void {
    try {
      this.flushSync()
      this.writer.close()
      this.writer.open()
    } catch (error) {
      this.failures.report(error, 'reopen')
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      this.flushSync()
      if (this.#fsync !== 'never') this.#fsyncIfDirty()
    } finally {
      this.#closed = true
      if (this.#fsyncTimer) clearInterval(this.#fsyncTimer)
      if (this.#signal) process.removeListener(this.#signal, this.#onSignal)
      unregisterSink(this)
      this.writer.close()
    }
  }
}

/**
 * Signals a listener cannot be given: SIGKILL and SIGSTOP cannot be caught (uv_signal_start
 * fails with EINVAL), and after a real SIGBUS, SIGFPE, SIGSEGV or SIGILL no JavaScript may
 * safely run (Node's process documentation, "Signal events").
 */
const UNLISTENABLE_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGILL'])

/** `reopenOnSignal` as given, checked: a signal this platform has, that a listener can be given. */
function checkReopenSignal(value: unknown): NodeJS.Signals | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' && Object.hasOwn(constants.signals, value) && !UNLISTENABLE_SIGNALS.has(value)) return value as NodeJS.Signals
  throw new TypeError(`Expected \`reopenOnSignal\` to be a signal a listener can be given, such as 'SIGHUP' or 'SIGUSR2', got \`${String(value)}\` (${typeof value})`)
}

/**
 * A sink that appends records to a file. In `sync` mode (the default) every record is in
 * the kernel before the log call returns, so it survives any death of the process.
 */
export function fileSink(options: FileSinkOptions): FileSink {
  return new FileSink(options)
}
