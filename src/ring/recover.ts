import * as nodeFs from 'node:fs'
import { closeSync, openSync, statSync, truncateSync } from 'node:fs'
import { LEVEL_VALUES } from '../core/levels.js'
import { LoggerContext } from '../core/record.js'
import { resolveFormat } from '../core/format/index.js'
import { FdWriter, writeFully } from '../sinks/fd-writer.js'
import {
  FORMAT_JSON, PENDING_CLEAR, PENDING_SET, RingCorruptError, RingFormatError, SLOT, drainAll, readBatch,
  type DrainTarget, type RingView,
} from './ring-file.js'
import { readFully, readRingCopy } from './map-ring.js'

/** The ring belongs to a process that is still running; recovering it would race that process. */
export class RingInUseError extends Error {
  override readonly name = 'RingInUseError'
}

/** What happened to a drain that was under way when the ring's process died. */
export type PendingOutcome = 'none' | 'already-written' | 'not-written' | 'torn-write-removed'

export interface RecoverResult {
  ring: string
  /** The file the records went to. */
  target: string
  records: number
  bytes: number
  /** Records the dead process had dropped (`whenFull: 'drop'`) and not yet told; now told. */
  dropped: number
  pending: PendingOutcome
}

export interface RecoverOptions {
  /** Write the records here instead of the file named in the ring header. */
  target?: string
  /** Recover even if the owning process seems alive (its pid may have been reused). */
  force?: boolean
}

/** Whether a process with this pid exists (a zombie counts; EPERM means it exists). */
export function processAlive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/** The line telling that `count` records were dropped, in the ring's record format. */
export function droppedNotice(count: number, json: boolean, where: string): string {
  return resolveFormat(json ? 'json' : 'text', 'text').format({
    level: LEVEL_VALUES.warn,
    levelName: 'warn',
    time: Date.now(),
    msg: `blackbox: ${count} records were dropped because the ring of ${where} was full (whenFull: 'drop')`,
    context: NOTICE_CONTEXT,
    fields: { dropped: count },
    err: undefined,
    callsite: undefined,
  })
}

/** How far past the noted size recovery looks for a batch: other writers may have appended meanwhile. */
const PENDING_SEARCH_SLACK_BYTES = 1024 * 1024

/**
 * A drain was under way when the process died (PENDING set): its write(2) may have
 * happened, partly happened or not. The batch is still in the ring (drained did not move),
 * so look for it in the target file after the size noted before the write. Found whole:
 * it was written, move drained past it. Found as a prefix reaching the end of the file: a
 * write cut short; cut the file back, the drain writes the batch again. Not found: not
 * written. Runs before anything else opens the target, so nothing was appended meanwhile
 * by this program.
 */
export function resolvePending(view: RingView, target: string): PendingOutcome {
  if (view.load(SLOT.PENDING) !== PENDING_SET) return 'none'
  if (view.metaBytes !== 0) {
    // A collector client's ring: its drainer (a collector) wrote elsewhere; the records go to
    // the file asked for, as they are still in the ring.
    view.store(SLOT.PENDING, PENDING_CLEAR)
    return 'not-written'
  }
  const end = view.load(SLOT.PENDING_END)
  const drained = view.load(SLOT.DRAINED)
  if (end === drained) {
    view.store(SLOT.PENDING, PENDING_CLEAR)
    return 'already-written'
  }
  const batch = readBatch(view, drained, end)
  if (batch.data.length !== view.load(SLOT.PENDING_BYTES)) {
    throw new RingCorruptError(`the pending drain names ${view.load(SLOT.PENDING_BYTES)} bytes but the ring holds ${batch.data.length} there`)
  }
  const before = view.load(SLOT.PENDING_SIZE_LOW) + view.load(SLOT.PENDING_SIZE_HIGH) * 2 ** 32
  let size = 0
  try {
    size = statSync(target).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  let outcome: PendingOutcome = 'not-written'
  if (size > before) {
    const tail = Buffer.alloc(Math.min(size - before, batch.data.length + PENDING_SEARCH_SLACK_BYTES))
    const fd = openSync(target, 'r')
    try {
      readFully(fd, tail, before)
    } finally {
      closeSync(fd)
    }
    if (tail.indexOf(batch.data) !== -1) {
      view.store(SLOT.DRAINED, end)
      outcome = 'already-written'
    } else if (size - before < batch.data.length && batch.data.subarray(0, size - before).equals(tail)) {
      truncateSync(target, before)
      outcome = 'torn-write-removed'
    }
  }
  view.store(SLOT.PENDING, PENDING_CLEAR)
  return outcome
}

/**
 * Moves every published record of a ring whose process has ended into the file named in
 * its header (or `options.target`), in order, each exactly once, and tells in that file
 * how many records the process dropped. Works on the file with plain reads and writes:
 * no addon needed. Throws RingFormatError for a file it cannot read (left untouched),
 * RingInUseError while the owner runs.
 */
export function recoverRing(ringPath: string, options: RecoverOptions = {}): RecoverResult {
  // Recovery works on a copy; each header slot it stores goes back to the file at once.
  const copy = readRingCopy(ringPath)
  try {
    const view = copy.view
    const empty: RecoverResult = { ring: ringPath, target: options.target ?? '', records: 0, bytes: 0, dropped: 0, pending: 'none' }
    if (view === undefined) return empty
    const owner = view.load(SLOT.OWNER_PID)
    if (!options.force && processAlive(owner)) {
      throw new RingInUseError(`${ringPath} belongs to process ${owner}, which is still running; recover it after that process has ended (or with --force if that pid now belongs to another program)`)
    }
    const target = options.target ?? view.target
    empty.target = target
    const nothing = view.load(SLOT.DRAINED) === view.load(SLOT.WRITE) && view.load(SLOT.PENDING) !== PENDING_SET && view.load(SLOT.DROPPED) === 0
    if (nothing) return empty
    if (target === '') throw new RingFormatError(`${ringPath} names no file for its records; give one with --to FILE`)
    const pending = resolvePending(view, target)
    const writer = new FdWriter(target)
    try {
      writer.open()
      let written = 0
      const sink: DrainTarget = {
        size: () => writer.size() ?? 0,
        write: (data) => {
          writeFully(nodeFs, writer.fd as number, data, target)
          written += data.length
        },
      }
      const records = drainAll(view, sink)
      const dropped = view.load(SLOT.DROPPED)
      if (dropped > 0) {
        writer.write(droppedNotice(dropped, view.load(SLOT.FORMAT) === FORMAT_JSON, target))
        view.store(SLOT.DROPPED, 0)
      }
      return { ring: ringPath, target, records, bytes: written, dropped, pending }
    } finally {
      writer.close()
    }
  } finally {
    copy.close()
  }
}
