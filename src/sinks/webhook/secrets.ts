/**
 * Webhook URLs and bot tokens are credentials: whoever reads one can post as the
 * application. They must never reach a log record, an error report or an error message,
 * so every text this sink produces about a request is built from parts known to be safe
 * and then scrubbed of every secret it knows, in case a lower layer quoted one.
 */

/** Secrets shorter than this are not scrubbed: they would blank out ordinary words. */
const MIN_SCRUBBED_CHARS = 6
/** A path segment at least this long is taken for a token. */
const MIN_SECRET_SEGMENT_CHARS = 16
/** Characters of a bad option value shown in an error, when it is not a URL. */
const SHOWN_PREFIX_CHARS = 8

/** What a secret becomes in a text. */
export const SCRUBBED = '***'

/** Names a bad option value without quoting what may be a secret: the origin of a URL, or its first characters. */
export function describeSecret(value: unknown): string {
  if (typeof value !== 'string') return `\`${String(value)}\` (${typeof value})`
  try {
    const url = new URL(value)
    if (url.host !== '') return `\`${url.protocol}//${url.host}/…\` (string of ${value.length} characters)`
  } catch {
    // Not a URL: fall through to the prefix.
  }
  if (value.length <= SHOWN_PREFIX_CHARS) return `\`${value}\` (string)`
  return `\`${value.slice(0, SHOWN_PREFIX_CHARS)}…\` (string of ${value.length} characters)`
}

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

/** Replaces every known secret in a text by `***`. */
export class Scrubber {
  readonly #secrets: readonly string[]

  constructor(secrets: readonly string[]) {
    // Longest first, so a secret that contains another is replaced whole.
    this.#secrets = [...new Set(secrets.filter((secret) => secret.length >= MIN_SCRUBBED_CHARS))].sort((a, b) => b.length - a.length)
  }

  scrub(text: string): string {
    let out = text
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(SCRUBBED)
    return out
  }
}

/** `https://hooks.example.com/…`: enough to tell sinks apart, nothing to post with. */
export function maskedOrigin(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' && url.search === '' ? '' : '/…'}`
}
