/**
 * The drain control block: a SharedArrayBuffer shared by a ring sink and its drain
 * worker, in one process. It holds what only matters while that process lives (who is
 * draining, who sleeps); what must survive the process is in the ring header.
 */

/** Slots of the control Int32Array. */
export const CTL = {
  /** DRAIN_FREE, or the token of the thread draining now. Only one drains at a time. */
  LOCK: 0,
  /** Bumped (and notified) to wake the worker. */
  WAKE: 1,
  /** 1 while the worker sleeps long and wants a notify on the next record. */
  SLEEPING: 2,
  /** 1 when the worker must end. */
  STOP: 3,
  /** Bumped (and notified) after every drain step, for `whenFull: 'block'`. */
  DRAIN_SEQ: 4,
  /** Bumped by the sink's thread when it reopened the file (logrotate): the worker reopens its own before the next batch. */
  REOPEN: 5,
} as const

export const CTL_SLOTS = 8
/** The one message a drain worker sends: it has mapped the ring and opened the file. */
export const WORKER_READY = 'ready'
export const DRAIN_FREE = 0
export const MAIN_THREAD_TOKEN = 1
export const WORKER_TOKEN = 2

export function createControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4))
}

/** Takes the drain lock within `timeoutMs`; false when the bound was hit. */
export function lockDrain(ctl: Int32Array, token: number, timeoutMs: number): boolean {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const holder = Atomics.compareExchange(ctl, CTL.LOCK, DRAIN_FREE, token)
    if (holder === DRAIN_FREE) return true
    const left = deadline - performance.now()
    if (left <= 0) return false
    Atomics.wait(ctl, CTL.LOCK, holder, left)
  }
}

export function unlockDrain(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.LOCK, DRAIN_FREE)
  Atomics.notify(ctl, CTL.LOCK)
}

export function wakeWorker(ctl: Int32Array): void {
  Atomics.store(ctl, CTL.SLEEPING, 0)
  Atomics.add(ctl, CTL.WAKE, 1)
  Atomics.notify(ctl, CTL.WAKE)
}
