import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { LEVEL_NAMES, LEVEL_VALUES, type LevelName } from '../../../src/core/levels.ts'
import { LoggerContext, type LogRecord } from '../../../src/core/record.ts'
import type { Plain } from '../../../src/core/serialize.ts'
import { ByteQueue } from '../../../src/sinks/delivery/byte-queue.ts'
import { frame } from '../../../src/sinks/syslog/framing.ts'
import { facilityCode, SEVERITY_OF_LEVEL } from '../../../src/sinks/syslog/priority.ts'
import { cutUtf8, Rfc5424Formatter, sdName, TRUNCATED_MARKER, TRUNCATED_SD_MARKER } from '../../../src/sinks/syslog/rfc5424.ts'
import { parseSyslogMessage, sdParams } from '../../helpers/rfc5424-parser.ts'

fc.configureGlobal({ includeErrorInReport: true })

const TIME = Date.UTC(2026, 10, 21, 5, 52, 25, 123)

function record(overrides: Partial<LogRecord> = {}, context = new LoggerContext('app', {})): LogRecord {
  return { level: 30, levelName: 'info', time: TIME, msg: 'hello', context, fields: undefined, err: undefined, callsite: undefined, ...overrides }
}

function withoutNewline(line: string): string {
  assert.ok(line.endsWith('\n'), 'a formatter line ends with a newline')
  return line.slice(0, -1)
}

test('the header: PRI from level and facility, version 1, time with milliseconds and offset, host, app, pid, logger name', () => {
  const formatter = new Rfc5424Formatter({ hostname: 'web-1', appName: 'shop', facility: 'local0' })
  const line = withoutNewline(formatter.format(record({ fields: { user: 'alice' } })))
  const parsed = parseSyslogMessage(line)
  assert.equal(parsed.pri, 16 * 8 + 6)
  assert.equal(parsed.version, 1)
  const local = new Date(TIME)
  assert.equal(new Date(parsed.timestamp).getTime(), TIME, `the same instant: ${parsed.timestamp}`)
  assert.match(parsed.timestamp, local.getTimezoneOffset() === 0 ? /\.123Z$/ : /\.123[+-]\d\d:\d\d$/)
  assert.deepEqual([parsed.hostname, parsed.appName, parsed.procId, parsed.msgId], ['web-1', 'shop', String(process.pid), 'app'])
  assert.deepEqual(sdParams(parsed.sd, 'fields@32473'), { user: 'alice' })
  assert.equal(parsed.msg, 'hello')
  assert.equal(parsed.bom, true, 'MSG is UTF-8, so it starts with the BOM (§6.4)')
})

test('severities: trace and debug 7, info 6, success 5, warn 4, error 3, fatal 2; facilities by name or code', () => {
  assert.deepEqual(LEVEL_NAMES.map((name) => SEVERITY_OF_LEVEL[name]), [7, 7, 6, 5, 4, 3, 2])
  const formatter = new Rfc5424Formatter({ facility: 3 })
  for (const name of LEVEL_NAMES) {
    const parsed = parseSyslogMessage(withoutNewline(formatter.format(record({ level: LEVEL_VALUES[name], levelName: name }))))
    assert.equal(parsed.pri, 3 * 8 + SEVERITY_OF_LEVEL[name], name)
  }
  assert.equal(facilityCode(undefined), 1, 'user by default')
  assert.equal(facilityCode('LOCAL7'), 23)
  assert.throws(() => facilityCode(24), /Expected `facility` to be one of .* or an integer from 0 to 23, got `24` \(number\)/)
})

