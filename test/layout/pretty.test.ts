// `blackbox pretty`'s lines, in process: what each input line becomes, for hostile input
// (issue #15) as for ordinary records. test/cli/pretty.test.ts runs the built command.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CONTINUATION_PREFIX } from '../../src/core/format/escape.ts'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { MAX_FIELD_DEPTH, FirstLineParser } from '../../src/layout/parse-record.ts'
import { PrettyPrinter } from '../../src/layout/pretty-lines.ts'
import { MAX_ERROR_LINES, RecordRenderer } from '../../src/layout/render-record.ts'

fc.configureGlobal({ includeErrorInReport: true })

const AT = new Date(2026, 10, 21, 5, 52, 25, 123).getTime()
const TIME = compileTimeFormat()(AT)
// Controls a terminal acts on, as escapeInline() knows them: C0 but tab, DEL, C1, U+2028/9.
const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/
// The colour codes of the level label, the only escape sequences a coloured line may hold.
const SGR = /\u001b\[\d+m/g

/** What `pretty` prints for these lines, fed at once. */
function pretty(lines: readonly string[], colour = false): string {
  const printer = new PrettyPrinter({ colour })
  return printer.push(lines.map((line) => `${line}\n`).join('')) + printer.end()
}

/** A record line: `level` 30, `time` AT, `pid` 1 and `extra`. */
function record(extra: Record<string, unknown>): string {
  return JSON.stringify({ level: 30, time: AT, pid: 1, ...extra })
}

describe('pretty: values shown as what they are (#15)', () => {
  test('a message that is a number is the number; an object message its JSON', () => {
    assert.equal(pretty([record({ msg: 123 }), record({ msg: { a: 1 } })]), `${TIME} [1] [INFO] 123\n${TIME} [1] [INFO] {"a":1}\n`)
  })

  test('a time that is no moment is shown raw, as a field, and the line has no time', () => {
    assert.equal(pretty(['{"level":30,"pid":1,"time":1e300,"msg":"m"}']), '[1] [INFO] m time=1e+300\n')
    assert.equal(pretty(['{"level":30,"pid":1,"time":"soon","msg":"m"}']), '[1] [INFO] m time=soon\n')
  })

  test("an error's stack that is not a string is its JSON; a missing one is the type and message that are there", () => {
    assert.equal(pretty([record({ level: 50, msg: 'm', err: { stack: 123 } })]), `${TIME} [1] [ERROR] m\n${CONTINUATION_PREFIX}123\n`)
    assert.equal(pretty([record({ level: 50, msg: 'm', err: { stack: { at: ['a', 'b'] } } })]), `${TIME} [1] [ERROR] m\n${CONTINUATION_PREFIX}{"at":["a","b"]}\n`)
    assert.equal(pretty([record({ level: 50, msg: 'm', err: { message: 'boom' } })]), `${TIME} [1] [ERROR] m\n${CONTINUATION_PREFIX}boom\n`)
    assert.equal(pretty([record({ level: 50, msg: 'm', err: { type: 'E', message: { why: 1 } } })]), `${TIME} [1] [ERROR] m\n${CONTINUATION_PREFIX}E: {"why":1}\n`)
    assert.equal(
      pretty([record({ level: 50, msg: 'm', err: { type: 'E', message: 'x', stack: 'E: x', cause: { stack: 5 } } })]),
      `${TIME} [1] [ERROR] m\n${CONTINUATION_PREFIX}E: x\n${CONTINUATION_PREFIX}Caused by: 5\n`,
    )
  })

  test('an `err` with no stack, type or message is no error: it is a field', () => {
    assert.equal(pretty([record({ level: 50, msg: 'm', err: { code: 'E1' } })]), `${TIME} [1] [ERROR] m err={"code":"E1"}\n`)
  })

  test(`a line nested 5,000 deep is one line, cut at MAX_FIELD_DEPTH (${MAX_FIELD_DEPTH}); the next line is printed`, () => {
    const deep = `{"level":30,"time":${AT},"pid":1,"msg":"deep","a":${'['.repeat(5000)}${']'.repeat(5000)}}`
    const out = pretty([deep, record({ msg: 'after' })]).split('\n')
    assert.equal(out.length, 3)
    assert.match(out[0] ?? '', /^.* \[INFO\] deep a=\[\[\[.*"\[Array: max depth\]"\]+$/)
    assert.equal(out[1], `${TIME} [1] [INFO] after`)
  })

  test(`an error of 200,000 stack lines (more than MAX_ERROR_LINES, ${MAX_ERROR_LINES}) is shown as its JSON, a field on one line; the next line is printed`, () => {
    const stack = `Error: m\n${'    at x (file:///a.js:1:1)\n'.repeat(200_000)}`
    const out = pretty([record({ level: 50, msg: 'many', err: { type: 'Error', message: 'm', stack } }), record({ msg: 'after' })]).split('\n')
    assert.equal(out.length, 3)
    assert.ok(out[0]?.startsWith(`${TIME} [1] [ERROR] many err={"type":"Error","message":"m","stack":"Error: m\\n    at x`), out[0]?.slice(0, 120))
    assert.equal(out[1], `${TIME} [1] [INFO] after`)
  })

  test('an error within MAX_ERROR_LINES is printed on continuation lines, as the text preset writes it', () => {
    const stack = `Error: m\n${'    at x\n'.repeat(MAX_ERROR_LINES - 2)}`.trimEnd()
    const out = pretty([record({ level: 50, msg: 'many', err: { type: 'Error', message: 'm', stack } })])
    assert.equal(out.split('\n').length - 1, 1 + MAX_ERROR_LINES - 1)
  })
})

describe('pretty: terminal output escapes control characters (#15)', () => {
  test('a line passed through has its controls escaped; a CRLF line end stays a line end', () => {
    assert.equal(pretty(['plain \u001b[2J text\u0007', 'crlf\r', 'tab\there']), 'plain \\e[2J text\\u0007\ncrlf\r\ntab\there\n')
  })

  test('JSON that is no record (no level, broken) passes through escaped; a last line without its newline too', () => {
    const printer = new PrettyPrinter({ colour: false })
    assert.equal(printer.push('{"msg":"\\u001b"}\n{"level":30, \u001b]0;x\u0007\n{"level":30,"msg":"cut\u009b'), '{"msg":"\\u001b"}\n{"level":30, \\e]0;x\\u0007\n')
    assert.equal(printer.end(), '{"level":30,"msg":"cut\\u009b')
  })

  test('a text record read from a damaged file is printed with its controls escaped, the label still coloured', () => {
    const parsed = new FirstLineParser().parse(`${TIME} [1] [INFO] evil \u001b[2J end`, 1)
    assert.equal(new RecordRenderer({ colour: false }).render(parsed), `${TIME} [1] [INFO] evil \\e[2J end\n`)
    assert.equal(new RecordRenderer({ colour: true }).render(parsed), `${TIME} [1] [\u001b[32mINFO\u001b[39m] evil \\e[2J end\n`)
  })
})

describe('pretty: the property (#15)', () => {
  // The depth drawn outright: fast-check's arrays stay short, and the point is past 5,000.
  const deep = fc
    .tuple(fc.integer({ min: 0, max: 6000 }), fc.array(fc.constantFrom('[', '{"k":'), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat())
    .map(([depth, pattern, whole, cut]) => {
      const openers = Array.from({ length: depth }, (_, i) => pattern[i % pattern.length] as string)
      const line = `{"level":30,"time":1,"v":${openers.join('')}0${openers.map((opener) => (opener === '[' ? ']' : '}')).reverse().join('')}}`
      return whole ? line : line.slice(0, cut % (line.length + 1))
    })
  const anything = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(1e300, -0, '', '\u001b[2J', '\r\n'))
  const error = fc.oneof(anything, fc.record({ type: anything, message: anything, stack: anything, cause: anything, errors: fc.array(anything, { maxLength: 3 }), code: anything }, { requiredKeys: [] }))
  const odd = fc
    .record({ level: fc.oneof(fc.constantFrom(10, 30, 50, 60, 'warn', 'critical'), anything), time: anything, pid: anything, msg: anything, err: error, name: anything, extra: anything }, { requiredKeys: ['level'] })
    .map((value) => JSON.stringify(value))
  const line = fc.oneof(deep, odd, fc.string({ unit: 'binary', maxLength: 40 }), fc.constant(`{"level":50,"msg":"x","err":{"stack":${JSON.stringify('at\n'.repeat(MAX_ERROR_LINES + 5))}}}`))
  // A line of input has no newline of its own; `\r` stays, a CRLF end included.
  const lines = fc.array(line.map((text) => text.replace(/\n/g, ' ')), { minLength: 1, maxLength: 6 })

  test('property: random lines, deep nesting, odd values: never a throw; each line one record (a first line, then continuation lines); no raw controls; the chunking does not matter', () => {
    fc.assert(
      fc.property(lines, fc.integer({ min: 1, max: 5000 }), fc.boolean(), (input, size, colour) => {
        const printer = new PrettyPrinter({ colour })
        let oneByOne = ''
        for (const text of input) {
          const out = printer.push(`${text}\n`)
          const outLines = out.split('\n')
          assert.equal(outLines.pop(), '', 'the output of a whole line ends with a newline')
          assert.ok(outLines.length >= 1)
          assert.ok(outLines.slice(1).every((continuation) => continuation.startsWith(CONTINUATION_PREFIX)), `one record for the line: ${JSON.stringify(out.slice(0, 300))}`)
          for (const outLine of outLines) {
            const plain = (colour ? outLine.replace(SGR, '') : outLine).replace(/\r$/, '')
            assert.ok(!RAW_CONTROL.test(plain), `no raw control characters: ${JSON.stringify(outLine.slice(0, 300))}`)
          }
          oneByOne += out
        }
        oneByOne += printer.end()
        const chunked = new PrettyPrinter({ colour })
        const text = input.map((entry) => `${entry}\n`).join('')
        let atOnce = ''
        for (let i = 0; i < text.length; i += size) atOnce += chunked.push(text.slice(i, i + size))
        atOnce += chunked.end()
        assert.equal(atOnce, oneByOne)
      }),
      { numRuns: 150 },
    )
  })
})
