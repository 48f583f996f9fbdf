// Delivery: batching, retries (429 with Retry-After, 502, 503, 504, timeouts, a receiver that
// never answers), what is final (400, 500), partial success, the bounded queue and its drop
// notice, bounded flush() and close(), and header values kept out of every error.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { FlushTimeoutError } from '../../../src/sinks/delivery/flush-timeout.ts'
import { otlpSink, type OtlpEncoding, type OtlpSinkOptions } from '../../../src/sinks/otlp/index.ts'
import { waitUntil } from '../../helpers/process.ts'
import { partialSuccessProtobuf, statusProtobuf } from './helpers/otlp-decode.ts'
import { okReply, startOtlpReceiver, type OtlpReceiver, type ReceivedExport } from './helpers/otlp-receiver.ts'

const ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json']
const NEVER_MS = 60_000
const SECRET = 'Bearer oTlP-SeCrEt-0123456789abcdef'
/** Long enough for any request here on loopback, short enough for a test. */
const WAIT_MS = 5_000

function sinkFor(receiver: OtlpReceiver, options: Partial<OtlpSinkOptions> = {}): ReturnType<typeof otlpSink> {
  return otlpSink({ url: receiver.url, batchInterval: NEVER_MS, retryBaseDelay: 10, retryMaxDelay: 40, timeout: 2_000, flushTimeout: WAIT_MS, headers: { authorization: SECRET }, ...options })
}

function bodies(request: ReceivedExport | undefined): unknown[] {
  return request?.records.map((record) => record.body) ?? []
}

function assertNoSecret(sink: ReturnType<typeof otlpSink>): void {
  const error = sink.failures.lastError
  if (error === undefined) return
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error)
  assert.ok(!text.includes('oTlP-SeCrEt'), `a header value is in an error: ${text}`)
}

describe('otlpSink: batching', () => {
  test('every request names its exporter: User-Agent blackbox-log/<version> (OTLP exporter specification)', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const sink = sinkFor(receiver)
    const log = createLogger({ sinks: [sink] })
    log.info('who is calling')
    await log.flush()
    const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
    assert.equal(receiver.requests[0]?.headers['user-agent'], `blackbox-log/${version}`)
    await log.close()
  })

  test('a full batch (batchSize) goes at once; the rest waits for batchInterval or flush()', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const sink = sinkFor(receiver, { batchSize: 3 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 7; i++) log.info(`record ${i}`)
    await receiver.waitForRequests(2, WAIT_MS)
    assert.deepEqual(bodies(receiver.requests[0]), ['record 0', 'record 1', 'record 2'])
    assert.deepEqual(bodies(receiver.requests[1]), ['record 3', 'record 4', 'record 5'])
    await waitUntil(() => sink.sent === 6, { timeoutMs: WAIT_MS, what: 'the answers to both full batches' })
    assert.equal(sink.pending, 1, 'the seventh waits for the interval')
    assert.equal(receiver.requests.length, 2)
    await log.flush()
    assert.equal(receiver.requests.length, 3)
    assert.deepEqual(bodies(receiver.requests[2]), ['record 6'])
    assert.equal(sink.sent, 7)
    await log.close()
  })

  test('records logged within batchInterval go in one request, without flush()', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const sink = sinkFor(receiver, { batchInterval: 30 })
    const log = createLogger({ sinks: [sink] })
    const start = Date.now()
    log.info('first')
    log.info('second')
    const [request] = await receiver.waitForRequests(1, WAIT_MS)
    assert.ok((request?.at ?? 0) - start >= 25, 'sent after the interval, not at once')
    assert.deepEqual(bodies(request), ['first', 'second'])
    await log.close()
  })

  test('the log call returns at once while the receiver does not answer', async (t) => {
    const receiver = await startOtlpReceiver(t, () => 'hang')
    const sink = sinkFor(receiver, { batchSize: 1, flushTimeout: 50 })
    const log = createLogger({ sinks: [sink] })
    const start = performance.now()
    for (let i = 0; i < 1_000; i++) log.info(`record ${i}`)
    assert.ok(performance.now() - start < 1_000, 'logging did not wait for the network')
    await assert.rejects(sink.flush(), FlushTimeoutError)
    await log.close()
    assert.equal(receiver.requests.length, 1, 'one request at a time')
    assert.equal(sink.pending, 0, 'close() ends the sink')
    assert.equal(sink.dropped, 1_000, 'what was not sent is counted')
  })
})

