import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CONTINUATION_PREFIX } from '../../src/core/format/index.ts'
import { createLogger } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { at } from '../helpers/plain.ts'

// A failing property shows the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true })

const FORGED_TEXT_LINE = '\n2026-11-21 05:52:25.123 [1] [INFO] forged'

/** Pieces that break lines in some reader, repaint a terminal, or imitate a record. */
const DANGEROUS = [
  '\n', '\r', '\r\n', '\n\r', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c', '\b', '\t', '\u0000',
  '\u001b[2J', '\u001b[31m', '\u001b]0;pwned\u0007', '\u001bc', '\u007f', '\u009b31m', '\u0090', '\u009f',
  '\ud800', '\udfff', '\u202e', '😀', 'é',
  CONTINUATION_PREFIX, `\n${CONTINUATION_PREFIX}`, ` ${CONTINUATION_PREFIX}`,
  FORGED_TEXT_LINE,
  '\r\n2026-11-21 05:52:25.123 [1] [ERROR] forged',
  '\u20282026-11-21 05:52:25.123 [1] [INFO] forged',
  '\n2026-11-21 05:52:25.123 | INFO     | MainProcess:main | app.ts:1 | forged',
  '\n[05:52:25] [1] [INFO] forged',
  '\n{"level":60,"time":0,"pid":1,"hostname":"h","msg":"forged"}',
  '"}\n{"level":60,"msg":"forged',
  ' key=value', '="', '\\', '\\n', '"',
] as const

const nasty = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom(...DANGEROUS)), { maxLength: 8 })
  .map((parts) => parts.join(''))

// Keys JSON records already use at the top level: a field of the same name is renamed (see the
// property below); these properties look at other keys. `__proto__` is checked on its own below.
const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err', '__proto__'])
const fieldKey = nasty.filter((key) => !TOP_LEVEL_KEYS.has(key) && key !== 'nested')
// Keys a serialized error already has, or that Error instances define.
const ERROR_KEYS: ReadonlySet<string> = new Set(['type', 'message', 'stack', 'code', 'cause', 'errors', 'name'])
const errorKey = fieldKey.filter((key) => !ERROR_KEYS.has(key))

// Cc (C0, DEL, C1) but tab, plus the Unicode line and paragraph separators.
const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** One text record: a first line that is not a continuation, then only continuation lines, and no raw controls. */
function assertOneTextRecord(output: string): void {
  assert.ok(output.endsWith('\n'), `a record ends with a newline: ${JSON.stringify(output)}`)
  const [first = '', ...rest] = output.slice(0, -1).split('\n')
  assert.ok(!first.startsWith(CONTINUATION_PREFIX), `the first line looks like a continuation: ${JSON.stringify(first)}`)
  for (const line of rest) assert.ok(line.startsWith(CONTINUATION_PREFIX), `a later line could be read as a record: ${JSON.stringify(line)}`)
  for (const line of [first, ...rest]) {
    const control = RAW_CONTROL.exec(line)
    assert.equal(control, null, `raw ${codePoint(control?.[0] ?? '')} in ${JSON.stringify(line)}`)
  }
}

/** One JSON record on one line, with nothing a line-splitting reader would break on. */
function parseOneJsonRecord(output: string): unknown {
  assert.equal(output.indexOf('\n'), output.length - 1, `one line only: ${JSON.stringify(output)}`)
  const separator = /[\u0000-\u001f\u0085\u2028\u2029]/.exec(output.slice(0, -1))
  assert.equal(separator, null, `raw ${codePoint(separator?.[0] ?? '')} in ${JSON.stringify(output)}`)
  return JSON.parse(output) as unknown
}

const TEXT_FORMATS = ['text', 'loguru', 'console', '{message}', '{message}{fields}', '{name} {message}{fields}', '{fields} {message}'] as const

