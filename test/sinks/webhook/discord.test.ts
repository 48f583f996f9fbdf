import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { DISCORD_MAX_CONTENT_CHARS, discordSink, type DiscordSinkOptions } from '../../../src/sinks/webhook/index.ts'
import { readMessage } from '../../helpers/chat-markup.ts'
import { DISCORD_OK, discordRateLimited, startFakeService, type FakeService, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const TOKEN = 'dIsCoRd-SeCrEt-ToKeN_0123456789'
const WAIT_MS = 5_000

/** Fast timings: every tunable is an option. */
function sinkFor(server: FakeService, options: Partial<DiscordSinkOptions> = {}): ReturnType<typeof discordSink> {
  return discordSink({ url: `${server.origin}/api/webhooks/1122334455/${TOKEN}`, batchInterval: 20, retryBaseDelay: 10, retryMaxDelay: 50, timeout: 2_000, exitTimeout: 300, ...options })
}

interface DiscordBody {
  content: string
  allowed_mentions: { parse: string[] }
  flags: number
  username?: string
}

function content(request: ReceivedRequest): string {
  return request.json<DiscordBody>().content
}

/** The text a reader sees in a message, code blocks included. */
function shown(request: ReceivedRequest): string {
  return readMessage('discord', content(request)).map((segment) => segment.text).join('')
}

describe('discordSink', () => {
  test('records logged together go in one message: escaped text, the stack in a code block, mentions and embeds off', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const sink = sinkFor(server, { username: 'blackbox' })
    const log = createLogger({ sinks: [sink] })
    log.info('below the default level: not sent')
    log.error({ user: 'alice' }, 'payment *failed* for @everyone <@123>')
    const error = new Error('stack with ``` inside')
    log.error(error, 'while saving _draft_')
    // Not fatal(): its synchronous send would block this thread, and the fake service with it (see exit.test.ts).
    log.error('last words')
    await log.flush()
    assert.equal(server.requests.length, 1)
    const [request] = server.requests as [ReceivedRequest]
    assert.equal(request.method, 'POST')
    assert.equal(request.path, `/api/webhooks/1122334455/${TOKEN}`)
    assert.match(String(request.headers['content-type']), /^application\/json/)
    const body = request.json<DiscordBody>()
    assert.deepEqual(body.allowed_mentions, { parse: [] })
    assert.equal(body.flags, 4, 'SUPPRESS_EMBEDS')
    assert.equal(body.username, 'blackbox')
    const segments = readMessage('discord', body.content)
    assert.deepEqual(segments.map((segment) => segment.kind), ['text', 'code', 'text'])
    assert.equal(segments[0]?.text, '[ERROR] payment *failed* for @everyone <@123> user=alice\n[ERROR] while saving _draft_\n')
    assert.equal(segments[1]?.text, error.stack)
    assert.equal(segments[2]?.text, '\n[ERROR] last words')
    assert.ok(!shown(request).includes('not sent'))
    await log.close()
  })

  test('many records go in as few messages as 2,000 characters allow, in order, each once', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    const lines: string[] = []
    for (let i = 0; i < 80; i++) {
      const line = `[ERROR] record ${String(i).padStart(3, '0')} ${'x'.repeat(100 + (i % 7) * 10)}`
      lines.push(line)
      log.error(line.slice('[ERROR] '.length))
    }
    await log.flush()
    const contents = server.requests.map(content)
    for (const text of contents) assert.ok(text.length <= DISCORD_MAX_CONTENT_CHARS, `a message of ${text.length} characters`)
    const total = lines.join('\n').length
    assert.ok(contents.length <= Math.ceil(total / DISCORD_MAX_CONTENT_CHARS) + 1, `${contents.length} messages for ${total} characters`)
    assert.deepEqual(server.requests.flatMap((request) => shown(request).split('\n')), lines)
    await log.close()
  })

  test('a record longer than a message is split into marked parts, never dropped', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    const message = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ').repeat(6)
    log.error(message)
    await log.flush()
    assert.ok(server.requests.length >= 2)
    const parts = server.requests.map(shown)
    parts.forEach((part, i) => assert.ok(part.endsWith(`(part ${i + 1}/${parts.length})`), `part ${i + 1} is marked`))
    const text = parts.map((part) => part.replace(/\n\(part \d+\/\d+\)$/, '')).join('')
    assert.equal(text, `[ERROR] ${message}`)
    assert.equal(sink.dropped, 0)
    await log.close()
  })

  test('a 429 waits the fractional retry_after of the JSON body, not the rounded-up header', async (t) => {
    const server = await startFakeService(t, (_, index) => (index === 0 ? discordRateLimited(0.15) : DISCORD_OK))
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    log.error('rate limited once')
    const [first, second] = await server.waitForRequests(2, WAIT_MS)
    const gap = (second?.at ?? 0) - (first?.at ?? 0)
    assert.ok(gap >= 140, `retried after ${gap} ms, before retry_after (150 ms)`)
    assert.ok(gap < 900, `retried after ${gap} ms: the header's 1 s was used instead of the body's 0.15 s`)
    assert.equal(content(second as ReceivedRequest), content(first as ReceivedRequest))
    await log.flush()
    assert.equal(sink.dropped, 0)
    assert.equal(sink.failures.count, 0)
    await log.close()
  })

  test('an empty bucket (X-RateLimit-Remaining: 0) delays the next message by X-RateLimit-Reset-After', async (t) => {
    const server = await startFakeService(t, () => ({ status: 204, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.2' } }))
    const sink = sinkFor(server, { maxMessageChars: 256 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 2; i++) log.error(`${i} ${'y'.repeat(200)}`)
    const [first, second] = await server.waitForRequests(2, WAIT_MS)
    const gap = (second?.at ?? 0) - (first?.at ?? 0)
    assert.ok(gap >= 190, `the second message came ${gap} ms after the first, before the bucket reset (200 ms)`)
    await log.close()
  })

  test('its name shows the end of the webhook id, never the token', () => {
    const sink = discordSink({ url: `https://discord.com/api/webhooks/998877665544/${TOKEN}` })
    assert.equal(sink.name, 'discord webhook …/5544')
    assert.equal(sink.level, 50, 'error by default')
    assert.equal(discordSink({ url: `https://discord.com/api/webhooks/1/${TOKEN}`, level: 'warn' }).level, 40)
  })
})
