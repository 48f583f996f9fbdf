import { LEVEL_VALUES, levelValue, type LevelInput } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { registerSink, unregisterSink } from '../registry.js'
import { Backoff, MAX_RECONNECT_DELAY_MS, MIN_RECONNECT_DELAY_MS } from '../delivery/backoff.js'
import { ByteQueue, OVERFLOW_POLICIES, type OverflowPolicy } from '../delivery/byte-queue.js'
import { CLOSE_TIMEOUT_MS, CONNECT_TIMEOUT_MS, Connection, EXIT_TIMEOUT_MS } from './connection.js'
import { DatagramSender } from './datagram.js'
import { FlushTimeoutError, FlushWaiters } from '../delivery/flush-timeout.js'
import { checkFraming, frame, type Framing } from './framing.js'
import { checkChoice, checkHost, checkInteger, checkObject, checkPort, checkSize, checkTls, type TlsOptions } from './options.js'
import { Rfc5424Formatter, type Rfc5424Options } from './rfc5424.js'

/** While the receiver cannot be reached (or is slow), messages wait in a queue of at most this many bytes; then `overflow` decides. */
export const SYSLOG_QUEUE_BYTES = 4 * 1024 * 1024
/** Bytes the socket may hold beyond the kernel before the sink stops handing it more (the queue holds the rest, bounded). */
export const SOCKET_HIGH_WATER_BYTES = 64 * 1024
/** Frames are gathered into writes of up to this many bytes. */
export const WRITE_BATCH_BYTES = 64 * 1024
/** The largest datagram sent: RFC 5426 §3.2 says receivers SHOULD take 2048 octets; longer messages are cut, with a marker. */
export const UDP_MAX_MESSAGE_BYTES = 2048
/** RFC 5426 §3.2: every IPv4 receiver MUST take 480 octets, so no datagram limit may be set below. */
export const MIN_DATAGRAM_BYTES = 480
/** How long `flush()` waits for the queue to reach the kernel. */
export const SYSLOG_FLUSH_TIMEOUT_MS = 5_000

/** The transport: TCP (RFC 6587), TLS (RFC 5425) or UDP (RFC 5426). */
export type SyslogProtocol = 'tcp' | 'tls' | 'udp'

const PROTOCOLS: readonly SyslogProtocol[] = ['tcp', 'tls', 'udp']

/** Ports by protocol: 514 for UDP (RFC 5426) and TCP (custom), 6514 for TLS (RFC 5425 §4.1). */
export const DEFAULT_SYSLOG_PORTS: Readonly<Record<SyslogProtocol, number>> = { udp: 514, tcp: 514, tls: 6514 }

/** Options of `syslogSink()`; the message options (`appName`, `facility`…) come from `Rfc5424Options`. */
export interface SyslogSinkOptions extends Rfc5424Options {
  /** The receiver's host name or address. */
  host: string
  /** Default 514 (udp, tcp) or 6514 (tls). */
  port?: number
  /** `'tcp'` (default), `'tls'` (RFC 5425) or `'udp'` (RFC 5426). */
  protocol?: SyslogProtocol
  /** Over tcp and tls: `'octet-counting'` (default, RFC 6587 §3.4.1) or `'newline'`. Not for udp. */
  framing?: Framing
  /** For `'tls'`: `ca`, `cert`, `key`, `rejectUnauthorized`, `servername`… as `tls.connect()` takes them. */
  tls?: TlsOptions
  /** The lowest level this sink writes; default everything the logger passes. */
  level?: LevelInput
  /** Bytes of messages kept while the receiver cannot take them; default 4 MiB. `"10 MB"` works. */
  maxQueueBytes?: number | string
  /** When the queue is full: `'drop-oldest'` (default: keep the latest records) or `'drop-newest'`. */
  overflow?: OverflowPolicy
  /** UDP: the largest datagram; longer messages are cut with a marker. Default 2048, at least 480. */
  maxDatagramBytes?: number
  /** The first reconnect delay in ms; default 100. It doubles up to `maxReconnectDelay`. */
  minReconnectDelay?: number
  /** The longest reconnect delay in ms; default 10,000. */
  maxReconnectDelay?: number
  /** How long a connection attempt may take, in ms; default 5,000. */
  connectTimeout?: number
  /** How long `flush()` waits, in ms; default 5,000. `close()` flushes once, within it. */
  flushTimeout?: number
  /** How long `close()` then waits for the receiver to end the connection, in ms; default 2,000. */
  closeTimeout?: number
  /**
   * While records wait for a connection (the first one, or after an outage), a program that
   * has finished is kept alive at most this long, in ms, for the connection to come (a TLS
   * handshake cannot be done at exit); default 1,000. At exit, what is queued is handed to
   * the socket at once.
   */
  exitTimeout?: number
}

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/** What the sink needs of a UDP socket or a TCP/TLS connection. */
interface Transport {
  /** Whether to hand it more now. */
  readonly ready: boolean
  /** Whether it is connected at all (`flushSync` ignores the high-water mark, not the connection). */
  readonly connected: boolean
  start(): void
  send(data: Buffer, done: (error?: Error | null) => void): void
  /** Bytes handed over and not yet in the kernel. */
  readonly backlogBytes: number
  close(timeoutMs: number): Promise<void>
  /** Ends at once: the process is exiting. */
  destroy(): void
}

