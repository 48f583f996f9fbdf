import type { RequestFailure } from '../delivery/http.js'

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
