// Escaping for each chat markup, checked against the reference readers in
// test/helpers/chat-markup.ts: any text round-trips, and nothing in it can open markup or
// close the code block it is shown in.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  DISCORD_MARKUP, SLACK_MARKUP, TELEGRAM_HTML_MARKUP, TELEGRAM_MARKDOWN_V2_MARKUP,
  breakBacktickRuns, escapeDiscord, escapeHtml, escapeMarkdownV2, escapeMarkdownV2Code, escapeSlack, type Markup,
} from '../../../src/sinks/webhook/escape.ts'
import { sanitize, type Segment } from '../../../src/sinks/webhook/render.ts'
import { MAX_PARTS_PER_RECORD, renderParts } from '../../../src/sinks/webhook/split.ts'
import { readMessage, unbreakBackticks, type MarkupName } from '../../helpers/chat-markup.ts'

fc.configureGlobal({ includeErrorInReport: true })

/** Pieces that mean something to one chat or another. */
const TRICKY = [
  '```', '``', '`', '\\', '\\`', '```\n', '\n```', '\u200b', '`\u200b', '<pre>', '</pre>', '<b>', '&amp;', '&', '<', '>',
  '*bold*', '_it_', '~~s~~', '||spoiler||', '> quote', '# head', '-# sub', '- item', '[a](http://x)', '<@123>', '@everyone',
  '<!channel>', '.', '!', '+', '=', '{', '}', '|', '#', '\n', '\r\n', '\t', '\u0000', '\u001b[31m', '\ud800', '\udfff', '😀', '\u2028',
] as const

const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...TRICKY)), { maxLength: 12 }).map((parts) => parts.join(''))

const MARKUPS: readonly [MarkupName, Markup][] = [
  ['discord', DISCORD_MARKUP],
  ['HTML', TELEGRAM_HTML_MARKUP],
  ['MarkdownV2', TELEGRAM_MARKDOWN_V2_MARKUP],
  ['slack', SLACK_MARKUP],
]

describe('escaping, by example', () => {
  test('Telegram HTML and Slack turn &, < and > into entities', () => {
    assert.equal(escapeHtml('a < b && c > d'), 'a &lt; b &amp;&amp; c &gt; d')
    assert.equal(escapeSlack('<!channel> & <@U1>'), '&lt;!channel&gt; &amp; &lt;@U1&gt;')
  })

  test('MarkdownV2 escapes its whole list of special characters, and only ` and \\ in code', () => {
    assert.equal(escapeMarkdownV2('_*[]()~`>#+-=|{}.!\\ ok'), '\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\ ok')
    assert.equal(escapeMarkdownV2Code('a.b `x` \\n *'), 'a.b \\`x\\` \\\\n *')
  })

  test('Discord escapes markdown, mentions and masked links with a backslash', () => {
    assert.equal(escapeDiscord('*a* _b_ `c` <@1> [x](y) # h'), '\\*a\\* \\_b\\_ \\`c\\` \\<@1\\> \\[x\\]\\(y\\) \\# h')
  })

  test('a run of backticks is broken by zero-width spaces, so ``` cannot close a block', () => {
    assert.equal(breakBacktickRuns('a ``` b'), 'a `\u200b`\u200b` b')
    assert.equal(breakBacktickRuns('single ` tick'), 'single ` tick')
    assert.equal(unbreakBackticks(breakBacktickRuns('`\u200b``')), '`\u200b``')
  })
})

describe('escaping, as properties', () => {
  for (const [name, markup] of MARKUPS) {
    test(`${name}: any text round-trips through text escaping and reads as plain text`, () => {
      fc.assert(
        fc.property(text, (raw) => {
          const clean = sanitize(raw)
          const read = readMessage(name, markup.text(clean))
          assert.deepEqual(read.map((segment) => segment.kind), clean === '' ? [] : ['text'])
          assert.equal(read.map((segment) => segment.text).join(''), clean)
        }),
      )
    })

    test(`${name}: any stack round-trips through a code block, which ends where the sink closes it`, () => {
      fc.assert(
        fc.property(text, text, (before, stack) => {
          const clean = sanitize(stack)
          const head = sanitize(before)
          const message = `${markup.text(head)}\n${markup.codeOpen}${markup.code(clean)}${markup.codeClose}\n${markup.text('after')}`
          const read = readMessage(name, message)
          const code = read.filter((segment) => segment.kind === 'code')
          assert.equal(code.length, 1, 'exactly one code block')
          assert.equal(code[0]?.text, clean)
          assert.ok(read.at(-1)?.kind === 'text' && read.at(-1)?.text.endsWith('after'), 'the text after the block is text again')
        }),
      )
    })
  }
})

