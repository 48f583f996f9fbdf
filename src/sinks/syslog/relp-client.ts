import { Connection, type ConnectionOptions } from './connection.js'
import { encodeRelpFrame, nextTxnr, RelpDecoder, type RelpFrame } from './relp-frame.js'

/** Frames sent and not yet answered, at most; rsyslog's imrelp takes 128 by default. */
export const RELP_WINDOW_FRAMES = 128
/** A session with frames outstanding and no response for this long is taken for dead and reopened. */
export const RELP_ACK_TIMEOUT_MS = 10_000
/** How long `close()` waits for the server's answer to `close`. */
export const RELP_CLOSE_TIMEOUT_MS = 2_000

/** What the client offers in `open` (RELP: version 0, one command). */
const OFFERS = 'relp_version=0\nrelp_software=blackbox-log\ncommands=syslog'

/** One record to deliver, and the position that acknowledges it (see `Spool`). */
export interface RelpEntry {
  readonly data: Buffer
  readonly token: number
}

/** What the owner of a `RelpClient` hears. */
export interface RelpClientHooks {
  /** Every entry up to and including this token is done with: acknowledged, or refused. */
  settled(token: number): void
  /** The server answered an entry with an error (`500 …`): it is given up, not resent. */
  refused(entry: RelpEntry, response: string): void
  /** There is room in the window: send more. */
  ready(): void
  /** The session failed or ended; it is reopened after a delay and unacknowledged entries resent. */
  failed(error: Error, during: string): void
}

/** The connection's options, the window and the acknowledgement bound. */
export interface RelpClientOptions extends ConnectionOptions {
  windowFrames: number
  ackTimeoutMs: number
}

interface InFlight {
  readonly entry: RelpEntry
  /** This session's transaction number, or 0 while waiting for the session. */
  txnr: number
  done: boolean
}

type SessionState = 'down' | 'opening' | 'open' | 'closing' | 'closed'

/** The parts of an `rsp`: `200 OK`, or `500 reason`, maybe with more lines. */
function parseResponse(data: Buffer): { code: number; text: string } {
  const text = data.toString()
  const code = Number.parseInt(text.slice(0, 3), 10)
  return { code: Number.isNaN(code) ? 0 : code, text }
}

/**
 * A RELP client (rsyslog's Reliable Event Logging Protocol): one session at a time over a
 * `Connection`, up to `windowFrames` `syslog` frames unanswered, each settled by the
 * server's `rsp`. Entries not answered when a session ends stay in flight and are resent,
 * in order, with new transaction numbers, as soon as the next session is open.
 */
export class RelpClient {
  readonly #options: RelpClientOptions
  readonly #hooks: RelpClientHooks
  readonly #connection: Connection
  #state: SessionState = 'down'
  #decoder = new RelpDecoder()
  #txnr = 0
  #openTxnr = 0
  #closeTxnr = 0
  #onClosed: (() => void) | undefined
  readonly #inflight: InFlight[] = []
  readonly #byTxnr = new Map<number, InFlight>()
  #ackTimer: NodeJS.Timeout | undefined

