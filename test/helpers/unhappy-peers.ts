/**
 * Peers that behave badly, one function per behaviour, for the lifecycle tests of the
 * network sinks (test/sinks/lifecycle.test.ts). Each runs in the test process, listens on
 * 127.0.0.1 (port 0) or on a Unix socket, and is closed, with every connection it holds, by
 * `close()`. Every socket gets an 'error' listener: a client that resets or goes away is
 * what these peers are for, and must not crash the test process.
 */
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { EventEmitter, once } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { KeyPair } from './test-certificates.ts'

/** Where a stream peer listens: a TCP port on 127.0.0.1, or a Unix socket at `path`. */
export type ListenOn = 'tcp' | { readonly path: string }

/** A peer on a port of 127.0.0.1 (TCP, or UDP for the datagram ones). */
export interface PortPeer {
  readonly port: number
  close(): Promise<void>
}

/** A peer on a Unix socket. */
export interface PathPeer {
  readonly path: string
  close(): Promise<void>
}

export type Peer = PortPeer | PathPeer

/** What a peer that reads keeps of what it read. */
export interface Recording {
  /** Everything received so far, decoded as UTF-8 (for TLS peers: the plaintext). */
  received(): string
  /** Resolves once `text` occurs `times` times in what was received; rejects, naming the bound, when `timeoutMs` passes first. */
  waitForOccurrences(text: string, times: number, timeoutMs: number): Promise<void>
}

/**
 * What the garbage peer answers: 0xff first, so the bytes can be none of the protocols the
 * sinks speak (not an HTTP status line, a RELP transaction number, a TLS record type or the
 * collector's 'BB' magic), then random bytes.
 */
function garbage(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0x00]), randomBytes(62)])
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1
}

/** Collects text and wakes whoever waits for some of it. */
class TextRecorder implements Recording {
  readonly #chunks: string[] = []
  readonly #events = new EventEmitter()

  add(chunk: Buffer | string): void {
    this.#chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
    this.#events.emit('data')
  }

  received(): string {
    return this.#chunks.join('')
  }

