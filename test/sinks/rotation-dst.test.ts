// Time rotation across daylight saving changes, in a zone that has them. Node applies a TZ
// set at run time to every date made after it; node --test runs each file in its own
// process, so no other file sees it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRotation } from '../../src/sinks/rotation-policy.ts'

process.env.TZ = 'Europe/Paris'

const HOUR = 3_600_000
const utc = (text: string) => Date.parse(text)
const next = (rotation: string, now: number) => compileRotation({ rotation }).time?.next(now)

// Paris: 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
test('the zone is the one set, with its changes', () => {
  assert.equal(new Date(utc('2026-03-29T00:30:00Z')).getHours(), 1)
  assert.equal(new Date(utc('2026-03-29T01:30:00Z')).getHours(), 3)
})

test('daily: local midnight, whether the day has 23 or 25 hours', () => {
  assert.equal(next('daily', utc('2026-03-28T12:00:00Z')), utc('2026-03-28T23:00:00Z'))
  assert.equal(next('daily', utc('2026-03-28T23:00:00Z')), utc('2026-03-29T22:00:00Z'), '23 hours later')
  assert.equal(next('daily', utc('2026-10-24T22:00:00Z')), utc('2026-10-25T23:00:00Z'), '25 hours later')
})

test('a time of day that does not exist that day (02:30 on 29 March) comes at 03:30, the first moment after', () => {
  assert.equal(next('02:30', utc('2026-03-28T12:00:00Z')), utc('2026-03-29T01:30:00Z'))
  assert.equal(next('sunday at 02:30', utc('2026-03-28T12:00:00Z')), utc('2026-03-29T01:30:00Z'))
  assert.equal(next('02:30', utc('2026-03-29T01:30:00Z')), utc('2026-03-30T00:30:00Z'), 'then 02:30 CEST the next day')
})

test('a time of day that happens twice (02:30 on 25 October) rotates at the first', () => {
  assert.equal(next('02:30', utc('2026-10-24T12:00:00Z')), utc('2026-10-25T00:30:00Z'))
  assert.equal(next('02:30', utc('2026-10-25T00:30:00Z')), utc('2026-10-26T01:30:00Z'), 'not again an hour later')
})

test('hourly: every top of the hour in real time, none skipped or doubled by a change', () => {
  let now = utc('2026-10-24T23:30:00Z')
  const seen: number[] = []
  for (let i = 0; i < 5; i++) {
    now = next('hourly', now) as number
    seen.push(now)
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4].map((i) => utc('2026-10-25T00:00:00Z') + i * HOUR))
  assert.equal(next('hourly', utc('2026-03-29T00:30:00Z')), utc('2026-03-29T01:00:00Z'), '01:30 CET → 03:00 CEST')
})

test('weekly, monthly and yearly at local midnight on either side of a change', () => {
  assert.equal(next('weekly', utc('2026-03-28T12:00:00Z')), utc('2026-03-29T22:00:00Z'), 'Monday 30 March 00:00 CEST')
  assert.equal(next('monthly', utc('2026-03-15T12:00:00Z')), utc('2026-03-31T22:00:00Z'))
  assert.equal(next('monthly', utc('2026-10-15T12:00:00Z')), utc('2026-10-31T23:00:00Z'))
  assert.equal(next('yearly', utc('2026-06-15T12:00:00Z')), utc('2026-12-31T23:00:00Z'))
})