  constructor(options: RelpClientOptions, hooks: RelpClientHooks) {
    this.#options = options
    this.#hooks = hooks
    this.#connection = new Connection(options, {
      connected: () => this.#openSession(),
      data: (chunk) => this.#receive(chunk),
      drained: () => {},
      disconnected: (error) => this.#sessionEnded(error),
    })
  }

  /** How many more entries may be sent now. */
  get room(): number {
    return this.#state === 'open' ? this.#options.windowFrames - this.#inflight.length : 0
  }

  /** Entries sent (or waiting to be resent) and not yet answered. */
  get inflight(): number {
    return this.#inflight.length
  }

  /** Whether a session is open. */
  get open(): boolean {
    return this.#state === 'open'
  }

  start(): void {
    this.#connection.start()
  }

  /** Sends an entry; only while `room > 0`. */
  send(entry: RelpEntry): void {
    const item: InFlight = { entry, txnr: 0, done: false }
    this.#inflight.push(item)
    if (this.#state === 'open') this.#transmit(item)
  }

  /**
   * Ends the session (`close`, waiting for its answer) and the connection, together within
   * `timeoutMs`; nothing is resent afterwards. The bound's timer is ref'd: a program awaiting
   * this stays alive until it settles, and it always settles.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return
    const deadline = Date.now() + timeoutMs
    if (this.#state === 'open' && this.#inflight.length === 0) {
      this.#state = 'closing'
      this.#closeTxnr = this.#nextTxnr()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(timeoutMs, RELP_CLOSE_TIMEOUT_MS))
        this.#onClosed = () => {
          clearTimeout(timer)
          resolve()
        }
        this.#connection.write(encodeRelpFrame(this.#closeTxnr, 'close'))
      })
    }
    this.#state = 'closed'
    this.#stopAckTimer()
    await this.#connection.close(Math.max(0, deadline - Date.now()))
  }

  /** Ends at once (the process is exiting): what was not acknowledged stays in the spool. */
  destroy(): void {
    this.#state = 'closed'
    this.#stopAckTimer()
    this.#connection.destroy()
  }

  #nextTxnr(): number {
    this.#txnr = nextTxnr(this.#txnr)
    return this.#txnr
  }

  #openSession(): void {
    this.#decoder = new RelpDecoder()
    this.#byTxnr.clear()
    this.#txnr = 0
    this.#state = 'opening'
    this.#openTxnr = this.#nextTxnr()
    this.#connection.write(encodeRelpFrame(this.#openTxnr, 'open', OFFERS))
    this.#startAckTimer()
  }

  #transmit(item: InFlight): void {
    item.txnr = this.#nextTxnr()
    this.#byTxnr.set(item.txnr, item)
    this.#connection.write(encodeRelpFrame(item.txnr, 'syslog', item.entry.data))
    if (this.#ackTimer === undefined) this.#startAckTimer()
  }

  #receive(chunk: Buffer): void {
    for (const frame of this.#decoder.push(chunk)) {
      if (this.#state === 'down' || this.#state === 'closed') break
      this.#handle(frame)
    }
    // Once per chunk, not per answer: the spool's header is rewritten once for all of them.
    this.#settle()
    if (this.#state === 'down') return
    const error = this.#decoder.error
    if (error !== undefined) this.#drop(new Error(error))
  }

  #handle(frame: RelpFrame): void {
    if (frame.command === 'serverclose') {
      this.#drop(new Error('the server ended the session (serverclose)'))
      return
    }
    if (frame.command !== 'rsp') {
      this.#drop(new Error(`the server sent \`${frame.command}\`, which a RELP client does not take`))
      return
    }
    const { code, text } = parseResponse(frame.data)
    if (frame.txnr === this.#openTxnr && this.#state === 'opening') return this.#opened(code, text)
    if (frame.txnr === this.#closeTxnr && this.#state === 'closing') return this.#onClosed?.()
    const item = this.#byTxnr.get(frame.txnr)
    if (item === undefined) {
      this.#drop(new Error(`the server answered transaction ${frame.txnr}, which is not outstanding`))
      return
    }
    this.#byTxnr.delete(frame.txnr)
    item.done = true
    if (code !== 200) this.#hooks.refused(item.entry, text)
  }

  #opened(code: number, text: string): void {
    if (code !== 200 || !/^commands=(?:.*,)?syslog(?:,|$)/m.test(text)) {
      this.#drop(new Error(`the server refused the session: ${JSON.stringify(text)}`))
      return
    }
    this.#state = 'open'
    this.#connection.resetBackoff()
    // What the last session left unanswered goes first, in its order.
    for (const item of this.#inflight) this.#transmit(item)
    if (this.#byTxnr.size === 0) this.#stopAckTimer()
    else this.#startAckTimer()
    this.#hooks.ready()
  }

  /** Hands the settled prefix of the window back, so the spool can forget it, and asks for more. */
  #settle(): void {
    // Bytes from the server are progress: the ack timeout starts again, or stops when nothing is outstanding.
    if (this.#byTxnr.size === 0 || this.#state === 'down' || this.#state === 'closed') this.#stopAckTimer()
    else this.#startAckTimer()
    let last: RelpEntry | undefined
    while (this.#inflight[0]?.done) last = (this.#inflight.shift() as InFlight).entry
    if (last === undefined) return
    this.#hooks.settled(last.token)
    this.#hooks.ready()
  }

  #sessionEnded(error: Error | undefined): void {
    const wasClosing = this.#state === 'closing' || this.#state === 'closed'
    this.#stopAckTimer()
    this.#byTxnr.clear()
    for (const item of this.#inflight) item.txnr = 0
    if (this.#state === 'closing') this.#onClosed?.()
    if (this.#state !== 'closed') this.#state = wasClosing ? 'closed' : 'down'
    if (!wasClosing && error !== undefined) this.#hooks.failed(error, `session with ${this.#options.host}:${this.#options.port}`)
  }

  /** Abandons this session at once (later frames of the same chunk are ignored); the connection comes back by itself. */
  #drop(error: Error): void {
    if (this.#state === 'opening' || this.#state === 'open') this.#state = 'down'
    this.#connection.drop(error)
  }

  #startAckTimer(): void {
    this.#stopAckTimer()
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined
      this.#drop(new Error(`${this.#options.host}:${this.#options.port} answered nothing for ${this.#options.ackTimeoutMs} ms (ackTimeout)`))
    }, this.#options.ackTimeoutMs)
    this.#ackTimer.unref()
  }

  #stopAckTimer(): void {
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer)
    this.#ackTimer = undefined
  }
}
