import { EventEmitter, once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request the fake service received. */
export interface ReceivedRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** `Date.now()` when the body had arrived. */
  readonly at: number
  /** The body parsed as JSON (throws if it is not). */
  json<T = Record<string, unknown>>(): T
}

/** An answer: status, headers, and a body (an object is sent as JSON). */
export interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | object
}

/** `'hang'`: accept the request and never answer. */
export type Responder = (request: ReceivedRequest, index: number) => Reply | 'hang'

export interface FakeService {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly requests: ReceivedRequest[]
  /** Changes how the next requests are answered. */
  answer(responder: Responder): void
  /** Resolves once `count` requests have arrived in all; rejects, naming the bound, when `timeoutMs` passes first. */
  waitForRequests(count: number, timeoutMs: number): Promise<ReceivedRequest[]>
  /** Cuts every open connection, answered or not: a hung request fails on the client's side. */
  dropConnections(): void
  close(): Promise<void>
}

/** What the services answer when all is well. */
export const DISCORD_OK: Reply = { status: 204 }
export const TELEGRAM_OK: Reply = { status: 200, body: { ok: true, result: { message_id: 1 } } }
export const SLACK_OK: Reply = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }

/** Discord's 429: fractional seconds in the JSON body, whole seconds in the header. */
export function discordRateLimited(retryAfterSeconds: number): Reply {
  return {
    status: 429,
    headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-scope': 'user' },
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
  }
}

/** Telegram's 429. */
export function telegramRateLimited(retryAfterSeconds: number): Reply {
  return { status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfterSeconds}`, parameters: { retry_after: retryAfterSeconds } } }
}

function send(response: ServerResponse, reply: Reply): void {
  const isObject = typeof reply.body === 'object'
  const text = reply.body === undefined ? '' : isObject ? JSON.stringify(reply.body) : String(reply.body)
  response.writeHead(reply.status, { ...(isObject ? { 'content-type': 'application/json' } : {}), ...reply.headers })
  response.end(text)
}

/** A local HTTP server on 127.0.0.1 (port 0) that answers like a webhook service; closed when the test ends. */
export async function startFakeService(t: { after(fn: () => Promise<void> | void): void }, responder: Responder): Promise<FakeService> {
  let current = responder
  const requests: ReceivedRequest[] = []
  const events = new EventEmitter()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const received: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
        at: Date.now(),
        json: <T>() => JSON.parse(body) as T,
      }
      const index = requests.push(received) - 1
      const reply = current(received, index)
      if (reply !== 'hang') send(response, reply)
      events.emit('request')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const close = async (): Promise<void> => {
    if (!server.listening) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.after(close)
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    answer: (next) => {
      current = next
    },
    waitForRequests: (count, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length < count) return
          clearTimeout(timer)
          events.off('request', check)
          resolve(requests.slice(0, count))
        }
        const timer = setTimeout(() => {
          events.off('request', check)
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${count} requests (got ${requests.length})`))
        }, timeoutMs)
        events.on('request', check)
        check()
      }),
    dropConnections: () => server.closeAllConnections(),
    close,
  }
}