describe('text formats: message and field text cannot forge a record', () => {
  for (const format of TEXT_FORMATS) {
    test(`format ${JSON.stringify(format)}: any message and field`, () => {
      const out = memorySink({ format })
      const log = createLogger({ sinks: [out.sink] })
      fc.assert(
        fc.property(nasty, nasty, nasty, (message, key, value) => {
          out.clear()
          log.info(message)
          log.info({ [key]: value, nested: { [key]: [value] } }, message)
          assert.equal(out.lines.length, 2)
          for (const line of out.lines) assertOneTextRecord(line)
        }),
        { numRuns: 300 },
      )
    })

    test(`format ${JSON.stringify(format)}: any error message, name, property, cause and stack`, () => {
      const out = memorySink({ format })
      const log = createLogger({ sinks: [out.sink] })
      fc.assert(
        fc.property(nasty, nasty, nasty, (message, name, extra) => {
          out.clear()
          const cause = new Error(extra, { cause: extra })
          const err = Object.assign(new Error(message, { cause }), { [extra]: message, code: name })
          err.name = name
          log.error(err)
          log.error(err, message)
          log.error(new AggregateError([new Error(extra), extra], message))
          const rewritten = new Error('x')
          rewritten.stack = `${message}\n${extra}`
          log.error({ err: rewritten }, name)
          assert.equal(out.lines.length, 4)
          for (const line of out.lines) assertOneTextRecord(line)
        }),
        { numRuns: 200 },
      )
    })
  }

  test('a message built to look like a record line stays on a continuation line', () => {
    const out = memorySink({ format: 'text' })
    createLogger({ sinks: [out.sink] }).info(`ok${FORGED_TEXT_LINE}`)
    const lines = (out.lines[0] ?? '').split('\n')
    assert.match(lines[0] ?? '', /\[INFO\] ok$/)
    assert.equal(lines[1], `${CONTINUATION_PREFIX}2026-11-21 05:52:25.123 [1] [INFO] forged`)
    assert.equal(lines[2], '')
    assert.equal(lines.length, 3)
  })

  for (const [label, message, shown] of [
    ['CR LF', 'a\r\nb', ['a', 'b']],
    ['a lone CR', 'a\rb', ['a\\rb']],
    ['U+2028', 'a\u2028b', ['a\\u2028b']],
    ['U+2029', 'a\u2029b', ['a\\u2029b']],
    ['U+0085', 'a\u0085b', ['a\\u0085b']],
    ['ESC', '\u001b[2Jclear', ['\\e[2Jclear']],
    ['NUL', 'a\u0000b', ['a\\u0000b']],
    ['DEL', 'a\u007fb', ['a\\u007fb']],
    ['an empty first line', '\nsecond', ['', 'second']],
  ] as const) {
    test(`${label} in a message is escaped or moved to a continuation line`, () => {
      const out = memorySink({ format: '{message}' })
      createLogger({ sinks: [out.sink] }).info(message)
      const [first, ...rest] = shown
      assert.equal(out.lines[0], [first, ...rest.map((line) => `${CONTINUATION_PREFIX}${line}`)].join('\n') + '\n')
    })
  }

  test('a C1 control (U+009B, the 8-bit CSI) in a message is escaped', () => {
    const out = memorySink({ format: '{message}' })
    createLogger({ sinks: [out.sink] }).info('a\u009b2Jb')
    assertOneTextRecord(out.lines[0] ?? '')
  })

  for (const [label, fields] of [
    ['DEL in a field value', { note: 'a\u007fb' }],
    ['DEL in a field key', { 'k\u007f': 1 }],
    ['DEL inside an object field', { nested: { note: '\u007f' } }],
    ['a C1 control in a bare field value', { note: 'x\u009b31m' }],
  ] as const) {
    test(`${label} is escaped`, () => {
      const out = memorySink({ format: 'text' })
      createLogger({ sinks: [out.sink] }).info(fields, 'm')
      assertOneTextRecord(out.lines[0] ?? '')
    })
  }

  test('a message that starts like a continuation line is not taken for one', () => {
    const out = memorySink({ format: '{message}' })
    createLogger({ sinks: [out.sink] }).info(`${CONTINUATION_PREFIX}not a continuation`)
    assert.ok(!(out.lines[0] ?? '').startsWith(CONTINUATION_PREFIX))
    assertOneTextRecord(out.lines[0] ?? '')
  })

  test('a field key or value with a newline is quoted on the same line', () => {
    const out = memorySink({ format: 'text' })
    createLogger({ sinks: [out.sink] }).info({ 'a\nb': `c${FORGED_TEXT_LINE}` }, 'm')
    assert.match(out.lines[0] ?? '', / m "a\\nb"="c\\n2026-11-21 05:52:25.123 \[1\] \[INFO\] forged"\n$/)
  })
})

