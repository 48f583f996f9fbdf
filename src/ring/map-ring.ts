import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import type { RingAddon } from './addon.js'
import { RING_HEADER_BYTES, RingView, checkHeader, initHeader } from './ring-file.js'

/**
 * Makes a new, empty ring file at `path` (replacing what is there: call only after the
 * old ring has been recovered) and maps it. The file is sparse until written.
 */
export function createMappedRing(addon: RingAddon, path: string, capacity: number): RingView {
  rmSync(path, { force: true })
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    ftruncateSync(fd, RING_HEADER_BYTES + capacity)
    const buffer = addon.map(fd, RING_HEADER_BYTES + capacity)
    initHeader(Buffer.from(buffer), capacity)
    return new RingView(buffer)
  } finally {
    closeSync(fd)
  }
}

/** Maps an existing ring file (the drain worker maps the sink's ring this way). */
export function mapExistingRing(addon: RingAddon, path: string): RingView {
  const fd = openSync(path, constants.O_RDWR)
  try {
    const size = fstatSync(fd).size
    const buffer = addon.map(fd, size)
    checkHeader(Buffer.from(buffer, 0, Math.min(size, RING_HEADER_BYTES)), size, path)
    return new RingView(buffer)
  } finally {
    closeSync(fd)
  }
}

/** A ring read into memory: its view (undefined for a blank ring), and close() for the file. */
export interface RingCopy {
  readonly view: RingView | undefined
  close(): void
}

/** Reads all of `into` from `position`, or as much as the file has. */
export function readFully(fd: number, into: Buffer, position: number): number {
  let done = 0
  while (done < into.length) {
    const read = readSync(fd, into, done, into.length - done, position + done)
    if (read === 0) break
    done += read
  }
  return done
}

/**
 * Reads a ring file into memory with plain reads (no addon needed): for a ring whose
 * process has ended. Each header slot the view stores is written back to the file at
 * once. Throws RingFormatError for a file that is not a ring this version reads.
 */
export function readRingCopy(path: string): RingCopy {
  const fd = openSync(path, 'r+')
  try {
    const size = fstatSync(fd).size
    // The header first: a file that is no ring (a log passed by mistake) is not read whole.
    const head = Buffer.alloc(Math.min(size, RING_HEADER_BYTES))
    readFully(fd, head, 0)
    const close = (): void => closeSync(fd)
    if (checkHeader(head, size, path).blank) return { view: undefined, close }
    const whole = new ArrayBuffer(size)
    const bytes = Buffer.from(whole)
    readFully(fd, bytes, 0)
    return { view: new RingView(whole, (slot) => void writeSync(fd, bytes, slot * 4, 4, slot * 4)), close }
  } catch (error) {
    closeSync(fd)
    throw error
  }
}
