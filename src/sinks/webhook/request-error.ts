import type { RequestFailure } from '../delivery/http.js'


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
