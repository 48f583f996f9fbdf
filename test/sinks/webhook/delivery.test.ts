// Delivery through trouble, shared by every webhook sink: retries with backoff on 5xx,
// network errors and timeouts, bounded; drops counted and told; a bounded queue; a
// bounded flush; and no secret in any name, error or message.
import assert from 'node:assert/strict'
import { FlushTimeoutError } from '../../../src/sinks/delivery/flush-timeout.ts'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { createLogger, liveSinks } from '../../../src/index.ts'
import { discordSink, telegramSink, webhookSink, type DiscordSinkOptions, type WebhookRecord } from '../../../src/sinks/webhook/index.ts'
import { readMessage } from '../../helpers/chat-markup.ts'
import { DISCORD_OK, startFakeService, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const TOKEN = 'dElIvErY-SeCrEt-0123456789abcdef'
const WAIT_MS = 5_000
const FAST = { batchInterval: 10, retryBaseDelay: 20, retryMaxDelay: 80, timeout: 2_000, exitTimeout: 300 } as const

function discordFor(origin: string, options: Partial<DiscordSinkOptions> = {}): ReturnType<typeof discordSink> {
  return discordSink({ url: `${origin}/api/webhooks/5550001/${TOKEN}`, ...FAST, ...options })
}

function shown(request: ReceivedRequest): string {
  return readMessage('discord', request.json<{ content: string }>().content).map((segment) => segment.text).join('')
}

/** Every text a sink has shown about itself: its name and its last error. */
function sinkTexts(sink: ReturnType<typeof discordSink>): string {
  const error = sink.failures.lastError as Error | undefined
  return `${sink.name}\n${error?.message ?? ''}\n${error?.stack ?? ''}`
}

/** A port nothing listens on: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('webhook delivery', () => {
  test('5xx answers are retried with growing, jittered backoff until one gets through', async (t) => {
    const server = await startFakeService(t, (_, index) => (index < 2 ? { status: 503, body: 'unavailable' } : DISCORD_OK))
    const sink = discordFor(server.origin)
    const log = createLogger({ sinks: [sink] })
    log.error('survives two 503s')
    const [first, second, third] = await server.waitForRequests(3, WAIT_MS)
    await log.flush()
    const gaps = [(second?.at ?? 0) - (first?.at ?? 0), (third?.at ?? 0) - (second?.at ?? 0)]
    // Retry n waits between half and all of min(retryMaxDelay, retryBaseDelay × 2^(n-1)).
    assert.ok(gaps[0] !== undefined && gaps[0] >= 9, `first retry after ${gaps[0]} ms, expected at least 10`)
    assert.ok(gaps[1] !== undefined && gaps[1] >= 19, `second retry after ${gaps[1]} ms, expected at least 20`)
    assert.equal(server.requests.length, 3)
    assert.equal(shown(third as ReceivedRequest), '[ERROR] survives two 503s')
    assert.equal(sink.dropped, 0)
    assert.equal(sink.failures.count, 0, 'a retry that succeeds is not a failure')
    await log.close()
  })

  test('retries are bounded: the message is dropped, counted, reported, and told in the next message', async (t) => {
    let failing = true
    const server = await startFakeService(t, () => (failing ? { status: 500, body: { message: 'Internal Server Error' } } : DISCORD_OK))
    const sink = discordFor(server.origin, { maxRetries: 2 })
    const log = createLogger({ sinks: [sink] })
    log.error('doomed')
    await log.flush()
    assert.equal(server.requests.length, 3, '1 attempt + maxRetries (2)')
    assert.equal(sink.dropped, 1)
    assert.equal(sink.failures.count, 1)
    assert.equal((sink.failures.lastError as Error).message, '1 record dropped (retries exhausted): gave up after 3 attempts (`maxRetries` is 2); the last failed with HTTP 500: Internal Server Error')
    failing = false
    log.error('after the outage')
    await log.flush()
    assert.equal(shown(server.requests[3] as ReceivedRequest), '[WARNING] … 1 record dropped (retries exhausted)\n[ERROR] after the outage')
    // Told once: the next message carries no notice.
    log.error('and later')
    await log.flush()
    assert.equal(shown(server.requests[4] as ReceivedRequest), '[ERROR] and later')
    assert.ok(!sinkTexts(sink).includes(TOKEN))
    await log.close()
  })

  test('refused connections are retried, then dropped; the error names no URL', async () => {
    const port = await closedPort()
    const sink = discordFor(`http://127.0.0.1:${port}`, { maxRetries: 1 })
    const log = createLogger({ sinks: [sink] })
    log.error('nowhere to go')
    await log.flush()
    assert.equal(sink.dropped, 1)
    const message = (sink.failures.lastError as Error).message
    assert.match(message, /gave up after 2 attempts .* request failed: connect ECONNREFUSED/)
    assert.ok(!message.includes('/api/webhooks'), message)
    assert.ok(!sinkTexts(sink).includes(TOKEN))
    await log.close()
  })

  test('a server that never answers meets the per-request timeout, and the retries stay bounded', async (t) => {
    const server = await startFakeService(t, () => 'hang')
    const sink = discordFor(server.origin, { timeout: 100, maxRetries: 1 })
    const log = createLogger({ sinks: [sink] })
    log.error('into the void')
    const started = Date.now()
    await log.flush()
    const elapsed = Date.now() - started
    assert.equal(server.requests.length, 2)
    assert.ok(elapsed >= 200, `two timed-out attempts took ${elapsed} ms, less than 2 × 100 ms`)
    assert.equal(sink.dropped, 1)
    assert.match((sink.failures.lastError as Error).message, /the last failed with no answer within 100 ms \(`timeout`\)$/)
    await log.close()
  })

  test('a full queue drops the oldest records, counts them and tells how many in the next message', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const sink = discordFor(server.origin, { maxQueue: 5 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 12; i++) log.error(`record ${i}`)
    assert.equal(sink.pending, 5)
    assert.equal(sink.dropped, 7)
    await log.flush()
    assert.equal(server.requests.length, 1)
    assert.equal(shown(server.requests[0] as ReceivedRequest), ['[WARNING] … 7 records dropped (queue full)', ...[7, 8, 9, 10, 11].map((i) => `[ERROR] record ${i}`)].join('\n'))
    await log.close()
  })

  test('a log call neither throws nor waits while the service hangs; flush() gives up at flushTimeout', async (t) => {
    const server = await startFakeService(t, () => 'hang')
    const sink = discordFor(server.origin, { timeout: 10_000, flushTimeout: 250 })
    const log = createLogger({ sinks: [sink] })
    log.error('first')
    await server.waitForRequests(1, WAIT_MS)
    const callStarted = process.hrtime.bigint()
    for (let i = 0; i < 100; i++) log.error(`while hanging ${i}`)
    const callMs = Number(process.hrtime.bigint() - callStarted) / 1e6
    assert.ok(callMs < 100, `100 log calls took ${callMs} ms while the service hung`)
    const started = Date.now()
    await log.flush()
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 240 && elapsed < 2_000, `flush() returned after ${elapsed} ms; flushTimeout is 250 ms`)
    assert.equal(sink.pending, 101, 'nothing is lost: the records still wait')
    await assert.rejects(sink.flush(), (error: unknown) => error instanceof FlushTimeoutError && /101 records not yet sent after 250 ms \(flushTimeout\)/.test(error.message))
    // close() flushes once more (the logger does not flush first), within flushTimeout, then ends the sink for good.
    const closing = Date.now()
    await log.close()
    const closeMs = Date.now() - closing
    assert.ok(closeMs >= 240 && closeMs < 1_500, `close() took ${closeMs} ms; flushTimeout is 250 ms`)
    assert.ok(!liveSinks().includes(sink))
    assert.equal(sink.pending, 0)
    assert.equal(sink.dropped, 101, 'what was not sent is counted')
  })

  test('close() after everything is sent leaves the exit registry; a record after close() is dropped and counted', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const sink = discordFor(server.origin)
    const log = createLogger({ sinks: [sink] })
    assert.ok(liveSinks().includes(sink))
    log.error('before close')
    const closing = log.close()
    assert.equal(log.close(), closing, 'a second close() is the first')
    await closing
    assert.ok(!liveSinks().includes(sink))
    log.error('after close')
    assert.ok(!liveSinks().includes(sink))
    assert.equal(sink.dropped, 1)
    assert.deepEqual(server.requests.map(shown), ['[ERROR] before close'])
  })

  test('records keep their order across batches and retries, and each arrives once', async (t) => {
    const server = await startFakeService(t, (_, index) => (index % 3 === 1 ? { status: 502 } : { status: 200, body: {} }))
    const sink = webhookSink({ url: `${server.origin}/hook`, ...FAST, maxBatchRecords: 4 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 10; i++) log.error({ i }, 'first wave')
    await log.flush()
    for (let i = 10; i < 20; i++) log.error({ i }, 'second wave')
    await log.flush()
    const delivered = server.requests.filter((_, index) => index % 3 !== 1).flatMap((request) => request.json<{ records: WebhookRecord[] }>().records.map((record) => record.fields['i']))
    assert.deepEqual(delivered, Array.from({ length: 20 }, (_, i) => i))
    assert.equal(sink.dropped, 0)
    await log.close()
  })

  test('no secret in names, reports or messages, whatever failed', async (t) => {
    const server = await startFakeService(t, (request) => ({ status: 404, body: { message: `Unknown Webhook ${request.path}`, code: 10015 } }))
    const sink = discordFor(server.origin)
    const log = createLogger({ sinks: [sink] })
    log.error(`a message that quotes the token ${TOKEN} is the caller's business`)
    await log.flush()
    const message = (sink.failures.lastError as Error).message
    // The path is a secret as a whole: scrubbed even where a service quotes it.
    assert.match(message, /HTTP 404: Unknown Webhook \*\*\*$/)
    assert.ok(!sinkTexts(sink).includes(TOKEN))
    await log.close()
  })
})

describe('bad configuration throws at creation, naming the option', () => {
  const url = `https://discord.com/api/webhooks/1/${TOKEN}`
  const cases: readonly [string, () => unknown, RegExp][] = [
    ['url', () => discordSink({ url: 'x' }), /^Expected `url` to be an http\(s\) URL, got `x` \(string\)$/],
    ['url without a scheme', () => discordSink({ url: `discord.com/api/webhooks/1/${TOKEN}` }), /^Expected `url` to be an http\(s\) URL, got `discord\.…` \(string of \d+ characters\)$/],
    ['url of another scheme', () => discordSink({ url: `ftp://discord.com/api/webhooks/1/${TOKEN}` }), /^Expected `url` to be an http\(s\) URL, got `ftp:\/\/discord\.com\/…`/],
    ['batchInterval', () => discordSink({ url, batchInterval: -1 }), /^Expected `batchInterval` to be a positive number of ms, got `-1` \(number\)$/],
    ['maxQueue', () => discordSink({ url, maxQueue: 0 }), /^Expected `maxQueue` to be a positive integer, got `0` \(number\)$/],
    ['maxRetries', () => discordSink({ url, maxRetries: 1.5 }), /^Expected `maxRetries` to be a non-negative integer, got `1.5` \(number\)$/],
    ['timeout', () => discordSink({ url, timeout: Number.NaN }), /^Expected `timeout` to be a positive number of ms, got `NaN` \(number\)$/],
    ['exitTimeout', () => discordSink({ url, exitTimeout: '2s' as unknown as number }), /^Expected `exitTimeout` to be a positive number of ms, got `2s` \(string\)$/],
    ['maxMessageChars', () => discordSink({ url, maxMessageChars: 5_000 }), /^Expected `maxMessageChars` to be an integer from 256 to 2000, got `5000` \(number\)$/],
    ['level', () => discordSink({ url, level: 'loud' as 'error' }), /^Expected `level` to be one of/],
  ]
  for (const [option, make, expected] of cases) {
    test(option, () => {
      assert.throws(make, (error: Error) => {
        assert.ok(error instanceof TypeError)
        assert.match(error.message, expected)
        assert.ok(!error.message.includes(TOKEN), 'the token is not quoted')
        return true
      })
    })
  }

  test('a bad Telegram token is described, never quoted', () => {
    const token = '12345:has spaces and-a-SECRET'
    assert.throws(() => telegramSink({ token, chatId: 1 }), (error: Error) => {
      assert.match(error.message, new RegExp(`^Expected \`token\` to be a Telegram bot token .*, got a string of ${token.length} characters$`))
      assert.ok(!error.message.includes('SECRET'))
      return true
    })
  })

  test('generic headers must be strings; the value is not quoted', () => {
    assert.throws(() => webhookSink({ url: 'https://example.com/', headers: { authorization: `Bearer ${TOKEN}\n` } }), (error: Error) => {
      assert.match(error.message, /^Expected `headers.authorization` to be a valid header name with a string value without line breaks, got a string$/)
      assert.ok(!error.message.includes(TOKEN))
      return true
    })
  })
})
