import { watch, type FSWatcher } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { FirstLineParser } from './parse-record.js'
import { MAX_LINE_CHARS, readRecordsFrom, type ReadRecord } from './read-records.js'

/** How often a followed file is looked at when no change notice came (fs.watch can miss some, or be unavailable). */
export const FOLLOW_POLL_INTERVAL_MS = 250
/**
 * How long the file must stay unchanged before its last record is handed out. Until the
 * next record starts, more continuation lines of that record may still come; this is how
 * long they get.
 */
export const FOLLOW_QUIET_MS = 150

const READ_CHUNK_BYTES = 64 * 1024
// The reader keeps MAX_LINE_CHARS characters of a line, and a UTF-16 unit is at most 3
// bytes of UTF-8: holding this much of an unfinished line lets the reader's cut be the one.
const MAX_HELD_LINE_BYTES = MAX_LINE_CHARS * 3
const NEWLINE = 0x0a

export interface FollowOptions {
  /** Stops following: the record held back is handed out, an unfinished line is not. */
  signal?: AbortSignal
  /** Default FOLLOW_POLL_INTERVAL_MS. */
  pollIntervalMs?: number
  /** Default FOLLOW_QUIET_MS. */
  quietMs?: number
}

/** What `followRecords()` reports. */
export type FollowEvent =
  /** A complete record; `initial` while reading what the file held when following began. */
  | { readonly type: 'record'; readonly record: ReadRecord; readonly initial: boolean }
  /** Every record the file held when following began has been handed out. */
  | { readonly type: 'caught-up' }
  /** The path now names another file (or none): the old one was read to its end; the new one is read from its start once it is there. */
  | { readonly type: 'rotated' }
  /** The file shrank: it is read again from its start. */
  | { readonly type: 'truncated' }

/** Why a stretch of reading (one `readRecordsFrom` over the file's bytes) ended. */
type StretchEnd = 'caught-up' | 'quiet' | 'rotated' | 'truncated' | 'stopped'

/** Wakes a waiting reader when the folder of the followed file reports a change to that name. */
class ChangeWaiter {
  readonly #signal: AbortSignal
  readonly #watcher: FSWatcher | undefined
  // A notice that came while no one was waiting: the next wait returns at once.
  #changed = false
  #wake: (() => void) | undefined

  constructor(path: string, signal: AbortSignal) {
    this.#signal = signal
    const name = basename(path)
    // The folder, not the file: a watch on the file follows its inode into the rotated
    // name, and would not see the new file appear. inotify(7) reports writes to files
    // in a watched folder too.
    let watcher: FSWatcher | undefined
    try {
      watcher = watch(dirname(path), (_event, filename) => {
        if (filename === null || filename === name) this.#notify()
      })
      // The folder went away, or the watch failed: polling carries on alone.
      watcher.on('error', () => watcher?.close())
    } catch {
      watcher = undefined
    }
    this.#watcher = watcher
  }

  #notify(): void {
    if (this.#wake) this.#wake()
    else this.#changed = true
  }

  /** Resolves on a change notice, on abort, or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    if (this.#changed || this.#signal.aborted) {
      this.#changed = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#signal.removeEventListener('abort', done)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#signal.addEventListener('abort', done, { once: true })
      this.#wake = done
    })
  }

  close(): void {
    this.#watcher?.close()
  }
}

/** An open file read from where the last read ended; hands out whole lines only. */
class FollowedFile {
  readonly #handle: FileHandle
  readonly #ino: number
  readonly #dev: number
  readonly #buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)
  #offset = 0
  #lines = 0
  // The bytes of an unfinished line (no newline yet), kept up to MAX_HELD_LINE_BYTES.
  #held: Buffer[] = []
  #heldBytes = 0

  private constructor(handle: FileHandle, ino: number, dev: number) {
    this.#handle = handle
    this.#ino = ino
    this.#dev = dev
  }

