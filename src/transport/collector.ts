import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { basename, dirname, join } from 'node:path'
import type { FormatOption } from '../core/format/index.js'
import type { Logger } from '../core/logger.js'
import { createLogger } from '../create-logger.js'
import { resilientFileSink, type ResilientFileSinkOptions } from '../sinks/resilient.js'
import { checkFileName, isListening, isNamedPipe, isSocketFile, prepareSocketDir, SocketPathError, spoolDirFor } from './endpoint.js'
import { FrameDecoder, FrameType, MAX_PAYLOAD_BYTES, ProtocolError, type Frame } from './frame.js'
import { decodeBye, decodeHeartbeat, decodeHello, decodeLogs, encodeAck, encodeRingAnswer, type Heartbeat, type Hello, type WireRecord } from './messages.js'
import { loadRingAddon } from '../ring/addon.js'
import { mapExistingRing, readRingCopy } from '../ring/map-ring.js'
import { PENDING_CLEAR, PENDING_SET, RECORD_META_BYTES, SLOT, readMetaRecords, type MetaRecord, type RingView } from '../ring/ring-file.js'
import { spoolFrames } from './spool.js'
import { openNoFollow, SpoolFolders } from './spool-folders.js'
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
/**
 * The largest first frame a connection may send: its HELLO. Until a connection has said who
 * it is, the collector holds no more than this (and a header) for it.
 */
export const FIRST_FRAME_MAX_PAYLOAD_BYTES = 64 * 1024
/**
 * Bytes of unfinished frames the collector holds for all its connections together; a
 * connection whose bytes take the sum past it is closed (its client reconnects and sends again).
 */
export const MAX_UNFINISHED_BYTES = 32 * 1024 * 1024
/** ms a connection may take to send its HELLO, and to finish a frame it has begun. */
export const DEFAULT_FRAME_TIMEOUT_MS = 10_000
/** ms close() waits for connections to end after saying goodbye, before it cuts them. */
export const CLOSE_CONNECTIONS_TIMEOUT_MS = 1000
/** How often the collector drains the rings of clients with `durability: 'ring'`. */
export const RING_DRAIN_INTERVAL_MS = 5
/** Most bytes of one ring moved per step; each step is written and flushed before the ring's drained index moves. */
export const RING_DRAIN_STEP_BYTES = 1024 * 1024