test('structured data: bindings then fields, names sanitized, values escaped (§6.3.3), errors in their own element', () => {
  const formatter = new Rfc5424Formatter({ enterpriseId: '12345.1', msgId: 'fixed' })
  const context = new LoggerContext(undefined, { service: 'api' })
  const line = withoutNewline(
    formatter.format(
      record(
        {
          msg: '',
          fields: { 'a b=c"d]e': 'x', nested: { deep: [1, 'two'] }, esc: 'q"b\\s]e', n: null, long_name_that_goes_past_thirty_two_characters: 1 },
          err: { type: 'Error', message: 'bad]', stack: 'Error: bad]\n    at x' },
        },
        context,
      ),
    ),
  )
  assert.ok(line.includes('esc="q\\"b\\\\s\\]e"'), line)
  const parsed = parseSyslogMessage(line)
  assert.equal(parsed.msgId, 'fixed')
  assert.equal(parsed.msg, undefined, 'an empty message has no MSG part')
  assert.deepEqual(parsed.sd[0]?.params, [
    ['service', 'api'],
    ['a_b_c_d_e', 'x'],
    ['nested', '{"deep":[1,"two"]}'],
    ['esc', 'q"b\\s]e'],
    ['n', 'null'],
    ['long_name_that_goes_past_thirty_', '1'],
  ])
  assert.equal(parsed.sd[0]?.id, 'fields@12345.1')
  assert.deepEqual(sdParams(parsed.sd, 'err@12345.1'), { type: 'Error', message: 'bad]', stack: 'Error: bad]\n    at x' })
  assert.equal(parseSyslogMessage(withoutNewline(formatter.format(record()))).sd.length, 0, 'no fields: the NILVALUE')
})

test('framing: octet counting counts bytes (RFC 6587 §3.4.1); newline framing escapes LF', () => {
  assert.equal(frame('é\nx', 'octet-counting').toString(), '4 é\nx')
  assert.equal(frame('a\nb', 'newline').toString(), 'a\\nb\n')
})

test('the bounded queue drops by its policy and counts', () => {
  const oldest = new ByteQueue(10, 'drop-oldest')
  for (const text of ['aaaa', 'bbbb', 'cccc']) oldest.push(Buffer.from(text))
  assert.deepEqual([oldest.shift()?.toString(), oldest.shift()?.toString()], ['bbbb', 'cccc'])
  assert.equal(oldest.takeDropped(), 1)
  assert.equal(oldest.takeDropped(), 0, 'counting starts again once reported')
  const newest = new ByteQueue(10, 'drop-newest')
  for (const text of ['aaaa', 'bbbb', 'cccc', 'dd']) newest.push(Buffer.from(text))
  assert.deepEqual([newest.shift()?.toString(), newest.shift()?.toString(), newest.shift()?.toString()], ['aaaa', 'bbbb', 'dd'])
  assert.equal(newest.droppedTotal, 1)
  assert.equal(new ByteQueue(3, 'drop-oldest').push(Buffer.from('toolong')), false, 'an item over the bound is dropped itself')
})

const plainValue: fc.Arbitrary<Plain> = fc.letrec<{ value: Plain }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }),
  ),
})).value

const recordArbitrary = fc.record({
  levelName: fc.constantFrom<LevelName>(...LEVEL_NAMES),
  time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  msg: fc.string({ unit: 'binary' }),
  name: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  fields: fc.option(fc.dictionary(fc.string({ unit: 'binary' }), plainValue, { maxKeys: 6 }), { nil: undefined }),
  bindings: fc.dictionary(fc.string({ unit: 'binary' }), plainValue, { maxKeys: 3 }),
  hostname: fc.string({ unit: 'binary', maxLength: 300 }),
  appName: fc.string({ unit: 'binary', maxLength: 60 }),
})

// What a JS string becomes after a round trip through UTF-8: lone surrogates are U+FFFD.
function wellFormed(text: string): string {
  return Buffer.from(text).toString()
}