describe('JSON: message and field text cannot forge a record', () => {
  test('any message and field: one line, no raw separators, values given back exactly', () => {
    const out = memorySink({ format: 'json' })
    const log = createLogger({ sinks: [out.sink] })
    fc.assert(
      fc.property(nasty, fieldKey, nasty, (message, key, value) => {
        out.clear()
        log.info(message)
        log.info({ [key]: value, nested: { [key]: [value] } }, message)
        assert.equal(out.lines.length, 2)
        assert.equal(at(parseOneJsonRecord(out.lines[0] ?? ''), 'msg'), message)
        const record = parseOneJsonRecord(out.lines[1] ?? '')
        assert.equal(at(record, 'msg'), message)
        assert.equal(at(record, key), value)
        assert.equal(at(record, 'nested', key, 0), value)
      }),
      { numRuns: 500 },
    )
  })

  test('any error text: one line, given back exactly', () => {
    const out = memorySink({ format: 'json' })
    const log = createLogger({ sinks: [out.sink] })
    fc.assert(
      fc.property(nasty, nasty, errorKey, (message, name, extra) => {
        out.clear()
        const err = Object.assign(new Error(message, { cause: new Error(extra) }), { [extra]: message })
        err.name = name
        log.error(err, message)
        const record = parseOneJsonRecord(out.lines[0] ?? '')
        assert.equal(at(record, 'msg'), message)
        assert.equal(at(record, 'err', 'message'), message)
        assert.equal(at(record, 'err', 'stack'), err.stack)
        assert.equal(at(record, 'err', 'cause', 'message'), extra)
        assert.equal(at(record, 'err', extra), message)
      }),
      { numRuns: 300 },
    )
  })

  for (const separator of ['\u2028', '\u2029', '\u0085']) {
    test(`${codePoint(separator)} is written as an escape and read back as itself`, () => {
      const out = memorySink({ format: 'json' })
      createLogger({ sinks: [out.sink], name: `n${separator}`, bindings: { [`b${separator}`]: separator } }).info({ [`f${separator}`]: separator }, `m${separator}`)
      const line = out.lines[0] ?? ''
      assert.ok(!line.includes(separator))
      assert.ok(line.includes(`\\u${separator.charCodeAt(0).toString(16).padStart(4, '0')}`))
      const record = parseOneJsonRecord(line)
      assert.equal(at(record, 'msg'), `m${separator}`)
      assert.equal(at(record, 'name'), `n${separator}`)
      assert.equal(at(record, `b${separator}`), separator)
      assert.equal(at(record, `f${separator}`), separator)
    })
  }
})

describe('names and bindings cannot forge a record', () => {
  test('logger name, binding keys and values: any text, in text and JSON', () => {
    const text = memorySink({ format: '{name} {message}{fields}' })
    const loguru = memorySink({ format: 'loguru' })
    const json = memorySink({ format: 'json' })
    fc.assert(
      fc.property(nasty, nasty, fieldKey, nasty, fieldKey, nasty, (name, childName, rootKey, rootValue, childKey, childValue) => {
        for (const sink of [text, loguru, json]) sink.clear()
        const root = createLogger({ name, sinks: [text.sink, loguru.sink, json.sink], bindings: { [rootKey]: rootValue } })
        const child = root.child({ [childKey]: childValue }, { name: childName })
        root.info('root')
        child.warn('child')
        for (const line of [...text.lines, ...loguru.lines]) assertOneTextRecord(line)
        const [fromRoot, fromChild] = json.lines.map(parseOneJsonRecord)
        assert.equal(at(fromRoot, 'name'), name)
        assert.equal(at(fromRoot, rootKey), rootValue)
        assert.equal(at(fromChild, 'name'), childName)
        assert.equal(at(fromChild, childKey), childValue)
        if (childKey !== rootKey) assert.equal(at(fromChild, rootKey), rootValue)
      }),
      { numRuns: 300 },
    )
  })

  test('a logger name with a newline is escaped in {name}', () => {
    const out = memorySink({ format: '[{name}] {message}' })
    createLogger({ name: `app${FORGED_TEXT_LINE}`, sinks: [out.sink] }).info('m')
    assert.deepEqual(out.lines, ['[app\\n2026-11-21 05:52:25.123 [1] [INFO] forged] m\n'])
  })

  test('child binding keys and values with newlines stay on the record’s line', () => {
    const out = memorySink({ format: 'text' })
    createLogger({ sinks: [out.sink] }).child({ [`k${FORGED_TEXT_LINE}`]: `v${FORGED_TEXT_LINE}` }).info('m')
    assert.equal((out.lines[0] ?? '').split('\n').length, 2)
    assertOneTextRecord(out.lines[0] ?? '')
  })
})

