import { randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import type { Formatter } from '../core/format/formatter.js'
import { resolveFormat } from '../core/format/index.js'
import { LEVEL_VALUES, levelValue } from '../core/levels.js'
import { LoggerContext, type LogRecord } from '../core/record.js'
import { FailureReport, type Sink, type SinkOptions } from '../core/sink.js'
import { parseSize } from '../core/units.js'
import { registerSink, unregisterSink } from '../sinks/registry.js'
import { FlushTimeoutError } from '../sinks/delivery/flush-timeout.js'
import { watchStuckWrites } from '../sinks/delivery/stuck-writes.js'
import { Backoff } from '../sinks/delivery/backoff.js'
import { checkFileName, spoolDirFor } from './endpoint.js'
import { FrameDecoder, frameChecksum, FrameType, HEADER_BYTES, ProtocolError } from './frame.js'
import { decodeAck, decodeRingAnswer, encodeBye, encodeHeartbeat, encodeHello, encodeLogs, type Hello } from './messages.js'
import { Spool } from './spool.js'
import { RING_FALLBACK_WARNING_CODE, loadRingAddon } from '../ring/addon.js'
import { createMappedRing } from '../ring/map-ring.js'
import { DEFAULT_RING_BYTES, FORMAT_JSON, FORMAT_TEXT, PUBLISHED, RECORD_META_BYTES, RECORD_OVERSIZE, RingWriter, SLOT, checkRingBytes, readMetaRecords, roundUpToPowerOfTwo, type RingView } from '../ring/ring-file.js'
import { JsonFormatter } from '../core/format/json.js'

export const DEFAULT_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024
export const DEFAULT_CLIENT_HEARTBEAT_MS = 10_000
export const RECONNECT_MIN_MS = 50
export const RECONNECT_MAX_MS = 2000
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000
/**
 * At exit, the longest the client waits, blocking, for the collector to acknowledge what it
 * sent (the collector acknowledges every ACK_INTERVAL_MS, 20 ms): so that what a collector
 * that stopped reading never took is known, kept in the spool, and said.
 */
export const DEFAULT_EXIT_TIMEOUT_MS = 250
export const DEFAULT_BLOCK_TIMEOUT_MS = 1000
export const CLIENT_BATCH_BYTES = 64 * 1024
export const CLIENT_BATCH_INTERVAL_MS = 50
/** The spool is sent in writes of up to this many bytes of whole frames. */
export const PUMP_BYTES = 256 * 1024
/** How often flush() looks whether the collector has drained the ring. */
export const RING_POLL_MS = 5
/** `whenFull: 'spill'`: how long a call waits for room in a full ring while the collector's drain does not move, before it sends through the socket. */
export const RING_SPILL_WAIT_MS = 250
/** After records went through the socket (a full ring): the longest a log call waits for the collector to write them, to use the ring again. */
export const RING_CATCH_UP_MS = 5
export const RING_CATCH_UP_POLL_MS = 0.1
/** After a wait that ran out, the next is tried this much later. */
export const RING_CATCH_UP_RETRY_MS = 20

export type WhenFull = 'spill' | 'block' | 'drop'

export interface CollectorClientOptions extends SinkOptions {
  /** The collector's socket (a Unix socket path, or a Windows named pipe). */
  socket: string
  /** Who is logging, shown by the collector; default the process title. */
  name?: string
  /** The role: records go to `<role>.log`; default `worker`. */
  role?: string
  /** ms between heartbeats; default 10,000; 0 for none. */
  heartbeatInterval?: number
  /**
   * `sync` (default): the record is in the socket (or the spool) before the call returns.
   * `batched`: sent together. `ring`: copied into a memory-mapped ring file that the
   * collector drains (no system call per record; survives SIGKILL); see docs/ring.md.
   */
  durability?: 'sync' | 'batched' | 'ring'
  /** `durability: 'ring'`: the ring's data area, bytes or a size like `'4 MiB'` (rounded up to a power of two); default 4 MiB. */
  ringSize?: number | string
  /** Bytes sent but not yet acknowledged, kept in memory for a resend; default 16 MB. */
  maxInFlight?: string | number
  /** When in-flight memory is full: `spill` to the spool (default), `block` for at most `blockTimeout` ms, or `drop` (counted). */
  whenFull?: WhenFull
  /** ms a `block` may take before spilling; default 1,000. */
  blockTimeout?: number
  /** Where the spool goes; default `spool/` beside the socket. */
  spoolDir?: string
  /**
   * ms `flush()` waits for the collector's acknowledgements before rejecting with
   * `FlushTimeoutError`; `close()` flushes once, within it, and leaves the rest in the spool.
   * Default 5,000, or `closeTimeout` when only that is given (it used to bound both).
   */
  flushTimeout?: number
  /** ms `close()` then gives the goodbye (BYE) and the end of the connection; default 5,000. */
  closeTimeout?: number
  /** ms the exit path waits, blocking, for the collector's acknowledgements before saying what it has not taken; default 250. */
  exitTimeout?: number
}

interface InFlight {
  last: number
  frame: Buffer
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})
const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** A copy of a LOGS frame with the `resent` flag set (and its checksum redone). */
function markResent(frame: Buffer): Buffer {
  if (frame.readUInt8(3) !== FrameType.LOGS) return frame
  const copy = Buffer.from(frame)
  copy.writeUInt8(copy.readUInt8(HEADER_BYTES) | 1, HEADER_BYTES)
  copy.writeUInt32BE(frameChecksum(copy, copy.subarray(HEADER_BYTES)), 8)
  return copy
}

