import * as nodeFs from 'node:fs'
import { dirname } from 'node:path'

/** The file-system calls the writer makes; tests hand it a faulty one to inject errors. */
export type WriterFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'closeSync' | 'fstatSync' | 'readSync' | 'fsyncSync' | 'mkdirSync'>

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
  fs?: WriterFs
}

/**
 * One file descriptor and synchronous, complete writes to it. Opened with O_APPEND, so
 * each write(2) lands at the end as a unit even when several processes append to the
 * same file; a short write is continued and EAGAIN retried, with a bound that resets
 * whenever bytes are written (sonic-boom's rule).
 */
export class FdWriter {
  readonly path: string
  #fd: number | undefined
  readonly #fs: WriterFs
  readonly #options: Required<Omit<FdWriterOptions, 'fs'>>

  constructor(path: string, options: FdWriterOptions = {}) {
    this.path = path
    this.#fs = options.fs ?? nodeFs
    this.#options = { mkdir: options.mkdir ?? true, append: options.append ?? true, mode: options.mode ?? 0o644 }
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
      if (stat.isFile() && stat.size > 0) {
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
    const fs = this.#fs
    let stalls = 0
    let pending: string | Buffer = data
    for (;;) {
      let written: number
      try {
        written = typeof pending === 'string' ? fs.writeSync(fd, pending) : fs.writeSync(fd, pending)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
        if (++stalls > MAX_EAGAIN_RETRIES) throw new WriteStalledError(this.path, MAX_EAGAIN_RETRIES)
        sleepSync(EAGAIN_WAIT_MS)
        continue
      }
      const total = typeof pending === 'string' ? Buffer.byteLength(pending) : pending.length
      if (written >= total) return
      // A short write: go on from the first byte not written.
      const bytes: Buffer = typeof pending === 'string' ? Buffer.from(pending) : pending
      pending = bytes.subarray(written)
      if (written > 0) stalls = 0
      else if (++stalls > MAX_EAGAIN_RETRIES) throw new WriteStalledError(this.path, MAX_EAGAIN_RETRIES)
    }
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
