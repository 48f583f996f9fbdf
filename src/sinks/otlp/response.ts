import type { OtlpEncoding } from './encoding.js'
import { protoFields } from './proto-reader.js'

/** Characters of a server's message quoted in an error. */
const MAX_QUOTED_CHARS = 200

/** What a success answer may say: how many records were refused, and why (OTLP spec, "Partial Success"). */
export interface PartialSuccess {
  readonly rejected: number
  readonly message: string
}

const utf8 = new TextDecoder('utf-8', { fatal: false })

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS)}…` : oneLine
}

/** The answer's encoding: what its Content-Type says, else the request's, which the server must use. */
function answerEncoding(contentType: string | undefined, requested: OtlpEncoding): OtlpEncoding {
  if (contentType?.includes('json') === true) return 'json'
  if (contentType?.includes('protobuf') === true) return 'protobuf'
  return requested
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
}

function count(value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : 0
}

/**
 * The partial success of an ExportLogsServiceResponse, or undefined when the server
 * accepted everything (or said nothing that can be read: a 200 is a success).
 */
export function readPartialSuccess(body: Buffer, contentType: string | undefined, requested: OtlpEncoding): PartialSuccess | undefined {
  if (body.length === 0) return undefined
  try {
    if (answerEncoding(contentType, requested) === 'json') {
      const partial = field(JSON.parse(utf8.decode(body)), 'partialSuccess')
      const message = field(partial, 'errorMessage')
      return settled(count(field(partial, 'rejectedLogRecords')), typeof message === 'string' ? message : '')
    }
    let rejected = 0
    let message = ''
    for (const outer of protoFields(body)) {
      // ExportLogsServiceResponse.partial_success = 1 { rejected_log_records = 1 (int64), error_message = 2 }
      if (outer.field !== 1 || outer.wireType !== 2) continue
      for (const inner of protoFields(outer.bytes)) {
        if (inner.field === 1 && inner.wireType === 0) rejected = count(Number(BigInt.asIntN(64, inner.value)))
        else if (inner.field === 2 && inner.wireType === 2) message = utf8.decode(inner.bytes)
      }
    }
    return settled(rejected, message)
  } catch {
    return undefined
  }
}

function settled(rejected: number, message: string): PartialSuccess | undefined {
  return rejected === 0 && message === '' ? undefined : { rejected, message: shorten(message) }
}

/** The `message` of the google.rpc.Status a failure answer carries (OTLP spec, "Failures"), or '' when there is none. */
export function readStatusMessage(body: Buffer, contentType: string | undefined, requested: OtlpEncoding): string {
  if (body.length === 0) return ''
  if (contentType?.startsWith('text/') === true) return shorten(utf8.decode(body))
  try {
    if (answerEncoding(contentType, requested) === 'json') {
      const message = field(JSON.parse(utf8.decode(body)), 'message')
      return typeof message === 'string' ? shorten(message) : ''
    }
    for (const status of protoFields(body)) {
      // Status.message = 2
      if (status.field === 2 && status.wireType === 2) return shorten(utf8.decode(status.bytes))
    }
    return ''
  } catch {
    // Not the Status the spec asks for (a proxy's HTML page, say): quote it as text.
    return shorten(utf8.decode(body))
  }
}
