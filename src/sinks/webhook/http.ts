import http from 'node:http'
import https from 'node:https'

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

/** A request that got no answer. Its message is built without the URL, which may hold a token. */
export class WebhookRequestError extends Error {
  override readonly name = 'WebhookRequestError'

  constructor(
    message: string,
    readonly failure: RequestFailure,
    /** The system error code (`ECONNREFUSED`), when there is one. */
    readonly code?: string,
  ) {
    super(message)
  }
}

/** How `post()` makes one request. */
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
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
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
    request.on('socket', (socket) => socket.unref())
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
    request.end(body)
  })
}

/** POSTs a JSON `body` and resolves with the answer as text; rejects with a WebhookRequestError when there is none. */
export async function post(url: URL, headers: Readonly<Record<string, string>>, body: string, options: PostOptions): Promise<HttpAnswer> {
  const answer = await postRaw(url, { 'content-type': 'application/json; charset=utf-8', ...headers }, body, options, (message, failure, code) => new WebhookRequestError(message, failure, code))
  return { status: answer.status, headers: answer.headers, body: answer.bytes.toString('utf8') }
}
