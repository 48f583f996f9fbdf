import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { TELEGRAM_MAX_TEXT_CHARS, telegramSink, type TelegramSinkOptions } from '../../../src/sinks/webhook/index.ts'
import { readMessage } from '../../helpers/chat-markup.ts'
import { TELEGRAM_OK, startFakeService, telegramRateLimited, type FakeService, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const TOKEN = '7654321098:AAH-tElEgRaM_SeCrEt_tOkEn_zz'
const WAIT_MS = 5_000

function sinkFor(server: FakeService, options: Partial<TelegramSinkOptions> = {}): ReturnType<typeof telegramSink> {
  return telegramSink({ token: TOKEN, chatId: -1001234567890, apiUrl: server.origin, batchInterval: 20, retryBaseDelay: 10, retryMaxDelay: 50, timeout: 2_000, exitTimeout: 300, ...options })
}

interface TelegramBody {
  chat_id: number | string
  text: string
  parse_mode: string
  link_preview_options: { is_disabled: boolean }
}

describe('telegramSink', () => {
  test('HTML by default: sendMessage on the bot path, &, < and > escaped, the stack in <pre>', async (t) => {
    const server = await startFakeService(t, () => TELEGRAM_OK)
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    const error = new TypeError('a <b>bold</b> & broken </pre> stack')
    log.error(error, 'x < y && y > z')
    await log.flush()
    const [request] = await server.waitForRequests(1, WAIT_MS)
    assert.equal(request?.path, `/bot${TOKEN}/sendMessage`)
    const body = (request as ReceivedRequest).json<TelegramBody>()
    assert.equal(body.chat_id, -1001234567890)
    assert.equal(body.parse_mode, 'HTML')
    assert.deepEqual(body.link_preview_options, { is_disabled: true })
    assert.deepEqual(readMessage('HTML', body.text), [
      { kind: 'text', text: '[ERROR] x < y && y > z\n' },
      { kind: 'code', text: error.stack },
    ])
    await log.close()
  })

  test('MarkdownV2: every special character escaped, the stack in a ``` block', async (t) => {
    const server = await startFakeService(t, () => TELEGRAM_OK)
    const sink = sinkFor(server, { parseMode: 'MarkdownV2', chatId: '@blackbox_alerts' })
    const log = createLogger({ sinks: [sink] })
    const error = new Error('stack with ``` and \\ inside')
    log.error(error, 'v1.2 [beta] (x+y=z) #tag *a* _b_ ~c~ |d| {e} !f > g - h')
    await log.flush()
    const body = (server.requests[0] as ReceivedRequest).json<TelegramBody>()
    assert.equal(body.parse_mode, 'MarkdownV2')
    assert.equal(body.chat_id, '@blackbox_alerts')
    assert.deepEqual(readMessage('MarkdownV2', body.text), [
      { kind: 'text', text: '[ERROR] v1.2 [beta] (x+y=z) #tag *a* _b_ ~c~ |d| {e} !f > g - h\n' },
      { kind: 'code', text: error.stack },
    ])
    await log.close()
  })

  test('messages stay within 4,096 characters', async (t) => {
    const server = await startFakeService(t, () => TELEGRAM_OK)
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 60; i++) log.error(`record ${i} ${'<&>'.repeat(60)}`)
    await log.flush()
    assert.ok(server.requests.length >= 2)
    const texts = server.requests.map((request) => request.json<TelegramBody>().text)
    for (const text of texts) assert.ok(text.length <= TELEGRAM_MAX_TEXT_CHARS, `a message of ${text.length} characters`)
    const shown = texts.flatMap((text) => readMessage('HTML', text).map((segment) => segment.text).join('').split('\n'))
    assert.deepEqual(shown, Array.from({ length: 60 }, (_, i) => `[ERROR] record ${i} ${'<&>'.repeat(60)}`))
    await log.close()
  })

  test('a 429 waits parameters.retry_after seconds', async (t) => {
    const server = await startFakeService(t, (_, index) => (index === 0 ? telegramRateLimited(1) : TELEGRAM_OK))
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    log.error('rate limited once')
    const [first, second] = await server.waitForRequests(2, WAIT_MS)
    const gap = (second?.at ?? 0) - (first?.at ?? 0)
    assert.ok(gap >= 990, `retried after ${gap} ms, before retry_after (1 s)`)
    await log.flush()
    assert.equal(sink.dropped, 0)
    await log.close()
  })

  test('a message refused (400, or ok: false) is not retried: it is dropped, counted and told in the next one', async (t) => {
    const server = await startFakeService(t, (_, index) =>
      index === 0
        ? { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities" } }
        : index === 1
          ? { status: 200, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } }
          : TELEGRAM_OK,
    )
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    log.error('first')
    await log.flush()
    assert.match(String((sink.failures.lastError as Error).message), /^1 record dropped \(rejected\): HTTP 400: Bad Request: can't parse entities$/)
    log.error('second')
    await log.flush()
    assert.match(String((sink.failures.lastError as Error).message), /^1 record dropped \(rejected\): HTTP 200 \(refused in the body\): Bad Request: chat not found$/)
    assert.equal(server.requests.length, 2, 'no retry of a refused message')
    assert.equal(sink.dropped, 2)
    log.error('third')
    await log.flush()
    const text = (server.requests[2] as ReceivedRequest).json<TelegramBody>().text
    assert.deepEqual(readMessage('HTML', text), [{ kind: 'text', text: '[WARNING] … 2 records dropped (rejected)\n[ERROR] third' }])
    await log.close()
  })

  test('apiUrl may carry a path, with or without a trailing slash', async (t) => {
    const server = await startFakeService(t, () => TELEGRAM_OK)
    for (const apiUrl of [`${server.origin}/tg`, `${server.origin}/tg/`]) {
      const log = createLogger({ sinks: [sinkFor(server, { apiUrl })] })
      log.error('hello')
      await log.close()
    }
    assert.deepEqual(server.requests.map((request) => request.path), [`/tg/bot${TOKEN}/sendMessage`, `/tg/bot${TOKEN}/sendMessage`])
  })

  test('its name shows the end of the bot id and the chat, never the token', () => {
    const sink = telegramSink({ token: TOKEN, chatId: 42 })
    assert.equal(sink.name, 'telegram bot …1098 chat 42')
    assert.ok(!sink.name.includes(TOKEN.slice(TOKEN.indexOf(':') + 1)))
  })
})
