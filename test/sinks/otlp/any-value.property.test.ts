// Property: any JSON-able value logged as a field reaches a receiver as a valid AnyValue
// (exactly one value field, intValue a decimal string, unique kvlist keys: see
// fromAnyValue) that decodes back to the same value, in both encodings.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { createLogger } from '../../../src/index.ts'
import { otlpSink, type OtlpEncoding } from '../../../src/sinks/otlp/index.ts'
import type { Json } from './helpers/otlp-decode.ts'
import { startOtlpReceiver } from './helpers/otlp-receiver.ts'

/**
 * What a value becomes on the way: -0 is the integer 0 (OTLP/JSON could not tell them
 * apart), and a lone surrogate U+FFFD, as UTF-8 (which protobuf strings must be) has no
 * place for it; Buffer's own UTF-8 encoder is the oracle for that.
 */
function expected(value: Json): Json {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('utf8')
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value
  if (value === null || typeof value === 'boolean') return value
  if (Array.isArray(value)) return value.map(expected)
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [expected(key) as string, expected(item)]))
}

const RUNS = { grapheme: 100, binary: 50 } as const

/**
 * JSON-able values. fc.jsonValue() makes almost only doubles; integers, small and up to
 * ±(2^53 − 1), are what int64 encoding can get wrong, so they are drawn as often.
 */
function jsonAble(stringUnit: 'grapheme' | 'binary'): fc.Arbitrary<Json> {
  const leaf = fc.oneof(
    fc.string({ unit: stringUnit }),
    fc.boolean(),
    fc.constant(null),
    fc.integer({ min: -300, max: 300 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  )
  // Keys that are lone surrogates collide once made well-formed: the sink must still send unique keys.
  const key = stringUnit === 'binary' ? fc.oneof(fc.string({ unit: stringUnit }), fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF')) : fc.string({ unit: stringUnit })
  const { value } = fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof({ maxDepth: 5, depthSize: 'small' }, leaf, fc.array(tie('value')), fc.dictionary(key, tie('value'))),
  }))
  // Depth 6 at most stays within the serializer's maxDepth (10), which would replace deeper values by a marker.
  return fc.oneof(value, fc.jsonValue({ maxDepth: 6, stringUnit }) as fc.Arbitrary<Json>)
}

describe('otlpSink: AnyValue conversion (property)', () => {
  for (const encoding of ['protobuf', 'json'] as const satisfies readonly OtlpEncoding[]) {
    for (const stringUnit of ['grapheme', 'binary'] as const) {
      test(`${encoding}, ${stringUnit} strings: a JSON-able field value decodes back to itself`, async (t) => {
        const receiver = await startOtlpReceiver(t)
        const sink = otlpSink({ url: receiver.url, encoding, batchInterval: 60_000 })
        const log = createLogger({ sinks: [sink] })
        await fc.assert(
          fc.asyncProperty(jsonAble(stringUnit), async (value) => {
            const before = receiver.requests.length
            log.info({ value }, 'property')
            await log.flush()
            const request = receiver.requests[before]
            assert.ok(request !== undefined && receiver.requests.length === before + 1, 'one request per record')
            const [record] = request.records
            assert.deepEqual(record?.attributes, { value: expected(value) })
          }),
          { numRuns: RUNS[stringUnit] },
        )
        assert.equal(sink.dropped, 0)
        await log.close()
      })
    }
  }
})
