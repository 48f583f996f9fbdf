import { closeSync, constants, fstatSync, ftruncateSync, openSync, rmSync } from 'node:fs'
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
