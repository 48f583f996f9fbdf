import { hostname as osHostname } from 'node:os'
import { basename, extname } from 'node:path'
import type { Formatter } from '../../core/format/formatter.js'
import { compileTimeFormat } from '../../core/format/time.js'
import { LEVEL_NAMES, type LevelName } from '../../core/levels.js'
import type { LogRecord, LoggerContext } from '../../core/record.js'
import type { Plain } from '../../core/serialize.js'
import { facilityCode, priority, type Facility } from './priority.js'

/** The private enterprise number in SD-IDs when none is configured: 32473, reserved for examples (RFC 5612). */
export const DEFAULT_ENTERPRISE_ID = '32473'
/** The byte order mark that starts a UTF-8 MSG (RFC 5424 §6.4). */
export const BOM = '\uFEFF'
/** Ends a MSG cut to fit a size. */
export const TRUNCATED_MARKER = '…[truncated]'
/** Ends a MSG cut to fit a size when the structured data did not fit either and was left out. */
export const TRUNCATED_SD_MARKER = '…[truncated, structured data left out]'

// Header field lengths, RFC 5424 §6: HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32;
// SD-NAME (SD-ID and PARAM-NAME) 32 (§6.3.2, §6.3.3).
const MAX_HOSTNAME_CHARS = 255
const MAX_APP_NAME_CHARS = 48
const MAX_PROCID_CHARS = 128
const MAX_MSGID_CHARS = 32
const MAX_SD_NAME_CHARS = 32
const NILVALUE = '-'
const BOM_BYTES = 3

/** What goes in the header and the SD-IDs of each message. */
export interface Rfc5424Options {
  /** APP-NAME; default the script's file name without extension (`server` for `node server.js`). */
  appName?: string
  /** HOSTNAME; default `os.hostname()`. */
  hostname?: string
  /** `user` (default), `local0`…`local7`, `daemon`… or a code from 0 to 23. */
  facility?: Facility
  /** The private enterprise number in the SD-IDs `fields@…` and `err@…`; default 32473 (the number reserved for examples). */
  enterpriseId?: number | string
  /** MSGID; default the logger's name, or `-` when it has none. */
  msgId?: string
}

// HOSTNAME, APP-NAME, PROCID and MSGID are PRINTUSASCII, codes 33 to 126 (§6).
const NOT_PRINTUSASCII = /[^\x21-\x7e]/g
// SD-NAME is PRINTUSASCII except '=', SP, ']' and '"' (§6.3.2, §6.3.3).
const NOT_SD_NAME = /[^\x21-\x7e]|[=\]"]/g
// PARAM-VALUE escapes '"', '\' and ']' with a backslash (§6.3.3).
const PARAM_VALUE_SPECIAL = /["\\\]]/g

/** A header field: characters outside PRINTUSASCII become `_`, cut to its maximum; empty is the NILVALUE `-`. */
export function headerField(text: string, maxChars: number): string {
  const field = text.replace(NOT_PRINTUSASCII, '_').slice(0, maxChars)
  return field === '' ? NILVALUE : field
}

/** An SD-ID or PARAM-NAME: forbidden characters become `_`, cut to 32; empty becomes `_`. */
export function sdName(text: string): string {
  const name = text.replace(NOT_SD_NAME, '_').slice(0, MAX_SD_NAME_CHARS)
  return name === '' ? '_' : name
}

/** A PARAM-VALUE, escaped per RFC 5424 §6.3.3. */
export function escapeParamValue(text: string): string {
  return text.replace(PARAM_VALUE_SPECIAL, '\\$&')
}

/** How a field's value is written in a PARAM-VALUE: strings as they are, anything else as JSON. */
export function paramText(value: Plain): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** ` name="value"` for each entry, names sanitized, values escaped. */
export function renderParams(entries: { readonly [key: string]: Plain }): string {
  let text = ''
  for (const key of Object.keys(entries)) {
    text += ` ${sdName(key)}="${escapeParamValue(paramText(entries[key] as Plain))}"`
  }
  return text
}

/** Cuts a text to at most `maxBytes` of UTF-8 without splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text
  const bytes = Buffer.from(text)
  if (bytes.length <= maxBytes) return text
  let end = Math.max(0, maxBytes)
  // Back off continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString()
}

function defaultAppName(): string {
  const script = process.argv[1]
  return script ? basename(script, extname(script)) : 'node'
}

function checkString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`Expected \`${option}\` to be a string, got \`${String(value)}\` (${typeof value})`)
  return value
}

function checkEnterpriseId(value: unknown): string {
  if (value === undefined) return DEFAULT_ENTERPRISE_ID
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value
  // A PEN, optionally with dotted sub-identifiers (§7.2.2); `err@` plus it must fit the 32 characters of an SD-ID.
  if (typeof text === 'string' && /^[1-9]\d*(\.\d+)*$/.test(text) && text.length <= MAX_SD_NAME_CHARS - 'fields@'.length) return text
  throw new TypeError(
    `Expected \`enterpriseId\` to be a private enterprise number such as 32473 or "32473.1" (at most 25 characters), got \`${String(value)}\` (${typeof value})`,
  )
}

interface Parts {
  /** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID ` */
  head: string
  /** STRUCTURED-DATA: `-` or SD-ELEMENTs. */
  sd: string
  /** The message, without the BOM; empty when there is none. */
  msg: string
}