  static async open(path: string): Promise<FollowedFile> {
    const handle = await open(path, 'r')
    try {
      const info = await handle.stat()
      return new FollowedFile(handle, info.ino, info.dev)
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  /** Lines handed out so far. */
  get lines(): number {
    return this.#lines
  }

  /** Reads one chunk: the whole lines it completes (possibly none), or `end` at the end of the file. */
  async read(): Promise<{ lines: Buffer; end: boolean }> {
    const { bytesRead } = await this.#handle.read(this.#buffer, 0, READ_CHUNK_BYTES, this.#offset)
    if (bytesRead === 0) return { lines: Buffer.alloc(0), end: true }
    this.#offset += bytesRead
    const chunk = this.#buffer.subarray(0, bytesRead)
    const last = chunk.lastIndexOf(NEWLINE)
    if (last === -1) {
      this.#hold(chunk)
      return { lines: Buffer.alloc(0), end: false }
    }
    const first = chunk.indexOf(NEWLINE)
    this.#hold(chunk.subarray(0, first))
    const lines = Buffer.concat([...this.#held, chunk.subarray(first, last + 1)])
    this.#held = []
    this.#heldBytes = 0
    this.#hold(chunk.subarray(last + 1))
    for (let at = lines.indexOf(NEWLINE); at !== -1; at = lines.indexOf(NEWLINE, at + 1)) this.#lines++
    return { lines, end: false }
  }

  #hold(bytes: Buffer): void {
    const room = MAX_HELD_LINE_BYTES - this.#heldBytes
    if (bytes.length === 0 || room <= 0) return
    // A copy: the read buffer is reused.
    const kept = Buffer.from(bytes.subarray(0, room))
    this.#held.push(kept)
    this.#heldBytes += kept.length
  }

  /** Whether the path still names this file, and whether the file shrank below what was read. */
  async change(path: string): Promise<'rotated' | 'truncated' | undefined> {
    let named
    try {
      named = await stat(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'rotated'
      throw error
    }
    if (named.ino !== this.#ino || named.dev !== this.#dev) return 'rotated'
    if ((await this.#handle.stat()).size < this.#offset) return 'truncated'
    return undefined
  }

  /** The unfinished line, handed over and forgotten. */
  takeUnfinished(): string {
    const text = Buffer.concat(this.#held).toString('utf8')
    this.#held = []
    this.#heldBytes = 0
    return text
  }

  /** Reads from the start again (after a truncation); an unfinished line is dropped. */
  restart(): void {
    this.#offset = 0
    this.#lines = 0
    this.#held = []
    this.#heldBytes = 0
  }

  async close(): Promise<void> {
    await this.#handle.close()
  }
}

interface Stretch {
  readonly file: FollowedFile
  readonly path: string
  readonly initial: boolean
  readonly waiter: ChangeWaiter
  readonly signal: AbortSignal
  readonly pollIntervalMs: number
  readonly quietMs: number
  end: StretchEnd
}

/**
 * The file's whole lines for one stretch of reading. The stretch ends (and with it the
 * `readRecordsFrom` over it, which then hands out the record it was holding back) at the
 * first end of the file when `initial`; later, when the file has been quiet for `quietMs`
 * after some lines, was rotated (after reading the old file to its end), truncated, or
 * when the signal aborts. Only whole lines are passed on, so a stretch may end anywhere
 * without cutting a line or a character.
 */
async function* stretchLines(stretch: Stretch): AsyncGenerator<Buffer> {
  const { file, waiter, signal } = stretch
  let gotLines = false
  let lastBytesAt = Date.now()
  let draining = false
  for (;;) {
    if (signal.aborted) {
      stretch.end = 'stopped'
      return
    }
    const { lines, end } = await file.read()
    if (!end) {
      lastBytesAt = Date.now()
      if (lines.length > 0) {
        gotLines = true
        yield lines
      }
      continue
    }
    if (stretch.initial) {
      stretch.end = 'caught-up'
      return
    }
    if (draining) {
      stretch.end = 'rotated'
      return
    }
    const change = await file.change(stretch.path)
    if (change === 'truncated') {
      stretch.end = 'truncated'
      return
    }
    if (change === 'rotated') {
      // What was written to the old file before the rename is still to be read.
      draining = true
      continue
    }
    const quietLeft = lastBytesAt + stretch.quietMs - Date.now()
    if (gotLines && quietLeft <= 0) {
      stretch.end = 'quiet'
      return
    }
    await waiter.wait(gotLines ? Math.min(stretch.pollIntervalMs, quietLeft) : stretch.pollIntervalMs)
  }
}

/** Opens the file the path names, waiting for it to appear; undefined when aborted first. */
async function openWhenThere(path: string, waiter: ChangeWaiter, signal: AbortSignal, pollIntervalMs: number): Promise<FollowedFile | undefined> {
  for (;;) {
    if (signal.aborted) return undefined
    try {
      return await FollowedFile.open(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    await waiter.wait(pollIntervalMs)
  }
}

/**
 * Follows a file as it grows, like `tail -F`: first the records it holds, then each record
 * appended, until the signal aborts. Built on `readRecordsFrom`, so the formats, the joining
 * of continuation lines and the line cap are the reader's.
 *
 * - A record is handed out once complete: when the next record starts, or when the file has
 *   been quiet for `quietMs` (continuation lines that come later still are then a record of
 *   their own, of unknown format). A line without its newline yet waits for it.
 * - Rotation (the path renamed away, a new file under the path): the old file is read to
 *   its end, an unfinished last line of it handed out as it is, then the new file from
 *   its start.
 * - Truncation (the file is shorter than what was read): read again from its start; an
 *   unfinished line is dropped. A file truncated and refilled past the old size between two
 *   looks cannot be told from one that grew, as with `tail -f`.
 *
 * Changes are noticed with fs.watch on the file's folder, and by looking every
 * `pollIntervalMs` in case a notice is missed; there is no busy loop.
 * Record `line` numbers count from the start of the file being read.
 */
export async function* followRecords(path: string, options: FollowOptions = {}): AsyncGenerator<FollowEvent> {
  const signal = options.signal ?? new AbortController().signal
  const pollIntervalMs = options.pollIntervalMs ?? FOLLOW_POLL_INTERVAL_MS
  const quietMs = options.quietMs ?? FOLLOW_QUIET_MS
  // Opened before the watch: a missing file is an error of its own.
  let file: FollowedFile | undefined = await FollowedFile.open(path)
  const waiter = new ChangeWaiter(path, signal)
  try {
    let initial = true
    while (file !== undefined && !signal.aborted) {
      const stretch: Stretch = { file, path, initial, waiter, signal, pollIntervalMs, quietMs, end: 'stopped' }
      const base = file.lines
      for await (const record of readRecordsFrom(stretchLines(stretch))) {
        yield { type: 'record', record: { ...record, line: record.line + base }, initial }
      }
      if (stretch.end === 'stopped') break
      if (initial) {
        initial = false
        yield { type: 'caught-up' }
      }
      if (stretch.end === 'truncated') {
        file.restart()
        yield { type: 'truncated' }
      } else if (stretch.end === 'rotated') {
        const unfinished = file.takeUnfinished()
        if (unfinished !== '') yield { type: 'record', record: new FirstLineParser().parse(unfinished, file.lines + 1), initial: false }
        const old = file
        file = undefined
        await old.close()
        yield { type: 'rotated' }
        file = await openWhenThere(path, waiter, signal, pollIntervalMs)
      }
    }
  } finally {
    waiter.close()
    await file?.close()
  }
}
