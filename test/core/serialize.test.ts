import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  DEFAULT_LIMITS, resolveLimits, serialize, serializeError, jsonMembers, serializeFields, serializeFieldsToJson, truncate, type Plain, type SerializeLimits,
} from '../../src/core/serialize.ts'
import { createLogger, type Logger } from '../../src/index.ts'
import { memorySink, type MemorySink } from '../helpers/memory-sink.ts'
import { assertJsonData, at, textAt, viaJson } from '../helpers/plain.ts'

// A failing property shows the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true })

function limits(overrides: Partial<SerializeLimits>): SerializeLimits {
  return resolveLimits(overrides)
}

describe('errors', () => {
  test('keep name, message, stack, code and own properties', () => {
    class HttpError extends Error {
      readonly status = 503
    }
    const error = Object.assign(new HttpError('upstream down'), { code: 'E_UPSTREAM', retryable: true, details: { host: 'db', port: 5432 } })
    const out = serialize(error)
    assert.equal(at(out, 'type'), 'HttpError')
    assert.equal(at(out, 'message'), 'upstream down')
    assert.equal(at(out, 'stack'), error.stack)
    assert.match(textAt(out, 'stack'), /^Error: upstream down\n\s+at /)
    assert.equal(at(out, 'code'), 'E_UPSTREAM')
    assert.equal(at(out, 'status'), 503)
    assert.equal(at(out, 'retryable'), true)
    assert.deepEqual(viaJson(at(out, 'details')), { host: 'db', port: 5432 })
    assertJsonData(out)
  })

  test('type comes first, as in pino, then message, stack and code', () => {
    const error = Object.assign(new RangeError('out of range'), { code: 'ERR_OUT_OF_RANGE', extra: 1 })
    assert.deepEqual(Object.keys(serializeError(error)), ['type', 'message', 'stack', 'code', 'extra'])
  })

  test('a name set on the instance wins over the class name', () => {
    const error = new Error('nope')
    error.name = 'ValidationError'
    assert.equal(at(serialize(error), 'type'), 'ValidationError')
  })

  test('the whole cause chain, three errors deep, ending in a cause that is not an Error', () => {
    const root = new Error('disk full', { cause: { reason: 'quota', limit: 10 } })
    const middle = new TypeError('write failed', { cause: root })
    const top = Object.assign(new Error('save failed', { cause: middle }), { code: 'E_SAVE' })
    const out = serialize(top)
    assert.equal(at(out, 'message'), 'save failed')
    assert.equal(at(out, 'code'), 'E_SAVE')
    assert.equal(at(out, 'cause', 'type'), 'TypeError')
    assert.equal(at(out, 'cause', 'message'), 'write failed')
    assert.equal(at(out, 'cause', 'stack'), middle.stack)
    assert.equal(at(out, 'cause', 'cause', 'type'), 'Error')
    assert.equal(at(out, 'cause', 'cause', 'message'), 'disk full')
    assert.equal(at(out, 'cause', 'cause', 'stack'), root.stack)
    assert.deepEqual(viaJson(at(out, 'cause', 'cause', 'cause')), { reason: 'quota', limit: 10 })
    assertJsonData(out)
  })

  for (const [label, cause, expected] of [
    ['a string', 'socket hang up', 'socket hang up'],
    ['a number', 42, 42],
    ['null', null, null],
    ['a BigInt', 7n, '7'],
  ] as const) {
    test(`a cause that is ${label} is kept as a value`, () => {
      assert.deepEqual(at(serialize(new Error('outer', { cause })), 'cause'), expected)
    })
  }

  test('an error without a cause has no cause key', () => {
    assert.equal(Object.hasOwn(serializeError(new Error('alone')), 'cause'), false)
  })

  test('AggregateError keeps each of its errors, and its cause', () => {
    const aggregate = new AggregateError([new Error('first'), new TypeError('second'), 'third, not an error'], 'all failed', { cause: new Error('why') })
    const out = serialize(aggregate)
    assert.equal(at(out, 'type'), 'AggregateError')
    assert.equal(at(out, 'message'), 'all failed')
    assert.equal(at(out, 'errors', 0, 'type'), 'Error')
    assert.equal(at(out, 'errors', 0, 'message'), 'first')
    assert.equal(at(out, 'errors', 1, 'type'), 'TypeError')
    assert.equal(at(out, 'errors', 1, 'message'), 'second')
    assert.equal(at(out, 'errors', 2), 'third, not an error')
    assert.equal((at(out, 'errors') as unknown[]).length, 3)
    assert.equal(at(out, 'cause', 'message'), 'why')
    assertJsonData(out)
  })

  test('an error whose name, message and stack getters throw still serializes', () => {
    const error = new Error('hidden')
    // stack first: V8 formats a lazy stack, reading name and message, when it is redefined.
    for (const key of ['stack', 'message', 'name']) {
      Object.defineProperty(error, key, { get() { throw new Error(`no ${key}`) }, enumerable: false })
    }
    const out = serializeError(error)
    assert.match(out.type, /threw: no name/)
    assert.match(out.message, /threw: no message/)
    assert.match(out.stack, /threw: no stack/)
    assertJsonData(out)
  })

  test('an object that only looks like an error is serialized as an object', () => {
    assert.deepEqual(viaJson(serialize({ name: 'Error', message: 'fake' })), { name: 'Error', message: 'fake' })
  })
})