test('property: every message parses back by the ABNF, with each field name and value recoverable', () => {
  fc.assert(
    fc.property(recordArbitrary, (input) => {
      const formatter = new Rfc5424Formatter({ hostname: input.hostname, appName: input.appName })
      const context = new LoggerContext(input.name, input.bindings)
      const line = withoutNewline(formatter.format(record({ level: LEVEL_VALUES[input.levelName], levelName: input.levelName, time: input.time, msg: input.msg, fields: input.fields }, context)))
      const parsed = parseSyslogMessage(wellFormed(line))
      assert.equal(parsed.pri, 8 + SEVERITY_OF_LEVEL[input.levelName])
      assert.equal(new Date(parsed.timestamp).getTime(), input.time)
      assert.equal(parsed.msg, input.msg === '' ? undefined : wellFormed(input.msg))
      // The context's bindings: one named like a record key (name, pid…) is renamed key_ (the forging rule).
      const expected = [...Object.entries(context.bindings), ...Object.entries(input.fields ?? {})].map(([key, value]): [string, string] => [
        sdName(key),
        wellFormed(typeof value === 'string' ? value : JSON.stringify(value)),
      ])
      assert.deepEqual(parsed.sd.find((element) => element.id === 'fields@32473')?.params ?? [], expected)
    }),
    { numRuns: 400 },
  )
})

test('formatWithin: the MSG is cut first; structured data that does not fit is left out, and the marker says so', () => {
  const formatter = new Rfc5424Formatter({ hostname: 'h', appName: 'a' })
  const longMessage = formatter.formatWithin(record({ msg: 'm'.repeat(5000), fields: { k: 'v' } }), 600)
  assert.equal(Buffer.byteLength(longMessage), 600)
  assert.ok(longMessage.endsWith(`m${TRUNCATED_MARKER}`))
  assert.deepEqual(sdParams(parseSyslogMessage(longMessage).sd, 'fields@32473'), { k: 'v' })
  const longFields = formatter.formatWithin(record({ msg: 'short', fields: { k: 'v'.repeat(5000) } }), 600)
  assert.ok(Buffer.byteLength(longFields) <= 600)
  assert.deepEqual(parseSyslogMessage(longFields).sd, [])
  assert.equal(parseSyslogMessage(longFields).msg, `short${TRUNCATED_SD_MARKER}`)
})

test('property: formatWithin never passes its size, keeps a parseable message, and says when it cut', () => {
  const longText = fc.string({ unit: 'binary', maxLength: 3000, size: 'max' })
  const input = fc.record({
    msg: longText,
    fields: fc.option(fc.dictionary(fc.string(), longText, { maxKeys: 3 }), { nil: undefined }),
    bindings: fc.dictionary(fc.string(), plainValue, { maxKeys: 3 }),
  })
  fc.assert(
    fc.property(input, fc.integer({ min: 480, max: 3000 }), (input, maxBytes) => {
      const formatter = new Rfc5424Formatter({ hostname: 'h', appName: 'a' })
      const item = record({ msg: input.msg, fields: input.fields }, new LoggerContext('app', input.bindings))
      const text = formatter.formatWithin(item, maxBytes)
      assert.ok(Buffer.byteLength(text) <= maxBytes, `${Buffer.byteLength(text)} > ${maxBytes}`)
      const parsed = parseSyslogMessage(text)
      const full = withoutNewline(formatter.format(item))
      if (Buffer.byteLength(full) <= maxBytes) assert.equal(text, full)
      else assert.ok(parsed.msg?.endsWith(TRUNCATED_MARKER) || parsed.msg?.endsWith(TRUNCATED_SD_MARKER), parsed.msg)
    }),
    { numRuns: 300 },
  )
})

test('property: cutUtf8 never splits a character and never passes the limit', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.nat(200), (text, maxBytes) => {
      const cut = cutUtf8(text, maxBytes)
      assert.ok(Buffer.byteLength(cut) <= maxBytes)
      assert.ok(text.startsWith(cut))
      assert.ok(!/[\uD800-\uDBFF]$/.test(cut), 'no dangling high surrogate')
    }),
  )
})
