import { postRaw, type HttpAnswer, type PostOptions, type RequestFailure } from '../delivery/http.js'

export type { HttpAnswer } from '../delivery/http.js'

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

/** POSTs a JSON `body` and resolves with the answer as text; rejects with a WebhookRequestError when there is none. */
export async function post(url: URL, headers: Readonly<Record<string, string>>, body: string, options: PostOptions): Promise<HttpAnswer> {
  const answer = await postRaw(url, { 'content-type': 'application/json; charset=utf-8', ...headers }, body, options, (message, failure, code) => new WebhookRequestError(message, failure, code))
  return { status: answer.status, headers: answer.headers, body: answer.bytes.toString('utf8') }
}