describe('circular references', () => {
  test('an object that contains itself', () => {
    const node: Record<string, unknown> = { id: 1 }
    node['self'] = node
    assert.deepEqual(viaJson(serialize(node)), { id: 1, self: '[Circular]' })
  })

  test('a cycle three objects long', () => {
    const a: Record<string, unknown> = { name: 'a' }
    const b: Record<string, unknown> = { name: 'b', a }
    a['c'] = { name: 'c', b }
    assert.deepEqual(viaJson(serialize(a)), { name: 'a', c: { name: 'c', b: { name: 'b', a: '[Circular]' } } })
  })

  test('an array that contains itself', () => {
    const list: unknown[] = [1, 'two']
    list.push(list, [list])
    assert.deepEqual(viaJson(serialize(list)), [1, 'two', '[Circular]', ['[Circular]']])
  })

  test('an error whose cause is itself', () => {
    const error = new Error('loop')
    error.cause = error
    const out = serialize(error)
    assert.equal(at(out, 'message'), 'loop')
    assert.equal(at(out, 'cause'), '[Circular]')
  })

  test('two errors that are each other’s cause', () => {
    const first = new Error('first')
    const second = new Error('second', { cause: first })
    first.cause = second
    const out = serialize(first)
    assert.equal(at(out, 'cause', 'message'), 'second')
    assert.equal(at(out, 'cause', 'cause'), '[Circular]')
  })

  test('an error that holds itself in a property', () => {
    const error = Object.assign(new Error('holder'), { context: {} as Record<string, unknown> })
    error.context['error'] = error
    assert.equal(at(serialize(error), 'context', 'error'), '[Circular]')
  })

  test('an object seen twice, but not inside itself, is written twice', () => {
    const shared = { id: 7 }
    assert.deepEqual(viaJson(serialize({ left: shared, right: shared, list: [shared, shared] })), {
      left: { id: 7 }, right: { id: 7 }, list: [{ id: 7 }, { id: 7 }],
    })
  })

  test('a Map and a Set that contain themselves', () => {
    const map = new Map<string, unknown>()
    map.set('me', map)
    const set = new Set<unknown>()
    set.add(set)
    assert.deepEqual(viaJson(serialize({ map, set })), { map: { me: '[Circular]' }, set: ['[Circular]'] })
  })
})

