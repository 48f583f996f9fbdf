import http from 'node:http'
import { postRaw, type RequestFailure } from '../delivery/http.js'

/** What a server answered; the body as bytes, since an OTLP answer may be binary protobuf. */
export interface ExportAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  /** The first MAX_ANSWER_BYTES of the body. */
  readonly body: Buffer
}

/** Why a request got no answer: a closed set. */
export type NoAnswer = RequestFailure

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

/**
 * POSTs `body` and resolves with the answer, its body as bytes; rejects with an
 * OtlpRequestError when there is none. The request itself is the webhook sink's `postRaw`.
 */
export async function postBytes(url: URL, headers: Readonly<Record<string, string>>, body: Uint8Array, options: PostBytesOptions): Promise<ExportAnswer> {
  const answer = await postRaw(url, headers, body, options, (message, failure, code) => new OtlpRequestError(message, failure, code))
  return { status: answer.status, headers: answer.headers, body: answer.bytes }
}