describe('otlpSink: retries', () => {
  for (const encoding of ENCODINGS) {
    test(`${encoding}: 429 with Retry-After: the retry waits what the server said`, async (t) => {
      const receiver = await startOtlpReceiver(t, (request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1', 'content-type': request.contentType }, body: '' } : okReply(request)))
      const sink = sinkFor(receiver, { encoding })
      const log = createLogger({ sinks: [sink] })
      log.info('rate limited')
      await log.flush()
      const [first, second] = receiver.requests
      assert.ok(first && second)
      const waited = second.at - first.at
      assert.ok(waited >= 950 && waited < 3_000, `waited ${waited} ms for Retry-After: 1 (the backoff alone is 10–40 ms)`)
      assert.deepEqual(bodies(second), ['rate limited'])
      assert.equal(sink.sent, 1)
      assert.equal(sink.dropped, 0)
      await log.close()
    })
  }

  for (const status of [503, 502, 504]) {
    test(`${status} is retried with backoff until it gets through`, async (t) => {
      const receiver = await startOtlpReceiver(t, (request, index) => (index < 2 ? { status, headers: { 'content-type': 'application/x-protobuf' }, body: statusProtobuf(14, 'unavailable') } : okReply(request)))
      const sink = sinkFor(receiver)
      const log = createLogger({ sinks: [sink] })
      log.warn('try again')
      await log.flush()
      assert.equal(receiver.requests.length, 3)
      assert.deepEqual(receiver.requests.map(bodies), [['try again'], ['try again'], ['try again']])
      assert.equal(sink.sent, 1)
      assert.equal(sink.failures.count, 0, 'a retry that gets through is no failure')
      await log.close()
    })
  }

  test('503 with Retry-After as an HTTP date is honoured too', async (t) => {
    const receiver = await startOtlpReceiver(t, (request, index) => (index === 0 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 2_000).toUTCString() } } : okReply(request)))
    const sink = sinkFor(receiver)
    const log = createLogger({ sinks: [sink] })
    log.info('later')
    await log.flush()
    const [first, second] = receiver.requests
    assert.ok(first && second)
    // An HTTP date has whole seconds: the wait is between 1 and 2 s.
    assert.ok(second.at - first.at >= 900, `waited ${second.at - first.at} ms`)
    await log.close()
  })

  for (const status of [400, 401, 500]) {
    test(`${status} is final: the batch is dropped, counted as rejected, and not retried`, async (t) => {
      const receiver = await startOtlpReceiver(t, () => ({ status, headers: { 'content-type': 'application/json' }, body: { code: 3, message: `refused, you sent authorization: ${SECRET}` } }))
      const sink = sinkFor(receiver, { encoding: 'json' })
      const log = createLogger({ sinks: [sink] })
      log.info('one')
      log.info('two')
      await log.flush()
      assert.equal(receiver.requests.length, 1)
      assert.equal(sink.sent, 0)
      assert.equal(sink.drops.rejected, 2)
      assert.equal(sink.dropped, 2)
      const error = sink.failures.lastError as Error & { status?: number }
      assert.equal(error.status, status)
      assert.match(error.message, new RegExp(`2 records dropped \\(rejected\\): HTTP ${status}: refused, you sent authorization: \\*\\*\\*`))
      assertNoSecret(sink)
      await log.close()
    })
  }

  test('a request that times out is retried; a receiver that never answers costs the batch after maxRetries', async (t) => {
    let hang = true
    const receiver = await startOtlpReceiver(t, (request) => (hang ? 'hang' : okReply(request)))
    const sink = sinkFor(receiver, { timeout: 100, maxRetries: 2 })
    const log = createLogger({ sinks: [sink] })
    log.error('never answered')
    const start = Date.now()
    await log.flush()
    const took = Date.now() - start
    assert.equal(receiver.requests.length, 3, 'the first attempt and 2 retries')
    assert.ok(took >= 300 && took < 2_000, `three timeouts of 100 ms and two short backoffs took ${took} ms`)
    assert.equal(sink.drops['retries exhausted'], 1)
    assert.match(String(sink.failures.lastError), /gave up after 3 attempts \(`maxRetries` is 2\); the last failed with no answer within 100 ms \(`timeout`\)/)

    hang = false
    log.error('answered')
    await log.flush()
    const last = receiver.requests.at(-1)
    assert.deepEqual(bodies(last), ['blackbox: 1 record dropped (retries exhausted) by ' + sink.name, 'answered'], 'the next request tells of the drop first')
    const notice = last?.records[0]
    assert.equal(notice?.raw['severityNumber'], 13)
    assert.deepEqual(notice?.attributes, { 'logger.name': 'blackbox', 'blackbox.dropped': 1, 'blackbox.dropped_by_reason': { 'retries exhausted': 1 } })
    await log.close()
  })

  test('a connection refused is retried, then dropped and counted', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const url = receiver.url
    await receiver.close()
    const sink = otlpSink({ url, batchInterval: NEVER_MS, retryBaseDelay: 5, retryMaxDelay: 10, maxRetries: 3, headers: { authorization: SECRET } })
    const log = createLogger({ sinks: [sink] })
    log.info('nobody listens')
    await log.flush()
    assert.equal(sink.drops['retries exhausted'], 1)
    assert.match(String(sink.failures.lastError), /request failed: connect ECONNREFUSED/)
    assertNoSecret(sink)
    await log.close()
  })

  test('flush() and close() are bounded by flushTimeout while the receiver never answers', async (t) => {
    const receiver = await startOtlpReceiver(t, () => 'hang')
    const sink = sinkFor(receiver, { flushTimeout: 200, timeout: 10_000 })
    const log = createLogger({ sinks: [sink] })
    log.info('stuck')
    const start = Date.now()
    await assert.rejects(sink.flush(), (error: unknown) => error instanceof FlushTimeoutError && /1 records not yet sent after 200 ms \(flushTimeout\)/.test(error.message))
    assert.ok(Date.now() - start < 1_000)
    await log.close()
    assert.ok(Date.now() - start < 1_500, 'close() is bounded too')
    assert.equal(sink.pending, 0, 'close() ends the sink')
    assert.deepEqual(sink.drops['left at close'], 1, 'what was left is counted')
  })
})