describe('values JSON cannot hold', () => {
  for (const [label, value, expected] of [
    ['a small BigInt', 10n, '10'],
    ['a BigInt past 2^53', 2n ** 100n, '1267650600228229401496703205376'],
    ['a negative BigInt', -5n, '-5'],
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['-Infinity', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['a symbol', Symbol('token'), 'Symbol(token)'],
    ['a symbol without description', Symbol(), 'Symbol()'],
    ['a named function', function handler() {}, '[Function: handler]'],
    ['an arrow function', (() => () => 1)(), '[Function: anonymous]'],
    ['a class', class Service {}, '[Function: Service]'],
    ['a valid Date', new Date(Date.UTC(2026, 10, 21, 5, 52, 25, 123)), '2026-11-21T05:52:25.123Z'],
    ['an invalid Date', new Date(Number.NaN), 'Invalid Date'],
  ] as const) {
    test(`${label} becomes ${JSON.stringify(expected)}`, () => {
      assert.equal(serialize(value), expected)
      assert.deepEqual(viaJson(serialize({ value })), { value: expected })
    })
  }

  test('undefined is left out of objects, null in arrays and at the top', () => {
    assert.deepEqual(viaJson(serialize({ a: undefined, b: 1 })), { b: 1 })
    assert.deepEqual(serialize([undefined, 1]), [null, 1])
    assert.equal(serialize(undefined), null)
  })

  test('a Map becomes an object; keys that are not strings are written as JSON', () => {
    const map = new Map<unknown, unknown>([['name', 'alice'], [2, 'two'], [{ x: 1 }, 'object key']])
    assert.deepEqual(viaJson(serialize(map)), { name: 'alice', 2: 'two', '{"x":1}': 'object key' })
  })

  test('a Set becomes an array', () => {
    assert.deepEqual(serialize(new Set([1, 'a', 1n])), [1, 'a', '1'])
  })

  test('a toJSON method is used, and its result serialized too', () => {
    const value = { toJSON: () => ({ total: 3n, when: new Date(0) }) }
    assert.deepEqual(viaJson(serialize(value)), { total: '3', when: '1970-01-01T00:00:00.000Z' })
  })

  test('a toJSON that returns its own object is a cycle, not a hang', () => {
    const value = { toJSON(): unknown { return this } }
    assert.equal(serialize(value), '[Circular]')
  })

  test('class instances keep their own fields, not prototype getters', () => {
    class Point {
      constructor(readonly x: number, readonly y: number) {}
      get length(): number { return Math.hypot(this.x, this.y) }
    }
    assert.deepEqual(viaJson(serialize(new Point(3, 4))), { x: 3, y: 4 })
  })
})

describe('binary data is summarized, not dumped', () => {
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer
  for (const [label, value, expected] of [
    ['a small Buffer', Buffer.from('hi'), '[Buffer 2 bytes: 6869]'],
    ['a Uint8Array', new Uint8Array([255, 0, 16]), '[Uint8Array 3 bytes: ff0010]'],
    ['a Float64Array', new Float64Array([1]), '[Float64Array 8 bytes: 000000000000f03f]'],
    ['a view into part of a buffer', new Uint8Array(backing, 2, 3), '[Uint8Array 3 bytes: 020304]'],
    ['a DataView', new DataView(backing, 8), '[DataView 2 bytes: 0809]'],
    ['an ArrayBuffer', new ArrayBuffer(3), '[ArrayBuffer 3 bytes: 000000]'],
  ] as const) {
    test(`${label}`, () => {
      assert.equal(serialize(value), expected)
    })
  }

  for (const [label, value] of [
    ['a 1 MiB Buffer', Buffer.alloc(1024 * 1024, 0xab)],
    ['a 1 MiB Int32Array', new Int32Array(256 * 1024).fill(-1)],
  ] as const) {
    test(`${label} shows its size and only the first maxBinaryPreview bytes`, () => {
      const out = serialize({ value })
      const summary = textAt(out, 'value')
      assert.match(summary, /^\[(Buffer|Int32Array) 1048576 bytes: [0-9a-f]+…\]$/)
      const hex = /: ([0-9a-f]+)…/.exec(summary)?.[1] ?? ''
      assert.equal(hex.length, DEFAULT_LIMITS.maxBinaryPreview * 2)
      assert.ok(JSON.stringify(out).length < 200)
    })
  }

  test('the preview length follows limits.maxBinaryPreview', () => {
    assert.equal(serialize(Buffer.from([1, 2, 3, 4, 5]), limits({ maxBinaryPreview: 2 })), '[Buffer 5 bytes: 0102…]')
  })
})

describe('hostile objects', () => {
  test('a getter that throws becomes a marker; the other properties stay', () => {
    const value = {
      before: 1,
      get broken(): never { throw new Error('no access') },
      after: 2,
    }
    assert.deepEqual(viaJson(serialize(value)), { before: 1, broken: '[Getter threw: no access]', after: 2 })
  })

  test('a getter that throws something that is not an Error', () => {
    const value = { get broken(): never { throw 'plain string' } }
    assert.deepEqual(viaJson(serialize(value)), { broken: '[Getter threw: plain string]' })
  })

  test('a getter that throws a value whose toString throws', () => {
    const unprintable = { toString(): never { throw new Error('not even this') } }
    const value = { get broken(): never { throw unprintable } }
    const out = textAt(serialize(value), 'broken')
    assert.match(out, /^\[Getter threw: .+\]$/)
  })

  test('a toJSON that throws becomes a marker', () => {
    const value = { outer: { toJSON(): never { throw new Error('cannot convert') } }, fine: true }
    assert.deepEqual(viaJson(serialize(value)), { outer: '[toJSON threw: cannot convert]', fine: true })
  })

  for (const [trap, handler] of [
    ['ownKeys', { ownKeys(): never { throw new Error('trap ownKeys') } }],
    ['get', { get(): never { throw new Error('trap get') } }],
    ['getOwnPropertyDescriptor', { getOwnPropertyDescriptor(): never { throw new Error('trap getOwnPropertyDescriptor') } }],
    ['getPrototypeOf', { getPrototypeOf(): never { throw new Error('trap getPrototypeOf') } }],
  ] as const) {
    test(`a Proxy whose ${trap} trap throws becomes a marker; its siblings stay`, () => {
      const proxy = new Proxy({ secret: 1 }, handler)
      const out = serialize({ before: 'kept', proxy, after: 'kept too' })
      assert.equal(at(out, 'before'), 'kept')
      assert.equal(at(out, 'after'), 'kept too')
      assert.match(textAt(out, 'proxy'), new RegExp(`threw: trap ${trap}\\]$`))
      assert.doesNotThrow(() => serialize(proxy))
    })
  }

  test('a revoked Proxy becomes a marker', () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {})
    revoke()
    assert.match(textAt(serialize({ proxy }), 'proxy'), /^\[Serializing threw: .*revoked.*\]$/)
  })

  test('a Proxy that claims to be an array and throws on length', () => {
    const proxy = new Proxy([1, 2], { get(target, key) { if (key === 'length') throw new Error('no length'); return Reflect.get(target, key) } })
    assert.match(textAt(serialize({ proxy }), 'proxy'), /threw: no length/)
  })
})

