import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger, type LogRecord } from '../../../src/index.ts'
import { webhookSink, type WebhookRecord, type WebhookSinkOptions } from '../../../src/sinks/webhook/index.ts'
import { startFakeService, type FakeService, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const API_KEY = 'Bearer gEnErIc-SeCrEt-KeY-0123456789'
const OK = { status: 200, body: { received: true } }

function sinkFor(server: FakeService, options: Partial<WebhookSinkOptions> = {}): ReturnType<typeof webhookSink> {
  return webhookSink({ url: `${server.origin}/ingest?key=qUeRySeCrEt99`, batchInterval: 20, retryBaseDelay: 10, retryMaxDelay: 50, timeout: 2_000, exitTimeout: 300, ...options })
}

describe('webhookSink', () => {
  test('POSTs { records: [{ level, time, msg, fields, err }] } as JSON, with the headers given', async (t) => {
    const server = await startFakeService(t, () => OK)
    const sink = sinkFor(server, { headers: { authorization: API_KEY, 'x-source': 'tests' } })
    const log = createLogger({ sinks: [sink], bindings: { service: 'api' } })
    const before = Date.now()
    log.error({ user: 'alice', attempt: 2 }, 'payment failed')
    const error = new RangeError('out of range')
    log.error(error)
    await log.flush()
    assert.equal(server.requests.length, 1)
    const request = server.requests[0] as ReceivedRequest
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/ingest?key=qUeRySeCrEt99')
    assert.equal(request.headers['authorization'], API_KEY)
    assert.equal(request.headers['x-source'], 'tests')
    assert.match(String(request.headers['content-type']), /^application\/json/)
    const { records } = request.json<{ records: WebhookRecord[] }>()
    assert.equal(records.length, 2)
    const [first, second] = records as [WebhookRecord, WebhookRecord]
    assert.ok(first.time >= before && first.time <= Date.now())
    assert.deepEqual({ ...first, time: 0 }, { level: 50, time: 0, msg: 'payment failed', fields: { service: 'api', user: 'alice', attempt: 2 } })
    assert.equal(second.msg, 'out of range')
    assert.deepEqual(second.fields, { service: 'api' })
    assert.equal(second.err?.type, 'RangeError')
    assert.equal(second.err?.stack, error.stack)
    await log.close()
  })

  test('body(records, lines) builds the body; lines follow the format option', async (t) => {
    const server = await startFakeService(t, () => OK)
    const seen: LogRecord[][] = []
    const sink = sinkFor(server, {
      level: 'warn',
      format: '{level}: {message}',
      body: (records, lines) => {
        seen.push([...records])
        return { text: lines.join(''), count: records.length }
      },
    })
    const log = createLogger({ sinks: [sink] })
    log.warn('disk at 91%')
    log.error('disk full')
    await log.flush()
    assert.deepEqual((server.requests[0] as ReceivedRequest).json(), { text: 'WARNING: disk at 91%\nERROR: disk full\n', count: 2 })
    assert.deepEqual(seen[0]?.map((record) => record.msg), ['disk at 91%', 'disk full'])
    await log.close()
  })

  test('maxBatchRecords bounds the records of one request', async (t) => {
    const server = await startFakeService(t, () => OK)
    const sink = sinkFor(server, { maxBatchRecords: 10 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 25; i++) log.error({ i }, 'numbered')
    await log.flush()
    const batches = server.requests.map((request) => request.json<{ records: WebhookRecord[] }>().records.map((record) => record.fields['i']))
    assert.deepEqual(batches.map((batch) => batch.length), [10, 10, 5])
    assert.deepEqual(batches.flat(), Array.from({ length: 25 }, (_, i) => i))
    await log.close()
  })

  test('a body() that throws drops that batch, counted, reported, and told in the next request', async (t) => {
    const server = await startFakeService(t, () => OK)
    const sink = sinkFor(server, {
      body: (records) => {
        if (records.some((record) => record.msg === 'poison')) throw new Error('cannot map poison')
        return { msgs: records.map((record) => record.msg) }
      },
    })
    const log = createLogger({ sinks: [sink] })
    log.error('poison')
    log.error('also in the poisoned batch')
    await log.flush()
    assert.equal(server.requests.length, 0)
    assert.equal(sink.dropped, 2)
    assert.equal(sink.failures.count, 1)
    assert.match((sink.failures.lastError as Error).message, /^2 records dropped \(invalid body\): cannot map poison$/)
    log.error('fine')
    await log.flush()
    assert.deepEqual((server.requests[0] as ReceivedRequest).json(), { msgs: ['… 2 records dropped (invalid body)', 'fine'] })
    await log.close()
  })

  test('its name is the origin only: no path, query or header value', () => {
    const sink = webhookSink({ url: 'https://user:pAsSwOrD@hooks.example.com/t/SeCrEtPaTh?token=abc123def', headers: { authorization: API_KEY } })
    assert.equal(sink.name, 'webhook https://hooks.example.com/…')
  })
})
