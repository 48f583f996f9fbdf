import http from 'node:http'
import { readFileSync } from 'node:fs'
import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import { watchStuckWrites } from './stuck-writes.js'

let userAgent: string | undefined

/**
 * `blackbox-log/<version>`, sent with every request: the OTLP exporter specification asks
 * exporters to name themselves, and a webhook service's logs are easier to read for it.
 * Read from package.json once, at the first request (this file is three folders deep in
 * both src/ and dist/).
 */
export function blackboxUserAgent(): string {
  if (userAgent === undefined) {
    let version = 'unknown'
    try {
      const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
      if (typeof manifest.version === 'string') version = manifest.version
    } catch {
      // A bundled or trimmed install: the name alone still says who is calling.
    }
    userAgent = `blackbox-log/${version}`
  }
  return userAgent
}

/** Bytes of an answer kept: plenty for any service's error description, bounded against a hostile server. */
export const MAX_ANSWER_BYTES = 64 * 1024

/** What a server answered. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  /** The first MAX_ANSWER_BYTES of the body. */
  readonly body: string
}

/** Why a request got no answer: a closed set. */
export type RequestFailure = 'network' | 'timeout' | 'aborted'

/** How `postRaw()` makes one request. */
export interface PostOptions {
  /** The whole request, answer included, must finish within this. */
  readonly timeoutMs: number
  /** Abandons the request (the sink took its records over on the synchronous path). */
  readonly signal?: AbortSignal
  /** Keep-alive connections of the sink; `false` for a connection of its own. */
  readonly agent?: http.Agent | false
  /** Removes secrets from any text taken from a lower layer. */
  readonly scrub: (text: string) => string
}

/** What a server answered, the body as bytes (an answer may be binary, e.g. OTLP's protobuf). */
export interface RawAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  /** The first MAX_ANSWER_BYTES of the body. */
  readonly bytes: Buffer
}

/** Builds the error of a request that got no answer; each sink has its own class. */
export type NoAnswerError<E extends Error> = (message: string, failure: RequestFailure, code?: string) => E

function describeNetworkError<E extends Error>(error: unknown, scrub: (text: string) => string, makeError: NoAnswerError<E>): E {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  let message: string
  try {
    message = error instanceof Error ? error.message : String(error)
  } catch {
    message = 'unprintable error'
  }
  return makeError(`request failed: ${scrub(message)}`, 'network', typeof code === 'string' ? code : undefined)
}

/**
 * POSTs `body` (text or bytes) and resolves with the answer; rejects with `makeError`'s
 * error when there is none. Never holds the process open: the socket is unref'd, because a
 * record still in flight at exit is sent again synchronously (see exit-send.ts).
 */
export function postRaw<E extends Error>(url: URL, headers: Readonly<Record<string, string>>, body: string | Uint8Array, options: PostOptions, makeError: NoAnswerError<E>): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const { signal, scrub, timeoutMs } = options
    let settled = false
    const transport = url.protocol === 'https:' ? https : http
    const request = transport.request(url, {
      method: 'POST',
      headers: { 'user-agent': blackboxUserAgent(), ...headers, 'content-length': Buffer.byteLength(body) },
      agent: options.agent ?? false,
    })
    const finish = (): void => {
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const fail = (error: E): void => {
      if (settled) return
      finish()
      request.destroy()
      reject(error)
    }
    const onAbort = (): void => fail(makeError('request abandoned', 'aborted'))
    const timer = setTimeout(() => fail(makeError(`no answer within ${timeoutMs} ms (\`timeout\`)`, 'timeout')), timeoutMs)
    timer.unref()
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    request.on('socket', (socket) => {
      socket.unref()
      // A server that takes no bytes of a large body holds the write request, which keeps the
      // process alive even with the socket unref'd: give it up once the program has finished.
      const stop = watchStuckWrites(socket, () => fail(makeError('the server took no bytes and the program has finished: the request was given up so the process can end', 'network')))
      socket.once('close', stop)
      request.once('close', stop)
    })
    request.on('error', (error) => fail(describeNetworkError(error, scrub, makeError)))
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      let kept = 0
      response.on('data', (chunk: Buffer) => {
        if (kept >= MAX_ANSWER_BYTES) return
        chunks.push(chunk)
        kept += chunk.length
      })
      response.on('error', (error) => fail(describeNetworkError(error, scrub, makeError)))
      response.on('end', () => {
        if (settled) return
        finish()
        resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES) })
      })
    })
    // Over https, nothing is written before the server's certificate is verified (see the
    // exit worker: a request waiting in the TLS layer can otherwise reach a server the check
    // would refuse, when the thread that made it ends between the handshake and the check).
    if (url.protocol !== 'https:') request.end(body)
    else request.on('socket', (socket) => {
      const tlsSocket = socket as TLSSocket
      const send = (): void => {
        if (tlsSocket.authorized) request.end(body)
        else fail(makeError('the server certificate was not verified', 'network'))
      }
      if (tlsSocket.authorized) send()
      else tlsSocket.once('secureConnect', send)
    })
  })
}