describe('size limits with visible markers', () => {
  function nested(depth: number): Record<string, unknown> {
    let value: Record<string, unknown> = { leaf: true }
    for (let i = 0; i < depth; i++) value = { child: value }
    return value
  }

  test('objects below maxDepth become "[Object: max depth]"', () => {
    const out = serialize(nested(10), limits({ maxDepth: 3 }))
    assert.deepEqual(viaJson(out), { child: { child: { child: '[Object: max depth]' } } })
  })

  test('arrays below maxDepth become "[Array: max depth]"', () => {
    assert.deepEqual(serialize([[[['deep']]]], limits({ maxDepth: 2 })), [['[Array: max depth]']])
  })

  test('the default depth keeps ten levels', () => {
    let out: Plain | undefined = serialize(nested(20))
    let levels = 0
    while (out !== null && typeof out === 'object' && !Array.isArray(out) && out['child'] !== undefined) {
      out = out['child']
      levels++
    }
    assert.equal(levels, DEFAULT_LIMITS.maxDepth)
    assert.equal(out, '[Object: max depth]')
  })

  test('a value at exactly maxDepth levels is kept whole', () => {
    assert.deepEqual(viaJson(serialize(nested(2), limits({ maxDepth: 3 }))), { child: { child: { leaf: true } } })
  })

  test('depth counts through error causes too', () => {
    const out = serialize({ wrap: new Error('top', { cause: new Error('inner', { cause: new Error('deepest') }) }) }, limits({ maxDepth: 3 }))
    assert.equal(at(out, 'wrap', 'cause', 'message'), 'inner')
    assert.equal(at(out, 'wrap', 'cause', 'cause'), '[Object: max depth]')
  })

  test('arrays longer than maxArrayLength end with a count of what was left out', () => {
    const out = serialize(Array.from({ length: 8 }, (_, i) => i), limits({ maxArrayLength: 5 }))
    assert.deepEqual(out, [0, 1, 2, 3, 4, '[… 3 more items]'])
  })

  test('an array of exactly maxArrayLength items has no marker', () => {
    assert.deepEqual(serialize([1, 2, 3], limits({ maxArrayLength: 3 })), [1, 2, 3])
  })

  test('a Set longer than maxArrayLength', () => {
    assert.deepEqual(serialize(new Set(['a', 'b', 'c', 'd']), limits({ maxArrayLength: 2 })), ['a', 'b', '[… 2 more items]'])
  })

  test('an object with more than maxProperties keys notes how many were left out', () => {
    const value = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, i]))
    assert.deepEqual(viaJson(serialize(value, limits({ maxProperties: 4 }))), { k0: 0, k1: 1, k2: 2, k3: 3, '…': '3 more properties' })
  })

  test('a Map with more than maxProperties entries notes how many were left out', () => {
    const value = new Map(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]))
    assert.deepEqual(viaJson(serialize(value, limits({ maxProperties: 2 }))), { k0: 0, k1: 1, '…': '4 more entries' })
  })

  test('the default limits hold 100 items and 100 properties', () => {
    const list = serialize(Array.from({ length: 1000 }, (_, i) => i)) as unknown[]
    assert.equal(list.length, 101)
    assert.equal(list[100], '[… 900 more items]')
    const object = serialize(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i])))
    assert.equal(Object.keys(object as object).length, 101)
    assert.equal(at(object, '…'), '900 more properties')
  })

  test('strings past maxStringLength keep their start and note their original length', () => {
    assert.equal(truncate('abcdefghij', limits({ maxStringLength: 4 })), 'abcd…[truncated, 10 chars]')
    assert.equal(serialize('abcdefghij', limits({ maxStringLength: 4 })), 'abcd…[truncated, 10 chars]')
    assert.equal(serialize('abcd', limits({ maxStringLength: 4 })), 'abcd')
  })

  test('error messages and stacks are truncated too', () => {
    const out = serializeError(new Error('m'.repeat(100)), limits({ maxStringLength: 10 }))
    assert.equal(out.message, `${'m'.repeat(10)}…[truncated, 100 chars]`)
    assert.match(out.stack, /^Error: mmm…\[truncated, \d+ chars\]$/)
  })

  for (const [option, value] of [
    ['maxStringLength', 0],
    ['maxDepth', -1],
    ['maxArrayLength', 1.5],
    ['maxProperties', Number.NaN],
  ] as const) {
    test(`limits.${option} = ${value} is rejected with a message naming it`, () => {
      assert.throws(() => resolveLimits({ [option]: value }), {
        name: 'TypeError',
        message: `Expected \`limits.${option}\` to be a positive integer, got \`${String(value)}\` (number)`,
      })
    })
  }

  test('a logger rejects bad limits at construction', () => {
    assert.throws(() => createLogger({ sinks: [memorySink().sink], limits: { maxDepth: 0 } }), /Expected `limits.maxDepth` to be a positive integer/)
  })
})

