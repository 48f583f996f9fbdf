import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { slackSink, type SlackSinkOptions } from '../../../src/sinks/webhook/index.ts'
import { readMessage } from '../../helpers/chat-markup.ts'
import { SLACK_OK, startFakeService, type FakeService, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const SECRET = 'sLaCkSeCrEtPaRt0123456789'
const WAIT_MS = 5_000

function sinkFor(server: FakeService, options: Partial<SlackSinkOptions> = {}): ReturnType<typeof slackSink> {
  return slackSink({ url: `${server.origin}/services/T0001/B0ABCDEF/${SECRET}`, batchInterval: 20, retryBaseDelay: 10, retryMaxDelay: 50, timeout: 2_000, exitTimeout: 300, ...options })
}

interface SlackBody {
  text: string
  mrkdwn: boolean
  unfurl_links: boolean
  unfurl_media: boolean
}

describe('slackSink', () => {
  test('mrkdwn text: &, < and > as entities, the stack in a code block that ``` cannot close, unfurling off', async (t) => {
    const server = await startFakeService(t, () => SLACK_OK)
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    const error = new Error('a stack with ``` and <!channel>')
    log.error(error, 'ping <!here> & <@U123|bob> ``` fence')
    await log.flush()
    const [request] = await server.waitForRequests(1, WAIT_MS)
    const body = (request as ReceivedRequest).json<SlackBody>()
    assert.equal(body.mrkdwn, true)
    assert.equal(body.unfurl_links, false)
    assert.equal(body.unfurl_media, false)
    assert.ok(!body.text.includes('<'), 'no raw < reaches Slack')
    assert.deepEqual(readMessage('slack', body.text), [
      { kind: 'text', text: '[ERROR] ping <!here> & <@U123|bob> ``` fence\n' },
      { kind: 'code', text: error.stack },
    ])
    await log.close()
  })

  test('a 429 waits the Retry-After header', async (t) => {
    const server = await startFakeService(t, (_, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' } : SLACK_OK))
    const sink = sinkFor(server)
    const log = createLogger({ sinks: [sink] })
    log.error('rate limited once')
    const [first, second] = await server.waitForRequests(2, WAIT_MS)
    const gap = (second?.at ?? 0) - (first?.at ?? 0)
    assert.ok(gap >= 990, `retried after ${gap} ms, before Retry-After (1 s)`)
    await log.flush()
    assert.equal(sink.dropped, 0)
    await log.close()
  })

  test('maxMessageChars keeps messages shorter than Slack allows', async (t) => {
    const server = await startFakeService(t, () => SLACK_OK)
    const sink = sinkFor(server, { maxMessageChars: 1_000 })
    const log = createLogger({ sinks: [sink] })
    for (let i = 0; i < 40; i++) log.error(`record ${i} ${'z'.repeat(80)}`)
    await log.flush()
    const texts = server.requests.map((request) => request.json<SlackBody>().text)
    assert.ok(texts.length >= 4)
    for (const text of texts) assert.ok(text.length <= 1_000, `a message of ${text.length} characters`)
    assert.equal(texts.join('\n').split('\n').length, 40)
    await log.close()
  })

  test('its name shows the end of the webhook id, never the secret part', () => {
    const sink = slackSink({ url: `https://hooks.slack.com/services/T0001/B0ABCDEF/${SECRET}` })
    assert.equal(sink.name, 'slack webhook …/CDEF')
  })
})