describe('otlpSink: partial success and the queue', () => {
  for (const encoding of ENCODINGS) {
    test(`${encoding}: rejectedLogRecords of a partial success are counted, and the request is not retried`, async (t) => {
      const receiver = await startOtlpReceiver(t, (request) =>
        encoding === 'json'
          ? { status: 200, headers: { 'content-type': 'application/json' }, body: { partialSuccess: { rejectedLogRecords: '2', errorMessage: 'timestamps too old' } } }
          : { status: 200, headers: { 'content-type': request.contentType }, body: partialSuccessProtobuf(2, 'timestamps too old') },
      )
      const sink = sinkFor(receiver, { encoding })
      const log = createLogger({ sinks: [sink] })
      for (let i = 0; i < 5; i++) log.info(`record ${i}`)
      await log.flush()
      assert.equal(receiver.requests.length, 1)
      assert.equal(sink.sent, 3)
      assert.equal(sink.drops.rejected, 2)
      assert.match(String(sink.failures.lastError), /2 records dropped \(rejected\): the server took the request but rejected 2 records of 5 \(partial success\): timestamps too old/)
      await log.close()
    })
  }

  test('a partial success that only warns (0 rejected) counts nothing', async (t) => {
    const receiver = await startOtlpReceiver(t, () => ({ status: 200, body: { partialSuccess: { errorMessage: 'attribute names should be lower case' } } }))
    const sink = sinkFor(receiver, { encoding: 'json' })
    const log = createLogger({ sinks: [sink] })
    log.info('fine')
    await log.flush()
    assert.equal(sink.sent, 1)
    assert.equal(sink.dropped, 0)
    await log.close()
  })

  test('when maxQueue is full the oldest records are dropped, counted, and told in the next request', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const sink = sinkFor(receiver, { maxQueue: 3 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 5; i++) log.info(`record ${i}`)
    assert.equal(sink.pending, 3)
    assert.deepEqual(sink.drops, { 'queue full': 2, 'retries exhausted': 0, rejected: 0, 'invalid body': 0, 'left at close': 0 })
    assert.match(String(sink.failures.lastError), /1 record dropped \(queue full\): more than 3 records \(`maxQueue`\) were waiting; the oldest was dropped/)
    await log.flush()
    assert.deepEqual(bodies(receiver.requests[0]), [`blackbox: 2 records dropped (queue full) by ${sink.name}`, 'record 2', 'record 3', 'record 4'])
    log.info('after')
    await log.flush()
    assert.deepEqual(bodies(receiver.requests[1]), ['after'], 'a notice that got through is not told again')
    await log.close()
  })

  test('a notice in a request that fails is told again, with the new drops added', async (t) => {
    const receiver = await startOtlpReceiver(t, (request, index) => (index === 0 ? { status: 400 } : okReply(request)))
    const sink = sinkFor(receiver, { maxQueue: 2 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 3; i++) log.info(`record ${i}`)
    await log.flush()
    log.info('next')
    await log.flush()
    const last = receiver.requests[1]
    assert.deepEqual(bodies(last), [`blackbox: 3 records dropped (1 queue full, 2 rejected) by ${sink.name}`, 'next'])
    assert.deepEqual(last?.records[0]?.attributes['blackbox.dropped_by_reason'], { 'queue full': 1, rejected: 2 })
    await log.close()
  })
})
