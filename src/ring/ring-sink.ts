import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { dirname, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import { JsonFormatter } from '../core/format/json.js'
import { resolveFormat } from '../core/format/index.js'
import { parseSize } from '../core/units.js'
import { FileSink, type FileSinkOptions } from '../sinks/file.js'
import * as nodeFs from 'node:fs'
import { writeFully } from '../sinks/fd-writer.js'
import { RING_FALLBACK_WARNING_CODE, loadRingAddon, type RingAddon } from './addon.js'
import { CTL, MAIN_THREAD_TOKEN, WORKER_READY, createControl, lockDrain, unlockDrain, wakeWorker } from './control.js'
import type { DrainWorkerData } from './drain-worker.js'
import { createMappedRing } from './map-ring.js'
import {
  DEFAULT_RING_BYTES, FORMAT_JSON, FORMAT_TEXT, PUBLISHED, RECORD_OVERSIZE, RingFormatError, RingWriter, SLOT,
  checkRingBytes, drainAll, roundUpToPowerOfTwo, type DrainTarget, type PublishResult, type RingView,
} from './ring-file.js'
import { RingInUseError, droppedNotice, recoverRing, type RecoverResult } from './recover.js'

/** What a ring sink does with a record that does not fit: see docs/ring.md. */
export type RingWhenFull = 'spill' | 'block' | 'drop'

/** How long `whenFull: 'block'` waits for the drain before it spills, by default. */
export const RING_BLOCK_TIMEOUT_MS = 100
/** The longest the sink's thread waits for the drain worker to finish a batch (flush, spill). */
export const DRAIN_LOCK_TIMEOUT_MS = 2000
/** The longest close() waits for the drain worker to end before terminating it. */
export const WORKER_STOP_TIMEOUT_MS = 5000

export interface RingFileSinkOptions extends Omit<FileSinkOptions, 'durability' | 'batchSize' | 'batchInterval' | 'fs'> {
  durability?: 'ring'
  /** The ring file; default `<path>.ring`. One process uses a ring at a time. */
  ringPath?: string
  /** The ring's data area: bytes or a size like `'4 MiB'`, rounded up to a power of two; default 4 MiB. */
  ringSize?: number | string
  /** When a record does not fit: `spill` (default), `block` for at most `blockTimeout` ms then spill, or `drop` and count. */
  whenFull?: RingWhenFull
  /** `whenFull: 'block'`: the longest a log call waits for the drain; default 100 ms. */
  blockTimeout?: number
  /** Drain in a worker thread (default true); when false, the ring is drained on flush, close, spill and exit only. */
  drainInBackground?: boolean
}

/** Counters of a ring sink's full-ring events since it opened. */
export interface RingStats {
  /** Records written directly to the file (ring full under `spill`, a block that timed out, or larger than half the ring). */
  spilled: number
  /** Log calls that waited under `block`. */
  blocked: number
  /** Blocks that reached `blockTimeout` and spilled. */
  blockTimeouts: number
  /** Records dropped under `drop`. */
  dropped: number
}

/** What `ringFileSink()` found and made before the sink opens its file. */
interface PreparedRing {
  readonly view: RingView
  readonly ringPath: string
  readonly recovered: RecoverResult | undefined
}

function checkWhenFull(value: unknown): RingWhenFull {
  if (value === undefined) return 'spill'
  if (value === 'spill' || value === 'block' || value === 'drop') return value
  throw new TypeError(`Expected \`whenFull\` to be 'spill', 'block' or 'drop', got \`${String(value)}\` (${typeof value})`)
}

function checkTimeout(value: unknown): number {
  if (value === undefined) return RING_BLOCK_TIMEOUT_MS
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`Expected \`blockTimeout\` to be a non-negative number of ms, got \`${String(value)}\` (${typeof value})`)
  }
  return value
}

// Run from the TypeScript sources (the tests, under tsx), the worker is the built one:
// the test runner's loader does not reach worker threads, and the worker shares nothing
// with this module but the ring format and the control block.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? '../../dist/ring/drain-worker.js' : './drain-worker.js', import.meta.url)

function fileOptionsOf(options: RingFileSinkOptions): FileSinkOptions {
  const { ringPath: _ringPath, ringSize: _ringSize, whenFull: _whenFull, blockTimeout: _blockTimeout, drainInBackground: _drain, durability: _durability, ...file } = options
  return { ...file, durability: 'sync' }
}