/** A message's readable content with the part markers and line breaks taken out. */
function content(name: MarkupName, parts: readonly string[]): string {
  return parts
    .map((part) => {
      const read = readMessage(name, part)
      const last = read.at(-1)
      if (parts.length > 1) {
        assert.equal(last?.kind, 'text', 'a part ends with its marker')
        assert.match(last?.text ?? '', /\(part \d+\/\d+(; \d+ more characters cut)?\)$/)
      }
      return read.map((segment, index) => (index === read.length - 1 && parts.length > 1 ? segment.text.replace(/\(part \d+\/\d+(; \d+ more characters cut)?\)$/, '') : segment.text)).join('')
    })
    .join('')
    .replaceAll('\n', '')
}

describe('splitting a record into parts', () => {
  for (const [name, markup] of MARKUPS) {
    test(`${name}: every part fits, reads cleanly, and together they hold the record`, () => {
      const longText = fc.array(fc.oneof(text, fc.constantFrom('x'.repeat(300), '```'.repeat(60), '&<>'.repeat(80), '\n'.repeat(5))), { maxLength: 12 }).map((parts) => parts.join(''))
      fc.assert(
        fc.property(longText, fc.option(longText, { nil: undefined }), fc.integer({ min: 256, max: 1200 }), (head, stack, maxChars) => {
          const segments: Segment[] = [{ kind: 'text', raw: sanitize(head) }]
          if (stack !== undefined) segments.push({ kind: 'code', raw: sanitize(stack) })
          const parts = renderParts(segments, markup, maxChars)
          assert.ok(parts.length >= 1 && parts.length <= MAX_PARTS_PER_RECORD)
          for (const part of parts) assert.ok(part.length <= maxChars, `a part of ${part.length} characters, over ${maxChars}`)
          // Blank segments are left out; a record with nothing else shows a placeholder.
          const joined = segments.filter((segment) => segment.raw.trim() !== '').map((segment) => segment.raw).join('').replaceAll('\n', '')
          const expected = joined === '' ? '(empty record)' : joined
          const got = content(name, parts)
          const cut = /; (\d+) more characters cut\)$/.exec(readMessage(name, parts.at(-1) ?? '').at(-1)?.text ?? '')
          if (cut === null) assert.equal(got, expected)
          else assert.ok(expected.startsWith(got), 'the parts hold the beginning of the record')
        }),
        { numRuns: 60 },
      )
    })
  }

  test('a record too long for its parts is cut with a marker that counts what was left out', () => {
    const parts = renderParts([{ kind: 'text', raw: 'y'.repeat(10_000) }], DISCORD_MARKUP, 1_000)
    assert.equal(parts.length, MAX_PARTS_PER_RECORD)
    const shown = parts.reduce((sum, part) => sum + (part.match(/y/g)?.length ?? 0), 0)
    assert.match(parts.at(-1) ?? '', new RegExp(`\\\\\\(part 4/4; ${10_000 - shown} more characters cut\\\\\\)$`))
    assert.match(parts[0] ?? '', /\\\(part 1\/4\\\)$/)
  })

  test('a code block split across parts is closed and opened again', () => {
    const stack = Array.from({ length: 80 }, (_, i) => `    at frame${i} (file.js:${i}:1)`).join('\n')
    const parts = renderParts([{ kind: 'text', raw: 'boom' }, { kind: 'code', raw: stack }], TELEGRAM_HTML_MARKUP, 1_000)
    assert.ok(parts.length > 1)
    for (const part of parts) {
      assert.equal(part.split('<pre>').length, part.split('</pre>').length, 'balanced <pre> tags')
      assert.ok(part.includes('<pre>'))
    }
    // Cut at line breaks: no frame is torn in two.
    const frames = parts.flatMap((part) => readMessage('HTML', part).filter((segment) => segment.kind === 'code').flatMap((segment) => segment.text.split('\n')))
    assert.deepEqual(frames, stack.split('\n'))
  })
})