function join(parts: Parts): string {
  return parts.msg === '' ? parts.head + parts.sd : `${parts.head}${parts.sd} ${BOM}${parts.msg}`
}

/**
 * Formats records as RFC 5424 syslog messages, one per line (the newline is the
 * formatter's contract; the transport frames the message without it):
 *
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [fields@PEN k="v"…][err@PEN …] BOM msg`
 *
 * The logger's bindings and the record's fields go in one SD-ELEMENT `fields@PEN`, a
 * logged error in `err@PEN`. Everything that depends only on options or on the logger
 * (the header after the time, the MSGID, the rendered bindings) is computed once.
 */
export class Rfc5424Formatter implements Formatter {
  readonly key: string
  readonly needsCallsite = false
  /** The facility code (0 to 23). */
  readonly facility: number
  readonly #time = compileTimeFormat('YYYY-MM-DD[T]HH:mm:ss.SSSZ')
  /** `<PRI>1 ` for each level. */
  readonly #pri: Readonly<Record<LevelName, string>>
  /** ` HOSTNAME APP-NAME PROCID ` */
  readonly #middle: string
  readonly #msgId: string | undefined
  readonly #fieldsId: string
  readonly #errId: string

  constructor(options: Rfc5424Options = {}) {
    this.facility = facilityCode(options.facility)
    const host = headerField(checkString(options.hostname, 'hostname') ?? osHostname(), MAX_HOSTNAME_CHARS)
    const app = headerField(checkString(options.appName, 'appName') ?? defaultAppName(), MAX_APP_NAME_CHARS)
    const procId = headerField(String(process.pid), MAX_PROCID_CHARS)
    const msgId = checkString(options.msgId, 'msgId')
    this.#msgId = msgId === undefined ? undefined : headerField(msgId, MAX_MSGID_CHARS)
    const pen = checkEnterpriseId(options.enterpriseId)
    this.#fieldsId = `fields@${pen}`
    this.#errId = `err@${pen}`
    this.#middle = ` ${host} ${app} ${procId} `
    this.#pri = Object.fromEntries(LEVEL_NAMES.map((name) => [name, `<${priority(this.facility, name)}>1 `])) as Record<LevelName, string>
    this.key = `rfc5424:${this.facility}:${this.#middle}:${this.#msgId ?? ''}:${pen}`
  }

  format(record: LogRecord): string {
    return `${join(this.#parts(record))}\n`
  }

  /**
   * The message in at most `maxBytes` of UTF-8, without a newline: the MSG is cut and
   * ends with `TRUNCATED_MARKER`; if the structured data does not fit either, it is left
   * out and the marker says so. Used for UDP, where a datagram has a safe size.
   */
  formatWithin(record: LogRecord, maxBytes: number): string {
    const parts = this.#parts(record)
    const full = join(parts)
    if (Buffer.byteLength(full) <= maxBytes) return full
    const headBytes = Buffer.byteLength(parts.head)
    let sd = parts.sd
    let marker = TRUNCATED_MARKER
    if (headBytes + Buffer.byteLength(sd) + 1 + BOM_BYTES + Buffer.byteLength(marker) > maxBytes) {
      sd = NILVALUE
      marker = TRUNCATED_SD_MARKER
    }
    const room = maxBytes - headBytes - Buffer.byteLength(sd) - 1 - BOM_BYTES - Buffer.byteLength(marker)
    // Only a header longer than the whole budget (a 255-character hostname in 480 bytes) lands here.
    if (room < 0) return cutUtf8(full, maxBytes)
    return `${parts.head}${sd} ${BOM}${cutUtf8(parts.msg, room)}${marker}`
  }

  #parts(record: LogRecord): Parts {
    const context = record.context
    const head = `${this.#pri[record.levelName]}${this.#time(record.time)}${this.#middle}${this.#msgId ?? context.render(`${this.key}:msgid`, msgIdOf)} `
    const bindings = context.render(this.key, renderBindings)
    const fields = record.fields === undefined ? '' : renderParams(record.fields)
    let sd = bindings === '' && fields === '' ? '' : `[${this.#fieldsId}${bindings}${fields}]`
    if (record.err !== undefined) sd += `[${this.#errId}${renderParams(record.err)}]`
    return { head, sd: sd === '' ? NILVALUE : sd, msg: record.msg }
  }
}

function msgIdOf(context: LoggerContext): string {
  return context.name === undefined ? NILVALUE : headerField(context.name, MAX_MSGID_CHARS)
}

function renderBindings(context: LoggerContext): string {
  return renderParams(context.bindings)
}
