// The OpenTelemetry logs data model as this sink fills it, checked on what a local receiver
// decodes: JSON parsed as is, protobuf decoded by a reader of the tests' own
// (helpers/otlp-decode.ts) into the same shape, so every assertion holds for both encodings.
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { describe, test } from 'node:test'
import { createLogger, LEVEL_NAMES, LEVEL_VALUES, type LevelName } from '../../../src/index.ts'
import { levelNameOf } from '../../../src/core/levels.ts'
import { LoggerContext } from '../../../src/core/record.ts'
import { otlpSink, type OtlpEncoding, type OtlpSinkOptions } from '../../../src/sinks/otlp/index.ts'
import type { Json } from './helpers/otlp-decode.ts'
import { startOtlpReceiver, type OtlpReceiver, type ReceivedLogRecord } from './helpers/otlp-receiver.ts'

const ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json']
const TRACE_ID = '5b8efff798038103d269b633813fc60c'
const SPAN_ID = 'eee19b7ec3c1b174'
/** Longer than any test: records go when flush() says so. */
const NEVER_MS = 60_000

function sinkFor(receiver: OtlpReceiver, encoding: OtlpEncoding, options: Partial<OtlpSinkOptions> = {}): ReturnType<typeof otlpSink> {
  return otlpSink({ url: receiver.url, encoding, batchInterval: NEVER_MS, retryBaseDelay: 10, timeout: 2_000, ...options })
}

function only<T>(list: readonly T[]): T {
  assert.equal(list.length, 1)
  return list[0] as T
}

