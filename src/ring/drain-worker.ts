/**
 * The drain worker: a thread that maps the same ring file as its sink and moves
 * published records into the target file, one batch (one write(2)) at a time. It polls
 * while records come, so the producer never needs a system call to wake it; after
 * IDLE_POLLS empty polls it sleeps until woken (the producer then notifies once).
 */
import * as nodeFs from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { FdWriter, writeFully } from '../sinks/fd-writer.js'
import { loadRingAddon } from './addon.js'
import { CTL, WORKER_READY, WORKER_TOKEN, unlockDrain } from './control.js'
import { mapExistingRing } from './map-ring.js'
import { SLOT, drainStep, type DrainTarget } from './ring-file.js'

/** How long the worker waits between looks at the ring while records are coming. */
export const DRAIN_POLL_MS = 1
/** The worker writes once this many bytes wait (or a quarter of the ring)… */
export const DRAIN_MIN_BYTES = 256 * 1024
/** …or once the oldest waiting record has waited this long. */
export const DRAIN_DELAY_MS = 10
/** Empty polls in a row before the worker sleeps until notified. */
export const IDLE_POLLS = 50
/** The longest sleep; the worker looks at the ring at least this often. */
export const DRAIN_SLEEP_MS = 1000

/** What the sink hands its worker. */
export interface DrainWorkerData {
  ringPath: string
  target: string
  ctl: Int32Array
}

function run({ ringPath, target, ctl }: DrainWorkerData): void {
  const load = loadRingAddon()
  if (load.addon === undefined) throw new Error(`drain worker: ${load.reason}`)
  const view = mapExistingRing(load.addon, ringPath)
  // The sink's thread opened the file first and mended a line a kill had cut; from here on
  // a short last line is a write of that thread's (a spill) under way.
  const writer = new FdWriter(target, { endTornLine: false })
  writer.open()
  let opened = Atomics.load(ctl, CTL.REOPEN)
  const sink: DrainTarget = {
    size: () => writer.size() ?? 0,
    write: (data) => writeFully(nodeFs, writer.fd as number, data, target),
  }
  parentPort?.postMessage(WORKER_READY)
  let idle = 0
  /** When the worker first saw records waiting that it has not drained yet. */
  let waitingSince: number | undefined
  try {
    while (Atomics.load(ctl, CTL.STOP) === 0) {
      const waiting = (view.load(SLOT.WRITE) - view.load(SLOT.DRAINED)) >>> 0
      if (waiting !== 0) {
        idle = 0
        // Records in the ring are as safe as in the file: fewer, larger writes leave the
        // logging thread more of the machine (a batch waits at most DRAIN_DELAY_MS).
        const now = performance.now()
        waitingSince ??= now
        if (waiting < DRAIN_MIN_BYTES && waiting < view.capacity / 4 && now - waitingSince < DRAIN_DELAY_MS) {
          Atomics.wait(ctl, CTL.WAKE, Atomics.load(ctl, CTL.WAKE), DRAIN_POLL_MS)
          continue
        }
        waitingSince = undefined
        const holder = Atomics.compareExchange(ctl, CTL.LOCK, 0, WORKER_TOKEN)
        if (holder !== 0) {
          // The sink's thread drains (spill, flush); wait for it to let go.
          Atomics.wait(ctl, CTL.LOCK, holder, DRAIN_POLL_MS)
          continue
        }
        try {
          const reopen = Atomics.load(ctl, CTL.REOPEN)
          if (reopen !== opened) {
            writer.close()
            writer.open()
            opened = reopen
          }
          drainStep(view, sink)
        } finally {
          unlockDrain(ctl)
        }
        Atomics.add(ctl, CTL.DRAIN_SEQ, 1)
        Atomics.notify(ctl, CTL.DRAIN_SEQ)
        continue
      }
      const wake = Atomics.load(ctl, CTL.WAKE)
      if (idle < IDLE_POLLS) {
        idle++
        Atomics.wait(ctl, CTL.WAKE, wake, DRAIN_POLL_MS)
        continue
      }
      Atomics.store(ctl, CTL.SLEEPING, 1)
      // Look again after saying so: a record published before SLEEPING was seen is caught here.
      if (view.load(SLOT.DRAINED) === view.load(SLOT.WRITE) && Atomics.load(ctl, CTL.STOP) === 0) {
        Atomics.wait(ctl, CTL.WAKE, wake, DRAIN_SLEEP_MS)
      }
      Atomics.store(ctl, CTL.SLEEPING, 0)
      idle = 0
    }
  } finally {
    writer.close()
  }
}

run(workerData as DrainWorkerData)