describe('a 50 MB string through the logger', () => {
  const HUGE_LENGTH = 50 * 1024 * 1024
  const huge = 'x'.repeat(HUGE_LENGTH)
  const LIMIT = 1000
  const MARKER = `…[truncated, ${HUGE_LENGTH} chars]`
  const SMALL_LINE_BYTES = 4 * 1024

  function setup(): { json: MemorySink; text: MemorySink; log: Logger } {
    const json = memorySink({ format: 'json' })
    const text = memorySink({ format: 'text' })
    const log = createLogger({ sinks: [json.sink, text.sink], limits: { maxStringLength: LIMIT } })
    return { json, text, log }
  }

  test('as the message, it is truncated to the limit with its length noted', () => {
    const { json, text, log } = setup()
    log.info(huge)
    const record = JSON.parse(json.lines[0] ?? '') as unknown
    assert.equal(at(record, 'msg'), 'x'.repeat(LIMIT) + MARKER)
    for (const line of [...json.lines, ...text.lines]) assert.ok(Buffer.byteLength(line) < SMALL_LINE_BYTES, `line is ${line.length} chars`)
    assert.ok(text.lines[0]?.includes(MARKER))
  })

  test('as a %s argument of the message, it is truncated too', () => {
    const { json, log } = setup()
    log.info('payload: %s', huge)
    const prefix = 'payload: '
    const expected = `${prefix}${'x'.repeat(LIMIT - prefix.length)}…[truncated, ${HUGE_LENGTH + prefix.length} chars]`
    assert.equal(textAt(JSON.parse(json.lines[0] ?? ''), 'msg'), expected)
    assert.ok(Buffer.byteLength(json.lines[0] ?? '') < SMALL_LINE_BYTES)
  })

  test('as a field, it is truncated to the limit with its length noted', () => {
    const { json, text, log } = setup()
    log.info({ body: huge, nested: { list: [huge] } }, 'request')
    const record = JSON.parse(json.lines[0] ?? '') as unknown
    assert.equal(at(record, 'body'), 'x'.repeat(LIMIT) + MARKER)
    assert.equal(at(record, 'nested', 'list', 0), 'x'.repeat(LIMIT) + MARKER)
    assert.equal(at(record, 'msg'), 'request')
    for (const line of [...json.lines, ...text.lines]) assert.ok(Buffer.byteLength(line) < SMALL_LINE_BYTES, `line is ${line.length} chars`)
  })

  test('as an error message, message and stack are truncated', () => {
    const { json, text, log } = setup()
    log.error(new Error(huge))
    const record = JSON.parse(json.lines[0] ?? '') as unknown
    assert.equal(at(record, 'err', 'message'), 'x'.repeat(LIMIT) + MARKER)
    assert.ok(textAt(record, 'err', 'stack').length < LIMIT + 100)
    for (const line of [...json.lines, ...text.lines]) assert.ok(Buffer.byteLength(line) < 3 * SMALL_LINE_BYTES, `line is ${line.length} chars`)
  })

  for (const [label, fields] of [
    ['a property key', { [huge]: 1 }],
    ['a Map key', { map: new Map([[huge, 1]]) }],
  ] as const) {
    test(`as ${label}, it is truncated too`, () => {
      const { json, text, log } = setup()
      log.info(fields, 'key')
      for (const line of [...json.lines, ...text.lines]) assert.ok(Buffer.byteLength(line) < SMALL_LINE_BYTES, `line is ${line.length} chars`)
    })
  }

  test('with the default limit the line stays near 64 KiB', () => {
    const json = memorySink({ format: 'json' })
    createLogger({ sinks: [json.sink] }).info({ body: huge }, huge)
    const bytes = Buffer.byteLength(json.lines[0] ?? '')
    assert.ok(bytes > 2 * DEFAULT_LIMITS.maxStringLength && bytes < 2 * DEFAULT_LIMITS.maxStringLength + 1024, `line is ${bytes} bytes`)
  })
})

