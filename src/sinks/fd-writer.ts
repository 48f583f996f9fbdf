import * as nodeFs from 'node:fs'
import { dirname } from 'node:path'

/** The file-system calls the writer makes; tests hand it a faulty one to inject errors. */
export type WriterFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'closeSync' | 'fstatSync' | 'readSync' | 'fsyncSync' | 'mkdirSync' | 'ftruncateSync'>

/** A write error, with how many bytes of the failed write reached the file before it. */
export type PartialWriteError = NodeJS.ErrnoException & { bytesWritten?: number }

/** How many EAGAINs in a row, with no byte written between them, before giving up. */
export const MAX_EAGAIN_RETRIES = 1000
/** How long to wait after an EAGAIN before trying again. */
export const EAGAIN_WAIT_MS = 1

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}

/** Thrown when a write makes no progress for `MAX_EAGAIN_RETRIES` tries. */
export class WriteStalledError extends Error {
  constructor(path: string, tries: number) {
    super(`Writing to ${path} made no progress after ${tries} EAGAIN retries (MAX_EAGAIN_RETRIES × ${EAGAIN_WAIT_MS} ms)`)
    this.name = 'WriteStalledError'
  }
}

export interface FdWriterOptions {
  /** Create the parent directories; default true. */
  mkdir?: boolean
  /** Append to an existing file (default) or truncate it. */
  append?: boolean
  /** File mode for a new file; default 0o644 less the umask. */
  mode?: number
  /**
   * On open, end a last line cut by a kill with a newline (default true). A second writer
   * of a file that another thread of the same owner writes at that moment passes false:
   * a write(2) under way looks like a cut line from outside, and the newline would make a
   * blank line after it.
   */
  endTornLine?: boolean
  fs?: WriterFs
}

/**
 * Writes all of `data` to `fd` before returning: a short write is continued from the
 * first byte not written, EAGAIN retried up to MAX_EAGAIN_RETRIES times in a row (the
 * count starts again whenever bytes are written). Any other error is thrown with
 * `bytesWritten`: how much of `data` reached the file before it.
 */
export function writeFully(fs: Pick<WriterFs, 'writeSync'>, fd: number, data: string | Buffer, label: string): void {
  let stalls = 0
  let done = 0
  let pending: string | Buffer = data
  for (;;) {
    let written: number
    try {
      written = typeof pending === 'string' ? fs.writeSync(fd, pending) : fs.writeSync(fd, pending)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') {
        if (error !== null && typeof error === 'object') Object.assign(error, { bytesWritten: done })
        throw error
      }
      if (++stalls > MAX_EAGAIN_RETRIES) throw new WriteStalledError(label, MAX_EAGAIN_RETRIES)
      sleepSync(EAGAIN_WAIT_MS)
      continue
    }
    const total = typeof pending === 'string' ? Buffer.byteLength(pending) : pending.length
    if (written >= total) return
    const bytes: Buffer = typeof pending === 'string' ? Buffer.from(pending) : pending
    pending = bytes.subarray(written)
    done += written
    if (written > 0) stalls = 0
    else if (++stalls > MAX_EAGAIN_RETRIES) throw new WriteStalledError(label, MAX_EAGAIN_RETRIES)
  }
}

/**
 * One file descriptor and synchronous, complete writes to it. Opened with O_APPEND, so
 * each write(2) lands at the end as a unit even when several processes append to the
 * same file; see `writeFully` for short writes and EAGAIN (sonic-boom's rule).
 */
export class FdWriter {
  readonly path: string
  #fd: number | undefined
  readonly #fs: WriterFs
  readonly #options: Required<Omit<FdWriterOptions, 'fs'>>

  constructor(path: string, options: FdWriterOptions = {}) {
    this.path = path
    this.#fs = options.fs ?? nodeFs
    this.#options = { mkdir: options.mkdir ?? true, append: options.append ?? true, mode: options.mode ?? 0o644, endTornLine: options.endTornLine ?? true }
  }

  get fd(): number | undefined {
    return this.#fd
  }

  get isOpen(): boolean {
    return this.#fd !== undefined
  }

  /** Opens the file; if its last byte is not a newline (a write cut by SIGKILL), writes one first. */
  open(): void {
    if (this.#fd !== undefined) return
    const fs = this.#fs
    if (this.#options.mkdir) fs.mkdirSync(dirname(this.path), { recursive: true })
    const fd = fs.openSync(this.path, this.#options.append ? 'a+' : 'w+', this.#options.mode)
    try {
      const stat = fs.fstatSync(fd)
      if (this.#options.endTornLine && stat.isFile() && stat.size > 0) {
        const last = Buffer.alloc(1)
        fs.readSync(fd, last, 0, 1, stat.size - 1)
        // The record in flight when a process was killed may be cut; it was never owed,
        // but it must not glue itself to the first record of this run.
        if (last[0] !== 0x0a) this.#writeFd(fd, '\n')
      }
    } catch (error) {
      fs.closeSync(fd)
      throw error
    }
    this.#fd = fd
  }

  /** Writes all of `data` before returning, or throws. */
  write(data: string): void {
    if (this.#fd === undefined) this.open()
    this.#writeFd(this.#fd as number, data)
  }

  #writeFd(fd: number, data: string): void {
    writeFully(this.#fs, fd, data, this.path)
  }

  /** The size of the open file, or undefined when none is open. */
  size(): number | undefined {
    return this.#fd === undefined ? undefined : this.#fs.fstatSync(this.#fd).size
  }

  /** Cuts the open file to `size` bytes: takes back the torn part of a failed write. */
  truncate(size: number): void {
    if (this.#fd !== undefined) this.#fs.ftruncateSync(this.#fd, size)
  }

  fsync(): void {
    if (this.#fd !== undefined) this.#fs.fsyncSync(this.#fd)
  }

  close(): void {
    const fd = this.#fd
    this.#fd = undefined
    if (fd !== undefined) this.#fs.closeSync(fd)
  }
}