describe('otlpSink: the logs data model', () => {
  for (const encoding of ENCODINGS) {
    test(`${encoding}: Content-Type, path, headers, resource and scope`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const sink = sinkFor(receiver, encoding, { resource: { 'service.name': 'checkout', 'service.version': '1.2.3', 'deployment.environment.name': 'test', replicas: 3 }, headers: { authorization: 'Bearer t0ken-for-tests', 'X-Scope-OrgID': 'tenant-1' } })
      const log = createLogger({ sinks: [sink] })
      log.info('hello')
      await log.flush()
      const request = only(receiver.requests)
      assert.equal(request.path, '/v1/logs')
      assert.equal(request.contentType, encoding === 'json' ? 'application/json' : 'application/x-protobuf')
      assert.equal(request.headers['authorization'], 'Bearer t0ken-for-tests')
      assert.equal(request.headers['x-scope-orgid'], 'tenant-1')
      assert.deepEqual(request.resource, { 'service.name': 'checkout', 'process.pid': process.pid, 'host.name': hostname(), 'service.version': '1.2.3', 'deployment.environment.name': 'test', replicas: 3 })
      assert.deepEqual(request.scope, { name: 'blackbox-log' })
      await log.close()
    })

    test(`${encoding}: each level's severityNumber and severityText, at the start of its OpenTelemetry range`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const sink = sinkFor(receiver, encoding)
      // Written to the sink directly: through a logger, `fatal` would flush synchronously, blocking this
      // thread, and with it the receiver, for `exitTimeout`.
      const context = new LoggerContext(undefined, {})
      const levels: [LevelName | number, number][] = [...LEVEL_NAMES.map((name): [LevelName, number] => [name, LEVEL_VALUES[name]]), [45, 45], [70, 70], [5, 5]]
      for (const [name, level] of levels) {
        sink.write('', { level, levelName: levelNameOf(level), time: Date.now(), msg: `a ${name} record`, context, fields: undefined, err: undefined, callsite: undefined })
      }
      await sink.flush()
      const seen = receiver.records().map((record) => [record.body, record.raw['severityNumber'], record.raw['severityText']])
      assert.deepEqual(seen, [
        ['a trace record', 1, 'TRACE'],
        ['a debug record', 5, 'DEBUG'],
        ['a info record', 9, 'INFO'],
        ['a success record', 10, 'INFO2'],
        ['a warn record', 13, 'WARN'],
        ['a error record', 17, 'ERROR'],
        ['a fatal record', 21, 'FATAL'],
        ['a 45 record', 13, 'WARN'],
        ['a 70 record', 21, 'FATAL'],
        ['a 5 record', 1, 'TRACE'],
      ])
      await sink.close()
    })

    test(`${encoding}: timeUnixNano is the record's time, observedTimeUnixNano when the sink took it; the message is a string body`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ sinks: [sinkFor(receiver, encoding)] })
      const before = Date.now()
      log.info('line one\nline two "quoted" ✓ 🚀')
      const after = Date.now()
      await log.flush()
      const record = only(receiver.records())
      assert.deepEqual(record.raw['body'], { stringValue: 'line one\nline two "quoted" ✓ 🚀' })
      for (const key of ['timeUnixNano', 'observedTimeUnixNano']) {
        const nanos = record.raw[key]
        assert.equal(typeof nanos, 'string', `${key} is an int64 as a decimal string`)
        const value = BigInt(nanos as string)
        assert.ok(value >= BigInt(before) * 1_000_000n && value <= BigInt(after) * 1_000_000n, `${key} ${value} within the call`)
        assert.equal(value % 1_000_000n, 0n, 'milliseconds, the resolution of the record')
      }
      await log.close()
    })

    test(`${encoding}: bindings and fields become attributes, nested values kvlist and array AnyValues`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ name: 'billing', bindings: { region: 'eu-west-1', shard: 7 }, sinks: [sinkFor(receiver, encoding)] })
      const child = log.child({ requestId: 'r-42' })
      child.warn({ shard: 8, user: { id: 17, name: 'Ada', tags: ['admin', 'beta'], limits: { daily: 2.5 } }, ok: false, ratio: -0.25, big: -9007199254740991, empty: {}, none: null, list: [1, [2, 'x'], { y: true }] }, 'charge %s', 'declined')
      await log.flush()
      const record = only(receiver.records())
      assert.equal(record.body, 'charge declined')
      assert.deepEqual(record.attributes, {
        'logger.name': 'billing',
        region: 'eu-west-1',
        shard: 7,
        requestId: 'r-42',
        shard_: 8,
        user: { id: 17, name: 'Ada', tags: ['admin', 'beta'], limits: { daily: 2.5 } },
        ok: false,
        ratio: -0.25,
        big: -9007199254740991,
        empty: {},
        none: null,
        list: [1, [2, 'x'], { y: true }],
      })
      const attributes = record.raw['attributes'] as { key: string; value: Json }[]
      const valueOf = (key: string): Json | undefined => attributes.find((attribute) => attribute.key === key)?.value
      // A field named like a binding is renamed (docs/formats.md, "No key is written twice"): each key once.
      assert.deepEqual(valueOf('shard'), { intValue: '7' })
      assert.deepEqual(valueOf('shard_'), { intValue: '8' })
      assert.equal(attributes.filter((attribute) => attribute.key === 'shard').length, 1)
      assert.deepEqual(valueOf('ratio'), { doubleValue: -0.25 })
      assert.deepEqual(valueOf('big'), { intValue: '-9007199254740991' })
      assert.deepEqual(valueOf('none'), {}, 'null is an empty AnyValue')
      assert.deepEqual(valueOf('user'), {
        kvlistValue: {
          values: [
            { key: 'id', value: { intValue: '17' } },
            { key: 'name', value: { stringValue: 'Ada' } },
            { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'admin' }, { stringValue: 'beta' }] } } },
            { key: 'limits', value: { kvlistValue: { values: [{ key: 'daily', value: { doubleValue: 2.5 } }] } } },
          ],
        },
      })
      await log.close()
    })

    test(`${encoding}: an error becomes exception.type, exception.message, exception.stacktrace; the rest goes under err`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ sinks: [sinkFor(receiver, encoding)] })
      const cause = new Error('socket closed')
      const error = Object.assign(new RangeError('amount out of range', { cause }), { code: 'E_RANGE' })
      log.error(error)
      log.error({ err: new TypeError('no charge'), orderId: 5 }, 'charge failed')
      await log.flush()
      const [first, second] = receiver.records() as [ReceivedLogRecord, ReceivedLogRecord]
      assert.equal(first.body, 'amount out of range')
      assert.equal(first.attributes['exception.type'], 'RangeError')
      assert.equal(first.attributes['exception.message'], 'amount out of range')
      assert.equal(first.attributes['exception.stacktrace'], error.stack)
      const details = first.attributes['err'] as { [key: string]: Json }
      assert.equal(details['code'], 'E_RANGE')
      assert.equal((details['cause'] as { [key: string]: Json })['message'], 'socket closed')
      assert.equal(second.body, 'charge failed')
      assert.deepEqual(Object.keys(second.attributes), ['orderId', 'exception.type', 'exception.message', 'exception.stacktrace'])
      assert.equal(second.attributes['exception.type'], 'TypeError')
      await log.close()
    })

    test(`${encoding}: trace_id/span_id or traceId/spanId in fields or bindings become the record's ids, as hex`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ sinks: [sinkFor(receiver, encoding)] })
      log.info({ trace_id: TRACE_ID, span_id: SPAN_ID, trace_flags: 1, user: 'a' }, 'snake case')
      log.info({ traceId: TRACE_ID.toUpperCase(), spanId: SPAN_ID.toUpperCase(), traceFlags: '01' }, 'camel case, upper-case hex')
      log.child({ trace_id: TRACE_ID }).info('trace id bound to a child, no span')
      log.info({ trace_id: 'not-a-trace-id', span_id: SPAN_ID }, 'invalid: kept as attributes')
      log.info({ trace_id: '0'.repeat(32), span_id: SPAN_ID }, 'all zeros: invalid')
      log.info('no ids')
      await log.flush()
      const records = receiver.records()
      const ids = records.map((record) => ({ traceId: record.raw['traceId'], spanId: record.raw['spanId'], flags: record.raw['flags'] }))
      assert.deepEqual(ids, [
        { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 },
        { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 },
        { traceId: TRACE_ID, spanId: undefined, flags: undefined },
        { traceId: undefined, spanId: undefined, flags: undefined },
        { traceId: undefined, spanId: undefined, flags: undefined },
        { traceId: undefined, spanId: undefined, flags: undefined },
      ])
      assert.deepEqual(records[0]?.attributes, { user: 'a' }, 'the ids used leave the attributes')
      assert.deepEqual(records[1]?.attributes, {})
      assert.deepEqual(records[3]?.attributes, { trace_id: 'not-a-trace-id', span_id: SPAN_ID })
      assert.deepEqual(records[4]?.attributes, { trace_id: '0'.repeat(32), span_id: SPAN_ID })
      await log.close()
    })

    test(`${encoding}: strings that are not well-formed UTF-16 arrive with U+FFFD for each lone surrogate, keys still unique`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ sinks: [sinkFor(receiver, encoding)] })
      log.info({ ['key\uD800']: 'value\uDC00!', pair: '😀', '\uD801': 'first', '\uDC01': 'second', nested: { '\uD800': 1, '\uDC00': 2 } }, 'lone \uD83D end')
      await log.flush()
      const record = only(receiver.records())
      assert.equal(record.body, 'lone \uFFFD end')
      // Keys that differ only in lone surrogates become one: KeyValueList keys must be unique; the later wins.
      assert.deepEqual(record.attributes, { 'key\uFFFD': 'value\uFFFD!', pair: '😀', '\uFFFD': 'second', nested: { '\uFFFD': 2 } })
      await log.close()
    })
  }

  test('both encodings carry the same payload', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const payloads: Json[] = []
    for (const encoding of ENCODINGS) {
      const log = createLogger({ name: 'same', bindings: { a: [1, 2.5, 'x', null, { b: false }] }, sinks: [sinkFor(receiver, encoding, { resource: { 'service.name': 'twin' } })] })
      log.error({ trace_id: TRACE_ID, span_id: SPAN_ID, n: -3, deep: { deeper: { deepest: [[]] } } }, 'twin record')
      log.error(new Error('twin error'))
      await log.flush()
      await log.close()
      const request = receiver.requests.at(-1)
      assert.ok(request)
      // The times differ between the two runs; everything else must not.
      payloads.push(JSON.parse(JSON.stringify(request.payload).replace(/"(time|observedTime)UnixNano":"\d+"/g, '"$1UnixNano":"0"').replace(/at [^"]*?\\n/g, '')) as Json)
    }
    assert.deepEqual(payloads[0], payloads[1])
  })
})