describe('own keys that Object.prototype also names', () => {
  test('a "__proto__" key from JSON.parse is kept as data, not made the prototype', () => {
    const input = JSON.parse('{"__proto__": {"admin": true}, "user": "alice"}') as object
    const out = serialize(input)
    assertJsonData(out)
    assert.equal(JSON.stringify(out), '{"__proto__":{"admin":true},"user":"alice"}')
  })

  test('"constructor", "toString" and "hasOwnProperty" keys are kept as data', () => {
    const out = serializeFields({ constructor: 'c', toString: 't', hasOwnProperty: 'h' })
    assert.equal(JSON.stringify(out), '{"constructor":"c","toString":"t","hasOwnProperty":"h"}')
  })
})

describe('properties', () => {
  const anything = fc.anything({
    maxDepth: 4,
    maxKeys: 6,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withNullPrototype: true,
    withObjectString: true,
    withSet: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  })

  const hostileWrappers: ReadonlyArray<(value: unknown) => unknown> = [
    (value) => value,
    (value) => ({ value, get broken(): never { throw new Error('getter') } }),
    (value) => ({ value, toJSON(): never { throw new Error('toJSON') } }),
    (value) => ({ toJSON: () => value }),
    (value) => new Proxy({ value }, { ownKeys(): never { throw new Error('ownKeys') } }),
    (value) => new Proxy({ value }, { get(): never { throw new Error('get') } }),
    (value) => {
      const cycle: Record<string, unknown> = { value }
      cycle['again'] = cycle
      return cycle
    },
    (value) => new Error('wrapped', { cause: value }),
    (value) => Object.assign(new Error('with props'), { value }),
    (value) => new AggregateError([value, new Error('sibling')], 'aggregate'),
  ]

  function assertSurvivesJson(value: unknown): void {
    assertJsonData(value)
    const text = JSON.stringify(value)
    assert.equal(typeof text, 'string')
    assert.equal(JSON.stringify(JSON.parse(text)), text)
  }

  test('serialize(anything) never throws and gives data that survives JSON.stringify and JSON.parse', () => {
    fc.assert(fc.property(anything, (value) => assertSurvivesJson(serialize(value))), { numRuns: 500 })
  })

  test('the same holds with hostile wrappers around anything', () => {
    fc.assert(
      fc.property(anything, fc.constantFrom(...hostileWrappers), (value, wrap) => assertSurvivesJson(serialize(wrap(value)))),
      { numRuns: 500 },
    )
  })

  test('the same holds under tight limits', () => {
    const tight = limits({ maxDepth: 2, maxArrayLength: 2, maxProperties: 2, maxStringLength: 5, maxBinaryPreview: 1 })
    fc.assert(fc.property(anything, (value) => assertSurvivesJson(serialize(value, tight))), { numRuns: 300 })
  })

  test('JSON-safe input comes back equal', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        assert.deepEqual(viaJson(serialize(value)), viaJson(value))
      }),
      { numRuns: 300 },
    )
  })
})

