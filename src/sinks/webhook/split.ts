import type { Markup } from './escape.js'
import type { Segment } from './render.js'

/** A record too long for one message takes at most this many; the rest is cut, with a marker saying how much. */
export const MAX_PARTS_PER_RECORD = 4
/** Room kept at the end of every part for its `(part 2/3)` or truncation marker. */
const MARKER_RESERVE_CHARS = 64
/** A piece shorter than this is not squeezed in at the end of a part: the next part begins instead. */
const MIN_PIECE_CHARS = 16
/** A cut moves back to the last line break when that keeps at least this share of the part. */
const LINE_BREAK_MIN_SHARE = 0.5

/** What an empty record shows. */
const EMPTY_RECORD = '(empty record)'

/** The longest prefix of `raw` whose escaped form fits `room`, cut at a line break when one is near. */
function fit(raw: string, room: number, escape: (text: string) => string): { take: string; consumed: number } {
  // Escaping never shortens text, so no more than `room` characters can fit.
  const limit = Math.min(raw.length, room)
  let low = 0
  let high = limit
  if (escape(raw.slice(0, limit)).length <= room) low = limit
  else {
    // The escaped length grows with the prefix: binary search for the longest that fits.
    while (low < high) {
      const middle = Math.ceil((low + high) / 2)
      if (escape(raw.slice(0, middle)).length <= room) low = middle
      else high = middle - 1
    }
  }
  let end = low
  if (end === raw.length) return { take: raw, consumed: end }
  const lineBreak = raw.lastIndexOf('\n', end - 1)
  if (lineBreak >= end * LINE_BREAK_MIN_SHARE && lineBreak > 0) return { take: raw.slice(0, lineBreak), consumed: lineBreak + 1 }
  // Never between the two halves of a surrogate pair.
  const last = raw.charCodeAt(end - 1)
  if (end > 1 && last >= 0xd800 && last <= 0xdbff) end--
  return { take: raw.slice(0, Math.max(end, 1)), consumed: Math.max(end, 1) }
}

/**
 * Renders a record into the parts of one or more messages of at most `maxChars` each.
 * Text is cut between characters, never inside an escape; a code block cut in two is
 * closed at the end of one part and opened again at the start of the next. Parts of a
 * split record are marked `(part 1/3)`; past MAX_PARTS_PER_RECORD the rest is dropped
 * with a marker giving the number of characters not shown.
 */
export function renderParts(segments: readonly Segment[], markup: Markup, maxChars: number): string[] {
  const budget = maxChars - MARKER_RESERVE_CHARS
  const parts: string[] = []
  let current = ''
  let cutChars = 0
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as Segment
    // Blank text would make a blank message, which chats refuse.
    if (segment.raw.trim() === '') continue
    const escape = segment.kind === 'code' ? markup.code : markup.text
    const overhead = segment.kind === 'code' ? markup.codeOpen.length + markup.codeClose.length : 0
    let rest = segment.raw
    for (;;) {
      if (parts.length === MAX_PARTS_PER_RECORD) {
        cutChars = rest.length + segments.slice(index + 1).reduce((sum, next) => sum + next.raw.length, 0)
        break
      }
      const separator = current === '' ? '' : '\n'
      const room = budget - current.length - separator.length - overhead
      if (room < MIN_PIECE_CHARS && current !== '') {
        parts.push(current)
        current = ''
        continue
      }
      const { take, consumed } = fit(rest, room, escape)
      const escaped = escape(take)
      current += separator + (segment.kind === 'code' ? markup.codeOpen + escaped + markup.codeClose : escaped)
      rest = rest.slice(consumed)
      if (rest === '') break
      parts.push(current)
      current = ''
    }
    if (cutChars > 0) break
  }
  if (current !== '') parts.push(current)
  // A chat refuses an empty message, and a record must never vanish without a trace.
  if (parts.length === 0) return [markup.text(EMPTY_RECORD)]
  if (parts.length === 1) return parts
  return parts.map((part, i) => {
    const marker = i === parts.length - 1 && cutChars > 0 ? `(part ${i + 1}/${parts.length}; ${cutChars} more characters cut)` : `(part ${i + 1}/${parts.length})`
    return `${part}\n${markup.text(marker)}`
  })
}
