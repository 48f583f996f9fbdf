// Reference readers of the chat markups, written from the services' documentation rather
// than from the escaping code: each turns a message back into plain text and code blocks,
// and throws, naming the place, on anything the service would read as markup.

/** What a reader found: text, or the content of a code block. */
export interface ReadSegment {
  readonly kind: 'text' | 'code'
  readonly text: string
}

export type MarkupName = 'discord' | 'HTML' | 'MarkdownV2' | 'slack'

const ZWSP = '\u200b'
const MARKDOWN_V2_SPECIAL = new Set('_*[]()~`>#+-=|{}.!\\')
const DISCORD_SPECIAL = new Set('\\*_~`|<>#-[]()')
const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' }

/** Removes the zero-width space put after a backtick to break a fence. */
export function unbreakBackticks(text: string): string {
  return text.replaceAll(`\`${ZWSP}`, '`')
}

function fail(markup: string, text: string, at: number, what: string): never {
  throw new Error(`${markup}: ${what} at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 10), at + 10))}`)
}

function decodeEntities(markup: string, text: string, offset: number): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '<' || char === '>') fail(markup, text, offset + i, `raw ${char}`)
    if (char !== '&') {
      out += char
      continue
    }
    const entity = Object.keys(ENTITIES).find((name) => text.startsWith(name, i))
    if (entity === undefined) fail(markup, text, offset + i, 'a bare &')
    out += ENTITIES[entity]
    i += entity.length - 1
  }
  return out
}

function readFenced(markup: MarkupName, message: string, decodeText: (text: string, offset: number) => string, decodeCode: (text: string, offset: number) => string): ReadSegment[] {
  const segments: ReadSegment[] = []
  let at = 0
  while (at < message.length) {
    const open = message.indexOf('```\n', at)
    const textEnd = open === -1 ? message.length : open
    if (textEnd > at) segments.push({ kind: 'text', text: decodeText(message.slice(at, textEnd), at) })
    if (open === -1) break
    const close = message.indexOf('\n```', open + 4)
    if (close === -1) fail(markup, message, open, 'an unclosed code block')
    segments.push({ kind: 'code', text: decodeCode(message.slice(open + 4, close), open + 4) })
    at = close + 4
  }
  return segments
}

function discordText(text: string, offset: number): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '\\') {
      const next = text[i + 1]
      if (next === undefined || !DISCORD_SPECIAL.has(next)) fail('discord', text, offset + i, 'a backslash before a plain character')
      out += next
      i++
    } else if (DISCORD_SPECIAL.has(char)) fail('discord', text, offset + i, `an unescaped ${char}`)
    else out += char
  }
  return out
}

function fenceFreeCode(markup: string) {
  return (text: string, offset: number): string => {
    const fence = text.indexOf('```')
    if (fence !== -1) fail(markup, text, offset + fence, 'a fence inside a code block')
    return unbreakBackticks(text)
  }
}

function markdownV2(message: string): ReadSegment[] {
  const segments: ReadSegment[] = []
  let text = ''
  for (let i = 0; i < message.length; i++) {
    const char = message[i] as string
    if (char === '\\') {
      const next = message[i + 1]
      if (next === undefined || !MARKDOWN_V2_SPECIAL.has(next)) fail('MarkdownV2', message, i, 'a backslash before a plain character')
      text += next
      i++
      continue
    }
    if (!message.startsWith('```\n', i)) {
      if (MARKDOWN_V2_SPECIAL.has(char)) fail('MarkdownV2', message, i, `an unescaped ${char}`)
      text += char
      continue
    }
    if (text !== '') segments.push({ kind: 'text', text })
    text = ''
    let code = ''
    let j = i + 4
    for (;; j++) {
      if (j >= message.length) fail('MarkdownV2', message, i, 'an unclosed code block')
      if (message.startsWith('\n```', j)) break
      const inner = message[j] as string
      if (inner === '`') fail('MarkdownV2', message, j, 'an unescaped ` in a code block')
      if (inner === '\\') {
        const next = message[j + 1]
        if (next !== '`' && next !== '\\') fail('MarkdownV2', message, j, 'a backslash before a plain character in a code block')
        code += next
        j++
      } else code += inner
    }
    segments.push({ kind: 'code', text: code })
    i = j + 3
  }
  if (text !== '') segments.push({ kind: 'text', text })
  return segments
}

function html(message: string): ReadSegment[] {
  const segments: ReadSegment[] = []
  let at = 0
  while (at < message.length) {
    const open = message.indexOf('<pre>', at)
    const textEnd = open === -1 ? message.length : open
    if (textEnd > at) segments.push({ kind: 'text', text: decodeEntities('HTML', message.slice(at, textEnd), at) })
    if (open === -1) break
    const close = message.indexOf('</pre>', open + 5)
    if (close === -1) fail('HTML', message, open, 'an unclosed <pre>')
    segments.push({ kind: 'code', text: decodeEntities('HTML', message.slice(open + 5, close), open + 5) })
    at = close + 6
  }
  return segments
}

/** Reads a message as the service would; throws on anything read as markup that this sink did not mean. */
export function readMessage(markup: MarkupName, message: string): ReadSegment[] {
  switch (markup) {
    case 'discord':
      return readFenced('discord', message, discordText, fenceFreeCode('discord'))
    case 'slack':
      return readFenced('slack', message, (text, offset) => fenceFreeCode('slack')(decodeEntities('slack', text, offset), offset), (text, offset) => fenceFreeCode('slack')(decodeEntities('slack', text, offset), offset))
    case 'MarkdownV2':
      return markdownV2(message)
    case 'HTML':
      return html(message)
  }
}
