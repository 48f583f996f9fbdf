/**
 * A strict parser of RFC 5424 messages (the ABNF of §6), for tests: it checks what the
 * formatter writes and reads back what rsyslog received. Throws on anything the ABNF
 * does not allow.
 */

export interface SdElement {
  id: string
  params: Array<[name: string, value: string]>
}

export interface SyslogMessage {
  pri: number
  version: number
  timestamp: string
  hostname: string
  appName: string
  procId: string
  msgId: string
  /** The SD-ELEMENTs; empty for the NILVALUE. */
  sd: SdElement[]
  /** MSG without its BOM; undefined when the message has none. */
  msg: string | undefined
  /** Whether MSG began with the UTF-8 BOM. */
  bom: boolean
}

const BOM = '\uFEFF'
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/

function isSdNameChar(char: string): boolean {
  const code = char.charCodeAt(0)
  return code >= 33 && code <= 126 && char !== '=' && char !== ']' && char !== '"'
}

function printUsAscii(field: string, max: number, what: string): string {
  if (field.length < 1 || field.length > max || !/^[\x21-\x7e]+$/.test(field)) throw new SyntaxError(`bad ${what}: ${JSON.stringify(field)}`)
  return field
}

/** Parses STRUCTURED-DATA at `at`; returns the elements and where they end. */
export function parseStructuredData(text: string, at: number): { sd: SdElement[]; end: number } {
  if (text[at] === '-') return { sd: [], end: at + 1 }
  const sd: SdElement[] = []
  if (text[at] !== '[') throw new SyntaxError(`expected '[' or '-' at ${at}`)
  while (text[at] === '[') {
    at++
    const readName = (): string => {
      const start = at
      while (at < text.length && isSdNameChar(text[at] as string)) at++
      const name = text.slice(start, at)
      if (name.length < 1 || name.length > 32) throw new SyntaxError(`bad SD-NAME at ${start}: ${JSON.stringify(name)}`)
      return name
    }
    const element: SdElement = { id: readName(), params: [] }
    while (text[at] === ' ') {
      at++
      const name = readName()
      if (text.slice(at, at + 2) !== '="') throw new SyntaxError(`expected '="' at ${at}`)
      at += 2
      let value = ''
      for (;;) {
        const char = text[at]
        if (char === undefined) throw new SyntaxError('unterminated PARAM-VALUE')
        if (char === '"') break
        if (char === ']') throw new SyntaxError(`unescaped ']' in PARAM-VALUE at ${at}`)
        if (char === '\\' && (text[at + 1] === '"' || text[at + 1] === '\\' || text[at + 1] === ']')) {
          value += text[at + 1]
          at += 2
          continue
        }
        value += char
        at++
      }
      at++
      element.params.push([name, value])
    }
    if (text[at] !== ']') throw new SyntaxError(`expected ']' at ${at}`)
    at++
    sd.push(element)
  }
  return { sd, end: at }
}

/** Parses one message (no framing, no trailing newline). */
export function parseSyslogMessage(text: string): SyslogMessage {
  const head = /^<(\d{1,3})>([1-9]\d{0,2}) /.exec(text)
  if (!head) throw new SyntaxError(`bad PRI/VERSION: ${JSON.stringify(text.slice(0, 12))}`)
  const pri = Number(head[1])
  if (pri > 191 || (head[1] as string).length > 1 && head[1]?.startsWith('0')) throw new SyntaxError(`bad PRI ${head[1]}`)
  let at = head[0].length
  const fields: string[] = []
  for (let i = 0; i < 5; i++) {
    const space = text.indexOf(' ', at)
    if (space === -1) throw new SyntaxError('header ends early')
    fields.push(text.slice(at, space))
    at = space + 1
  }
  const [timestamp, hostname, appName, procId, msgId] = fields as [string, string, string, string, string]
  if (timestamp !== '-' && !TIMESTAMP.test(timestamp)) throw new SyntaxError(`bad TIMESTAMP ${timestamp}`)
  const { sd, end } = parseStructuredData(text, at)
  let msg: string | undefined
  let bom = false
  if (end < text.length) {
    if (text[end] !== ' ') throw new SyntaxError(`expected SP before MSG at ${end}`)
    msg = text.slice(end + 1)
    if (msg.startsWith(BOM)) {
      bom = true
      msg = msg.slice(1)
    }
  }
  return {
    pri,
    version: Number(head[2]),
    timestamp,
    hostname: printUsAscii(hostname, 255, 'HOSTNAME'),
    appName: printUsAscii(appName, 48, 'APP-NAME'),
    procId: printUsAscii(procId, 128, 'PROCID'),
    msgId: printUsAscii(msgId, 32, 'MSGID'),
    sd,
    msg,
    bom,
  }
}

/** The params of the SD-ELEMENT with this id, as an object (the last of repeated names wins). */
export function sdParams(sd: readonly SdElement[], id: string): Record<string, string> | undefined {
  const element = sd.find((candidate) => candidate.id === id)
  return element === undefined ? undefined : Object.fromEntries(element.params)
}
