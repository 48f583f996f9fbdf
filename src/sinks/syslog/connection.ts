import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { Backoff } from '../delivery/backoff.js'
import { watchStuckWrites } from '../delivery/stuck-writes.js'

/** How long a connection attempt (TCP and TLS handshake) may take before it is abandoned. */
export const CONNECT_TIMEOUT_MS = 5_000
/** A connection that stayed up this long was real progress: the next reconnect starts from the shortest delay. */
export const STABLE_CONNECTION_MS = 1_000
/** TCP keep-alive probes start after this much silence, so a vanished peer is noticed. */
export const KEEPALIVE_DELAY_MS = 30_000
/** How long `close()` waits for the peer to finish the connection before it is destroyed. */
export const CLOSE_TIMEOUT_MS = 2_000
/** How long the synchronous send at exit may block, for the sinks that send at exit. */
export const EXIT_TIMEOUT_MS = 1_000

/** Where to connect, how, and how patiently. */
export interface ConnectionOptions {
  host: string
  port: number
  /** TLS options when the connection is TLS (RFC 5425), undefined for plain TCP. */
  tls: TlsConnectionOptions | undefined
  connectTimeoutMs: number
  minReconnectDelayMs: number
  maxReconnectDelayMs: number
}

/** What the owner of a connection hears. */
export interface ConnectionHooks {
  /** Connected (and, with TLS, the handshake done): writing may start. */
  connected(): void
  /** Bytes from the peer. */
  data(chunk: Buffer): void
  /** The socket's buffer drained: more may be written. */
  drained(): void
  /** The connection is gone (or never came); a reconnect is scheduled unless the connection was closed. */
  disconnected(error: Error | undefined): void
}

type State = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed'

/**
 * One TCP or TLS connection that comes back: after a failure or a close by the peer it
 * reconnects with a growing delay (see `Backoff`) until `close()`. The socket and the
 * timers are unref'd: a logging connection never keeps a finished program alive. Nor does
 * a peer that stops reading: when the program has finished and only this socket's pending
 * writes hold it, the socket is destroyed (see `watchStuckWrites`). While `close()` runs,
 * its bound keeps the process alive, so the line after `await close()` runs.
 */
export class Connection {
  readonly #options: ConnectionOptions
  readonly #hooks: ConnectionHooks
  readonly #backoff: Backoff
  #state: State = 'idle'
  #socket: Socket | undefined
  #timer: NodeJS.Timeout | undefined
  #connectedAt = 0

  constructor(options: ConnectionOptions, hooks: ConnectionHooks) {
    this.#options = options
    this.#hooks = hooks
    this.#backoff = new Backoff(options.minReconnectDelayMs, options.maxReconnectDelayMs)
  }

  /** Connected and not closed: `write()` goes to the peer. */
  get connected(): boolean {
    return this.#state === 'connected'
  }

  get closed(): boolean {
    return this.#state === 'closed'
  }

  /** Bytes handed to the socket and not yet to the kernel. */
  get backlogBytes(): number {
    return this.#socket?.writableLength ?? 0
  }

  /** Starts connecting, once. */
  start(): void {
    if (this.#state === 'idle') this.#connect()
  }

  /** After progress the owner can judge (a RELP session opened): the next reconnect starts from the shortest delay. */
  resetBackoff(): void {
    this.#backoff.reset()
  }

  /** Writes to the connected socket; `done` runs when the bytes reached the kernel, or failed. */
  write(data: Buffer, done?: (error?: Error | null) => void): void {
    const socket = this.#socket
    if (this.#state !== 'connected' || socket === undefined) {
      done?.(new Error('not connected'))
      return
    }
    socket.write(data, done)
  }

  /** Abandons the current connection (a protocol error, a silent peer) and reconnects after the backoff delay. */
  drop(error: Error): void {
    if (this.#state === 'connected' || this.#state === 'connecting') this.#socket?.destroy(error)
  }

  /** The socket, while there is one: the sinks write to it directly at exit. */
  get socket(): Socket | undefined {
    return this.#socket
  }

  /**
   * Ends the connection: lets what was written go out, waits for the peer at most
   * `timeoutMs`, then destroys the socket; never reconnects, and always settles. The bound's
   * timer is ref'd, so a program awaiting this stays alive until it settles.
   */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    const socket = this.#socket
    this.#state = 'closed'
    if (socket === undefined || socket.destroyed) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), timeoutMs)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.end()
    })
  }

  /** Ends at once (the process is exiting): the socket is destroyed, nothing reconnects. */
  destroy(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#state = 'closed'
    this.#socket?.destroy()
  }

  #connect(): void {
    this.#state = 'connecting'
    const { host, port, tls } = this.#options
    const socket = tls === undefined ? netConnect({ host, port }) : tlsConnect({ ...tls, host, port })
    this.#socket = socket
    socket.unref()
    socket.setNoDelay(true)
    socket.setTimeout(this.#options.connectTimeoutMs)
    let lastError: Error | undefined
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      if (this.#state !== 'connecting' || this.#socket !== socket) return
      socket.setTimeout(0)
      socket.setKeepAlive(true, KEEPALIVE_DELAY_MS)
      this.#state = 'connected'
      this.#connectedAt = Date.now()
      const stopWatch = watchStuckWrites(socket, () => {
        socket.destroy(new Error(`${host}:${port} took no bytes and the program has finished: the connection was given up so the process can end`))
      })
      socket.once('close', stopWatch)
      this.#hooks.connected()
    })
    socket.on('timeout', () => {
      socket.destroy(new Error(`Connecting to ${host}:${port} took longer than ${this.#options.connectTimeoutMs} ms (connectTimeout)`))
    })
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#hooks.data(chunk)
    })
    socket.on('drain', () => {
      if (this.#socket === socket && this.#state === 'connected') this.#hooks.drained()
    })
    socket.on('error', (error) => {
      lastError = error
    })
    socket.once('close', () => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      const wasUp = this.#state === 'connected'
      if (wasUp && Date.now() - this.#connectedAt >= STABLE_CONNECTION_MS) this.#backoff.reset()
      if (this.#state !== 'closed') {
        this.#state = 'waiting'
        this.#timer = setTimeout(() => {
          this.#timer = undefined
          if (this.#state === 'waiting') this.#connect()
        }, this.#backoff.next())
        this.#timer.unref()
      }
      this.#hooks.disconnected(lastError ?? (wasUp ? new Error(`${host}:${port} closed the connection`) : undefined))
    })
  }
}
