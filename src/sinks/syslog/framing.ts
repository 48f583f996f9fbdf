/**
 * How syslog messages are delimited on a stream (RFC 6587 §3.4). Octet counting, `LEN SP
 * MSG`, carries any byte and is the only framing RFC 5425 allows over TLS; newline
 * framing ("non-transparent", `MSG LF`) is what older receivers expect over TCP.
 */
export type Framing = 'octet-counting' | 'newline'

/** The accepted values of `framing`. */
export const FRAMINGS: readonly Framing[] = ['octet-counting', 'newline']

const LF = /\n/g

/** Frames one message (without its trailing newline) for a stream. */
export function frame(message: string, framing: Framing): Buffer {
  if (framing === 'newline') {
    // A LF inside the message would end it early: RFC 6587 §3.4.2 leaves this to the
    // sender, so it is written as the two characters `\n`, as in the text formats.
    return Buffer.from(`${message.includes('\n') ? message.replace(LF, '\\n') : message}\n`)
  }
  const body = Buffer.from(message)
  // MSG-LEN counts octets, not characters (RFC 6587 §3.4.1).
  return Buffer.concat([Buffer.from(`${body.length} `), body])
}

/** Checks a `framing` option once, when a sink is created. */
export function checkFraming(value: unknown): Framing {
  if (value === undefined) return 'octet-counting'
  if (value === 'octet-counting' || value === 'newline') return value
  throw new TypeError(`Expected \`framing\` to be 'octet-counting' or 'newline', got \`${String(value)}\` (${typeof value})`)
}