function firstSeqOf(frame: Buffer): number {
  return frame.readUInt32BE(HEADER_BYTES + 1) * 2 ** 32 + frame.readUInt32BE(HEADER_BYTES + 5)
}

function lastSeqOf(frame: Buffer): number {
  const first = frame.readUInt32BE(HEADER_BYTES + 1) * 2 ** 32 + frame.readUInt32BE(HEADER_BYTES + 5)
  return first + frame.readUInt32BE(HEADER_BYTES + 9) - 1
}

/**
 * The sink that sends records to a collector. In `sync` mode each record is written into
 * the socket's descriptor before the log call returns (so it reaches the collector even if
 * this process is killed the next instant); when the socket would block, the collector is
 * away, or in-flight memory is full, the record is appended to a spool file instead, and
 * sent from there when it can be. What the collector has not acknowledged is sent again
 * after a reconnect, flagged as possibly duplicate.
 */
export class CollectorClient implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
  readonly socketPath: string
  readonly clientId = randomUUID()
  readonly role: string
  readonly clientName: string
  readonly durability: 'sync' | 'batched' | 'ring'
  /** The ring file (`durability: 'ring'`), while the ring is in use. */
  readonly ringPath: string | undefined
  #ring: RingWriter | undefined
  #ringView: RingView | undefined
  /** While records go through the socket because the ring was full: the last such record; back to the ring once it is acknowledged. */
  #bypassUntil = 0
  /** Records dropped at a full ring (`whenFull: 'drop'`), not yet told. */
  #ringDropped = 0
  readonly #maxInFlight: number
  readonly #whenFull: WhenFull
  readonly #blockTimeout: number
  readonly #heartbeatInterval: number
  readonly #closeTimeout: number
  readonly #flushTimeout: number
  readonly #exitTimeout: number
  #closeOnce: Promise<void> | undefined
  readonly #spool: Spool
  readonly #decoder = new FrameDecoder()
  readonly #startTime = Date.now()
  #seq = 0
  #acked = 0
  #memory: InFlight[] = []
  #memoryBytes = 0
  /** The rest of a frame cut by a short write; a LOGS frame's `last` is its last sequence number, `spoolEnd` where its spooled copy ends. */
  #tail: { bytes: Buffer; spoolEnd: number; last: number } | { bytes: Buffer; spoolEnd: undefined; last: undefined } | undefined
  #spooling = true
  #spoolSent = 0
  /** The highest sequence number handed to a socket: what a collector may have written. */
  #sentUpTo = 0
  /** Frames up to this sequence number may have reached a collector before: sent again, they are flagged resent. */
  #resentUpTo = 0
  #closing = false
  #spoolLast = 0
  #socket: Socket | undefined
  #fd: number | undefined
  #connected = false
  #pumping = false
  #dropped = 0
  #closed = false
  #batch: { seq: number; timeMs: number; level: number; text: string }[] = []
  #batchBytes = 0
  #batchTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #loopDelay: IntervalHistogram | undefined
  #reconnectTimer: NodeJS.Timeout | undefined
  readonly #backoff = new Backoff(RECONNECT_MIN_MS, RECONNECT_MAX_MS)
  #ackWaiters: { seq: number; resolve: () => void }[] = []
  #connectWaiters: { resolve: () => void; reject: (error: Error) => void }[] = []

  constructor(options: CollectorClientOptions) {
    if (options === null || typeof options !== 'object' || typeof options.socket !== 'string' || options.socket === '') {
      throw new TypeError(`Expected \`socket\` to be a socket path, got \`${String(options?.socket)}\` (${typeof options?.socket})`)
    }
    this.socketPath = options.socket
    this.role = checkFileName(options.role ?? 'worker', 'role')
    this.clientName = options.name ?? process.title
    if (/[\u0000-\u001f\u007f]/.test(this.clientName)) throw new TypeError(`Expected \`name\` to have no control characters, got \`${JSON.stringify(this.clientName)}\` (string)`)
    const durability = options.durability ?? 'sync'
    if (durability !== 'sync' && durability !== 'batched' && durability !== 'ring') throw new TypeError(`Expected \`durability\` to be 'sync', 'batched' or 'ring', got \`${String(durability)}\` (${typeof durability})`)
    const ringBytes = checkRingBytes(options.ringSize === undefined ? DEFAULT_RING_BYTES : roundUpToPowerOfTwo(parseSize(options.ringSize, 'ringSize')))
    this.#whenFull = options.whenFull ?? 'spill'
    if (!['spill', 'block', 'drop'].includes(this.#whenFull)) throw new TypeError(`Expected \`whenFull\` to be 'spill', 'block' or 'drop', got \`${String(this.#whenFull)}\` (${typeof this.#whenFull})`)
    this.#maxInFlight = options.maxInFlight === undefined ? DEFAULT_MAX_IN_FLIGHT_BYTES : parseSize(options.maxInFlight, 'maxInFlight')
    this.#blockTimeout = options.blockTimeout ?? DEFAULT_BLOCK_TIMEOUT_MS
    this.#heartbeatInterval = options.heartbeatInterval ?? DEFAULT_CLIENT_HEARTBEAT_MS
    if (!Number.isInteger(this.#heartbeatInterval) || this.#heartbeatInterval < 0) {
      throw new TypeError(`Expected \`heartbeatInterval\` to be a non-negative integer of ms, got \`${String(this.#heartbeatInterval)}\` (${typeof this.#heartbeatInterval})`)
    }
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS
    this.#flushTimeout = options.flushTimeout ?? options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS
    this.#exitTimeout = options.exitTimeout ?? DEFAULT_EXIT_TIMEOUT_MS
    this.level = options.level === undefined ? 0 : levelValue(options.level)
    this.formatter = resolveFormat(options.format, 'text')
    this.name = `collector ${this.role}@${this.socketPath}`
    this.failures = new FailureReport(this.name)
    // Absolute: the HELLO names the spool to a collector that may run in another working directory.
    this.#spool = new Spool(resolve(options.spoolDir ?? spoolDirFor(this.socketPath)), this.clientId)
    this.ringPath = durability === 'ring' ? this.#openRing(ringBytes) : undefined
    this.durability = this.ringPath === undefined && durability === 'ring' ? 'sync' : durability
    this.#spool.describe(this.#hello())
    registerSink(this)
    if (this.#heartbeatInterval > 0) {
      this.#heartbeatTimer = setInterval(() => this.#sendHeartbeat(), this.#heartbeatInterval).unref()
      this.#loopDelay = monitorEventLoopDelay({ resolution: 10 })
      this.#loopDelay.enable()
    }
    this.#connect()
  }

  /** Resolves once the collector has the HELLO; rejects if the first attempt finds no collector. */
  connected(): Promise<void> {
    if (this.#connected) return Promise.resolve()
    return this.#keepAlive(new Promise((resolve, reject) => this.#connectWaiters.push({ resolve, reject })))
  }

  // The socket never keeps the process alive on its own, except while the program awaits
  // something from it (a connection, acknowledgements, a goodbye).
  #waiting = 0

  async #keepAlive<T>(promise: Promise<T>): Promise<T> {
    this.#waiting++
    this.#socket?.ref()
    try {
      return await promise
    } finally {
      if (--this.#waiting === 0) this.#socket?.unref()
    }
  }

  /** What the client is doing, for tests and diagnostics. */
  get stats(): { seq: number; acked: number; inFlightBytes: number; spoolBytes: number; spooling: boolean; connected: boolean; dropped: number; ringFull: number; ringDropped: number } {
    return {
      seq: this.#seq, acked: this.#acked, inFlightBytes: this.#memoryBytes, spoolBytes: this.#spool.size, spooling: this.#spooling, connected: this.#connected, dropped: this.#dropped,
      ringFull: this.#ringFullCount, ringDropped: this.#ringDropped,
    }
  }

  /** Times a record found the ring full. */
  #ringFullCount = 0

  #hello(): Omit<Hello, 'protocol'> {
    return {
      clientId: this.clientId, pid: process.pid, name: this.clientName, role: this.role, startTime: this.#startTime, spool: this.#spool.path, lastSeq: this.#seq,
      heartbeatInterval: this.#heartbeatInterval, ...(this.ringPath === undefined ? {} : { ring: this.ringPath }),
    }
  }

  /** Makes the ring beside the spool; without the addon, warns once and returns undefined (the client is then `sync`). */
  #openRing(bytes: number): string | undefined {
    const load = loadRingAddon()
    if (load.addon === undefined) {
      process.emitWarning(`durability 'ring' needs blackbox's native addon, but ${load.reason}; the collector client for ${this.socketPath} sends with durability 'sync' instead`, { code: RING_FALLBACK_WARNING_CODE })
      return undefined
    }
    mkdirSync(this.#spool.dir, { recursive: true, mode: 0o700 })
    const ringPath = join(this.#spool.dir, `${this.clientId}.ring`)
    const view = createMappedRing(load.addon, ringPath, bytes)
    // No file of its own: the collector knows where the records go (blackbox recover needs --to).
    view.claim(process.pid, '', this.formatter instanceof JsonFormatter ? FORMAT_JSON : FORMAT_TEXT, RECORD_META_BYTES)
    this.#ringView = view
    this.#ring = new RingWriter(view)
    return ringPath
  }

  write(line: string, record: LogRecord): void {
    if (this.#ring !== undefined && (this.#bypassUntil === 0 || this.#caughtUp())) {
      if (this.#ringDropped === 0 || this.#tellRingDropped()) {
        const result = this.#ring.publish(line, record.level, record.time)
        // A record larger than half the ring never waits for room: it takes the socket, in order.
        if (result === PUBLISHED || (result !== RECORD_OVERSIZE && this.#ringFull(line, record))) return
      } else if (this.#whenFull === 'drop') {
        this.#ringDropped++
        return
      }
    }
    if (this.#ring !== undefined) {
      // The ring was full: through the socket (or the spool), and so every record after it
      // until the collector has written them, which it does after draining the ring.
      this.#bypassUntil = this.#sendOne(line, record.level, record.time)
      return
    }
    // A ring client whose ring is gone (closed, or refused by the collector) sends as `sync`.
    if (this.durability !== 'batched') {
      this.#sendOne(line, record.level, record.time)
      return
    }
    this.#batch.push({ seq: ++this.#seq, timeMs: record.time, level: record.level, text: line })
    this.#batchBytes += line.length
    if (this.#batchBytes >= CLIENT_BATCH_BYTES) this.flushSync()
    else this.#batchTimer ??= setTimeout(() => this.flushSync(), CLIENT_BATCH_INTERVAL_MS).unref()
  }

  /**
   * The ring is full. `drop` counts the record. Otherwise, while a collector drains the
   * ring, the call waits for room: with `spill` as long as the drain makes progress (the
   * collector is behind, not stuck), until it has not moved for RING_SPILL_WAIT_MS; with
   * `block` up to `blockTimeout` in all. Returns true when the record is dealt with, false
   * when it must go through the socket: no collector drains the ring, or the wait ran out
   * (then later calls do not wait again until the collector has drained something).
   */
  #ringFull(line: string, record: LogRecord): boolean {
    const ring = this.#ring as RingWriter
    const view = this.#ringView as RingView
    this.#ringFullCount++
    if (this.#whenFull === 'drop') {
      this.#ringDropped++
      return true
    }
    if (this.#stalledAt !== undefined && view.load(SLOT.DRAINED) !== this.#stalledAt) this.#stalledAt = undefined
    if (!this.#ringDrained() || this.#stalledAt !== undefined) return false
    const block = this.#whenFull === 'block'
    let deadline = performance.now() + (block ? this.#blockTimeout : RING_SPILL_WAIT_MS)
    let drained = view.load(SLOT.DRAINED)
    while (performance.now() < deadline) {
      Atomics.wait(sleeper, 0, 0, RING_CATCH_UP_POLL_MS)
      if (ring.publish(line, record.level, record.time) === PUBLISHED) return true
      if (!block && view.load(SLOT.DRAINED) !== drained) {
        drained = view.load(SLOT.DRAINED)
        deadline = performance.now() + RING_SPILL_WAIT_MS
      }
    }
    this.#stalledAt = view.load(SLOT.DRAINED)
    return false
  }

  /** The drained index when a wait for room ran out: the collector is taken as stalled until it moves. */
  #stalledAt: number | undefined

  /**
   * Whether records may go to the ring again after some went through the socket: the
   * collector has written the last of those (it says so in the ring header, so a loop that
   * never yields learns it too). When it is behind and the ring has room, waits for it up
   * to RING_CATCH_UP_MS, at most once per RING_CATCH_UP_RETRY_MS.
   */
  #caughtUp(): boolean {
    const view = this.#ringView as RingView
    const written = (): boolean => ((Atomics.load(view.header, SLOT.SOCKET_SEQ) - this.#bypassUntil) | 0) >= 0
    if (!written()) {
      const now = performance.now()
      if (!this.#ringDrained() || now < this.#nextCatchUp || (this.#ring as RingWriter).used > view.capacity / 2) return false
      const deadline = now + RING_CATCH_UP_MS
      while (!written()) {
        if (performance.now() >= deadline) {
          this.#nextCatchUp = performance.now() + RING_CATCH_UP_RETRY_MS
          return false
        }
        Atomics.wait(sleeper, 0, 0, RING_CATCH_UP_POLL_MS)
      }
    }
    this.#bypassUntil = 0
    return true
  }

  #nextCatchUp = 0

  #tellRingDropped(): boolean {
    const count = this.#ringDropped
    const notice = this.#dropNotice(count, 'ring full')
    if ((this.#ring as RingWriter).publish(this.formatter.format(notice), notice.level, notice.time) !== PUBLISHED) return false
    this.#ringDropped = 0
    return true
  }

  /** Whether a collector drains the ring now: it notes its pid in the ring's header while it does. */
  #ringDrained(): boolean {
    return this.#ringView !== undefined && Atomics.load(this.#ringView.header, SLOT.DRAINER_PID) !== 0
  }

  /** Records published and not yet drained by the collector. */
  #ringPending(): boolean {
    const view = this.#ringView
    return view !== undefined && view.load(SLOT.DRAINED) !== view.load(SLOT.WRITE)
  }

  /** The collector will not drain the ring: this client sends what it holds, then goes on as `sync`. */
  #leaveRing(reason: string): void {
    const view = this.#ringView
    if (!view) return
    this.#ring = undefined
    this.#ringView = undefined
    this.failures.report(new Error(`the collector does not drain the ring (${reason}); sending through the socket instead`), 'ring')
    try {
      const { records, end } = readMetaRecords(view, view.load(SLOT.DRAINED), view.load(SLOT.WRITE))
      for (const record of records) this.#sendOne(record.text.toString('utf8'), record.level, record.time)
      view.store(SLOT.DRAINED, end)
      rmSync(this.ringPath as string, { force: true })
    } catch (error) {
      this.failures.report(error, 'ring')
    }
  }

  flushSync(): void {
    if (this.#ringDropped > 0 && !this.#tellRingDropped()) {
      // Still full: the notice goes through the socket, after what the ring holds.
      const notice = this.#dropNotice(this.#ringDropped, 'ring full')
      this.#ringDropped = 0
      this.#bypassUntil = this.#sendOne(this.formatter.format(notice), notice.level, notice.time)
    }
    if (this.#batchTimer) clearTimeout(this.#batchTimer)
    this.#batchTimer = undefined
    if (this.#batch.length === 0) return
    const batch = this.#batch
    this.#batch = []
    this.#batchBytes = 0
    this.#send(encodeLogs(batch), (batch[batch.length - 1] as { seq: number }).seq)
  }

  /**
   * Resolves when the collector has acknowledged (and drained from the ring) everything
   * logged so far; rejects with FlushTimeoutError when `flushTimeout` passes first (what is
   * left stays in flight, and in the spool at exit).
   */
  async flush(): Promise<void> {
    if (await this.#flushWithin()) return
    throw new FlushTimeoutError(this.name, this.#unacknowledged(), this.#flushTimeout, 'acknowledged by the collector (they stay in the spool for it)')
  }

  /** flush() without the rejection: whether everything was acknowledged (and drained) within `flushTimeout`. */
  async #flushWithin(): Promise<boolean> {
    this.flushSync()
    const deadline = Date.now() + this.#flushTimeout
    // The ring first: drained up to what is published now (indices wrap at 2³²: compared by
    // their difference), or left for the socket when the collector refuses it meanwhile.
    const target = this.#ringView?.load(SLOT.WRITE)
    const behind = (): boolean => this.#ringView !== undefined && target !== undefined && ((this.#ringView.load(SLOT.DRAINED) - target) | 0) < 0
    while (behind() && Date.now() < deadline) {
      await this.#keepAlive(new Promise((resolve) => setTimeout(resolve, RING_POLL_MS)))
    }
    // Then every record sent through the socket, those a refused ring moved there included.
    this.flushSync()
    const seq = this.#seq
    await this.#keepAlive(this.#acknowledged(seq, Math.max(0, deadline - Date.now())))
    if (this.#acked < seq || this.#ringPending()) {
      this.#flushGaveUpAt = seq
      return false
    }
    return true
  }

  /** Records sent and not yet acknowledged, and records in the ring not yet drained. */
  #unacknowledged(): number {
    const ring = this.#ringView === undefined ? 0 : (this.#ringView.load(SLOT.WRITE) - this.#ringView.load(SLOT.DRAINED)) >>> 0
    return Math.max(0, this.#seq - this.#acked) + (this.#ringPending() ? Math.max(1, ring) : 0)
  }

  /** Says once what the collector has not acknowledged: it stays in the spool, for this collector or the next. */
  #tellLoss(when: string): void {
    this.failures.tellLoss(this.#unacknowledged(), ` ${when}: not acknowledged by the collector at ${this.socketPath}; they stay in the spool ${this.#spool.path} (and ring) for it to deliver`)
  }

  // The sequence number a flush last waited for in vain: close() right after it (as
  // Logger.close() does) does not wait a second time.
  #flushGaveUpAt = -1

  #acknowledged(seq: number, timeoutMs: number): Promise<void> {
    if (this.#acked >= seq) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      const waiter = { seq, resolve: done }
      this.#ackWaiters.push(waiter)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** One record in a frame of its own, numbered next: see #send. Returns its sequence number. */
  #sendOne(text: string, level: number, timeMs: number): number {
    const seq = ++this.#seq
    this.#send(encodeLogs([{ seq, timeMs, level, text }]), seq)
    return seq
  }

  /** A frame of records: straight into the socket when it can take it now, else into the spool. */
  #send(frame: Buffer, last: number): void {
    if (!this.#roomFor(frame.length)) {
      if (this.#whenFull === 'drop') {
        this.#dropped++
        return
      }
      // spill, or a block that ran out of time: through the spool, on disk.
      this.#spooling = true
    }
    if (!this.#spooling && this.#fd !== undefined) {
      const written = this.#writeDirect(frame)
      if (written === frame.length) {
        this.#memory.push({ last, frame })
        this.#memoryBytes += frame.length
        this.#sentUpTo = last
        return
      }
      // Not all of it is in the kernel: the spool keeps the record; the rest of the bytes
      // must follow in the stream before any other frame.
      this.#spooling = true
      if (written > 0) this.#tail = { bytes: frame.subarray(written), spoolEnd: this.#spool.size + frame.length, last }
    }
    this.#toSpool(frame, last)
    void this.#pump()
  }

  #toSpool(frame: Buffer, last: number): void {
    try {
      this.#spool.append(frame)
      this.#spoolLast = last
    } catch (error) {
      this.#dropped++
      this.failures.report(error, 'spool')
    }
  }

  /** Whether in-flight memory can take `bytes` more; with `block`, waits for acknowledgements up to the bound. */
  /**
   * Whether `bytes` more may be in flight: sent or spooled, and not acknowledged. With
   * `spill`, the spool (on disk) takes what memory cannot. With `block`, waits for
   * acknowledgements for at most `blockTimeout` ms; after a wait that ran out, later
   * calls spill at once until an acknowledgement shows progress (the bound resets only
   * on real progress).
   */
  #roomFor(bytes: number): boolean {
    const pending = (): number => this.#memoryBytes + (this.#whenFull === 'spill' ? 0 : this.#spool.size)
    if (pending() + bytes <= this.#maxInFlight) return true
    if (this.#whenFull !== 'block' || this.#blockedOut) return false
    const deadline = Date.now() + this.#blockTimeout
    while (Date.now() < deadline) {
      this.#readAcksNow()
      if (pending() + bytes <= this.#maxInFlight) return true
      Atomics.wait(sleeper, 0, 0, 1)
    }
    this.#blockedOut = true
    return false
  }

  #blockedOut = false

  // While blocking, the event loop cannot deliver ACKs: read them from the descriptor
  // ourselves, into the same decoder libuv's reads go through, so the stream stays in order.
  #readAcksNow(): void {
    if (this.#fd === undefined) return
    const chunk = Buffer.alloc(64 * 1024)
    try {
      const read = readSync(this.#fd, chunk, 0, chunk.length, null)
      if (read > 0) this.#onData(chunk.subarray(0, read))
    } catch {
      // EAGAIN: nothing yet.
    }
  }

  /** write(2) on the socket's descriptor: the bytes written, 0 when it would block, -1 when the connection is gone. */
  #writeDirect(bytes: Buffer): number {
    try {
      return writeSync(this.#fd as number, bytes)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0
      this.#socket?.destroy()
      return -1
    }
  }

  /** Sends the spool (and a cut frame's tail) through libuv's queue, in order, while connected. */
  async #pump(): Promise<void> {
    if (this.#pumping || !this.#connected || this.#closing) return
    this.#pumping = true
    try {
      if (this.#tail) {
        const tail = this.#tail
        if (!(await this.#queue(tail.bytes))) return
        this.#tail = undefined
        if (tail.spoolEnd !== undefined) {
          this.#spoolSent = Math.max(this.#spoolSent, tail.spoolEnd)
          this.#sentUpTo = Math.max(this.#sentUpTo, tail.last)
        }
      }
      while (this.#connected && !this.#closing && this.#spoolSent < this.#spool.size) {
        // Many frames per write: one pread and one socket write for up to PUMP_BYTES.
        const frames = this.#spool.readFrames(this.#spoolSent, PUMP_BYTES)
        if (frames.length === 0) break
        let consumed = 0
        let last = 0
        const out: Buffer[] = []
        for (const frame of frames) {
          consumed += frame.length
          const frameLast = lastSeqOf(frame)
          if (frameLast <= this.#acked) continue
          out.push(frameLast <= this.#resentUpTo ? markResent(frame) : frame)
          last = Math.max(last, frameLast)
        }
        if (out.length > 0 && !(await this.#queue(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)))) return
        this.#spoolSent += consumed
        this.#sentUpTo = Math.max(this.#sentUpTo, last)
      }
      if (this.#connected && !this.#closing && this.#spoolSent >= this.#spool.size && this.#tail === undefined && this.#batch.length === 0) {
        const socket = this.#socket
        if ((socket?.writableLength ?? 0) === 0) {
          this.#spooling = false
          this.#clearSpoolIfDone()
        } else socket?.once('drain', () => void this.#pump())
      }
    } finally {
      this.#pumping = false
    }
    // Frames spooled while the last write was in flight.
    if (this.#connected && !this.#closing && this.#spooling && this.#spoolSent < this.#spool.size) void this.#pump()
  }

  #queue(bytes: Buffer): Promise<boolean> {
    const socket = this.#socket
    if (!socket || !this.#connected) return Promise.resolve(false)
    return new Promise((resolve) => socket.write(bytes, (error) => resolve(!error)))
  }

  #clearSpoolIfDone(): void {
    if (this.#spool.size > 0 && this.#spoolSent >= this.#spool.size && this.#acked >= this.#spoolLast) {
      this.#spool.clear()
      this.#spoolSent = 0
    }
  }

  #connect(): void {
    if (this.#closed) return
    const socket = connect(this.socketPath)
    // Logging never keeps a process alive: at its natural end, the exit hook says goodbye.
    if (this.#waiting === 0) socket.unref()
    this.#socket = socket
    socket.once('connect', () => this.#onConnect(socket))
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', () => {})
    socket.once('close', () => this.#onDisconnect(socket))
  }

  #onConnect(socket: Socket): void {
    // The descriptor lets a log call write synchronously; libuv keeps reading from it.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd
    this.#fd = typeof fd === 'number' && fd >= 0 ? fd : undefined
    this.#backoff.reset()
    // Written on the descriptor, so nothing sits in libuv's queue and direct writes may start.
    const hello = encodeHello(this.#hello())
    if (this.#fd === undefined || this.#writeDirect(hello) !== hello.length) socket.write(hello)
    this.#connected = true
    // A collector that stops reading holds the pending write of the spool's pump, and with
    // it the process: once the program has finished, the socket is given up (what it has
    // not acknowledged is in the spool, which the collector delivers when it sees this
    // process gone).
    const stopWatch = watchStuckWrites(socket, () => socket.destroy())
    socket.once('close', stopWatch)
    for (const waiter of this.#connectWaiters.splice(0)) waiter.resolve()
    void this.#pump()
  }

  #onData(chunk: Buffer): void {
    let frames
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.failures.report(error instanceof ProtocolError ? error : new Error(String(error)), 'reading from the collector')
      this.#socket?.destroy()
      return
    }
    for (const frame of frames) {
      if (frame.type !== FrameType.ACK && frame.type !== FrameType.RING) continue
      try {
        if (frame.type === FrameType.ACK) this.#onAck(decodeAck(frame.payload))
        else {
          const answer = decodeRingAnswer(frame.payload)
          if (!answer.accepted) this.#leaveRing(answer.reason ?? 'refused')
        }
      } catch (error) {
        this.failures.report(error, 'reading from the collector')
        this.#socket?.destroy()
        return
      }
    }
  }

  #onAck(seq: number): void {
    if (seq <= this.#acked) return
    this.#acked = seq
    this.#blockedOut = false
    if (this.#bypassUntil !== 0 && seq >= this.#bypassUntil) this.#bypassUntil = 0
    let drop = 0
    while (drop < this.#memory.length && (this.#memory[drop] as InFlight).last <= seq) this.#memoryBytes -= (this.#memory[drop++] as InFlight).frame.length
    if (drop > 0) this.#memory.splice(0, drop)
    this.#ackWaiters = this.#ackWaiters.filter((waiter) => (waiter.seq <= seq ? (waiter.resolve(), false) : true))
    if (!this.#spooling) this.#clearSpoolIfDone()
    if (this.#dropped > 0 && !this.#spooling && this.#roomFor(0)) this.#sendDropNotice()
  }

  #sendDropNotice(): void {
    const count = this.#dropped
    this.#dropped = 0
    const record = this.#dropNotice(count, 'in-flight limit reached')
    this.write(this.formatter.format(record), record)
  }

  #dropNotice(count: number, why: string): LogRecord {
    return {
      level: LEVEL_VALUES.warn, levelName: 'warn', time: Date.now(), context: NOTICE_CONTEXT, err: undefined, callsite: undefined,
      msg: `blackbox: ${count} records were dropped (${why}, whenFull: ${this.#whenFull})`, fields: { event: 'dropped', dropped: count },
    }
  }

  #onDisconnect(socket: Socket): void {
    if (socket !== this.#socket) return
    const wasConnected = this.#connected
    this.#connected = false
    // Whoever drained the ring through that connection does no more: a full ring does not wait for it.
    this.#ringView?.store(SLOT.DRAINER_PID, 0)
    this.#fd = undefined
    this.#socket = undefined
    this.#decoder.reset()
    this.#spooling = true
    this.#persistInFlight()
    if (!wasConnected) {
      for (const waiter of this.#connectWaiters.splice(0)) waiter.reject(new Error(`No collector answers at ${this.socketPath}`))
    }
    if (this.#closed) return
    // The one backoff of the network sinks: doubling with jitter, up to RECONNECT_MAX_MS.
    const delay = this.#backoff.next()
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay).unref()
  }

  /**
   * Frames sent but not acknowledged live only in memory: before they can be lost with
   * this process, they go into the spool, which is rewritten whole in sequence order
   * (this happens on a disconnect or at exit, never on the write path). Everything handed
   * to the old socket may have been written: sent again, it is flagged resent.
   */
  #persistInFlight(): void {
    this.#resentUpTo = Math.max(this.#resentUpTo, this.#sentUpTo)
    const unacked = this.#memory.filter((entry) => entry.last > this.#acked)
    this.#memory = []
    this.#memoryBytes = 0
    this.#tail = undefined
    this.#spoolSent = 0
    if (unacked.length === 0) return
    try {
      const frames = [...unacked.map((entry) => entry.frame), ...this.#spool.readFrames(0, this.#spool.size)]
        .filter((frame) => lastSeqOf(frame) > this.#acked)
        .sort((a, b) => firstSeqOf(a) - firstSeqOf(b))
      const old = this.#spool.path
      const rewritten = `${old}.rewrite`
      const fd = openSync(rewritten, 'w', 0o600)
      try {
        for (const frame of frames) writeSync(fd, frame)
      } finally {
        closeSync(fd)
      }
      this.#spool.release()
      renameSync(rewritten, old)
      this.#spool.reopen()
      this.#spoolLast = Math.max(this.#spoolLast, ...unacked.map((entry) => entry.last))
    } catch (error) {
      this.failures.report(error, 'spooling unacknowledged records')
    }
  }

  #sendHeartbeat(): void {
    if (!this.#connected) return
    const memory = process.memoryUsage()
    const frame = encodeHeartbeat({
      next: Date.now() + this.#heartbeatInterval,
      uptimeS: Math.round(process.uptime() * 10) / 10,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      // The histogram's samples include its 10 ms period.
      loopDelayMs: this.#loopDelay && this.#loopDelay.count > 0 ? Math.max(0, Math.round(this.#loopDelay.max / 1e6 - 10)) : 0,
    })
    this.#loopDelay?.reset()
    if (this.#spooling || this.#fd === undefined) void this.#queue(frame)
    else {
      const written = this.#writeDirect(frame)
      if (written >= 0 && written < frame.length) {
        this.#spooling = true
        this.#tail = { bytes: frame.subarray(written), spoolEnd: undefined, last: undefined }
        void this.#pump()
      }
    }
  }

  /**
   * At exit (the registry's one exit path, after the crash guard's ending record): the batch
   * goes out, a BYE says it was an exit (with its code), and what the collector has not
   * acknowledged stays in the spool for it to deliver.
   */
  exitSync(code: number): void {
    this.flushSync()
    if (this.#connected && !this.#spooling && this.#fd !== undefined) {
      // Before the goodbye: a collector that has said nothing for exitTimeout will not take the rest.
      this.#awaitAcknowledgementsSync(this.#exitTimeout)
      this.#writeDirect(encodeBye({ reason: `exit code ${code}` }))
    }
    this.#persistInFlight()
    this.#tellLoss('at exit')
    this.#spool.close()
  }

  /** Reads acknowledgements from the descriptor until everything sent is acknowledged and the ring drained, or `boundMs` passes. */
  #awaitAcknowledgementsSync(boundMs: number): void {
    const deadline = Date.now() + boundMs
    const done = (): boolean => this.#acked >= this.#seq && !this.#ringPending()
    while (!done() && this.#fd !== undefined && Date.now() < deadline) {
      this.#readAcksNow()
      if (!done()) Atomics.wait(sleeper, 0, 0, 1)
    }
  }

  /** From now on records go through the socket; an empty ring is removed, one with records left for the collector. */
  #closeRing(): void {
    if (this.#ring === undefined) return
    this.#ring = undefined
    this.#bypassUntil = 0
    if (!this.#ringPending() && this.#ringDropped === 0) rmSync(this.ringPath as string, { force: true })
    this.#ringView = undefined
  }

  /**
   * Flushes once (within `flushTimeout`), says goodbye and ends the connection (within
   * `closeTimeout`); what the collector has not acknowledged stays in the spool for it, and is
   * told once on stderr. Always settles; a second call gets the same promise.
   */
  close(): Promise<void> {
    this.#closeOnce ??= this.#close()
    return this.#closeOnce
  }

  async #close(): Promise<void> {
    if (this.#closed) return
    const started = Date.now()
    this.flushSync()
    if ((this.#acked < this.#seq || this.#ringPending()) && this.#flushGaveUpAt !== this.#seq) await this.#flushWithin()
    if (this.#acked < this.#seq || this.#ringPending()) this.#tellLoss('at close()')
    // A collector that did not acknowledge within closeTimeout will not read a goodbye soon
    // either: then the one on disk must do, and close() returns now.
    const deadline = this.#acked < this.#seq || this.#ringPending() ? started : started + this.#closeTimeout
    this.#closed = true
    // Said on disk too: a goodbye that cannot get through a stalled socket still counts.
    this.#spool.markBye('close')
    this.#closing = true
    this.#closeRing()
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer)
    this.#loopDelay?.disable()
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    unregisterSink(this)
    const socket = this.#socket
    if (socket && this.#connected) {
      // The goodbye and the close keep to what is left of closeTimeout: a stalled collector
      // must not hold the program; what it has not acknowledged stays in the spool.
      const bounded = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())
      await this.#keepAlive(
        Promise.race([
          (async () => {
            await this.#queue(encodeBye({ reason: 'close' }))
            await new Promise<void>((resolve) => {
              socket.once('close', () => resolve())
              socket.end()
            })
          })(),
          bounded,
        ]),
      )
      socket.destroy()
    } else socket?.destroy()
    this.#persistInFlight()
    this.#spool.close()
  }
}
