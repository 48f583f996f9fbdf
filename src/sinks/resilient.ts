import { EventEmitter } from 'node:events'
import { readSync, rmSync, statfsSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { CONTINUATION_PREFIX } from '../core/format/escape.js'
import type { LogRecord } from '../core/record.js'
import { LEVEL_VALUES } from '../core/levels.js'
import { LoggerContext } from '../core/record.js'
import { parseSize } from '../core/units.js'
import { writeFully, type PartialWriteError } from './fd-writer.js'
import { RotatingFileSink, type RotatingFileSinkOptions } from './rotating.js'

/** Errors that mean "the disk cannot take this now": they degrade the sink instead of failing it. */
export const DISK_ERROR_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS', 'EACCES'])
/** While degraded, a log call tries the file again at most this often (recovery when a write simply succeeds). */
export const WRITE_RETRY_INTERVAL_MS = 1000
/** Replayed records are written in pieces of about this size, each taken back whole if it fails. */
export const REPLAY_CHUNK_BYTES = 64 * 1024

const DEFAULTS = {
  bufferLimit: 16 * 1024 * 1024,
  emergencyCleanup: 50 * 1000 * 1000,
  minFreeSpace: 10 * 1000 * 1000,
  recoveryInterval: 60_000,
}

const WHAT_FAILED: Readonly<Record<string, string>> = {
  ENOSPC: 'Disk full! No space left on device',
  EDQUOT: 'Disk quota exceeded!',
  EFBIG: 'File too large!',
  EIO: 'I/O error on the disk!',
  EROFS: 'Read-only file system!',
  EACCES: 'Permission denied!',
}

export type Fallback = 'stdout' | 'stderr' | 'none'

export interface ResilientFileSinkOptions extends RotatingFileSinkOptions {
  /** Where records go while the file cannot be written; default `stderr`. */
  fallback?: Fallback
  /** Records kept in memory while degraded, for replay; default 16 MB. */
  bufferLimit?: string | number
  /** Which records go when the buffer is full: the oldest (default) or the newest. */
  dropPolicy?: 'oldest' | 'newest'
  /** Space to free on entering degraded mode by deleting the oldest managed backups; default 50 MB; false for none. */
  emergencyCleanup?: string | number | false
  /** Free space needed before recovery is attempted; default 10 MB. */
  minFreeSpace?: string | number
  /** ms between recovery checks; default 60,000. */
  recoveryInterval?: number
  /** Opt-in, destroys records: on entering degraded mode, cut the current file to its last 10%. */
  truncateCurrent?: boolean
}

/** What the sink is going through; `sink.state`. */
export interface ResilientState {
  degraded: boolean
  errorCount: number
  lastError: string | undefined
  lastErrorTime: number | undefined
  recoveryAttempts: number
  /** All time spent degraded, the current outage included. */
  downtimeMs: number
  /** Records held for replay. */
  buffered: number
  /** Records dropped from the replay buffer, all outages together. */
  dropped: number
}

export interface ResilientEvents {
  degraded: [{ error: unknown; time: number }]
  cleanup: [{ files: string[]; freedBytes: number }]
  recovered: [{ downtimeMs: number; replayed: number; dropped: number }]
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Splits written text into records: a record is a line and the continuation lines after it. */
function splitRecords(data: string): string[] {
  const records: string[] = []
  let start = 0
  let at = data.indexOf('\n')
  while (at !== -1) {
    const next = at + 1
    if (next >= data.length || !data.startsWith(CONTINUATION_PREFIX, next)) {
      records.push(data.slice(start, next))
      start = next
    }
    at = data.indexOf('\n', next)
  }
  if (start < data.length) records.push(data.slice(start))
  return records
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000)
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} m ${seconds % 60} s`
}

function banner(text: string): void {
  try {
    writeSync(2, `\n${text}\n\n`)
  } catch {
    // No stderr: nothing more to say it with.
  }
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/**
 * A rotating file sink that survives a full disk: on ENOSPC (and EDQUOT, EFBIG, EIO,
 * EROFS, EACCES) it degrades at once, sending the failed record and every later one to a
 * fallback stream and a bounded memory buffer, frees space by deleting the oldest managed
 * backups, checks for space every `recoveryInterval`, and when writing works again replays
 * the buffer into the file in order, followed by one record describing the outage.
 */
export class ResilientFileSink extends RotatingFileSink {
  readonly fallback: Fallback
  readonly #events = new EventEmitter()
  readonly #bufferLimit: number
  readonly #dropNewest: boolean
  readonly #cleanupBytes: number
  readonly #minFreeSpace: number
  readonly #recoveryInterval: number
  readonly #truncateCurrent: boolean
  #held: string[] = []
  #heldBytes = 0
  #degradedSince: number | undefined
  #outageDropped = 0
  #dropped = 0
  #errorCount = 0
  #lastError: string | undefined
  #lastErrorTime: number | undefined
  #recoveryAttempts = 0
  #downtimeBefore = 0
  #nextWriteRetry = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: ResilientFileSinkOptions) {
    const fallback = options.fallback ?? 'stderr'
    if (fallback !== 'stdout' && fallback !== 'stderr' && fallback !== 'none') {
      throw new TypeError(`Expected \`fallback\` to be 'stdout', 'stderr' or 'none', got \`${String(fallback)}\` (${typeof fallback})`)
    }
    const dropPolicy = options.dropPolicy ?? 'oldest'
    if (dropPolicy !== 'oldest' && dropPolicy !== 'newest') {
      throw new TypeError(`Expected \`dropPolicy\` to be 'oldest' or 'newest', got \`${String(dropPolicy)}\` (${typeof dropPolicy})`)
    }
    const recoveryInterval = options.recoveryInterval ?? DEFAULTS.recoveryInterval
    if (!Number.isInteger(recoveryInterval) || recoveryInterval < 1) {
      throw new TypeError(`Expected \`recoveryInterval\` to be a positive integer of ms, got \`${String(recoveryInterval)}\` (${typeof recoveryInterval})`)
    }
    const bufferLimit = options.bufferLimit === undefined ? DEFAULTS.bufferLimit : parseSize(options.bufferLimit, 'bufferLimit')
    const cleanup = options.emergencyCleanup === false ? 0 : options.emergencyCleanup === undefined ? DEFAULTS.emergencyCleanup : parseSize(options.emergencyCleanup, 'emergencyCleanup')
    const minFreeSpace = options.minFreeSpace === undefined ? DEFAULTS.minFreeSpace : parseSize(options.minFreeSpace, 'minFreeSpace')
    super(options)
    this.fallback = fallback
    this.#bufferLimit = bufferLimit
    this.#dropNewest = dropPolicy === 'newest'
    this.#cleanupBytes = cleanup
    this.#minFreeSpace = minFreeSpace
    this.#recoveryInterval = recoveryInterval
    this.#truncateCurrent = options.truncateCurrent === true
  }

  protected override get kind(): string {
    return 'resilient file'
  }

  get state(): ResilientState {
    const current = this.#degradedSince === undefined ? 0 : Date.now() - this.#degradedSince
    return {
      degraded: this.#degradedSince !== undefined,
      errorCount: this.#errorCount,
      lastError: this.#lastError,
      lastErrorTime: this.#lastErrorTime,
      recoveryAttempts: this.#recoveryAttempts,
      downtimeMs: this.#downtimeBefore + current,
      buffered: this.#held.length,
      dropped: this.#dropped,
    }
  }

  on<E extends keyof ResilientEvents>(event: E, listener: (...args: ResilientEvents[E]) => void): this {
    this.#events.on(event, listener as (...args: unknown[]) => void)
    return this
  }

  once<E extends keyof ResilientEvents>(event: E, listener: (...args: ResilientEvents[E]) => void): this {
    this.#events.once(event, listener as (...args: unknown[]) => void)
    return this
  }

  off<E extends keyof ResilientEvents>(event: E, listener: (...args: ResilientEvents[E]) => void): this {
    this.#events.off(event, listener as (...args: unknown[]) => void)
    return this
  }

  #emit<E extends keyof ResilientEvents>(event: E, ...args: ResilientEvents[E]): void {
    try {
      this.#events.emit(event, ...args)
    } catch (error) {
      // A listener's bug must not become the logger's.
      this.failures.report(error, `a '${event}' listener`)
    }
  }

  override write(line: string, record?: LogRecord): void {
    if (this.#degradedSince === undefined) {
      super.write(line, record)
      return
    }
    this.#divert(line)
    if (Date.now() >= this.#nextWriteRetry) this.#recover()
  }

  protected override onWriteError(data: string, error: unknown): boolean {
    if (!DISK_ERROR_CODES.has(codeOf(error) ?? '')) return false
    this.#takeBack(error)
    this.#noteError(error)
    if (this.#degradedSince === undefined) this.#degrade(error)
    this.#divert(data)
    return true
  }

  // A write cut short by the error left part of a record in the file: take it back, so the
  // replay does not follow a torn line.
  #takeBack(error: unknown): void {
    const written = (error as PartialWriteError).bytesWritten ?? 0
    if (written <= 0) return
    try {
      const size = this.writer.size()
      if (size !== undefined) this.writer.truncate(size - written)
    } catch {
      // The file is unreachable; the replay starts with a newline if a fragment stayed.
    }
  }

  #noteError(error: unknown): void {
    this.#errorCount++
    this.#lastError = `${codeOf(error) ?? 'error'}: ${describe(error)}`
    this.#lastErrorTime = Date.now()
  }

  /** To the fallback stream at once, and into the replay buffer. */
  #divert(data: string): void {
    if (this.fallback !== 'none') {
      try {
        writeFully({ writeSync }, this.fallback === 'stdout' ? 1 : 2, data, this.fallback)
      } catch {
        // The fallback is gone too; the buffer still has the records.
      }
    }
    for (const record of splitRecords(data)) this.#hold(record)
  }

  #hold(record: string): void {
    const bytes = Buffer.byteLength(record)
    if (this.#dropNewest && this.#heldBytes + bytes > this.#bufferLimit) {
      this.#outageDropped++
      this.#dropped++
      return
    }
    this.#held.push(record)
    this.#heldBytes += bytes
    while (this.#heldBytes > this.#bufferLimit && this.#held.length > 0) {
      this.#heldBytes -= Buffer.byteLength(this.#held.shift() as string)
      this.#outageDropped++
      this.#dropped++
    }
  }

  #degrade(error: unknown): void {
    const now = Date.now()
    this.#degradedSince = now
    this.#outageDropped = 0
    this.#nextWriteRetry = now + WRITE_RETRY_INTERVAL_MS
    const code = codeOf(error) ?? 'error'
    banner(
      `CRITICAL: ${WHAT_FAILED[code] ?? 'Cannot write logs!'} (${code}) writing ${this.path}. ` +
        `Switching to ${this.fallback === 'none' ? 'memory only' : this.fallback}; up to ${Math.round(this.#bufferLimit / 1e6)} MB of records kept for replay. ` +
        `Recovery check every ${Math.round(this.#recoveryInterval / 1000)} s.`,
    )
    this.#emit('degraded', { error, time: now })
    this.#emergencyCleanup()
    if (this.#truncateCurrent) this.#truncateToTail()
    this.#timer = setInterval(() => this.#check(), this.#recoveryInterval).unref()
  }

  /** Deletes the oldest managed backups until `emergencyCleanup` bytes are freed; never the current file or foreign files. */
  #emergencyCleanup(): void {
    if (this.#cleanupBytes <= 0) return
    const files: string[] = []
    let freed = 0
    for (const backup of [...this.backups()].reverse()) {
      if (freed >= this.#cleanupBytes) break
      try {
        rmSync(backup.path)
        files.push(backup.path)
        freed += backup.size
      } catch (error) {
        this.failures.report(error, 'emergency cleanup')
      }
    }
    if (files.length === 0) return
    banner(`blackbox: emergency cleanup removed ${files.length} old backup${files.length === 1 ? '' : 's'} of ${this.path}, freed ${(freed / 1e6).toFixed(1)} MB`)
    this.#emit('cleanup', { files, freedBytes: freed })
  }

  // Opt-in only: it destroys the older 90% of the current file to make room.
  #truncateToTail(): void {
    try {
      const size = this.writer.size() ?? 0
      const fd = this.writer.fd
      if (fd === undefined || size === 0) return
      const tail = Buffer.alloc(Math.floor(size / 10))
      readSync(fd, tail, 0, tail.length, size - tail.length)
      const newline = tail.indexOf(0x0a)
      const kept = newline === -1 ? Buffer.alloc(0) : tail.subarray(newline + 1)
      this.writer.truncate(0)
      if (kept.length > 0) this.writer.write(kept.toString('utf8'))
      banner(`blackbox: truncateCurrent cut ${this.path} to its last ${kept.length} bytes`)
    } catch (error) {
      this.failures.report(error, 'truncateCurrent')
    }
  }

  #check(): void {
    let free: number
    try {
      const stats = statfsSync(dirname(this.path))
      free = stats.bavail * stats.bsize
    } catch {
      free = Number.POSITIVE_INFINITY
    }
    if (free >= this.#minFreeSpace) this.#recover()
  }

  /** Reopens, replays the buffer in order, writes the outage record; stays degraded if any of it fails. */
  #recover(): boolean {
    const since = this.#degradedSince
    if (since === undefined) return true
    this.#nextWriteRetry = Date.now() + WRITE_RETRY_INTERVAL_MS
    this.#recoveryAttempts++
    const replayed = this.#held.length
    try {
      this.writer.close()
      this.writer.open()
      while (this.#held.length > 0) {
        let chunk = ''
        let count = 0
        while (count < this.#held.length && chunk.length < REPLAY_CHUNK_BYTES) chunk += this.#held[count++]
        this.#writeWhole(chunk)
        const written = this.#held.splice(0, count)
        for (const record of written) this.#heldBytes -= Buffer.byteLength(record)
      }
      const end = Date.now()
      this.#writeWhole(this.#outageRecord(since, end, replayed))
      this.#degradedSince = undefined
      this.#downtimeBefore += end - since
      if (this.#timer) clearInterval(this.#timer)
      this.#timer = undefined
      banner(`blackbox: logging to ${this.path} recovered after ${formatDuration(end - since)}; ${replayed} records replayed, ${this.#outageDropped} dropped`)
      this.#emit('recovered', { downtimeMs: end - since, replayed, dropped: this.#outageDropped })
      return true
    } catch (error) {
      this.#noteError(error)
      return false
    }
  }

  /** One write that either lands whole or is taken back whole. */
  #writeWhole(chunk: string): void {
    this.beforeWrite(chunk)
    const before = this.writer.size() ?? 0
    try {
      this.writer.write(chunk)
    } catch (error) {
      try {
        this.writer.truncate(before)
      } catch {
        // Unreachable file: the next attempt reopens it.
      }
      throw error
    }
  }

  #outageRecord(since: number, end: number, replayed: number): string {
    const message =
      `blackbox: ${this.path} could not be written from ${new Date(since).toISOString()} to ${new Date(end).toISOString()} ` +
      `(${this.#lastError ?? 'unknown error'}): ${replayed} records replayed, ${this.#outageDropped} dropped`
    return this.formatter.format({
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: end,
      msg: message,
      context: NOTICE_CONTEXT,
      fields: { event: 'outage', downtimeMs: end - since, replayed, dropped: this.#outageDropped },
      err: undefined,
      callsite: undefined,
    })
  }

  /** On every exit path: one last try to get the held records into the file. */
  override flushSync(): void {
    if (this.#degradedSince !== undefined) this.#recover()
    super.flushSync()
  }

  override async close(): Promise<void> {
    if (this.#degradedSince !== undefined) this.#recover()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await super.close()
  }
}

/**
 * A rotating file sink that survives a full disk, loses nothing while it can hold it, and
 * recovers by itself. Takes every `rotatingFileSink` option.
 */
export function resilientFileSink(options: ResilientFileSinkOptions): ResilientFileSink {
  return new ResilientFileSink(options)
}