describe('serializeFieldsToJson: the fields of a record straight to JSON text', () => {
  /** What the JSON formatter wrote before the direct path: the copy, then JSON.stringify, as members. */
  function viaCopy(fields: object, bounds: SerializeLimits): string {
    return jsonMembers(JSON.stringify(serializeFields(fields, bounds)))
  }

  const awkwardString = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.constantFrom('', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0000nul', '\u2028\u2029', '\u007f\u0085\u009b', '\ud800 lone', 'pair \ud83d\ude00', '__proto__', '…'),
  )
  const value = fc.oneof(
    fc.anything({ maxDepth: 3, maxKeys: 4, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withNullPrototype: true, withSet: true, withTypedArray: true, withUnicodeString: true }),
    awkwardString,
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e21, 5e-324, undefined, null, true, false, Symbol('s"ym'), () => 1, 10n ** 30n, new Error('inner'), Buffer.from('abc')),
  )
  const fields = fc.tuple(fc.dictionary(awkwardString, value, { maxKeys: 8 }), fc.constantFrom('plain', 'getter', 'cycle', 'proto')).map(([base, twist]) => {
    const out: Record<string, unknown> = { ...base }
    if (twist === 'getter') Object.defineProperty(out, 'broken', { enumerable: true, get: () => { throw new Error('getter "failed"') } })
    if (twist === 'cycle') out['self'] = { back: out }
    if (twist === 'proto') Object.defineProperty(out, '__proto__', { value: { polluted: true }, enumerable: true })
    return out
  })

  test('gives exactly the text of serializeFields then JSON.stringify, for anything', () => {
    fc.assert(fc.property(fields, (input) => assert.equal(serializeFieldsToJson(input), viaCopy(input, DEFAULT_LIMITS))), { numRuns: 1000 })
  })

  test('the same under tight limits: truncated strings and keys, a marker for the properties left out', () => {
    const tight = limits({ maxDepth: 2, maxArrayLength: 2, maxProperties: 3, maxStringLength: 5, maxBinaryPreview: 1 })
    fc.assert(fc.property(fields, (input) => assert.equal(serializeFieldsToJson(input, tight), viaCopy(input, tight))), { numRuns: 1000 })
  })

  test('reads every property once: a counting getter is called one time', () => {
    let reads = 0
    const input = { get counted(): number { return ++reads } }
    assert.equal(serializeFieldsToJson(input), ',"counted":1')
    assert.equal(reads, 1)
  })

  test('no own properties give no text', () => {
    assert.equal(serializeFieldsToJson({}), '')
    assert.equal(serializeFieldsToJson({ gone: undefined }), '')
  })
})
