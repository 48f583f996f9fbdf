/** Secrets shorter than this are not scrubbed: they would blank out ordinary words. */
const MIN_SCRUBBED_CHARS = 6

/** What a secret becomes in a text. */
export const SCRUBBED = '***'

/**
 * URLs, tokens and header values of a network sink are credentials: every text the sink
 * produces about a request is scrubbed of every secret it knows, in case a lower layer
 * quoted one. This replaces every secret it knows in a text by `***`.
 */
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

/** Characters of a bad option value shown in an error, when it is not a URL. */
const SHOWN_PREFIX_CHARS = 8

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