  waitForOccurrences(text: string, times: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (occurrences(this.received(), text) < times) return
        clearTimeout(timer)
        this.#events.off('data', check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#events.off('data', check)
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${times} × ${JSON.stringify(text)} (got ${occurrences(this.received(), text)})`))
      }, timeoutMs)
      this.#events.on('data', check)
      check()
    })
  }
}

/** Starts `server` on 127.0.0.1:0 or the Unix socket, and makes `close()` end every connection it accepted. */
async function listen(server: Server, on: ListenOn): Promise<Peer> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {})
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  if (on === 'tcp') server.listen(0, '127.0.0.1')
  else server.listen(on.path)
  await once(server, 'listening')
  const close = async (): Promise<void> => {
    if (!server.listening) return
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  if (on === 'tcp') return { port: (server.address() as AddressInfo).port, close }
  return { path: on.path, close }
}

/** `listen()` for peers that only make sense over TCP (HTTP, TLS). */
async function listenTcp(server: Server): Promise<PortPeer> {
  return (await listen(server, 'tcp')) as PortPeer
}

/** A TCP port on 127.0.0.1 that nothing listens on now: a connection is refused (RST). */
export async function refusedPort(): Promise<number> {
  const server = createNetServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A UDP port on 127.0.0.1 that nothing is bound to now: a datagram sent there gets an ICMP port unreachable back. */
export async function refusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/** Accepts every connection and never reads from it: the kernel buffers fill, then the client's writes stall. */
export async function acceptsNeverReads(on: ListenOn): Promise<Peer> {
  const server = createNetServer({ pauseOnConnect: true })
  return listen(server, on)
}

/**
 * Reads everything and never writes a byte back: no HTTP response, no RELP `rsp`, no
 * collector ACK. For plain syslog over TCP (or TLS, given `tls`) this is a healthy receiver.
 */
export async function readsNeverAnswers(on: ListenOn, tls?: KeyPair): Promise<Peer & Recording> {
  const recorder = new TextRecorder()
  const read = (socket: Socket): void => {
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => recorder.add(chunk))
  }
  const server = tls === undefined ? createNetServer(read) : createTlsServer({ cert: tls.cert, key: tls.key }, read)
  // A client that gives up mid-handshake is no failure of the peer.
  server.on('tlsClientError', () => {})
  const peer = await listen(server, on)
  return Object.assign(peer, { received: () => recorder.received(), waitForOccurrences: recorder.waitForOccurrences.bind(recorder) })
}

/** A UDP receiver on 127.0.0.1 that keeps every datagram: a healthy syslog peer. */
export async function udpReceiver(): Promise<PortPeer & Recording> {
  const recorder = new TextRecorder()
  const socket = createSocket('udp4')
  socket.on('message', (message: Buffer) => recorder.add(message))
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  let closed = false
  return {
    port: socket.address().port,
    close: async () => {
      if (closed) return
      closed = true
      await new Promise<void>((resolve) => socket.close(() => resolve()))
    },
    received: () => recorder.received(),
    waitForOccurrences: recorder.waitForOccurrences.bind(recorder),
  }
}

/** An HTTP server that reads each request whole, then gives the same answer to every one. */
async function answersHttp(status: number, headers: Readonly<Record<string, string>>): Promise<PortPeer> {
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume()
    request.once('end', () => response.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{"error":"unhappy peer"}'))
  })
  return listenTcp(server)
}

/** Answers every request with 500 Internal Server Error, forever. */
export function answers500(): Promise<PortPeer> {
  return answersHttp(500, {})
}

/** Answers every request with 429 Too Many Requests and `Retry-After: <seconds>` (RFC 9110 §10.2.3). */
export function answers429(retryAfterSeconds: number): Promise<PortPeer> {
  return answersHttp(429, { 'retry-after': String(retryAfterSeconds) })
}

/** Accepts each connection and resets it at once: an RST over TCP; over a Unix socket (which has none), an immediate close. */
export async function resetsConnections(on: ListenOn): Promise<Peer> {
  const server = createNetServer((socket) => {
    socket.on('error', () => {})
    // resetAndDestroy() throws ERR_INVALID_HANDLE_TYPE on a pipe.
    if (on === 'tcp') socket.resetAndDestroy()
    else socket.destroy()
  })
  return listen(server, on)
}

/** Reads everything and answers bytes of no protocol: once on connecting, then after every chunk it reads. */
export async function answersGarbage(on: ListenOn): Promise<Peer> {
  const server = createNetServer((socket) => {
    socket.on('error', () => {})
    socket.write(garbage())
    socket.on('data', () => {
      if (socket.writable) socket.write(garbage())
    })
  })
  return listen(server, on)
}

/** A TLS server with a certificate its clients cannot verify (`keys`: a self-signed pair); it records whatever a client sends anyway. */
export async function untrustedTls(keys: KeyPair): Promise<PortPeer & Recording> {
  const peer = await readsNeverAnswers('tcp', keys)
  return peer as PortPeer & Recording
}

/**
 * An HTTPS server that answers 200 with `{"ok":true}` and records the body of every request.
 * With a self-signed pair as `keys` its clients cannot verify it: a client that skipped
 * verification would see success, and the recording, which should stay empty, shows it. With
 * a pair the test CA signed it is a healthy peer.
 */
export async function recordingHttps(keys: KeyPair): Promise<PortPeer & Recording> {
  const recorder = new TextRecorder()
  const server = createHttpsServer({ cert: keys.cert, key: keys.key }, (request: IncomingMessage, response: ServerResponse) => {
    request.on('data', (chunk: Buffer) => recorder.add(chunk))
    request.once('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  })
  server.on('tlsClientError', () => {})
  const peer = await listenTcp(server)
  return Object.assign(peer, { received: () => recorder.received(), waitForOccurrences: recorder.waitForOccurrences.bind(recorder) })
}