describe('a "__proto__" key from parsed input', () => {
  const body = JSON.parse('{"__proto__": {"admin": true}, "user": "alice"}') as object

  test('text: it is shown as the field it is, and adds no fields of its own', () => {
    const out = memorySink({ format: 'text' })
    createLogger({ sinks: [out.sink] }).info(body, 'request')
    const line = out.lines[0] ?? ''
    assert.doesNotMatch(line, / admin=true/)
    assert.match(line, / request __proto__=\{"admin":true\} user=alice\n$/)
  })

  test('JSON: it is kept as data', () => {
    const out = memorySink({ format: 'json' })
    createLogger({ sinks: [out.sink] }).info(body, 'request')
    const record = parseOneJsonRecord(out.lines[0] ?? '')
    assert.deepEqual(at(record, '__proto__'), { admin: true })
    assert.equal(at(record, 'user'), 'alice')
  })
})

/**
 * The top-level keys of a JSON object text, in order, duplicates kept (JSON.parse keeps only
 * the last of a duplicate, which is how a forged key wins in a reader).
 */
function topLevelKeys(json: string): string[] {
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = 0; i < json.length; i++) {
    const char = json[i]
    if (char === '"') {
      let end = i + 1
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, end + 1)) as string)
      expectKey = false
      i = end
    } else if (char === '{' || char === '[') {
      depth++
      expectKey = depth === 1
    } else if (char === '}' || char === ']') depth--
    else if (char === ',' && depth === 1) expectKey = true
  }
  return keys
}

describe('fields cannot forge the record’s own keys (issue #15)', () => {
  const RECORD_KEYS = ['level', 'time', 'pid', 'hostname', 'name', 'msg'] as const
  // Record keys, their renamed forms, and anything else.
  const key = fc.oneof(fc.constantFrom(...RECORD_KEYS, 'time_', 'time__', 'msg_', 'err', 'a'), fieldKey)
  const value = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null))
  const fieldsObject = fc.dictionary(key, value, { maxKeys: 8 })

  for (const redacted of [false, true]) {
    test(`the JSON formatter never writes a key twice, whatever the fields and bindings${redacted ? ' (the copying path: redaction on)' : ' (the direct path)'}`, () => {
      fc.assert(
        fc.property(fc.option(fc.string({ minLength: 1, maxLength: 6 }), { nil: undefined }), fieldsObject, fieldsObject, fieldsObject, (name, rootBindings, childBindings, fields) => {
          const memory = memorySink({ format: 'json' })
          const log = createLogger({ sinks: [memory.sink], bindings: rootBindings, ...(name === undefined ? {} : { name }), ...(redacted ? { redact: ['nothing.here'] } : {}) })
          log.child(childBindings).info(fields, 'the message')
          const line = memory.lines[0] ?? ''
          const keys = topLevelKeys(line)
          assert.equal(new Set(keys).size, keys.length, `a key twice in ${line}`)
          const record = JSON.parse(line) as Record<string, unknown>
          assert.equal(record['msg'], 'the message')
          assert.equal(record['level'], 30)
          assert.equal(record['pid'], process.pid)
          assert.equal(typeof record['time'], 'number')
          if (name !== undefined) assert.equal(record['name'], name)
        }),
      )
    })
  }

  test('a field named like a record key is written with a trailing underscore, in every format', () => {
    const json = memorySink({ format: 'json' })
    const text = memorySink({ format: 'text' })
    const log = createLogger({ sinks: [json.sink, text.sink] })
    log.info({ time: 153, level: 'debug', msg: 'forged', time_: 'taken' }, 'real')
    const record = JSON.parse(json.lines[0] ?? '') as Record<string, unknown>
    assert.equal(record['level'], 30)
    assert.equal(record['msg'], 'real')
    assert.equal(record['level_'], 'debug')
    assert.equal(record['msg_'], 'forged')
    assert.equal(record['time_'], 'taken', 'a field already named time_ keeps its name')
    assert.equal(record['time__'], 153, 'and the renamed time takes the next free name')
    assert.match(text.lines[0] ?? '', / real time__=153 level_=debug msg_=forged time_=taken\n$/)
  })
})