export interface CollectorOptions {
  /**
   * The socket to listen on: a path or a Windows named pipe. A missing folder is made,
   * mode 0700; an existing one must belong to this user and be private to it (it is never
   * changed). At most MAX_SOCKET_PATH_BYTES (107 bytes on Linux, 103 on macOS).
   */
  socket: string
  /**
   * Folders where clients keep their spools and rings (their `spoolDir`), besides `spool/`
   * beside the socket. The collector reads, delivers and removes a client's spool or ring
   * only in these folders; a client whose HELLO names another place logs through the
   * socket all the same, but its spool is not delivered if it dies, and its ring is refused.
   */
  spoolDirs?: readonly string[]
  /** ms a connection may take to send its HELLO, and to finish any frame it has begun; default 10,000. */
  frameTimeout?: number
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
  /**
   * Called when a client says HELLO (on each connection, a reconnect too), is found late or
   * back, finishes (BYE) or dies; for `dead`, with its exit status when the collector knows it
   * (a child given to `attach()`).
   */
  onClientEvent?: (client: ClientInfo, event: ClientEvent, exit?: ClientExit) => void
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

/** What happened to a client, for `onClientEvent`. */
export type ClientEvent = 'hello' | 'late' | 'back' | 'finished' | 'dead'

/** How a client's process ended, as its parent learned it. */
export interface ClientExit {
  code: number | null
  signal: NodeJS.Signals | null
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
  /** What its goodbye said: `close`, or `exit code 1` from a process that exited (even after an uncaught error). */
  byeReason: string | undefined
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
  /**
   * Says now how each client whose connection dropped without a goodbye ended, with what is
   * known, instead of waiting up to DEATH_WAIT_MS for an exit status: for a supervisor whose
   * child is gone, before it records the end.
   */
  reportDeaths(): void
  close(): Promise<void>
}

interface ClientState extends ClientInfo {
  socket: Socket | undefined
  /** The client's HELLO, with only the spool and ring paths the collector accepted (in their checked form). */
  hello: Hello
  next: number
  dirty: boolean
  ackedSent: number
  /** The client's ring, mapped, while the collector drains it. */
  ring: RingView | undefined
}

/** Who a ring's records belong to, for the role file, onRecord and forwarding. */
type RingOwner = Pick<ClientInfo, 'clientId' | 'pid' | 'name' | 'role'>

/** One accepted connection, from its first byte: what its decoder holds, and since when. */
interface Connection {
  readonly socket: Socket
  readonly decoder: FrameDecoder
  client: ClientState | undefined
  /** Bytes of unfinished frames its decoder holds, as last counted into the collector's sum. */
  held: number
  /** When the frame under way began (before its HELLO: when it connected); undefined while none is. */
  since: number | undefined
  fail(reason: string): void
}

const NEWLINE = 0x0a

/** Whether a record's text ends with exactly one newline, as a record in a file must. */
function endsWithOneNewline(text: Buffer): boolean {
  const length = text.length
  return length > 0 && text[length - 1] === NEWLINE && (length === 1 || text[length - 2] !== NEWLINE)
}

/** The record's text ending with exactly one newline, whatever the client sent: a record never runs into the next one. */
function withOneNewline(text: string): string {
  if (text.endsWith('\n') && !text.endsWith('\n\n')) return text
  // Not a regular expression: /\n+$/ backtracks quadratically on a long run of newlines inside the text.
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === NEWLINE) end--
  return `${text.slice(0, end)}\n`
}

