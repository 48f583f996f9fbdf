/**
 * Webhook URLs and bot tokens are credentials: whoever reads one can post as the
 * application. They must never reach a log record, an error report or an error message,
 * so every text this sink produces about a request is built from parts known to be safe
 * and then scrubbed of every secret it knows, in case a lower layer quoted one.
 */

/** A path segment at least this long is taken for a token. */
const MIN_SECRET_SEGMENT_CHARS = 16


/**
 * The pieces of a URL that may carry a credential: the whole, its path, query values, user
 * info, and path segments long enough to be a token (Discord's is 68 characters, Slack's 24)
 * rather than a word such as `webhooks` or `sendMessage`, which a service's errors may use.
 */
export function secretsOfUrl(url: URL): string[] {
  const secrets = [url.href, url.pathname, url.search, url.username, url.password]
  for (const segment of url.pathname.split('/')) if (segment.length >= MIN_SECRET_SEGMENT_CHARS) secrets.push(segment, decoded(segment))
  for (const [, value] of url.searchParams) secrets.push(value)
  return secrets
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** `https://hooks.example.com/…`: enough to tell sinks apart, nothing to post with. */
export function maskedOrigin(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' && url.search === '' ? '' : '/…'}`
}
