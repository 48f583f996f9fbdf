/**
 * RELP frames, as rsyslog's librelp speaks them:
 *
 *     RELP-FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] TRAILER
 *     TXNR       = 1*9DIGIT      ; 1 to 999,999,999, then 1 again; the server's serverclose uses 0
 *     COMMAND    = 1*32ALPHA     ; open, syslog, rsp, close, serverclose
 *     DATALEN    = 1*9DIGIT      ; bytes of DATA; with 0 there is no SP DATA
 *     TRAILER    = LF            ; only there to catch framing errors
 */

/** The highest transaction number; the next one is 1 (0 belongs to the server's `serverclose`). */
export const RELP_MAX_TXNR = 999_999_999
/** The most DATA the decoder takes in one frame by default: librelp's default `maxDataSize` (128 KiB). */
export const RELP_MAX_DATA_BYTES = 128 * 1024

const MAX_DIGITS = 9
const MAX_COMMAND_CHARS = 32
const SP = 0x20
const LF = 0x0a
const COMMAND = /^[A-Za-z]{1,32}$/
const NEWLINE = Buffer.from('\n')
const EMPTY = Buffer.alloc(0)

/** One decoded frame; `data` is empty when DATALEN was 0. */
export interface RelpFrame {
  readonly txnr: number
  readonly command: string
  readonly data: Buffer
}

/** Encodes one frame; throws on a transaction number, command or size RELP cannot carry (a bug of the caller). */
export function encodeRelpFrame(txnr: number, command: string, data: Buffer | string = ''): Buffer {
  if (!Number.isInteger(txnr) || txnr < 0 || txnr > RELP_MAX_TXNR) throw new RangeError(`Expected \`txnr\` to be an integer from 0 to ${RELP_MAX_TXNR}, got \`${txnr}\` (number)`)
  if (!COMMAND.test(command)) throw new RangeError(`Expected \`command\` to be 1 to 32 ASCII letters, got \`${command}\` (string)`)
  const body = typeof data === 'string' ? Buffer.from(data) : data
  if (body.length > RELP_MAX_TXNR) throw new RangeError(`Expected the data to be at most ${RELP_MAX_TXNR} bytes, got ${body.length}`)
  if (body.length === 0) return Buffer.from(`${txnr} ${command} 0\n`)
  return Buffer.concat([Buffer.from(`${txnr} ${command} ${body.length} `), body, NEWLINE])
}

/** The transaction number after `txnr`: RELP wraps from 999,999,999 to 1. */
export function nextTxnr(txnr: number): number {
  return txnr >= RELP_MAX_TXNR ? 1 : txnr + 1
}

/** Where the decoder is in a frame; `empty-trailer`: DATALEN was 0 and a space followed, only LF may come. */
type Step = 'txnr' | 'command' | 'length' | 'data' | 'trailer' | 'empty-trailer' | 'failed'

function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `0x${byte.toString(16).padStart(2, '0')}`
}

/**
 * Decodes RELP frames from a byte stream, in whatever pieces it arrives. Never throws:
 * the first malformed byte stops it, and `error` says what and where (the connection is
 * then useless, because RELP frames cannot be resynchronized).
 */
export class RelpDecoder {
  readonly maxDataBytes: number
  #step: Step = 'txnr'
  #txnr = 0
  #command = ''
  #length = 0
  #digits = 0
  #data: Buffer = EMPTY
  #filled = 0
  #offset = 0
  #error: string | undefined

  constructor(maxDataBytes = RELP_MAX_DATA_BYTES) {
    this.maxDataBytes = maxDataBytes
  }

  /** Why decoding stopped, or undefined while the stream is good. */
  get error(): string | undefined {
    return this.#error
  }

  /** Whether a frame has begun and not ended: a connection closing now cut it. */
  get partial(): boolean {
    return this.#step !== 'txnr' || this.#digits > 0
  }

  /** Takes the next bytes; returns the frames they complete. */
  push(chunk: Uint8Array): RelpFrame[] {
    const frames: RelpFrame[] = []
    let at = 0
    while (at < chunk.length && this.#step !== 'failed') {
      if (this.#step === 'data') {
        const take = Math.min(chunk.length - at, this.#length - this.#filled)
        this.#data.set(chunk.subarray(at, at + take), this.#filled)
        this.#filled += take
        this.#offset += take
        at += take
        if (this.#filled === this.#length) this.#step = 'trailer'
        continue
      }
      const byte = chunk[at] as number
      const frame = this.#header(byte)
      if (frame) frames.push(frame)
      this.#offset++
      at++
    }
    return frames
  }

  #header(byte: number): RelpFrame | undefined {
    const isDigit = byte >= 0x30 && byte <= 0x39
    switch (this.#step) {
      case 'txnr':
        if (isDigit && this.#digits < MAX_DIGITS) {
          this.#txnr = this.#txnr * 10 + (byte - 0x30)
          this.#digits++
        } else if (byte === SP && this.#digits > 0) {
          this.#step = 'command'
        } else this.#fail(byte, 'TXNR', 'a digit (at most 9) or a space after at least one')
        return undefined
      case 'command':
        if (((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a) && this.#command.length < MAX_COMMAND_CHARS) {
          this.#command += String.fromCharCode(byte)
        } else if (byte === SP && this.#command.length > 0) {
          this.#step = 'length'
          this.#digits = 0
        } else this.#fail(byte, 'COMMAND', 'a letter (at most 32) or a space after at least one')
        return undefined
      case 'length':
        if (isDigit && this.#digits < MAX_DIGITS) {
          this.#length = this.#length * 10 + (byte - 0x30)
          this.#digits++
          return undefined
        }
        if (this.#digits > 0 && byte === LF && this.#length === 0) return this.#emit()
        if (this.#digits > 0 && byte === SP) {
          if (this.#length === 0) this.#step = 'empty-trailer'
          else if (this.#length > this.maxDataBytes) this.#failWith(`DATALEN ${this.#length} is over the limit of ${this.maxDataBytes} bytes`)
          else {
            this.#data = Buffer.allocUnsafe(this.#length)
            this.#filled = 0
            this.#step = 'data'
          }
          return undefined
        }
        this.#fail(byte, 'DATALEN', this.#length === 0 || this.#digits === 0 ? 'a digit, then a space or LF' : 'a digit or a space before the data')
        return undefined
      case 'trailer':
      case 'empty-trailer':
        if (byte === LF) return this.#emit()
        this.#fail(byte, 'TRAILER', 'LF after the data')
        return undefined
      default:
        return undefined
    }
  }

  #emit(): RelpFrame {
    const frame: RelpFrame = { txnr: this.#txnr, command: this.#command, data: this.#length === 0 ? EMPTY : this.#data }
    this.#step = 'txnr'
    this.#txnr = 0
    this.#command = ''
    this.#length = 0
    this.#digits = 0
    this.#data = EMPTY
    return frame
  }

  #fail(byte: number, field: string, expected: string): void {
    this.#failWith(`expected ${expected} in ${field}, got ${describeByte(byte)}`)
  }

  #failWith(reason: string): void {
    this.#step = 'failed'
    this.#error = `Bad RELP frame at byte ${this.#offset}: ${reason}`
  }
}