/** The texts of ring records, one after another, each ending with exactly one newline. */
function joinLines(records: readonly MetaRecord[]): string {
  const parts: Buffer[] = []
  for (const record of records) {
    if (endsWithOneNewline(record.text)) parts.push(record.text)
    else {
      let end = record.text.length
      while (end > 0 && record.text[end - 1] === NEWLINE) end--
      parts.push(record.text.subarray(0, end), Buffer.from('\n'))
    }
  }
  // Each part ends with a newline, a byte no UTF-8 sequence runs across: decoding the whole is decoding each.
  return Buffer.concat(parts).toString('utf8')
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

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
  readonly #exits = new Map<number, ClientExit>()
  /** Clients whose death is not said yet (waiting for an exit status), with the function that says it now. */
  readonly #deathReports = new Map<ClientState, () => void>()
  readonly #statePath: string
  readonly #frameTimeout: number
  /** The folders whose files the collector may read, deliver and remove for its clients. */
  readonly #spoolFolders: SpoolFolders
  readonly #connections = new Set<Connection>()
  /** Bytes of unfinished frames held for all connections (at most MAX_UNFINISHED_BYTES, and one chunk). */
  #unfinishedBytes = 0
  #sweptAt = performance.now()
  #server: Server | undefined
  #forward: ForwardQueue[] = []
  #ackTimer: NodeJS.Timeout | undefined
  #monitorTimer: NodeJS.Timeout | undefined
  #sweepTimer: NodeJS.Timeout | undefined
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
    this.#frameTimeout = options.frameTimeout ?? DEFAULT_FRAME_TIMEOUT_MS
    if (!Number.isFinite(this.#frameTimeout) || this.#frameTimeout <= 0) {
      throw new TypeError(`Expected \`frameTimeout\` to be a positive number of ms, got \`${String(options.frameTimeout)}\` (${typeof options.frameTimeout})`)
    }
    if (options.spoolDirs !== undefined && (!Array.isArray(options.spoolDirs) || options.spoolDirs.some((dir) => typeof dir !== 'string' || dir === ''))) {
      throw new TypeError(`Expected \`spoolDirs\` to be an array of folder paths, got \`${JSON.stringify(options.spoolDirs)}\` (${typeof options.spoolDirs})`)
    }
    this.#spoolFolders = new SpoolFolders([spoolDirFor(this.socket), ...(options.spoolDirs ?? [])])
  }

  async start(): Promise<void> {
    if (!isNamedPipe(this.socket)) {
      prepareSocketDir(this.socket)
      if (existsSync(this.socket)) {
        if (await isListening(this.socket)) throw new Error(`A collector already listens on ${this.socket}`)
        // A file of the user's where the socket should be is theirs, not a collector's leftover.
        if (!isSocketFile(this.socket)) throw new SocketPathError(`${this.socket} exists and is not a socket: refusing to replace it`)
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
      if (!isNamedPipe(this.socket)) chmodSync(this.socket, 0o600)
    } catch (error) {
      // A server left listening would keep the process alive after start() failed.
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all(this.#forward.map((queue) => queue.close()))
      await this.logger.close()
      throw error
    }
    this.#ackTimer = setInterval(() => this.#acknowledge(), ACK_INTERVAL_MS)
    this.#monitorTimer = setInterval(() => this.#monitor(), MONITOR_INTERVAL_MS)
    // A few looks per frameTimeout, so that a connection is closed soon after its bound.
    this.#sweptAt = performance.now()
    this.#sweepTimer = setInterval(() => this.#sweepConnections(), Math.min(MONITOR_INTERVAL_MS, Math.max(10, this.#frameTimeout / 4)))
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
    const { clientId, pid, name, role, connected, written, late, ended, byeReason } = client
    return { clientId, pid, name, role, connected, written, late, ended, byeReason }
  }

  #accept(socket: Socket): void {
    const decoder = new FrameDecoder(MAX_PAYLOAD_BYTES, { firstMaxPayload: FIRST_FRAME_MAX_PAYLOAD_BYTES, ownsChunks: true })
    const connection: Connection = {
      socket, decoder, client: undefined, held: 0, since: performance.now(),
      fail: (reason) => {
        const client = connection.client
        this.logger.warn({ event: 'protocol-error', client: client?.name, pid: client?.pid, reason }, `closing the connection of ${client ? `${client.name} (pid ${client.pid})` : 'an unidentified client'}: ${reason}`)
        this.#release(connection)
        socket.destroy()
      },
    }
    this.#connections.add(connection)
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = decoder.push(chunk)
      } catch (error) {
        return connection.fail(error instanceof Error ? error.message : String(error))
      }
      this.#count(connection)
      for (const frame of frames) {
        try {
          if (!connection.client) {
            if (frame.type !== FrameType.HELLO) throw new ProtocolError('BAD_PAYLOAD', `the first frame must be HELLO, got type ${frame.type}`)
            connection.client = this.#hello(decodeHello(frame.payload), socket)
          } else this.#frame(connection.client, frame)
        } catch (error) {
          return connection.fail(error instanceof Error ? error.message : String(error))
        }
      }
      // Before its HELLO a connection's deadline runs from its start; after, from the start of each frame.
      if (connection.client) {
        if (decoder.buffered === 0) connection.since = undefined
        else if (frames.length > 0 || connection.since === undefined) connection.since = performance.now()
      }
      if (this.#unfinishedBytes > MAX_UNFINISHED_BYTES && connection.held > 0) {
        return connection.fail(`the collector holds ${this.#unfinishedBytes} bytes of unfinished frames, over its limit of ${MAX_UNFINISHED_BYTES} (MAX_UNFINISHED_BYTES)`)
      }
      this.#drainRingsIfDue()
    })
    socket.on('error', () => {})
    socket.once('close', () => {
      this.#release(connection)
      const client = connection.client
      try {
        decoder.end()
      } catch (error) {
        if (client && !client.ended) this.logger.debug({ event: 'truncated', client: client.name }, `the last frame of ${client.name} was cut short (${(error as Error).message})`)
      }
      if (client && client.socket === socket) this.#disconnected(client)
    })
  }

  /** Counts what a connection's decoder holds now into the sum of unfinished bytes. */
  #count(connection: Connection): void {
    const held = connection.decoder.buffered
    this.#unfinishedBytes += held - connection.held
    connection.held = held
  }

  /** Takes a connection out of the sum and the sweep, once. */
  #release(connection: Connection): void {
    this.#unfinishedBytes -= connection.held
    connection.held = 0
    connection.since = undefined
    this.#connections.delete(connection)
  }

  /** Closes the connections that have not sent their HELLO, or finished a frame, within frameTimeout. */
  #sweepConnections(): void {
    const now = performance.now()
    const away = now - this.#sweptAt > this.#frameTimeout
    this.#sweptAt = now
    if (away) {
      // This process could not run for longer than the bound (stopped, or a long task): the
      // bytes that came meanwhile are not read yet, so every deadline starts again.
      for (const connection of this.#connections) if (connection.since !== undefined) connection.since = now
      return
    }
    const overdue = [...this.#connections].filter((connection) => connection.since !== undefined && now - connection.since >= this.#frameTimeout)
    if (overdue.length === 0) return
    // Reads waiting in the kernel come before this check: a frame they finish is not late.
    setImmediate(() => {
      for (const connection of overdue) {
        const since = connection.since
        if (since === undefined || performance.now() - since < this.#frameTimeout || this.#closed) continue
        connection.fail(connection.client ? `a frame unfinished for ${this.#frameTimeout} ms (frameTimeout)` : `no HELLO within ${this.#frameTimeout} ms (frameTimeout)`)
      }
    })
  }

  #hello(named: Hello, socket: Socket): ClientState {
    checkFileName(named.role, 'role')
    if (CONTROL_CHARACTERS.test(named.name)) throw new ProtocolError('BAD_PAYLOAD', 'the client name has control characters')
    // The id goes into collector.log, the state file and the marks of resent text records, where a newline would forge a line.
    if (CONTROL_CHARACTERS.test(named.clientId)) throw new ProtocolError('BAD_PAYLOAD', 'the client id has control characters')
    const { hello, ringRefused } = this.#checkPaths(named, 'its HELLO')
    const existing = this.#clients.get(hello.clientId)
    const written = Math.max(existing?.written ?? 0, this.#written.get(hello.clientId) ?? 0)
    const client: ClientState = {
      clientId: hello.clientId, pid: hello.pid, name: hello.name, role: hello.role, connected: true, written, late: false, ended: undefined, byeReason: undefined,
      socket, hello, next: hello.heartbeatInterval ? Date.now() + hello.heartbeatInterval : Number.POSITIVE_INFINITY, dirty: written > 0, ackedSent: 0,
      ring: undefined,
    }
    if (named.ring !== undefined) client.ring = this.#takeRing(hello, ringRefused, socket)
    this.#clients.set(hello.clientId, client)
    this.logger.info(
      { event: existing ? 'client-reconnect' : 'client-connect', client: hello.name, role: hello.role, pid: hello.pid, clientId: hello.clientId },
      `${existing ? 'reconnected' : 'connected'}: ${hello.name} (role ${hello.role}, pid ${hello.pid})`,
    )
    this.#options.onClientEvent?.(this.#info(client), 'hello')
    return client
  }

  /**
   * The HELLO with its spool and ring paths checked against the spool folders (a client's
   * HELLO, or a spool description): a path that is not that client's file in one of them
   * is left out, so the collector never reads, maps or removes it. A refused spool is said
   * in collector.log here; a refused ring is returned, for the RING answer.
   */
  #checkPaths(hello: Hello, namedBy: string): { hello: Hello; ringRefused: string | undefined } {
    const { spool, ring, ...rest } = hello
    const spoolChecked = spool === undefined ? undefined : this.#spoolFolders.check(spool, hello.clientId, '.spool')
    const ringChecked = ring === undefined ? undefined : this.#spoolFolders.check(ring, hello.clientId, '.ring')
    if (spoolChecked?.reason !== undefined) {
      this.logger.warn(
        { event: 'spool-refused', client: hello.name, pid: hello.pid, spool, reason: spoolChecked.reason, namedBy },
        `not delivering the spool of ${hello.name} (pid ${hello.pid}) named by ${namedBy}: ${JSON.stringify(spool)} ${spoolChecked.reason}`,
      )
    }
    return {
      hello: { ...rest, ...(spoolChecked?.path === undefined ? {} : { spool: spoolChecked.path }), ...(ringChecked?.path === undefined ? {} : { ring: ringChecked.path }) },
      ringRefused: ringChecked?.reason === undefined ? undefined : `${JSON.stringify(ring)} ${ringChecked.reason}`,
    }
  }

  /** Maps a client's ring and says so; a ring it cannot (or may not) map is refused, and the client drains it itself. */
  #takeRing(hello: Hello, refused: string | undefined, socket: Socket): RingView | undefined {
    const ringPath = hello.ring
    const load = loadRingAddon()
    let view: RingView | undefined
    let reason = refused ?? load.reason
    if (refused === undefined && ringPath !== undefined && load.addon !== undefined) {
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
      const step = readMetaRecords(view, from, limit, RING_DRAIN_STEP_BYTES)
      if (!marking) {
        view.store(SLOT.PENDING_END, step.end)
        view.store(SLOT.PENDING, PENDING_SET)
      }
      // Nobody needs the records one by one: the step goes to the file as one piece.
      if (plain && !marking) sink.write(joinLines(step.records))
      else this.#writeRingRecords(owner, step.records, marking)
      moved += step.records.length
      sink.flushSync()
      view.store(SLOT.DRAINED, step.end)
      if (!marking) view.store(SLOT.PENDING, PENDING_CLEAR)
    }
  }

  #writeRingRecords(owner: RingOwner, records: readonly MetaRecord[], resent: boolean): void {
    const sink = this.#role(owner.role)
    const onRecord = this.#options.onRecord
    const client = this.#clients.get(owner.clientId)
    const forwarded: ForwardedRecord[] = []
    for (const record of records) {
      const text = withOneNewline(record.text.toString('utf8'))
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
        client.byeReason = bye.reason
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
      const text = withOneNewline(record.bytes.toString('utf8'))
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
    // A goodbye left on disk by a client whose BYE frame could not get through (a stalled collector),
    // beside its spool: only when the collector accepted that spool's folder.
    const spool = client.hello.spool
    const byeFile = spool === undefined ? undefined : join(dirname(spool), `${client.clientId}.bye`)
    if (client.ended !== 'finished' && byeFile && this.#spoolFolders.state(byeFile, client.clientId, '.bye') === 'file') {
      client.ended = 'finished'
      client.byeReason = 'close (said on disk)'
      this.logger.info({ event: 'client-finished', client: client.name, role: client.role, pid: client.pid, reason: 'close (said on disk)', records: client.written }, `finished: ${client.name} (pid ${client.pid}) said goodbye (close, on disk)`)
      this.#options.onClientEvent?.(this.#info(client), 'finished')
    }
    if (byeFile) this.#spoolFolders.remove(byeFile, client.clientId, '.bye')
    const finished = client.ended === 'finished'
    if (!finished) client.ended = 'dead'
    // Wait a moment for an exit status (of an attached child) before saying how it ended; reportDeaths() says it at once.
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
      if (!alive(client.pid)) this.#deliverSpoolSafely(client.hello)
      else if (Date.now() - started < SPOOL_DELIVERY_WAIT_MS) later(deliverWhenGone, 100)
    }
    let reported = false
    const report = (now: boolean): void => {
      if (reported) return
      const exit = this.#exits.get(client.pid)
      if (!now && !exit && !finished && alive(client.pid) && Date.now() - started < DEATH_WAIT_MS) {
        this.#deathReports.set(client, () => report(true))
        later(() => report(false), 20)
        return
      }
      reported = true
      this.#deathReports.delete(client)
      if (!finished) {
        const how = exit
          ? exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`
          : alive(client.pid) ? 'its connection dropped without a goodbye; the process is still running' : 'its connection dropped without a goodbye and the process is gone'
        this.logger.error({ event: 'client-dead', client: client.name, role: client.role, pid: client.pid, signal: exit?.signal ?? undefined, code: exit?.code ?? undefined, records: client.written }, `dead: ${client.name} (pid ${client.pid}) ${how}`)
        this.#options.onClientEvent?.(this.#info(client), 'dead', exit)
      }
      deliverWhenGone()
    }
    report(false)
  }

  /** Writes what a client that is gone left in its ring (before its spool: the spool holds what came after), then removes the ring. */
  #deliverRing(hello: Hello): void {
    const ringPath = hello.ring
    if (!ringPath) return
    const state = this.#spoolFolders.state(ringPath, hello.clientId, '.ring')
    if (state === 'missing') return
    if (state !== 'file') {
      this.logger.warn({ event: 'ring-refused', client: hello.name, pid: hello.pid, ring: ringPath, reason: state.reason }, `not delivering the ring of ${hello.name} (pid ${hello.pid}): ${ringPath} ${state.reason}`)
      return
    }
    try {
      const load = loadRingAddon()
      const ring = load.addon ? { view: mapExistingRing(load.addon, ringPath), close: () => {} } : readRingCopy(ringPath)
      try {
        const records = ring.view ? this.#drainRingView(ring.view, hello) : 0
        if (records > 0) this.logger.info({ event: 'ring-delivered', client: hello.name, pid: hello.pid, records }, `delivered ${records} records that ${hello.name} (pid ${hello.pid}) left in its ring`)
      } finally {
        ring.close()
      }
      this.#spoolFolders.remove(ringPath, hello.clientId, '.ring')
    } catch (error) {
      this.logger.error({ event: 'ring-failed', client: hello.name, pid: hello.pid, ring: ringPath, err: error }, `could not deliver the ring of ${hello.name} (pid ${hello.pid}): ${(error as Error).message}; it is left for \`blackbox recover --to FILE\``)
    }
  }

  /** #deliverSpool from a timer: whatever a spool holds, it never takes the collector down. */
  #deliverSpoolSafely(hello: Hello): void {
    try {
      this.#deliverSpool(hello)
    } catch (error) {
      this.logger.error({ event: 'spool-failed', client: hello.name, pid: hello.pid, spool: hello.spool, err: error }, `could not deliver the spool of ${hello.name} (pid ${hello.pid}): ${(error as Error).message}`)
    }
  }

  /**
   * Writes what a client that is gone left only in its ring and spool, then removes them.
   * `hello` has been through #checkPaths: its paths are in the spool folders, and are checked
   * again here, as they are used.
   */
  #deliverSpool(hello: Hello): void {
    this.#deliverRing(hello)
    const spool = hello.spool
    if (!spool) return
    const state = this.#spoolFolders.state(spool, hello.clientId, '.spool')
    if (state === 'missing') return
    if (state !== 'file') {
      this.logger.warn({ event: 'spool-refused', client: hello.name, pid: hello.pid, spool, reason: state.reason }, `not delivering the spool of ${hello.name} (pid ${hello.pid}): ${spool} ${state.reason}`)
      return
    }
    const client = this.#clients.get(hello.clientId)
    let written = Math.max(client?.written ?? 0, this.#written.get(hello.clientId) ?? 0)
    const before = written
    let damaged = 0
    const sink = this.#role(hello.role)
    const fd = openNoFollow(spool)
    try {
      for (const frame of spoolFrames(fd)) {
        if (frame.type !== FrameType.LOGS) continue
        let records: readonly WireRecord[]
        try {
          records = decodeLogs(frame.payload).records
        } catch {
          damaged++
          continue
        }
        const forwarded: ForwardedRecord[] = []
        for (const record of records) {
          if (record.seq <= written) continue
          const text = withOneNewline(record.bytes.toString('utf8'))
          sink.write(text)
          written = record.seq
          if (this.#forward.length > 0) forwarded.push({ level: record.level, timeMs: Number(record.timeNs / 1_000_000n), client: hello.name, pid: hello.pid, role: hello.role, text })
        }
        this.#forwardAll(forwarded)
      }
    } finally {
      closeSync(fd)
    }
    sink.flushSync()
    this.#written.set(hello.clientId, written)
    if (client) client.written = written
    this.#stateDirty = true
    this.#saveState()
    const folder = dirname(spool)
    this.#spoolFolders.remove(spool, hello.clientId, '.spool')
    this.#spoolFolders.remove(join(folder, `${hello.clientId}.hello.json`), hello.clientId, '.hello.json')
    this.#spoolFolders.remove(join(folder, `${hello.clientId}.bye`), hello.clientId, '.bye')
    if (damaged > 0) this.logger.warn({ event: 'spool-damaged', client: hello.name, pid: hello.pid, frames: damaged }, `skipped ${damaged} damaged frames in the spool of ${hello.name} (pid ${hello.pid})`)
    if (written > before) {
      this.logger.info({ event: 'spool-delivered', client: hello.name, pid: hello.pid, records: written - before }, `delivered ${written - before} records that ${hello.name} (pid ${hello.pid}) left in its spool`)
    }
  }

  deliverSpools(): void {
    this.#deliverOrphanSpools()
  }

  reportDeaths(): void {
    for (const report of [...this.#deathReports.values()]) report()
  }

  /** Spools of clients that died while no collector was listening, found by their descriptions in the spool folders. */
  #deliverOrphanSpools(): void {
    // The default folder of a named pipe is the user's temp folder, shared by every collector: only given folders are searched.
    const folders = isNamedPipe(this.socket) ? this.#options.spoolDirs ?? [] : this.#spoolFolders.folders
    for (const found of this.#spoolFolders.descriptions(folders)) {
      const name = basename(found.file)
      if (found.reason !== undefined) {
        this.logger.warn({ event: 'spool', file: found.file, reason: found.reason }, `could not read the spool description ${found.file}: it ${found.reason}`)
        continue
      }
      try {
        const described = decodeHello(found.text)
        if (name !== `${described.clientId}.hello.json`) throw new Error(`it describes client ${JSON.stringify(described.clientId)}, not the one it is named after`)
        if (!alive(described.pid)) this.#deliverSpool(this.#checkPaths(described, found.file).hello)
      } catch (error) {
        this.logger.warn({ event: 'spool', file: found.file, err: error }, `could not read the spool description ${found.file}: ${(error as Error).message}`)
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#deathReports.clear()
    if (this.#ackTimer) clearInterval(this.#ackTimer)
    if (this.#monitorTimer) clearInterval(this.#monitorTimer)
    if (this.#sweepTimer) clearInterval(this.#sweepTimer)
    if (this.#ringTimer) clearInterval(this.#ringTimer)
    this.#drainRings()
    this.#acknowledge()
    this.#deliverOrphanSpools()
    const server = this.#server
    // A client is told goodbye; a connection that never said who it is has nothing to be told.
    for (const connection of this.#connections) {
      if (connection.client) connection.socket.end()
      else connection.socket.destroy()
    }
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // A peer that never ends its side would hold close() forever.
      const cut = setTimeout(() => {
        for (const connection of this.#connections) connection.socket.destroy()
      }, CLOSE_CONNECTIONS_TIMEOUT_MS)
      await closed
      clearTimeout(cut)
    }
    this.#stateDirty = true
    this.#saveState()
    this.logger.info({ event: 'collector-stop' }, 'collector stopped')
    await Promise.all(this.#forward.map((queue) => queue.close()))
    await Promise.all([...this.#roles.values()].map((sink) => sink.close()))
    await this.logger.close()
  }
}
