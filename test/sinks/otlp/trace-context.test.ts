// Trace context from the active OpenTelemetry span, with @opentelemetry/api and a context
// manager (@opentelemetry/context-async-hooks) but no SDK: what an application with an SDK
// has. The test imports the API's ESM build while the sink require()s its CommonJS build:
// the two share the global context manager, as they must in an application.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { createLogger } from '../../../src/index.ts'
import { otlpSink, type OtlpEncoding } from '../../../src/sinks/otlp/index.ts'
import { activeTraceReader } from '../../../src/sinks/otlp/trace-context.ts'
import { startOtlpReceiver } from './helpers/otlp-receiver.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN_ID = '00f067aa0ba902b7'
const FIELD_TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const FIELD_SPAN_ID = 'b7ad6b7169203331'

describe('otlpSink: the active OpenTelemetry span', () => {
  before(() => {
    assert.ok(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()), 'no other context manager is registered')
  })
  after(() => context.disable())

  for (const encoding of ['protobuf', 'json'] as const satisfies readonly OtlpEncoding[]) {
    test(`${encoding}: a record logged inside a span carries its trace id, span id and flags; fields take precedence`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const log = createLogger({ sinks: [otlpSink({ url: receiver.url, encoding, batchInterval: 60_000 })] })
      const active = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true })
      log.info('before the span')
      await context.with(active, async () => {
        log.info('inside the span')
        await new Promise((resolve) => setImmediate(resolve))
        log.info('inside, after an await')
        log.info({ trace_id: FIELD_TRACE_ID, span_id: FIELD_SPAN_ID }, 'fields name other ids')
      })
      log.info('after the span')
      const invalid = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.NONE })
      context.with(invalid, () => log.info('inside an invalid span context'))
      await log.flush()
      const seen = receiver.records().map((record) => [record.body, record.raw['traceId'], record.raw['spanId'], record.raw['flags']])
      assert.deepEqual(seen, [
        ['before the span', undefined, undefined, undefined],
        ['inside the span', TRACE_ID, SPAN_ID, 1],
        ['inside, after an await', TRACE_ID, SPAN_ID, 1],
        ['fields name other ids', FIELD_TRACE_ID, FIELD_SPAN_ID, undefined],
        ['after the span', undefined, undefined, undefined],
        ['inside an invalid span context', undefined, undefined, undefined],
      ])
      await log.close()
    })
  }
})

describe('activeTraceReader', () => {
  test('without @opentelemetry/api there is no reader, and nothing fails', () => {
    assert.equal(activeTraceReader(() => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' })
    }), undefined)
    assert.equal(activeTraceReader(() => ({ context: {} })), undefined, 'something else under that name')
  })

  test('a context manager that throws costs the ids, not the record', () => {
    const read = activeTraceReader(() => ({ context: { active: () => { throw new Error('broken') } }, trace: { getSpanContext: () => undefined } }))
    assert.ok(read)
    assert.equal(read(), undefined)
  })
})
