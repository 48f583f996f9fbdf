import http from 'node:http'
import https from 'node:https'
import { MAX_ANSWER_BYTES } from '../webhook/http.js'

/** What a server answered; the body as bytes, since an OTLP answer may be binary protobuf. */
export interface ExportAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  /** The first MAX_ANSWER_BYTES of the body. */
  readonly body: Buffer
}

/** Why a request got no answer: a closed set. */
export type NoAnswer = 'network' | 'timeout' | 'aborted'

/** A request that got no answer. The message never holds the URL or a header value. */
export class OtlpRequestError extends Error {
  override readonly name = 'OtlpRequestError'

  constructor(
    message: string,
    readonly failure: NoAnswer,
    /** The system error code (`ECONNREFUSED`), when there is one. */
    readonly code?: string,
  ) {
    super(message)
  }
}

/** How `postBytes()` makes one request. */
export interface PostBytesOptions {
  /** The whole request, answer included, must finish within this. */
  readonly timeoutMs: number
  /** Abandons the request (the synchronous path took its records over). */
  readonly signal: AbortSignal
  readonly agent: http.Agent
  /** Removes secrets from any text taken from a lower layer. */
  readonly scrub: (text: string) => string
}

function networkError(error: unknown, scrub: (text: string) => string): OtlpRequestError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  let message: string
  try {
    message = error instanceof Error ? error.message : String(error)
  } catch {
    message = 'unprintable error'
  }
  return new OtlpRequestError(`request failed: ${scrub(message)}`, 'network', typeof code === 'string' ? code : undefined)
}

/**
 * POSTs `body` and resolves with the answer; rejects with an OtlpRequestError when there
 * is none. The webhook sink's `post()` (webhook/http.ts) does the same for text bodies and
 * answers; this one carries bytes both ways. The socket is unref'd: logging never holds
 * the process open, and what is in flight at exit is sent again synchronously.
 */
export function postBytes(url: URL, headers: Readonly<Record<string, string>>, body: Uint8Array, options: PostBytesOptions): Promise<ExportAnswer> {
  return new Promise<ExportAnswer>((resolve, reject) => {
    const { signal, scrub, timeoutMs } = options
    let settled = false
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': body.length },
      agent: options.agent,
    })
    const finish = (): void => {
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    const fail = (error: OtlpRequestError): void => {
      if (settled) return
      finish()
      request.destroy()
      reject(error)
    }
    const onAbort = (): void => fail(new OtlpRequestError('request abandoned', 'aborted'))
    const timer = setTimeout(() => fail(new OtlpRequestError(`no answer within ${timeoutMs} ms (\`timeout\`)`, 'timeout')), timeoutMs)
    timer.unref()
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    request.on('socket', (socket) => socket.unref())
    request.on('error', (error) => fail(networkError(error, scrub)))
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      let kept = 0
      response.on('data', (chunk: Buffer) => {
        if (kept >= MAX_ANSWER_BYTES) return
        chunks.push(chunk)
        kept += chunk.length
      })
      response.on('error', (error) => fail(networkError(error, scrub)))
      response.on('end', () => {
        if (settled) return
        finish()
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES) })
      })
    })
    request.end(body)
  })
}
