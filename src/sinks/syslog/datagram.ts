import { createSocket, type Socket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { Backoff } from '../delivery/backoff.js'

/** Datagrams handed to the kernel and not yet confirmed; beyond this the sender waits (the sink's queue holds the rest). */
export const MAX_INFLIGHT_DATAGRAMS = 64

/** What the owner of a `DatagramSender` hears. */
export interface DatagramHooks {
  /** Sending may start or go on. */
  ready(): void
  /** A lookup, socket or send error; the sender goes on. */
  failed(error: Error, during: string): void
}

/**
 * A UDP socket connected to one syslog receiver (RFC 5426): the host is looked up once,
 * the socket of the right family is connected, each message is one datagram. A failed
 * lookup or socket is retried with a growing delay. Unref'd, like every blackbox socket.
 */
export class DatagramSender {
  readonly #host: string
  readonly #port: number
  readonly #hooks: DatagramHooks
  readonly #backoff: Backoff
  #socket: Socket | undefined
  #connected = false
  #closed = false
  #started = false
  #inflight = 0
  #timer: NodeJS.Timeout | undefined

  constructor(host: string, port: number, backoff: Backoff, hooks: DatagramHooks) {
    this.#host = host
    this.#port = port
    this.#backoff = backoff
    this.#hooks = hooks
  }

  /** Connected, not closed, and under `MAX_INFLIGHT_DATAGRAMS`. */
  get ready(): boolean {
    return this.#connected && !this.#closed && this.#inflight < MAX_INFLIGHT_DATAGRAMS
  }

  get connected(): boolean {
    return this.#connected
  }

  /** libuv hands a datagram to the kernel in the send call when its queue is empty, as it is below MAX_INFLIGHT_DATAGRAMS: none waits before it. */
  get backlogBytes(): number {
    return 0
  }

  start(): void {
    if (this.#started) return
    this.#started = true
    void this.#open()
  }

  /** Sends one datagram; `done` runs when the kernel took it, or with the error. */
  send(data: Buffer, done: (error?: Error | null) => void): void {
    const socket = this.#socket
    if (!this.#connected || socket === undefined) {
      done(new Error('not connected'))
      return
    }
    this.#inflight++
    socket.send(data, (error) => {
      this.#inflight--
      // A refused datagram (ICMP port unreachable on a connected socket) is reported; the socket stays usable.
      if (error) this.#hooks.failed(error, `send to ${this.#host}:${this.#port}`)
      done(error)
      this.#hooks.ready()
    })
  }

  /** Ends at once: the process is exiting. */
  destroy(): void {
    void this.close()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    const socket = this.#socket
    this.#socket = undefined
    this.#connected = false
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()))
  }

  async #open(): Promise<void> {
    try {
      const { address, family } = await lookup(this.#host)
      if (this.#closed) return
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4')
      socket.unref()
      this.#socket = socket
      socket.on('error', (error) => {
        if (this.#socket !== socket) return
        this.#hooks.failed(error, `socket to ${this.#host}:${this.#port}`)
        this.#socket = undefined
        this.#connected = false
        socket.close()
        this.#retry()
      })
      socket.once('connect', () => {
        if (this.#socket !== socket || this.#closed) return
        this.#connected = true
        this.#backoff.reset()
        this.#hooks.ready()
      })
      socket.connect(this.#port, address)
    } catch (error) {
      this.#hooks.failed(error as Error, `lookup of ${this.#host}`)
      this.#retry()
    }
  }

  #retry(): void {
    if (this.#closed) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#open()
    }, this.#backoff.next())
    this.#timer.unref()
  }
}
