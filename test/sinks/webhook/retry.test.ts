// The arithmetic of retries and the bookkeeping of drops, without a network.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DropTally } from '../../../src/sinks/delivery/drops.ts'
import type { HttpAnswer } from '../../../src/sinks/delivery/http.ts'
import { RecordQueue } from '../../../src/sinks/delivery/record-queue.ts'
import { MAX_RETRY_AFTER_MS, bucketResetMs, classify, retryAfterMs } from '../../../src/sinks/webhook/retry.ts'
import { backoffMs } from '../../../src/sinks/delivery/backoff.ts'
import { Scrubber, describeSecret } from '../../../src/sinks/delivery/scrubber.ts'
import { secretsOfUrl } from '../../../src/sinks/webhook/secrets.ts'

function answer(status: number, body: string | object = '', headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) }
}

describe('retry policy', () => {
  test('backoff doubles from the base up to the cap, between half the ceiling and the ceiling', () => {
    const low = [1, 2, 3, 4, 5, 6].map((retry) => backoffMs(retry, 100, 1_000, () => 0))
    const high = [1, 2, 3, 4, 5, 6].map((retry) => backoffMs(retry, 100, 1_000, () => 1))
    assert.deepEqual(low, [50, 100, 200, 400, 500, 500])
    assert.deepEqual(high, [100, 200, 400, 800, 1_000, 1_000])
    for (let i = 0; i < 100; i++) {
      const wait = backoffMs(3, 100, 1_000)
      assert.ok(wait >= 200 && wait <= 400, `${wait} out of [200, 400]`)
    }
  })

  test('retry_after: Discord body (fractional s), Telegram parameters, Retry-After seconds or date, capped', () => {
    assert.equal(retryAfterMs(answer(429, { message: 'You are being rate limited.', retry_after: 0.05, global: false }, { 'retry-after': '1' })), 50)
    assert.equal(retryAfterMs(answer(429, { ok: false, error_code: 429, parameters: { retry_after: 3 } })), 3_000)
    assert.equal(retryAfterMs(answer(429, 'rate_limited', { 'retry-after': '2' })), 2_000)
    const now = Date.parse('2026-11-21T05:52:25Z')
    assert.equal(retryAfterMs(answer(429, '', { 'retry-after': 'Sat, 21 Nov 2026 05:52:30 GMT' }), now), 5_000)
    assert.equal(retryAfterMs(answer(429, { retry_after: 86_400 })), MAX_RETRY_AFTER_MS)
    assert.equal(retryAfterMs(answer(429, 'no hint')), undefined)
    assert.equal(retryAfterMs(answer(429, { retry_after: -1 })), undefined)
  })

  test('an empty Discord bucket pauses until it resets', () => {
    assert.equal(bucketResetMs(answer(204, '', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.25' })), 1_250)
    assert.equal(bucketResetMs(answer(204, '', { 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '1.25' })), undefined)
  })

  test('answers are classified: 2xx sent, 429 rate limited, 5xx and 408 retried, other 4xx rejected', () => {
    const scrub = (text: string): string => text
    assert.equal(classify(answer(204), scrub).kind, 'sent')
    assert.equal(classify(answer(200, { ok: false }), scrub, () => false).kind, 'rejected')
    assert.equal(classify(answer(429, { retry_after: 1 }), scrub).kind, 'rate-limited')
    assert.equal(classify(answer(500), scrub).kind, 'retry')
    assert.equal(classify(answer(408), scrub).kind, 'retry')
    assert.equal(classify(answer(404, { message: 'Unknown Webhook', code: 10015 }), scrub).kind, 'rejected')
    const outcome = classify(answer(400, 'x'.repeat(1_000)), scrub)
    assert.ok(outcome.kind === 'rejected' && outcome.error.message.length < 260, 'a long answer is quoted in part')
  })
})

describe('drops and the queue', () => {
  test('the notice tells counts by reason; settling removes only what it told', () => {
    const tally = new DropTally()
    tally.add('queue full', 37)
    assert.equal(DropTally.describe(tally.snapshot()), '… 37 records dropped (queue full)')
    const told = tally.snapshot()
    tally.add('retries exhausted', 1)
    assert.equal(DropTally.describe(tally.snapshot()), '… 38 records dropped (37 queue full, 1 retries exhausted)')
    tally.settle(told)
    assert.equal(DropTally.describe(tally.snapshot()), '… 1 record dropped (retries exhausted)')
    assert.equal(tally.untold, 1)
    assert.equal(tally.total, 38)
  })

  test('the queue drops its oldest when full and puts items back in front within its capacity', () => {
    const queue = new RecordQueue<number>(4)
    const dropped = [1, 2, 3, 4, 5, 6].map((n) => queue.push(n))
    assert.deepEqual(dropped, [false, false, false, false, true, true])
    assert.deepEqual(queue.toArray(), [3, 4, 5, 6])
    queue.removeFront(3)
    assert.deepEqual(queue.toArray(), [6])
    assert.equal(queue.unshift([10, 11, 12, 13]), 1)
    assert.deepEqual(queue.toArray(), [11, 12, 13, 6])
    assert.equal(queue.at(4), undefined)
  })
})

describe('secrets', () => {
  test('a scrubber replaces every secret it knows, the longest first', () => {
    const url = new URL('https://discord.com/api/webhooks/123456789012345678/aBcDeFgHiJkLmNoPqRsTuVwXyZ?thread_id=99887766')
    const scrubber = new Scrubber(secretsOfUrl(url))
    assert.equal(scrubber.scrub(`failed: ${url.href}`), 'failed: ***')
    assert.equal(scrubber.scrub('token aBcDeFgHiJkLmNoPqRsTuVwXyZ leaked'), 'token *** leaked')
    assert.equal(scrubber.scrub('Unknown webhooks: sendMessage failed'), 'Unknown webhooks: sendMessage failed', 'ordinary words stay')
  })

  test('a bad option value is described by its origin or its first characters, never whole', () => {
    assert.equal(describeSecret('x'), '`x` (string)')
    assert.equal(describeSecret('ftp://example.com/hook/SECRET'), '`ftp://example.com/…` (string of 29 characters)')
    assert.equal(describeSecret('example.com/hook/SECRET'), '`example.…` (string of 23 characters)')
    assert.equal(describeSecret(42), '`42` (number)')
  })
})
