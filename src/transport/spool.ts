import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { writeFully } from '../sinks/fd-writer.js'
import { FrameDecoder, HEADER_BYTES, PROTOCOL_VERSION, type Frame } from './frame.js'
import type { Hello } from './messages.js'

/**
 * A client's spool: the frames that could not go into the socket when they were logged
 * (the collector was away or stalled, or in-flight memory was full), each appended whole
 * with one write(2), so they survive the client's death. Beside it, `<id>.hello.json`
 * says whose it is, so the collector can deliver a dead client's spool.
 */
export class Spool {
  readonly path: string
  readonly helloPath: string
  readonly byePath: string
  #fd: number | undefined
  #size = 0

  constructor(readonly dir: string, clientId: string) {
    this.path = join(dir, `${clientId}.spool`)
    this.helloPath = join(dir, `${clientId}.hello.json`)
    this.byePath = join(dir, `${clientId}.bye`)
  }

  /** A goodbye on disk, for a collector that could not read the one sent on the socket. */
  markBye(reason: string): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      writeFileSync(this.byePath, reason, { mode: 0o600 })
    } catch {
      // Only a courtesy: without it a stalled collector records the client as dead.
    }
  }

  /** Bytes in the spool. */
  get size(): number {
    return this.#size
  }

  /** Says who owns the spool; written before the first frame. */
  describe(hello: Omit<Hello, 'protocol'>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    writeFileSync(this.helloPath, JSON.stringify({ ...hello, protocol: PROTOCOL_VERSION }), { mode: 0o600 })
  }

  append(frame: Buffer): void {
    if (this.#fd === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.#fd = openSync(this.path, 'a+', 0o600)
      this.#size = fstatSync(this.#fd).size
    }
    try {
      writeFully({ writeSync }, this.#fd, frame, this.path)
      this.#size += frame.length
    } catch (error) {
      // A frame half in the spool would hide every frame after it: take it back.
      ftruncateSync(this.#fd, this.#size)
      throw error
    }
  }

  /** The frame that starts at `offset`, or undefined past the end. */
  readAt(offset: number): Buffer | undefined {
    if (this.#fd === undefined || offset + HEADER_BYTES > this.#size) return undefined
    const header = Buffer.alloc(HEADER_BYTES)
    readSync(this.#fd, header, 0, HEADER_BYTES, offset)
    const frame = Buffer.alloc(HEADER_BYTES + header.readUInt32BE(4))
    readSync(this.#fd, frame, 0, frame.length, offset)
    return frame
  }

  /** The whole frames from `offset` within about `maxBytes` (at least one, however large). */
  readFrames(offset: number, maxBytes: number): Buffer[] {
    const frames: Buffer[] = []
    if (this.#fd === undefined) return frames
    const end = this.#size
    let position = offset
    const chunk = Buffer.alloc(Math.min(Math.max(maxBytes, HEADER_BYTES), Math.max(end - offset, HEADER_BYTES)))
    const read = readSync(this.#fd, chunk, 0, chunk.length, position)
    let at = 0
    while (at + HEADER_BYTES <= read) {
      const length = HEADER_BYTES + chunk.readUInt32BE(at + 4)
      if (at + length > read) break
      frames.push(Buffer.from(chunk.subarray(at, at + length)))
      at += length
    }
    position += at
    if (frames.length === 0 && position < end) {
      const frame = this.readAt(position)
      if (frame) frames.push(frame)
    }
    return frames
  }

  /** Empties the spool: everything in it was acknowledged. */
  clear(): void {
    if (this.#fd !== undefined) ftruncateSync(this.#fd, 0)
    this.#size = 0
  }

  /** Opens the spool file again (after it was replaced by a rewritten one). */
  reopen(): void {
    this.release()
    this.#fd = openSync(this.path, 'a+', 0o600)
    this.#size = fstatSync(this.#fd).size
  }

  /** Closes the descriptor, keeping the file. */
  release(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  /** Closes the spool; an empty one is removed with its description. */
  close(): void {
    this.release()
    if (this.#size === 0) {
      rmSync(this.path, { force: true })
      rmSync(this.helloPath, { force: true })
    }
  }
}

/**
 * The whole frames of a spool file, in order, read 1 MiB at a time (a long spool is never
 * held whole); a frame cut short at the end (a crash mid-append) is left out, and so is
 * everything from the first damaged frame on. `fd` is open for reading; the caller closes it.
 */
export function* spoolFrames(fd: number): Generator<Frame> {
  const decoder = new FrameDecoder()
  const chunk = Buffer.alloc(1 << 20)
  try {
    for (let position = 0; ; ) {
      const read = readSync(fd, chunk, 0, chunk.length, position)
      if (read === 0) return
      position += read
      yield* decoder.push(chunk.subarray(0, read))
    }
  } catch {
    // A damaged spool: what came before the damage is still delivered.
  }
}