/** One hand-over to the transport, until it is confirmed in the kernel. */
interface Sent {
  readonly bytes: number
  readonly records: number
}

/** A sink that sends RFC 5424 messages to a syslog receiver over TCP, TLS or UDP; see `syslogSink()`. */
export class SyslogSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Rfc5424Formatter
  readonly failures: FailureReport
  readonly host: string
  readonly port: number
  readonly protocol: SyslogProtocol
  /** The framing on tcp and tls; undefined on udp. */
  readonly framing: Framing | undefined
  readonly #queue: ByteQueue
  readonly #transport: Transport
  readonly #maxDatagramBytes: number
  readonly #flushTimeoutMs: number
  readonly #closeTimeoutMs: number
  readonly #exitTimeoutMs: number
  // Ref'd while records wait for a connection: see `exitTimeout`.
  #holdTimer: NodeJS.Timeout | undefined
  readonly #waiters = new FlushWaiters()
  // Hand-overs not yet confirmed, oldest first: what the kernel may not have at exit.
  readonly #unconfirmed: Sent[] = []
  #pumpScheduled = false
  #closed = false
  #closing: Promise<void> | undefined
  #droppedAtClose = 0

  constructor(options: SyslogSinkOptions) {
    checkObject(options, 'syslogSink()')
    this.host = checkHost(options.host)
    this.protocol = checkChoice(options.protocol, 'protocol', PROTOCOLS, 'tcp')
    this.port = checkPort(options.port, DEFAULT_SYSLOG_PORTS[this.protocol])
    if (this.protocol === 'udp' && options.framing !== undefined) {
      throw new TypeError(`Expected \`framing\` to be left out with protocol 'udp' (one message per datagram), got \`${String(options.framing)}\` (${typeof options.framing})`)
    }
    if (this.protocol !== 'tls' && options.tls !== undefined) {
      throw new TypeError(`Expected \`tls\` to be left out unless protocol is 'tls', got protocol \`${this.protocol}\``)
    }
    this.framing = this.protocol === 'udp' ? undefined : checkFraming(options.framing)
    this.level = options.level === undefined ? 0 : levelValue(options.level)
    this.formatter = new Rfc5424Formatter(options)
    this.#maxDatagramBytes = checkInteger(options.maxDatagramBytes, 'maxDatagramBytes', UDP_MAX_MESSAGE_BYTES, MIN_DATAGRAM_BYTES)
    this.#flushTimeoutMs = checkInteger(options.flushTimeout, 'flushTimeout', SYSLOG_FLUSH_TIMEOUT_MS)
    this.#closeTimeoutMs = checkInteger(options.closeTimeout, 'closeTimeout', CLOSE_TIMEOUT_MS)
    this.#exitTimeoutMs = checkInteger(options.exitTimeout, 'exitTimeout', EXIT_TIMEOUT_MS)
    const maxQueueBytes = checkSize(options.maxQueueBytes, 'maxQueueBytes', SYSLOG_QUEUE_BYTES)
    this.#queue = new ByteQueue(maxQueueBytes, checkChoice(options.overflow, 'overflow', OVERFLOW_POLICIES, 'drop-oldest'))
    const minDelay = checkInteger(options.minReconnectDelay, 'minReconnectDelay', MIN_RECONNECT_DELAY_MS)
    const maxDelay = checkInteger(options.maxReconnectDelay, 'maxReconnectDelay', Math.max(MAX_RECONNECT_DELAY_MS, minDelay), minDelay)
    const connectTimeoutMs = checkInteger(options.connectTimeout, 'connectTimeout', CONNECT_TIMEOUT_MS)
    this.name = `syslog ${this.protocol}://${this.host}:${this.port}`
    this.failures = new FailureReport(this.name)
    this.#transport =
      this.protocol === 'udp'
        ? new DatagramSender(this.host, this.port, new Backoff(minDelay, maxDelay), {
            ready: () => this.#pump(),
            failed: (error, during) => this.failures.report(error, during),
          })
        : this.#streamTransport(
            new Connection(
              {
                host: this.host,
                port: this.port,
                tls: this.protocol === 'tls' ? checkTls(options.tls, this.host) : undefined,
                connectTimeoutMs,
                minReconnectDelayMs: minDelay,
                maxReconnectDelayMs: maxDelay,
              },
              {
                connected: () => this.#pump(),
                drained: () => this.#pump(),
                data: () => {},
                disconnected: (error) => {
                  if (error && !this.#closed) this.failures.report(error, `connection to ${this.host}:${this.port}`)
                },
              },
            ),
          )
    this.#transport.start()
    registerSink(this)
  }

  /** Messages dropped since the sink was made: queue overflow, what was still queued at `close()`, records written after it. */
  get dropped(): number {
    return this.#queue.droppedTotal + this.#droppedAtClose
  }

  /** Messages waiting to be handed to the socket. */
  get queued(): number {
    return this.#queue.length
  }

  /** Whether the socket is connected now. */
  get connected(): boolean {
    return this.#transport.connected
  }

  write(line: string, record: LogRecord): void {
    if (this.#closed) {
      this.#droppedAtClose++
      this.failures.report(new Error('a record written after close() was dropped'), 'write')
      return
    }
    this.#queue.push(this.#encode(line, record))
    if (!this.#transport.connected) this.#holdForConnection()
    if (!this.#pumpScheduled) {
      // One write per burst of synchronous log calls, not one per record.
      this.#pumpScheduled = true
      queueMicrotask(() => this.#pump())
    }
  }

  /** Hands everything queued to a connected socket before returning (the kernel sends it even if the process then ends). */
  flushSync(): void {
    this.#pump(true)
  }

  /** Resolves when everything written has reached the kernel; rejects with `FlushTimeoutError` after `flushTimeout` ms. */
  async flush(): Promise<void> {
    this.#pump()
    await this.#waiters.wait(
      () => this.#idle(),
      this.#flushTimeoutMs,
      () => new FlushTimeoutError(this.name, this.#queue.length + this.#unconfirmedRecords(), this.#flushTimeoutMs, 'handed to the kernel'),
    )
  }

  /**
   * Flushes once, within `flushTimeout` (a connection under way may still take the records),
   * then ends the connection within `closeTimeout`; always settles, and a second call gets
   * the same promise. What is still queued then is dropped, counted, and told once on stderr.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /**
   * At exit (the registry's exit path): what is queued is handed to the socket now, whatever
   * did not reach the kernel is counted and told once, and the socket is destroyed, so a
   * receiver that takes nothing never holds the process.
   */
  exitSync(): void {
    if (this.#closed) return
    this.#pump(true)
    this.#closed = true
    this.#releaseHold()
    unregisterSink(this)
    this.#droppedAtClose += this.#queue.length + this.#notInKernel()
    this.#tellLoss('at exit')
    this.#transport.destroy()
  }

  async #close(): Promise<void> {
    // Connected or not: a connection under way (the first, or after an outage) may still take the records within flushTimeout.
    try {
      await this.flush()
    } catch (error) {
      this.failures.report(error, 'close')
    }
    this.#closed = true
    this.#releaseHold()
    unregisterSink(this)
    // What is left is told in the one loss line, not as a failure block besides.
    this.#droppedAtClose += this.#queue.length
    this.#tellLoss('at close()')
    await this.#transport.close(this.#closeTimeoutMs)
  }

  /** Keeps a finished program alive at most `exitTimeout` while records wait for a connection. */
  #holdForConnection(): void {
    if (this.#holdTimer !== undefined || this.#closed) return
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined
    }, this.#exitTimeoutMs)
  }

  #releaseHold(): void {
    if (this.#holdTimer === undefined) return
    clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
  }

  #tellLoss(when: string): void {
    this.failures.tellLoss(this.dropped, ` (dropped from the queue or not taken by ${this.host}:${this.port} ${when})`)
  }

  #unconfirmedRecords(): number {
    let records = 0
    for (const sent of this.#unconfirmed) records += sent.records
    return records
  }

  /** Records of the newest hand-overs whose bytes are still before the kernel (a hand-over cut in part counts whole). */
  #notInKernel(): number {
    let backlog = this.#transport.backlogBytes
    let records = 0
    for (let index = this.#unconfirmed.length - 1; index >= 0 && backlog > 0; index--) {
      const sent = this.#unconfirmed[index] as Sent
      records += sent.records
      backlog -= sent.bytes
    }
    return records
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#unconfirmed.length === 0
  }

  #encode(line: string, record: LogRecord): Buffer {
    const message = line.endsWith('\n') ? line.slice(0, -1) : line
    if (this.framing !== undefined) return frame(message, this.framing)
    const bytes = Buffer.from(message)
    return bytes.length <= this.#maxDatagramBytes ? bytes : Buffer.from(this.formatter.formatWithin(record, this.#maxDatagramBytes))
  }

  /** The notice, sent before the next message, of what the queue dropped. */
  #dropNotice(count: number): Buffer {
    const record: LogRecord = {
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: Date.now(),
      msg: `blackbox: ${count} syslog messages were dropped (${this.#queue.policy}): the queue of ${this.#queue.maxBytes} bytes (maxQueueBytes) was full while ${this.host}:${this.port} could not take them`,
      context: NOTICE_CONTEXT,
      fields: { dropped: count },
      err: undefined,
      callsite: undefined,
    }
    return this.#encode(this.formatter.format(record), record)
  }

  #pump(force = false): void {
    this.#pumpScheduled = false
    const transport = this.#transport
    if (transport.connected) this.#releaseHold()
    const batchBytes = this.framing === undefined ? 0 : WRITE_BATCH_BYTES
    while (this.#queue.length > 0 && (force ? transport.connected : transport.ready)) {
      const batch: Buffer[] = []
      const dropped = this.#queue.takeDropped()
      if (dropped > 0) batch.push(this.#dropNotice(dropped))
      const notices = batch.length
      let bytes = 0
      for (let next = this.#queue.peek(); next !== undefined; next = this.#queue.peek()) {
        if (batch.length > 0 && bytes + next.length > batchBytes) break
        batch.push(next)
        bytes += next.length
        this.#queue.shift()
      }
      if (batchBytes === 0) batch.forEach((datagram, index) => this.#send(datagram, index < notices ? 0 : 1))
      else this.#send(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch), batch.length - notices)
    }
    this.#waiters.notify()
  }

  #send(data: Buffer, records: number): void {
    const sent: Sent = { bytes: data.length, records }
    this.#unconfirmed.push(sent)
    this.#transport.send(data, () => {
      // Errors are reported by the transport; what was in flight then is gone (TCP syslog has no acknowledgements: see RELP).
      this.#unconfirmed.splice(this.#unconfirmed.indexOf(sent), 1)
      this.#waiters.notify()
    })
  }

  #streamTransport(connection: Connection): Transport {
    return {
      get ready() {
        return connection.connected && connection.backlogBytes < SOCKET_HIGH_WATER_BYTES
      },
      get connected() {
        return connection.connected
      },
      get backlogBytes() {
        return connection.backlogBytes
      },
      start: () => connection.start(),
      send: (data, done) => connection.write(data, done),
      close: (timeoutMs) => connection.close(timeoutMs),
      destroy: () => connection.destroy(),
    }
  }
}

/**
 * A sink that sends each record as an RFC 5424 message to a syslog receiver (rsyslog,
 * syslog-ng…) over TCP (RFC 6587 octet counting or newline framing), TLS (RFC 5425) or
 * UDP (RFC 5426). A log call never waits for the network: messages go through a bounded
 * queue, the connection comes back by itself, drops are counted and announced.
 */
export function syslogSink(options: SyslogSinkOptions): SyslogSink {
  return new SyslogSink(options)
}
