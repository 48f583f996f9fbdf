import { existsSync, fstatSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { LogRecord } from '../core/record.js'
import { archiveExtension, BackupNames, withoutArchiveExtension, type Backup } from './backups.js'
import { checkCompression, compressFile, COMPRESSED_EXTENSION, type Compression, type CompressionFormat, type CompressionFunction } from './compress.js'
import { FileSink, type FileSinkOptions } from './file.js'
import { isEnvironmental } from './environmental.js'
import { acquireFileLock, FileLockedError } from './lock.js'
import {
  compileRetention,
  compileRotation,
  type IntervalOption,
  type RetentionFunction,
  type RetentionPolicy,
  type RotationFunction,
  type RotationOption,
  type TimePolicy,
} from './rotation-policy.js'

/** How often the sink checks that its path still names the file it writes (an external logrotate may have moved it). */
export const INODE_CHECK_INTERVAL_MS = 1000

export interface RotatingFileSinkOptions extends FileSinkOptions {
  /** Rotate before a write would take the file past this: `'10 MB'`, `'0.5 GiB'`, bytes, or false for no size limit. Default 10 MB, unless `rotation` is given or `interval` names a size. */
  maxSize?: string | number | false
  /** Backups kept; default 5 when `retention` is not given, else no count of its own. */
  maxFiles?: number
  /**
   * When to rotate, in any of loguru's spellings: `'hourly'`…`'yearly'`, `'13:00'`, `'1:00 pm'`,
   * `'monday at 12:00'`, `'w6'`, a period `'12 h'`, a size `'500 MB'`, a function, or a list
   * (whichever comes first). A number is a period in ms. Default none.
   */
  interval?: IntervalOption | string
  /** loguru's name: the same spellings as `interval`, but a number is a size in bytes; with it, `maxSize` has no default. */
  rotation?: RotationOption
  /** What to keep: a count of backups, a duration (`'7 days'`: older backups are deleted), or a function handed the managed backups. */
  retention?: string | number | RetentionFunction
  /** Compress backups off the write path: `'gz'`, `'zip'`, `'tar'`, `'tar.gz'`, `'br'`, `'zst'` (Node 22.15+) or a function; default none. */
  compress?: Compression | false
  /** loguru's name for `compress`. */
  compression?: Compression | false
  /** Take `<path>.lock` so a second process cannot rotate the same file; default true. */
  lock?: boolean
  /** The clock, in epoch ms; tests pass their own. */
  clock?: () => number
}

/** A backup being compressed: its source moves when older backups shift. */
interface CompressionJob {
  source: string
  cancelled: boolean
}

/**
 * A file sink that rotates by size and by time, keeps a bounded number of backups,
 * compresses them off the write path and applies retention. See `rotatingFileSink()`.
 */
export class RotatingFileSink extends FileSink {
  readonly maxSize: number
  readonly retention: RetentionPolicy
  readonly compression: CompressionFormat | CompressionFunction | undefined
  readonly #names: BackupNames
  readonly #interval: TimePolicy | undefined
  readonly #decide: RotationFunction | undefined
  readonly #clock: () => number
  readonly #releaseLock: () => void
  readonly #jobs = new Set<CompressionJob>()
  #background: Promise<void> = Promise.resolve()
  #size = 0
  #periodStart = 0
  #nextRotation: number | undefined
  #nextInodeCheck = 0
  #sequence = 0
  #rotations = 0
  /** A rotation function asked for a rotation before the next write. */
  #rotateNext = false
  /** Bytes `batched` mode holds, not yet written: a rotation function is told the size with them. */
  #pendingBytes = 0

  constructor(options: RotatingFileSinkOptions) {
    const rotation = compileRotation({ maxSize: options.maxSize, interval: options.interval, rotation: options.rotation })
    const retention = compileRetention(options.maxFiles, options.retention)
    const compression = checkCompression(options.compress, options.compression)
    // A folder that cannot be made or written (permissions, a read-only disk) is environmental:
    // the sink is made all the same, reports it, and the file sink retries on later writes.
    let unavailable: unknown
    try {
      if (typeof options.path === 'string' && options.path !== '' && options.mkdir !== false) mkdirSync(dirname(options.path), { recursive: true })
    } catch (error) {
      unavailable = error
    }
    let releaseLock: () => void = () => {}
    try {
      if (options.lock !== false && typeof options.path === 'string') releaseLock = acquireFileLock(options.path)
    } catch (error) {
      // Another live process writing the file is refused (FileLockedError); a lock that cannot be made is reported.
      if (error instanceof FileLockedError || (unavailable === undefined && !isEnvironmental(error))) throw error
      unavailable ??= error
    }
    try {
      super(options)
    } catch (error) {
      releaseLock()
      throw error
    }
    if (unavailable !== undefined) this.failures.report(unavailable, 'open')
    this.maxSize = rotation.maxSize
    this.retention = retention
    this.compression = compression
    this.#interval = rotation.time
    this.#decide = rotation.decide
    this.#releaseLock = releaseLock
    this.#clock = options.clock ?? Date.now
    this.#names = new BackupNames(this.path)
    const now = this.#clock()
    const current = this.#currentStat()
    this.#size = current?.size ?? 0
    // A file from an earlier run whose period is over rotates at the first write.
    this.#periodStart = current && current.size > 0 ? Math.min(current.mtimeMs, now) : now
    this.#nextRotation = this.#interval?.next(this.#periodStart)
    this.#recoverLeftovers()
  }

  protected override get kind(): string {
    return 'rotating file'
  }

  /** Asks a rotation function about the record first (it may rotate before it), then writes. */
  override write(line: string, record?: LogRecord): void {
    if (this.#decide !== undefined) {
      if (record !== undefined) this.#consult(line, record)
      // Counted before the write: one that fills a batch writes it, and beforeWrite clears the count.
      if (this.durability === 'batched') this.#pendingBytes += Buffer.byteLength(line)
    }
    super.write(line)
  }

  /** How many rotations this sink has made. */
  get rotations(): number {
    return this.#rotations
  }

  /** The managed backups on disk, newest first. */
  protected backups(): Backup[] {
    return this.#names.list()
  }

  /** Resolves when every compression and retention pass started so far has finished. */
  async settled(): Promise<void> {
    await this.#background
  }

  #currentStat(): { size: number; mtimeMs: number; ino: number } | undefined {
    const fd = this.writer.fd
    try {
      return fd === undefined ? undefined : fstatSync(fd)
    } catch {
      return undefined
    }
  }

  /** Asks the rotation functions about one record; a yes rotates before it, after what `batched` mode holds. */
  #consult(line: string, record: LogRecord): void {
    let rotate: boolean
    try {
      rotate = (this.#decide as RotationFunction)(record, { path: this.path, size: this.#size + this.#pendingBytes, since: this.#periodStart }, line)
    } catch (error) {
      this.failures.report(error, 'a rotation function')
      return
    }
    if (!rotate) return
    if (this.durability === 'batched') {
      try {
        this.flushSync()
      } catch (error) {
        this.failures.report(error, 'batch write')
      }
    }
    this.#rotateNext = true
  }

  protected override beforeWrite(data: string): void {
    const now = this.#clock()
    if (now >= this.#nextInodeCheck) this.#followMovedFile(now)
    const bytes = Buffer.byteLength(data)
    const timeDue = this.#nextRotation !== undefined && now >= this.#nextRotation
    if (this.#size > 0 && (timeDue || this.#rotateNext || this.#size + bytes > this.maxSize)) this.#rotate(now)
    else if (timeDue) this.#startPeriod(now)
    this.#rotateNext = false
    this.#pendingBytes = 0
    this.#size += bytes
  }

  #startPeriod(now: number): void {
    this.#periodStart = now
    this.#nextRotation = this.#interval?.next(now)
  }

  // An external logrotate renamed or deleted the file: follow the path, not the descriptor.
  #followMovedFile(now: number): void {
    this.#nextInodeCheck = now + INODE_CHECK_INTERVAL_MS
    const open = this.#currentStat()
    if (!open) return
    let onDisk: number | undefined
    try {
      onDisk = statSync(this.path).ino
    } catch {
      onDisk = undefined
    }
    if (onDisk === open.ino) return
    this.reopen()
  }

  override reopen(): void {
    super.reopen()
    this.#size = this.#currentStat()?.size ?? 0
  }

  /** close → rename (shifting older backups) → reopen; compression and retention follow in the background. */
  #rotate(now: number): void {
    this.writer.close()
    let backup: string | undefined
    try {
      backup = this.#interval ? this.#stampedName() : this.#shiftNumbered()
      if (backup === undefined) rmSync(this.path, { force: true })
      else renameSync(this.path, backup)
      this.#rotations++
    } catch (error) {
      this.failures.report(error, 'rotation')
      backup = undefined
    }
    // Reopening is the write path's own business: if it fails, the write that follows fails and is reported.
    this.writer.open()
    this.#size = this.#currentStat()?.size ?? 0
    this.#startPeriod(now)
    const job: CompressionJob | undefined = backup && this.compression ? { source: backup, cancelled: false } : undefined
    if (job) this.#jobs.add(job)
    this.#queue(async () => {
      if (job) await this.#compress(job)
      await this.#applyRetention()
    })
  }

  /** `app.log.2026-11-21`, or `.1`, `.2`… when that period already has a backup (in any format). */
  #stampedName(): string {
    const stamp = (this.#interval as TimePolicy).stamp(this.#periodStart)
    for (let counter = 0; ; counter++) {
      const taken = ['', ...Object.values(COMPRESSED_EXTENSION)].some((extension) => existsSync(this.#names.stamped(stamp, counter, extension)))
      if (!taken) return this.#names.stamped(stamp, counter)
    }
  }

  /** Shifts `app.log.N` to `N+1` from the oldest down, dropping what passes `maxFiles`; returns `app.log.1`, or undefined when no backup is kept. */
  #shiftNumbered(): string | undefined {
    const keep = this.retention.maxFiles
    const numbered = this.#names.list().filter((backup) => backup.index !== undefined).sort((a, b) => (b.index as number) - (a.index as number))
    for (const backup of numbered) {
      const index = backup.index as number
      if (index >= keep) this.#remove(backup.path)
      else this.#move(backup.path, this.#names.numbered(index + 1, archiveExtension(backup.path)))
    }
    return keep > 0 ? this.#names.numbered(1) : undefined
  }

  #move(from: string, to: string): void {
    renameSync(from, to)
    for (const job of this.#jobs) if (job.source === from) job.source = to
  }

  #remove(path: string): void {
    rmSync(path, { force: true })
    for (const job of this.#jobs) if (job.source === path) job.cancelled = true
  }

  #queue(task: () => Promise<void>): void {
    this.#background = this.#background.then(task).catch((error: unknown) => this.failures.report(error, 'compression or retention'))
  }

  /**
   * Compresses to a temporary name, then renames it to the backup's current name + `.gz` (or
   * the format's extension) and removes the original. A function is handed the backup instead.
   */
  async #compress(job: CompressionJob): Promise<void> {
    const compression = this.compression as CompressionFormat | CompressionFunction
    if (typeof compression === 'function') {
      try {
        await compression(job.source)
      } finally {
        this.#jobs.delete(job)
      }
      return
    }
    const temporary = this.#names.temporary(++this.#sequence)
    try {
      await compressFile(job.source, temporary, compression)
      // From here to the end nothing awaits: a rotation cannot move the source meanwhile.
      if (job.cancelled) rmSync(temporary, { force: true })
      else {
        renameSync(temporary, `${job.source}${COMPRESSED_EXTENSION[compression]}`)
        rmSync(job.source, { force: true })
      }
    } catch (error) {
      rmSync(temporary, { force: true })
      throw error
    } finally {
      this.#jobs.delete(job)
    }
  }

  /** Deletes managed backups past the count, or older than the age, then hands the rest to a retention function; never the current file or foreign files. */
  async #applyRetention(): Promise<void> {
    const now = this.#clock()
    const busy = new Set([...this.#jobs].map((job) => job.source))
    const backups = this.#names.list().filter((backup) => !busy.has(backup.path))
    const ordered = backups.every((backup) => backup.index !== undefined) ? backups : [...backups].sort((a, b) => b.mtimeMs - a.mtimeMs)
    ordered.forEach((backup: Backup, rank) => {
      const tooMany = rank + busy.size >= this.retention.maxFiles
      const tooOld = this.retention.maxAgeMs !== undefined && now - backup.mtimeMs > this.retention.maxAgeMs
      if (tooMany || tooOld) rmSync(backup.path, { force: true })
    })
    const select = this.retention.select
    if (select) await select(this.#names.list().filter((backup) => !busy.has(backup.path)).map((backup) => backup.path))
  }

  /** After a crash: drop half-written archives, finish compressions that were cut short, apply retention. */
  #recoverLeftovers(): void {
    for (const temporary of this.#names.temporaries()) rmSync(temporary, { force: true })
    // A function was handed its backups when they were made: what it left is its business.
    if (this.compression !== undefined && typeof this.compression !== 'function') {
      const backups = this.#names.list()
      const archived = new Set(backups.filter((backup) => backup.compressed).map((backup) => withoutArchiveExtension(backup.path)))
      for (const backup of backups) {
        if (backup.compressed) continue
        // Renamed into place but not yet removed: the archive is complete, the original is a duplicate.
        if (archived.has(backup.path)) rmSync(backup.path, { force: true })
        else {
          const job = { source: backup.path, cancelled: false }
          this.#jobs.add(job)
          this.#queue(() => this.#compress(job))
        }
      }
    }
    this.#queue(() => this.#applyRetention())
  }

  /** At exit (the registry's one exit path): what is batched goes out, then the lock is released. */
  exitSync(): void {
    try {
      this.flushSync()
    } finally {
      this.#releaseLock()
    }
  }

  override async close(): Promise<void> {
    try {
      await super.close()
      await this.#background
    } finally {
      this.#releaseLock()
    }
  }
}

/**
 * A file sink that rotates by size (`maxSize`, default 10 MB), time and function (`interval`,
 * or loguru's `rotation`, in any of loguru's spellings), keeps `maxFiles` backups (default 5),
 * compresses them (`compress: 'gz' | 'zip' | 'tar' | 'tar.gz' | 'br' | 'zst'` or a function)
 * off the write path and deletes what `retention` says, touching only files it manages.
 */
export function rotatingFileSink(options: RotatingFileSinkOptions): RotatingFileSink {
  return new RotatingFileSink(options)
}