/**
 * A file sink whose log calls copy each record into a memory-mapped ring file and
 * publish it with one atomic store, and whose drain (a worker thread, or whoever opens
 * the ring next after a crash) moves records to the file. See `ringFileSink()`.
 */
export class RingFileSink extends FileSink {
  readonly ringPath: string
  /** What recovering the previous owner's ring did when this sink opened, if there was one. */
  readonly recovered: RecoverResult | undefined
  readonly #view: RingView
  readonly #ring: RingWriter
  readonly #ctl = createControl()
  readonly #whenFull: RingWhenFull
  readonly #blockTimeout: number
  readonly #drainTarget: DrainTarget
  readonly #stats: RingStats = { spilled: 0, blocked: 0, blockTimeouts: 0, dropped: 0 }
  #worker: Worker | undefined
  /**
   * Resolves true once the drain worker runs (has mapped the ring), false if there is none
   * or it failed. Logging need not wait for it: until then the ring fills, and a full ring
   * follows `whenFull`.
   */
  readonly ready: Promise<boolean>
  #settleReady: (running: boolean) => void = () => {}
  #open = true
  /** Dropped records not yet told in the ring; the header's DROPPED holds the same count for recovery. */
  #untold = 0

  /** Use `ringFileSink()`, which recovers the ring and falls back to `sync` without the addon. */
  constructor(options: RingFileSinkOptions, prepared: PreparedRing) {
    super(fileOptionsOf(options))
    this.ringPath = prepared.ringPath
    this.recovered = prepared.recovered
    this.#view = prepared.view
    this.#ring = new RingWriter(prepared.view)
    this.#whenFull = checkWhenFull(options.whenFull)
    this.#blockTimeout = checkTimeout(options.blockTimeout)
    const target = resolve(options.path)
    this.#view.claim(process.pid, target, this.formatter instanceof JsonFormatter ? FORMAT_JSON : FORMAT_TEXT)
    this.#drainTarget = {
      size: () => {
        this.writer.open()
        return this.writer.size() ?? 0
      },
      write: (data) => {
        this.writer.open()
        writeFully(nodeFs, this.writer.fd as number, data, this.path)
      },
    }
    this.ready = new Promise((resolve) => {
      this.#settleReady = resolve
    })
    if (options.drainInBackground !== false) this.#startWorker(target)
    else this.#settleReady(false)
  }

  protected override get kind(): string {
    return 'ring file'
  }

  /** Full-ring events so far. */
  get stats(): Readonly<RingStats> {
    return { ...this.#stats }
  }

  /** Whether a drain worker is running. */
  get draining(): boolean {
    return this.#worker !== undefined
  }

  #startWorker(target: string): void {
    const data: DrainWorkerData = { ringPath: this.ringPath, target, ctl: this.#ctl }
    const worker = new Worker(WORKER_URL, { workerData: data })
    // Referenced until it runs, so `await sink.ready` in a script with nothing else to do
    // gets its answer; then unreferenced, so the worker never keeps the process alive.
    worker.once('message', (message: unknown) => {
      if (message === WORKER_READY) this.#settleReady(true)
      worker.unref()
    })
    worker.on('error', (error) => {
      // The ring keeps its records; the sink's thread drains them on spill, flush and exit.
      this.failures.report(error, 'drain worker')
      this.#settleReady(false)
    })
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined
      this.#settleReady(false)
    })
    this.#worker = worker
  }

  override write(line: string): void {
    if (!this.#open) return super.write(line)
    if (this.#untold !== 0 && !this.#tellDropped()) {
      this.#drop()
      return
    }
    const result = this.#ring.publish(line)
    if (result === PUBLISHED) {
      if (Atomics.load(this.#ctl, CTL.SLEEPING) === 1) wakeWorker(this.#ctl)
      return
    }
    this.#onFull(line, result)
  }

  #onFull(line: string, result: PublishResult): void {
    if (result === RECORD_OVERSIZE || this.#whenFull === 'spill') return this.#spill(line)
    if (this.#whenFull === 'drop') return this.#drop()
    this.#stats.blocked++
    const deadline = performance.now() + this.#blockTimeout
    for (;;) {
      const seq = Atomics.load(this.#ctl, CTL.DRAIN_SEQ)
      wakeWorker(this.#ctl)
      if (this.#ring.publish(line) === PUBLISHED) return
      const left = deadline - performance.now()
      if (left <= 0) break
      Atomics.wait(this.#ctl, CTL.DRAIN_SEQ, seq, left)
    }
    this.#stats.blockTimeouts++
    this.#spill(line)
  }

  #drop(): void {
    this.#stats.dropped++
    this.#untold++
    Atomics.add(this.#view.header, SLOT.DROPPED, 1)
  }

  #tellDropped(): boolean {
    const count = this.#untold
    if (this.#ring.publish(droppedNotice(count, this.formatter instanceof JsonFormatter, this.path)) !== PUBLISHED) return false
    this.#untold = 0
    Atomics.sub(this.#view.header, SLOT.DROPPED, count)
    return true
  }

  // Ring full: drain what it holds, then write this record after it, all under the drain
  // lock, so the file keeps the order of the calls.
  #spill(line: string): void {
    this.#stats.spilled++
    if (!lockDrain(this.#ctl, MAIN_THREAD_TOKEN, DRAIN_LOCK_TIMEOUT_MS)) {
      this.failures.report(new Error(`The drain worker held the ring for more than ${DRAIN_LOCK_TIMEOUT_MS} ms (DRAIN_LOCK_TIMEOUT_MS); a record was dropped`), 'spill')
      this.#drop()
      return
    }
    try {
      drainAll(this.#view, this.#drainTarget)
      this.writer.write(line)
    } catch (error) {
      this.failures.report(error, 'spill')
      this.#drop()
    } finally {
      unlockDrain(this.#ctl)
    }
  }

  /** Drains the ring into the file before returning (every exit path calls this). */
  override flushSync(): void {
    if (!this.#open) return super.flushSync()
    if (!lockDrain(this.#ctl, MAIN_THREAD_TOKEN, DRAIN_LOCK_TIMEOUT_MS)) {
      throw new Error(`The drain worker held the ring for more than ${DRAIN_LOCK_TIMEOUT_MS} ms (DRAIN_LOCK_TIMEOUT_MS); its records stay in ${this.ringPath} for the next run or \`blackbox recover\``)
    }
    try {
      drainAll(this.#view, this.#drainTarget)
      if (this.#untold > 0) {
        // The ring is empty and the lock held: the notice lands after the records before it.
        this.writer.write(droppedNotice(this.#untold, this.formatter instanceof JsonFormatter, this.path))
        Atomics.sub(this.#view.header, SLOT.DROPPED, this.#untold)
        this.#untold = 0
      }
    } finally {
      unlockDrain(this.#ctl)
    }
  }

  override async flush(): Promise<void> {
    this.flushSync()
  }

  /**
   * The process is ending (`exit`) without close(): drains the ring, writes directly from
   * here on (an exit listener may still log), stops the worker and removes the empty ring,
   * so a program that never closes its logger leaves no ring behind.
   */
  exitSync(): void {
    if (!this.#open) return super.flushSync()
    this.flushSync()
    this.#open = false
    Atomics.store(this.#ctl, CTL.STOP, 1)
    wakeWorker(this.#ctl)
    if (this.#ringEmpty()) rmSync(this.ringPath, { force: true })
  }

  /** Nothing left for the ring to keep: every record drained, every drop told. */
  #ringEmpty(): boolean {
    return this.#view.load(SLOT.DRAINED) === this.#view.load(SLOT.WRITE) && this.#view.load(SLOT.DROPPED) === 0
  }

  /**
   * Drains the ring into the old file, then reopens the path (after logrotate renamed the
   * file), all under the drain lock; the worker reopens its own descriptor before its next batch.
   */
  override reopen(): void {
    if (!this.#open) return super.reopen()
    if (!lockDrain(this.#ctl, MAIN_THREAD_TOKEN, DRAIN_LOCK_TIMEOUT_MS)) {
      this.failures.report(new Error(`The drain worker held the ring for more than ${DRAIN_LOCK_TIMEOUT_MS} ms (DRAIN_LOCK_TIMEOUT_MS); ${this.path} was not reopened`), 'reopen')
      return
    }
    try {
      drainAll(this.#view, this.#drainTarget)
      this.writer.close()
      this.writer.open()
      Atomics.add(this.#ctl, CTL.REOPEN, 1)
    } catch (error) {
      this.failures.report(error, 'reopen')
    } finally {
      unlockDrain(this.#ctl)
    }
  }

  override async close(): Promise<void> {
    if (!this.#open) return super.close()
    const worker = this.#worker
    if (worker) {
      Atomics.store(this.#ctl, CTL.STOP, 1)
      wakeWorker(this.#ctl)
      const timer = setTimeout(() => void worker.terminate(), WORKER_STOP_TIMEOUT_MS)
      await once(worker, 'exit').catch(() => undefined)
      clearTimeout(timer)
    }
    try {
      this.flushSync()
    } finally {
      this.#open = false
    }
    const empty = this.#ringEmpty()
    await super.close()
    // Everything is in the file: the ring has nothing left to keep.
    if (empty) rmSync(this.ringPath, { force: true })
  }
}

/** Moves an unreadable or unrecoverable ring aside, so a fresh one can be made and nothing is destroyed. */
function setAside(ringPath: string, error: unknown): void {
  const aside = `${ringPath}.unrecovered-${Date.now()}`
  renameSync(ringPath, aside)
  process.emitWarning(`blackbox could not recover the ring ${ringPath} (${error instanceof Error ? error.message : String(error)}); it was moved to ${aside} for \`blackbox recover\``, { code: 'BLACKBOX_RING_UNRECOVERED' })
}

function prepareRing(addon: RingAddon, options: RingFileSinkOptions): PreparedRing {
  const ringPath = options.ringPath ?? `${options.path}.ring`
  const capacity = checkRingBytes(options.ringSize === undefined ? DEFAULT_RING_BYTES : roundUpToPowerOfTwo(parseSize(options.ringSize, 'ringSize')))
  if (options.mkdir !== false) mkdirSync(dirname(ringPath), { recursive: true })
  let recovered: RecoverResult | undefined
  if (existsSync(ringPath)) {
    try {
      // The previous run was killed: its records go to its file before this run writes any.
      recovered = recoverRing(ringPath)
    } catch (error) {
      // Another format version, or a live owner: refuse, with the message saying why.
      if (error instanceof RingFormatError || error instanceof RingInUseError) throw error
      setAside(ringPath, error)
    }
  }
  return { view: createMappedRing(addon, ringPath, capacity), ringPath, recovered }
}

/**
 * A file sink with `durability: 'ring'`: a log call formats the record and copies it
 * into a memory-mapped ring file (no system call), which survives SIGKILL as the page
 * cache does; a worker thread drains it into `path`, and after a crash the next run (or
 * `blackbox recover`) does. Without the native addon it warns once (code
 * BLACKBOX_RING_FALLBACK) and returns a `sync` file sink instead: `instanceof RingFileSink`
 * tells which. Throws, without touching it, on a ring file of another format version or one
 * in use by a running process.
 */
export function ringFileSink(options: RingFileSinkOptions): RingFileSink | FileSink {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
    throw new TypeError(`Expected \`path\` to be a non-empty string, got \`${String(options?.path)}\` (${typeof options?.path})`)
  }
  checkWhenFull(options.whenFull)
  checkTimeout(options.blockTimeout)
  resolveFormat(options.format, 'text')
  const load = loadRingAddon()
  if (load.addon === undefined) {
    process.emitWarning(`durability 'ring' needs blackbox's native addon, but ${load.reason}; ${options.path} is written with durability 'sync' instead`, { code: RING_FALLBACK_WARNING_CODE })
    return new FileSink(fileOptionsOf(options))
  }
  let prepared: PreparedRing
  try {
    prepared = prepareRing(load.addon, options)
  } catch (error) {
    if (error instanceof RingFormatError || error instanceof RingInUseError) throw error
    // A folder that cannot be written (permissions, a read-only or full disk): the records
    // still go to the file, as `sync`, which reports its own failure to open if it has one.
    process.emitWarning(`durability 'ring' could not make its ring ${options.ringPath ?? `${options.path}.ring`} (${error instanceof Error ? error.message : String(error)}); ${options.path} is written with durability 'sync' instead`, { code: RING_FALLBACK_WARNING_CODE })
    return new FileSink(fileOptionsOf(options))
  }
  return new RingFileSink(options, prepared)
}
