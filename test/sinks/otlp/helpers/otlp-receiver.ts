import { EventEmitter, once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { attributesObject, decodeExportLogsRequest, fromAnyValue, type Json } from './otlp-decode.ts'

/** One LogRecord as a test reads it: the OTLP/JSON shape, plus its attributes and body as plain values. */
export interface ReceivedLogRecord {
  readonly raw: { readonly [key: string]: Json }
  readonly body: Json
  readonly attributes: { readonly [key: string]: Json }
}

/** A request the receiver got, decoded whatever its encoding. */
export interface ReceivedExport {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly contentType: string
  readonly bytes: Buffer
  /** `Date.now()` when the body had arrived. */
  readonly at: number
  /** The ExportLogsServiceRequest in its OTLP/JSON shape: parsed, or decoded from protobuf. */
  readonly payload: { readonly [key: string]: Json }
  /** The resource attributes of the (single) ResourceLogs, as plain values. */
  readonly resource: { readonly [key: string]: Json }
  /** The scope of the (single) ScopeLogs. */
  readonly scope: Json
  readonly records: readonly ReceivedLogRecord[]
}

/** An answer: status, headers, body (an object is sent as JSON). */
export interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer | object
}

/** `'hang'`: take the request and never answer. */
export type Responder = (request: ReceivedExport, index: number) => Reply | 'hang'

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/logs` */
  readonly url: string
  readonly requests: ReceivedExport[]
  /** Every record of every request, in order of arrival. */
  records(): ReceivedLogRecord[]
  answer(responder: Responder): void
  /** Resolves once `count` requests have arrived in all; rejects, naming the bound, when `timeoutMs` passes first. */
  waitForRequests(count: number, timeoutMs: number): Promise<ReceivedExport[]>
  close(): Promise<void>
}

function only(list: Json | undefined, what: string): { [key: string]: Json } {
  if (!Array.isArray(list) || list.length !== 1) throw new Error(`expected one ${what}, got ${JSON.stringify(list)?.slice(0, 200)}`)
  const [item] = list
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error(`${what} is not an object`)
  return item
}

/** Decodes a request body by its Content-Type, as an OTLP/HTTP receiver does. */
export function decodeExport(bytes: Buffer, contentType: string): { [key: string]: Json } {
  if (contentType === 'application/x-protobuf') return decodeExportLogsRequest(bytes)
  if (contentType === 'application/json') return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { [key: string]: Json }
  throw new Error(`unexpected Content-Type ${contentType}`)
}

function received(path: string, headers: IncomingHttpHeaders, bytes: Buffer): ReceivedExport {
  const contentType = headers['content-type'] ?? ''
  const payload = decodeExport(bytes, contentType)
  const resourceLogs = only(payload['resourceLogs'], 'ResourceLogs')
  const scopeLogs = only(resourceLogs['scopeLogs'], 'ScopeLogs')
  const resource = resourceLogs['resource'] as { [key: string]: Json }
  const logRecords = scopeLogs['logRecords']
  if (!Array.isArray(logRecords)) throw new Error('logRecords is not an array')
  const records = logRecords.map((raw) => {
    const record = raw as { [key: string]: Json }
    return { raw: record, body: fromAnyValue(record['body'] ?? {}), attributes: attributesObject(record['attributes'] ?? []) }
  })
  return { path, headers, contentType, bytes, at: Date.now(), payload, resource: attributesObject(resource['attributes'] ?? []), scope: scopeLogs['scope'] ?? null, records }
}

/** The answer of a healthy OTLP/HTTP receiver: an empty ExportLogsServiceResponse in the request's encoding. */
export function okReply(request: ReceivedExport): Reply {
  return request.contentType === 'application/json' ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{}' } : { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) }
}

function send(response: ServerResponse, reply: Reply): void {
  const isObject = typeof reply.body === 'object' && !Buffer.isBuffer(reply.body)
  const body = reply.body === undefined ? '' : isObject ? JSON.stringify(reply.body) : (reply.body as string | Buffer)
  response.writeHead(reply.status, { ...(isObject ? { 'content-type': 'application/json' } : {}), ...reply.headers })
  response.end(body)
}

/**
 * An OTLP/HTTP logs receiver on 127.0.0.1 (port 0) that decodes every request (a request
 * it cannot decode fails the test that waits for it: it is answered 400 and not recorded);
 * closed when the test ends.
 */
export async function startOtlpReceiver(t: { after(fn: () => Promise<void> | void): void }, responder: Responder = okReply): Promise<OtlpReceiver> {
  let current = responder
  const requests: ReceivedExport[] = []
  const events = new EventEmitter()
  let decodeError: Error | undefined
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      let got: ReceivedExport
      try {
        got = received(request.url ?? '', request.headers, Buffer.concat(chunks))
      } catch (error) {
        decodeError = error instanceof Error ? error : new Error(String(error))
        response.writeHead(400).end()
        events.emit('request')
        return
      }
      const index = requests.push(got) - 1
      const reply = current(got, index)
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
    url: `http://127.0.0.1:${port}/v1/logs`,
    requests,
    records: () => requests.flatMap((request) => request.records),
    answer: (next) => {
      current = next
    },
    waitForRequests: (count, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (decodeError !== undefined) {
            finish()
            reject(new Error(`the receiver could not decode a request: ${decodeError.message}`))
          } else if (requests.length >= count) {
            finish()
            resolve(requests.slice(0, count))
          }
        }
        const finish = (): void => {
          clearTimeout(timer)
          events.off('request', check)
        }
        const timer = setTimeout(() => {
          finish()
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${count} requests (got ${requests.length})`))
        }, timeoutMs)
        events.on('request', check)
        check()
      }),
    close,
  }
}
