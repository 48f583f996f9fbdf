import type { ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import type { FormatOption } from '../core/format/index.js'
import type { Logger } from '../core/logger.js'
import { createLogger } from '../create-logger.js'
import { resilientFileSink, type ResilientFileSinkOptions } from '../sinks/resilient.js'
import { checkFileName, isListening, isNamedPipe, preparePrivateDir, spoolDirFor } from './endpoint.js'
import { FrameDecoder, FrameType, ProtocolError, type Frame } from './frame.js'
import { decodeBye, decodeHeartbeat, decodeHello, decodeLogs, encodeAck, encodeRingAnswer, type Heartbeat, type Hello, type WireRecord } from './messages.js'
import { loadRingAddon } from '../ring/addon.js'
import { mapExistingRing, readRingCopy } from '../ring/map-ring.js'
import { PENDING_CLEAR, PENDING_SET, RECORD_META_BYTES, SLOT, readBatch, readMetaRecords, type MetaRecord, type RingView } from '../ring/ring-file.js'
import { readSpoolFrames } from './spool.js'
import { ForwardQueue, upstreamFromUrl, type ForwardedRecord, type Upstream } from './forward.js'
import { otlpSink } from '../sinks/otlp/index.js'

/** How often written records are acknowledged (after the role files are flushed). */
export const ACK_INTERVAL_MS = 20
/** How often the collector looks for late workers. */
export const MONITOR_INTERVAL_MS = 250
/** How long, after a connection drops without BYE, the collector waits to learn an exit status. */
export const DEATH_WAIT_MS = 500
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5000
/** How long after a client's connection ends the collector waits for its process to be gone, to deliver its spool. */
export const SPOOL_DELIVERY_WAIT_MS = 10_000
/** How often the collector drains the rings of clients with `durability: 'ring'`. */
export const RING_DRAIN_INTERVAL_MS = 5
/** Most bytes of one ring moved per step; each step is written and flushed before the ring's drained index moves. */
export const RING_DRAIN_STEP_BYTES = 1024 * 1024

export interface CollectorOptions {
  /** The socket to listen on: a path (its directory is made private, 0700) or a Windows named pipe. */
  socket: string
  /** Where role files and collector.log go; default `logs`. */
  dir?: string
  /** A worker is late when its announced next heartbeat is this many ms overdue; default 5,000. */
  heartbeatTimeout?: number
  /** Options for every role file (`<role>.log`): rotation, compression, disk-full behaviour. */
  files?: Omit<ResilientFileSinkOptions, 'path'>
  /** The collector's own log format; default `text`. */
  format?: FormatOption
  /** Where a role's records go instead of `<dir>/<role>.log` (`blackbox run` sends every role to its run file). */
  route?: (role: string) => RoleSink
  /** Called with each heartbeat a client sends. */
  onHeartbeat?: (client: ClientInfo, heartbeat: Heartbeat) => void
  /** Called with each record written (level and the client's formatted text). */
  onRecord?: (client: ClientInfo, level: number, text: string) => void
  /** Called when a client is found late, finished or dead. */
  onClientEvent?: (client: ClientInfo, event: 'late' | 'back' | 'finished' | 'dead') => void
  /**
   * Upstreams that get everything written locally too, each through a disk queue:
   * `relp://host:2514`, `syslog+tcp://host:514`, `syslog+tls://…`, `otlp+http://host:4318/v1/logs`, or a sink.
   */
  forward?: readonly (string | Upstream)[]
  /** Unsent bytes each upstream's disk queue may hold; default 256 MB; past it the oldest go, counted. */
  forwardQueueBytes?: number | string
}

/** What the collector writes a role's records into. */
export interface RoleSink {
  /** Whole records as the clients formatted them, each ending with a newline: one, or several at once (a step drained from a ring, when no onRecord or forward needs them one by one). */
  write(text: string): void
  flushSync(): void
  close(): Promise<void>
}

/** What the collector knows about one client. */
export interface ClientInfo {
  clientId: string
  pid: number
  name: string
  role: string
  connected: boolean
  /** The highest sequence number written for it. */
  written: number
  late: boolean
  /** How it ended: `finished` (BYE), `dead`, or undefined while connected. */
  ended: 'finished' | 'dead' | undefined
}

export interface Collector {
  readonly socket: string
  readonly dir: string
  /** The collector's own log (collector.log). */
  readonly logger: Logger
  clients(): ClientInfo[]
  /** Lets the collector learn how a child process ended (exit code or signal), for its death record. */
  attach(child: ChildProcess): void
  /** Delivers the spools of clients whose process is gone (for one that died before it could connect). */
  deliverSpools(): void
  close(): Promise<void>
}

interface ClientState extends ClientInfo {
  socket: Socket | undefined
  hello: Hello
  next: number
  dirty: boolean
  ackedSent: number
  /** The client's ring, mapped, while the collector drains it. */
  ring: RingView | undefined
}

/** Who a ring's records belong to, for the role file, onRecord and forwarding. */
type RingOwner = Pick<ClientInfo, 'clientId' | 'pid' | 'name' | 'role'>

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Marks a record sent again after a reconnect, so a reader can tell it may be a duplicate:
 * with keys of blackbox's own (`blackbox_resent`, `blackbox_client`, `blackbox_seq`), which
 * no application field is likely to share.
 */
function markResent(text: string, clientId: string, seq: number | undefined): string {
  const json = seq === undefined ? '' : `,"blackbox_seq":${seq}`
  if (text.startsWith('{')) return `{"blackbox_resent":true,"blackbox_client":${JSON.stringify(clientId)}${json},${text.slice(1)}`
  const end = text.indexOf('\n')
  const cut = end === -1 ? text.length : end
  return `${text.slice(0, cut)} blackbox_resent=true blackbox_client=${clientId}${seq === undefined ? '' : ` blackbox_seq=${seq}`}${text.slice(cut)}`
}

/**
 * Starts a collector: it listens on the socket, writes each client's records to
 * `<dir>/<role>.log` through the rotating, disk-full-resilient sink, acknowledges what it
 * has written, watches heartbeats, and records in `<dir>/collector.log` every client that
 * connects, goes late, finishes or dies.
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const collector = new CollectorImpl(options)
  await collector.start()
  return collector
}

class CollectorImpl implements Collector {
  readonly socket: string
  readonly dir: string
  // Made in start(), once the socket is known to be free: a second collector must not touch collector.log.
  logger!: Logger
  readonly #options: CollectorOptions
  readonly #grace: number
  readonly #clients = new Map<string, ClientState>()
  readonly #written = new Map<string, number>()
  readonly #roles = new Map<string, RoleSink>()
  readonly #exits = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>()
  readonly #statePath: string
  #server: Server | undefined
  #forward: ForwardQueue[] = []
  #ackTimer: NodeJS.Timeout | undefined
  #monitorTimer: NodeJS.Timeout | undefined
  #ringTimer: NodeJS.Timeout | undefined
  #stateDirty = false
  #closed = false
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(options: CollectorOptions) {
    if (options === null || typeof options !== 'object' || typeof options.socket !== 'string' || options.socket === '') {
      throw new TypeError(`Expected \`socket\` to be a socket path, got \`${String(options?.socket)}\` (${typeof options?.socket})`)
    }
    this.#options = options
    this.socket = options.socket
    this.dir = options.dir ?? 'logs'
    this.#grace = options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT_MS
    this.#statePath = join(this.dir, '.collector-state.json')
  }

  async start(): Promise<void> {
    if (!isNamedPipe(this.socket)) {
      preparePrivateDir(dirname(this.socket))
      if (existsSync(this.socket)) {
        if (await isListening(this.socket)) throw new Error(`A collector already listens on ${this.socket}`)
        // Left by a collector that died: nobody answers on it.
        rmSync(this.socket, { force: true })
      }
    }
    const options = this.#options
    this.logger = createLogger({
      name: 'collector',
      level: 'debug',
      sinks: [resilientFileSink({ ...options.files, path: join(this.dir, 'collector.log'), format: options.format ?? 'text', maxSize: options.files?.maxSize ?? '10 MB' })],
    })
    this.#forward = (options.forward ?? []).map((target) => {
      const upstream = typeof target === 'string' ? upstreamFromUrl(target, (url) => otlpSink({ url, resource: { 'service.name': 'blackbox-collector' } })) : target
      return new ForwardQueue(upstream, join(this.dir, '.forward'), options.forwardQueueBytes)
    })
    this.#loadState()
    this.#deliverOrphanSpools()
    const server = createServer((socket) => this.#accept(socket))
    this.#server = server
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.socket, () => {
          server.removeListener('error', reject)
          resolve()
        })
      })
    } catch (error) {
      await this.logger.close()
      throw error
    }
    if (!isNamedPipe(this.socket)) chmodSync(this.socket, 0o600)
    this.#ackTimer = setInterval(() => this.#acknowledge(), ACK_INTERVAL_MS)
    this.#monitorTimer = setInterval(() => this.#monitor(), MONITOR_INTERVAL_MS)
    this.#ringTimer = setInterval(() => this.#drainRings(), RING_DRAIN_INTERVAL_MS)
    this.logger.info({ event: 'collector-start', socket: this.socket, dir: this.dir, pid: process.pid }, `collector listening on ${this.socket}, writing to ${this.dir}`)
  }

  clients(): ClientInfo[] {
    return [...this.#clients.values()].map((client) => this.#info(client))
  }

  attach(child: ChildProcess): void {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) this.#exits.set(child.pid, { code, signal })
    })
  }

  #loadState(): void {
    try {
      const state = JSON.parse(readFileSync(this.#statePath, 'utf8')) as { written?: Record<string, number> }
      for (const [id, seq] of Object.entries(state.written ?? {})) if (typeof seq === 'number') this.#written.set(id, seq)
    } catch {
      // First start, or a state file cut by a crash: resends are then marked, not skipped.
    }
  }

  #saveState(): void {
    if (!this.#stateDirty) return
    this.#stateDirty = false
    try {
      const temporary = `${this.#statePath}.tmp`
      writeFileSync(temporary, JSON.stringify({ written: Object.fromEntries(this.#written) }))
      renameSync(temporary, this.#statePath)
    } catch (error) {
      this.logger.warn({ event: 'state', err: error }, 'could not save the collector state')
    }
  }

  #role(role: string): RoleSink {
    let sink = this.#roles.get(role)
    if (!sink) {
      // Batched: the ACK cycle flushes before it acknowledges, so nothing acknowledged is only in memory.
      sink = this.#options.route?.(role) ?? resilientFileSink({ ...this.#options.files, path: join(this.dir, `${role}.log`), durability: 'batched', format: 'text' })
      this.#roles.set(role, sink)
    }
    return sink
  }

  #info(client: ClientState): ClientInfo {
    const { clientId, pid, name, role, connected, written, late, ended } = client
    return { clientId, pid, name, role, connected, written, late, ended }
  }

  #accept(socket: Socket): void {
    const decoder = new FrameDecoder()
    let client: ClientState | undefined
    const fail = (reason: string): void => {
      this.logger.warn({ event: 'protocol-error', client: client?.name, pid: client?.pid, reason }, `closing the connection of ${client ? `${client.name} (pid ${client.pid})` : 'an unidentified client'}: ${reason}`)
      socket.destroy()
    }
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = decoder.push(chunk)
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error))
      }
      for (const frame of frames) {
        try {
          if (!client) {
            if (frame.type !== FrameType.HELLO) throw new ProtocolError('BAD_PAYLOAD', `the first frame must be HELLO, got type ${frame.type}`)
            client = this.#hello(decodeHello(frame.payload), socket)
          } else this.#frame(client, frame)
        } catch (error) {
          return fail(error instanceof Error ? error.message : String(error))
        }
      }
      this.#drainRingsIfDue()
    })
    socket.on('error', () => {})
    socket.once('close', () => {
      try {
        decoder.end()
      } catch (error) {
        if (client && !client.ended) this.logger.debug({ event: 'truncated', client: client.name }, `the last frame of ${client.name} was cut short (${(error as Error).message})`)
      }
      if (client && client.socket === socket) this.#disconnected(client)
    })
  }

  #hello(hello: Hello, socket: Socket): ClientState {
    checkFileName(hello.role, 'role')
    if (/[\u0000-\u001f\u007f]/.test(hello.name)) throw new ProtocolError('BAD_PAYLOAD', 'the client name has control characters')
    const existing = this.#clients.get(hello.clientId)
    const written = Math.max(existing?.written ?? 0, this.#written.get(hello.clientId) ?? 0)
    const client: ClientState = {
      clientId: hello.clientId, pid: hello.pid, name: hello.name, role: hello.role, connected: true, written, late: false, ended: undefined,
      socket, hello, next: hello.heartbeatInterval ? Date.now() + hello.heartbeatInterval : Number.POSITIVE_INFINITY, dirty: written > 0, ackedSent: 0,
      ring: undefined,
    }
    if (hello.ring !== undefined) client.ring = this.#takeRing(hello, socket)
    this.#clients.set(hello.clientId, client)
    this.logger.info(
      { event: existing ? 'client-reconnect' : 'client-connect', client: hello.name, role: hello.role, pid: hello.pid, clientId: hello.clientId },
      `${existing ? 'reconnected' : 'connected'}: ${hello.name} (role ${hello.role}, pid ${hello.pid})`,
    )
    return client
  }

  /** Maps a client's ring and says so; a ring it cannot map is refused, and the client drains it itself. */
  #takeRing(hello: Hello, socket: Socket): RingView | undefined {
    const ringPath = hello.ring as string
    const load = loadRingAddon()
    let view: RingView | undefined
    let reason = load.reason
    if (load.addon !== undefined) {
      try {
        view = mapExistingRing(load.addon, ringPath)
        if (view.metaBytes !== RECORD_META_BYTES) {
          view = undefined
          reason = `${ringPath} is not a collector client's ring`
        }
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error)
      }
    }
    // Said in the ring too: a client in a loop that never yields cannot read the answer.
    view?.store(SLOT.DRAINER_PID, process.pid)
    socket.write(encodeRingAnswer(view ? { accepted: true } : { accepted: false, reason: reason ?? 'unknown' }))
    if (!view) this.logger.warn({ event: 'ring-refused', client: hello.name, pid: hello.pid, ring: ringPath, reason }, `cannot drain the ring of ${hello.name} (pid ${hello.pid}): ${reason}; it sends through the socket instead`)
    return view
  }

  #drainRings(): void {
    this.#ringsDrainedAt = performance.now()
    for (const client of this.#clients.values()) if (client.ring) this.#drainRing(client)
  }

  #ringsDrainedAt = 0

  /** Socket traffic can keep the event loop from its timers for long: the rings are drained between reads too. */
  #drainRingsIfDue(): void {
    if (performance.now() - this.#ringsDrainedAt >= RING_DRAIN_INTERVAL_MS) this.#drainRings()
  }

  #drainRing(client: ClientState): void {
    const view = client.ring
    if (!view) return
    try {
      this.#drainRingView(view, client)
    } catch (error) {
      client.ring = undefined
      this.logger.error({ event: 'ring-failed', client: client.name, pid: client.pid, ring: client.hello.ring, err: error }, `stopped draining the ring of ${client.name} (pid ${client.pid}): ${(error as Error).message}`)
    }
  }

  /**
   * Moves every record published in a ring to the owner's role file (and to onRecord and
   * the upstreams), a step at a time. Before a step is written the ring notes it as pending;
   * the drained index moves only after the role file has the step. A step still pending
   * when the ring is taken over belonged to a drainer since killed: it may be in the file
   * already, so its records are written again marked as possibly sent twice. Drains what
   * was published when it starts; returns the records moved.
   */
  #drainRingView(view: RingView, owner: RingOwner): number {
    const sink = this.#role(owner.role)
    const plain = this.#options.onRecord === undefined && this.#forward.length === 0
    let moved = 0
    // What is published now, not what a busy client publishes meanwhile: the other rings get their turn.
    const to = view.load(SLOT.WRITE)
    for (;;) {
      const from = view.load(SLOT.DRAINED)
      const pending = view.load(SLOT.PENDING) === PENDING_SET
      if (pending && view.load(SLOT.PENDING_END) === from) {
        view.store(SLOT.PENDING, PENDING_CLEAR)
        continue
      }
      if (from === to) return moved
      const marking = pending
      const limit = marking ? view.load(SLOT.PENDING_END) : to
      let end: number
      if (plain && !marking) {
        // Nobody needs the records one by one: the step goes to the file as one piece.
        const batch = readBatch(view, from, limit, RING_DRAIN_STEP_BYTES)
        view.store(SLOT.PENDING_END, batch.end)
        view.store(SLOT.PENDING, PENDING_SET)
        sink.write(batch.data.toString('utf8'))
        moved += batch.records
        end = batch.end
      } else {
        const step = readMetaRecords(view, from, limit, RING_DRAIN_STEP_BYTES)
        if (!marking) {
          view.store(SLOT.PENDING_END, step.end)
          view.store(SLOT.PENDING, PENDING_SET)
        }
        this.#writeRingRecords(owner, step.records, marking)
        moved += step.records.length
        end = step.end
      }
      sink.flushSync()
      view.store(SLOT.DRAINED, end)
      if (!marking) view.store(SLOT.PENDING, PENDING_CLEAR)
    }
  }

  #writeRingRecords(owner: RingOwner, records: readonly MetaRecord[], resent: boolean): void {
    const sink = this.#role(owner.role)
    const onRecord = this.#options.onRecord
    const client = this.#clients.get(owner.clientId)
    const forwarded: ForwardedRecord[] = []
    for (const record of records) {
      const text = record.text.toString('utf8')
      const written = resent ? markResent(text, owner.clientId, undefined) : text
      sink.write(written)
      if (onRecord && client) onRecord(this.#info(client), record.level, text)
      if (this.#forward.length > 0) forwarded.push({ level: record.level, timeMs: record.time, client: owner.name, pid: owner.pid, role: owner.role, text: written })
    }
    this.#forwardAll(forwarded)
  }

  #frame(client: ClientState, frame: Frame): void {
    switch (frame.type) {
      case FrameType.LOGS: {
        // Records sent on the socket by a ring client follow what its ring held when it sent them.
        this.#drainRing(client)
        const logs = decodeLogs(frame.payload)
        this.#write(client, logs.records, logs.resent)
        // Tells a ring client, without a round trip, that it may use its ring again.
        client.ring?.store(SLOT.SOCKET_SEQ, client.written % 2 ** 32)
        return
      }
      case FrameType.HEARTBEAT: {
        const beat = decodeHeartbeat(frame.payload)
        client.next = beat.next
        this.#options.onHeartbeat?.(this.#info(client), beat)
        if (client.late) {
          client.late = false
          this.logger.info({ event: 'client-back', client: client.name, pid: client.pid }, `back: ${client.name} (pid ${client.pid}) checked in again`)
          this.#options.onClientEvent?.(this.#info(client), 'back')
        }
        return
      }
      case FrameType.BYE: {
        const bye = decodeBye(frame.payload)
        client.ended = 'finished'
        this.logger.info({ event: 'client-finished', client: client.name, role: client.role, pid: client.pid, reason: bye.reason, records: client.written }, `finished: ${client.name} (pid ${client.pid}) said goodbye (${bye.reason})`)
        this.#options.onClientEvent?.(this.#info(client), 'finished')
        return
      }
      default:
        throw new ProtocolError('BAD_TYPE', `a client may not send frames of type ${frame.type}`)
    }
  }

  #write(client: ClientState, records: readonly WireRecord[], resent: boolean): void {
    const sink = this.#role(client.role)
    const onRecord = this.#options.onRecord
    const forwarded: ForwardedRecord[] = []
    for (const record of records) {
      if (record.seq <= client.written) continue
      const text = record.bytes.toString('utf8')
      const written = resent ? markResent(text, client.clientId, record.seq) : text
      sink.write(written)
      client.written = record.seq
      onRecord?.(this.#info(client), record.level, text)
      if (this.#forward.length > 0) forwarded.push({ level: record.level, timeMs: Number(record.timeNs / 1_000_000n), client: client.name, pid: client.pid, role: client.role, text: written })
    }
    this.#forwardAll(forwarded)
    this.#written.set(client.clientId, client.written)
    client.dirty = true
    this.#stateDirty = true
  }

  #forwardAll(records: readonly ForwardedRecord[]): void {
    for (const queue of this.#forward) {
      try {
        queue.push(records)
      } catch (error) {
        this.logger.warn({ event: 'forward-queue', upstream: queue.upstream.url, err: error }, `could not queue records for ${queue.upstream.url}`)
      }
    }
  }

  /** Flushes the role files, then tells each client the highest sequence number written for it. */
  #acknowledge(): void {
    const dirty = [...this.#clients.values()].filter((client) => client.dirty && client.socket && client.connected)
    if (dirty.length === 0) return
    for (const sink of this.#roles.values()) sink.flushSync()
    this.#saveState()
    for (const client of dirty) {
      client.dirty = false
      if (client.written > client.ackedSent) {
        client.ackedSent = client.written
        client.socket?.write(encodeAck(client.written))
      }
    }
  }

  #monitor(): void {
    const now = Date.now()
    for (const client of this.#clients.values()) {
      if (!client.connected || client.late || client.ended || now <= client.next + this.#grace) continue
      client.late = true
      this.logger.warn(
        { event: 'client-late', client: client.name, role: client.role, pid: client.pid, overdueMs: now - client.next },
        `late: ${client.name} (pid ${client.pid}) has not checked in for ${Math.round((now - client.next) / 1000 + this.#grace / 1000)} s past its announced heartbeat`,
      )
      this.#options.onClientEvent?.(this.#info(client), 'late')
    }
  }

  #disconnected(client: ClientState): void {
    client.connected = false
    client.socket = undefined
    // What the ring holds now; a client still alive names its ring again when it reconnects.
    this.#drainRing(client)
    client.ring?.store(SLOT.DRAINER_PID, 0)
    client.ring = undefined
    this.#acknowledge()
    // A goodbye left on disk by a client whose BYE frame could not get through (a stalled collector).
    const byeFile = client.hello.spool?.replace(/\.spool$/, '.bye')
    if (client.ended !== 'finished' && byeFile && existsSync(byeFile)) {
      client.ended = 'finished'
      this.logger.info({ event: 'client-finished', client: client.name, role: client.role, pid: client.pid, reason: 'close (said on disk)', records: client.written }, `finished: ${client.name} (pid ${client.pid}) said goodbye (close, on disk)`)
      this.#options.onClientEvent?.(this.#info(client), 'finished')
    }
    if (byeFile) rmSync(byeFile, { force: true })
    const finished = client.ended === 'finished'
    if (!finished) client.ended = 'dead'
    // Wait a moment for an exit status (of an attached child) before saying how it ended.
    const started = Date.now()
    const later = (fn: () => void, ms: number): void => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        if (!this.#closed) fn()
      }, ms)
      timer.unref()
      this.#timers.add(timer)
    }
    // Its spool, once its process is gone (a goodbye comes just before the exit).
    const deliverWhenGone = (): void => {
      if (client.connected) return
      if (!alive(client.pid)) this.#deliverSpool(client.hello)
      else if (Date.now() - started < SPOOL_DELIVERY_WAIT_MS) later(deliverWhenGone, 100)
    }
    const report = (): void => {
      const exit = this.#exits.get(client.pid)
      if (!exit && !finished && alive(client.pid) && Date.now() - started < DEATH_WAIT_MS) {
        later(report, 20)
        return
      }
      if (!finished) {
        const how = exit
          ? exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`
          : alive(client.pid) ? 'its connection dropped without a goodbye; the process is still running' : 'its connection dropped without a goodbye and the process is gone'
        this.logger.error({ event: 'client-dead', client: client.name, role: client.role, pid: client.pid, signal: exit?.signal ?? undefined, code: exit?.code ?? undefined, records: client.written }, `dead: ${client.name} (pid ${client.pid}) ${how}`)
        this.#options.onClientEvent?.(this.#info(client), 'dead')
      }
      deliverWhenGone()
    }
    report()
  }

  /** Writes what a client that is gone left in its ring (before its spool: the spool holds what came after), then removes the ring. */
  #deliverRing(hello: Hello): void {
    const ringPath = hello.ring
    if (!ringPath || !existsSync(ringPath)) return
    try {
      const load = loadRingAddon()
      const ring = load.addon ? { view: mapExistingRing(load.addon, ringPath), close: () => {} } : readRingCopy(ringPath)
      try {
        const records = ring.view ? this.#drainRingView(ring.view, hello) : 0
        if (records > 0) this.logger.info({ event: 'ring-delivered', client: hello.name, pid: hello.pid, records }, `delivered ${records} records that ${hello.name} (pid ${hello.pid}) left in its ring`)
      } finally {
        ring.close()
      }
      rmSync(ringPath, { force: true })
    } catch (error) {
      this.logger.error({ event: 'ring-failed', client: hello.name, pid: hello.pid, ring: ringPath, err: error }, `could not deliver the ring of ${hello.name} (pid ${hello.pid}): ${(error as Error).message}; it is left for \`blackbox recover --to FILE\``)
    }
  }

  /** Writes what a client that is gone left only in its ring and spool, then removes them. */
  #deliverSpool(hello: Hello): void {
    this.#deliverRing(hello)
    if (!hello.spool || !existsSync(hello.spool)) return
    const client = this.#clients.get(hello.clientId)
    let written = Math.max(client?.written ?? 0, this.#written.get(hello.clientId) ?? 0)
    const before = written
    const sink = this.#role(hello.role)
    for (const frame of readSpoolFrames(hello.spool)) {
      if (frame.type !== FrameType.LOGS) continue
      const forwarded: ForwardedRecord[] = []
      for (const record of decodeLogs(frame.payload).records) {
        if (record.seq <= written) continue
        const text = record.bytes.toString('utf8')
        sink.write(text)
        written = record.seq
        if (this.#forward.length > 0) forwarded.push({ level: record.level, timeMs: Number(record.timeNs / 1_000_000n), client: hello.name, pid: hello.pid, role: hello.role, text })
      }
      this.#forwardAll(forwarded)
    }
    sink.flushSync()
    this.#written.set(hello.clientId, written)
    if (client) client.written = written
    this.#stateDirty = true
    this.#saveState()
    rmSync(hello.spool, { force: true })
    rmSync(hello.spool.replace(/\.spool$/, '.hello.json'), { force: true })
    rmSync(hello.spool.replace(/\.spool$/, '.bye'), { force: true })
    if (written > before) {
      this.logger.info({ event: 'spool-delivered', client: hello.name, pid: hello.pid, records: written - before }, `delivered ${written - before} records that ${hello.name} (pid ${hello.pid}) left in its spool`)
    }
  }

  deliverSpools(): void {
    this.#deliverOrphanSpools()
  }

  /** Spools of clients that died while no collector was listening. */
  #deliverOrphanSpools(): void {
    const dir = isNamedPipe(this.socket) ? undefined : spoolDirFor(this.socket)
    if (!dir || !existsSync(dir)) return
    for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.hello.json'))) {
      try {
        const hello = decodeHello(readFileSync(join(dir, name)))
        if (!alive(hello.pid)) this.#deliverSpool(hello)
      } catch (error) {
        this.logger.warn({ event: 'spool', file: name, err: error }, `could not read the spool description ${name}`)
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    if (this.#ackTimer) clearInterval(this.#ackTimer)
    if (this.#monitorTimer) clearInterval(this.#monitorTimer)
    if (this.#ringTimer) clearInterval(this.#ringTimer)
    this.#drainRings()
    this.#acknowledge()
    this.#deliverOrphanSpools()
    const server = this.#server
    for (const client of this.#clients.values()) client.socket?.end()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    this.#stateDirty = true
    this.#saveState()
    this.logger.info({ event: 'collector-stop' }, 'collector stopped')
    await Promise.all(this.#forward.map((queue) => queue.close()))
    await Promise.all([...this.#roles.values()].map((sink) => sink.close()))
    await this.logger.close()
  }
}
