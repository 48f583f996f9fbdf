// loguru's rotation spellings (its docs, and tests/test_filesink_rotation.py), through a real
// rotating sink with a clock the test moves: the exact listing after every record.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger, rotatingFileSink, type RotatingFileSinkOptions } from '../../src/index.ts'
import { compileRotation } from '../../src/sinks/rotation-policy.ts'
import { tempDir } from '../helpers/tmp.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A clock the test moves by hand. */
function manualClock(start: number) {
  let now = start
  return { now: () => now, set: (ms: number) => void (now = ms), advance: (ms: number) => void (now += ms) }
}

function listing(dir: string): string[] {
  return readdirSync(dir).sort()
}

const pad = (value: number) => String(value).padStart(2, '0')
const day = (ms: number) => {
  const date = new Date(ms)
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}
const hour = (ms: number) => `${day(ms)}_${pad(new Date(ms).getHours())}`
const minute = (ms: number) => `${hour(ms)}-${pad(new Date(ms).getMinutes())}`

async function sinkIn(t: Parameters<typeof tempDir>[0], options: Partial<RotatingFileSinkOptions>) {
  const dir = await tempDir(t)
  const sink = rotatingFileSink({ path: join(dir, 'worker.log'), format: '{message}', ...options })
  const log = createLogger({ sinks: [sink] })
  t.after(() => log.close())
  return { dir, sink, log }
}

/**
 * Logs `a`…`e`, moving the clock by `hours` before each, and checks the listing after every
 * record: a backup appears exactly before the records in `rotatesBefore`, named by the day
 * (or hour, minute) its period began, with `.1`, `.2` when that name is taken. Returns the
 * files' contents, oldest first.
 */
async function runRecords(
  t: Parameters<typeof tempDir>[0],
  options: Partial<RotatingFileSinkOptions>,
  start: Date,
  hours: readonly number[],
  rotatesBefore: ReadonlySet<string>,
  stamp: (ms: number) => string,
  /** The first record is past a boundary: the empty file is not rotated, its period starts anew. */
  firstRestarts = false,
): Promise<string[]> {
  const clock = manualClock(start.getTime())
  const { dir, sink, log } = await sinkIn(t, { ...options, clock: clock.now })
  let periodStart = clock.now()
  const backups: string[] = []
  for (const [i, record] of ['a', 'b', 'c', 'd', 'e'].entries()) {
    clock.advance((hours[i] as number) * HOUR)
    log.info(record)
    if (i === 0 && firstRestarts) periodStart = clock.now()
    if (rotatesBefore.has(record)) {
      const base = `worker.log.${stamp(periodStart)}`
      let name = base
      for (let counter = 1; backups.includes(name); counter++) name = `${base}.${counter}`
      backups.push(name)
      periodStart = clock.now()
    }
    assert.deepEqual(listing(dir), [...backups, 'worker.log', 'worker.log.lock'].sort(), `after ${record}`)
  }
  await sink.settled()
  return [...backups, 'worker.log'].map((name) => readFileSync(join(dir, name), 'utf8'))
}

// loguru's test_time_rotation: from Sunday 2017-06-18 12:00, five records; each spelling must
// put them in files [a] [b c] [d] [e].
const SUNDAY_NOON = new Date(2017, 5, 18, 12, 0)
const LOGURU_GROUPS = ['a\n', 'b\nc\n', 'd\n', 'e\n']
const LOGURU_ROTATES = new Set(['b', 'd', 'e'])

for (const [rotation, hours, stamp] of [
  ['13', [0, 1, 20, 4, 24], day],
  ['13:00', [0.2, 0.9, 23, 1, 48], day],
  ['13:00:00', [0.5, 1.5, 10, 15, 72], day],
  ['13:00:00.123456', [0.9, 2, 10, 15, 256], day],
  ['11:00', [22.9, 0.2, 23, 1, 24], day],
  ['w0', [11, 1, 24 * 7 - 1, 1, 24 * 7], day],
  ['W0 at 00:00', [10, 24 * 7 - 5, 0.1, 24 * 30, 24 * 14], day],
  ['W6', [24, 24 * 28, 24 * 5, 24, 364 * 24], day],
  ['saturday', [25, 25 * 12, 0, 25 * 12, 24 * 8], day],
  ['w6 at 00', [8, 24 * 7, 24 * 6, 24, 24 * 8], day],
  [' W6 at 13 ', [0.5, 1, 24 * 6, 24 * 6, 365 * 24], day],
  ['w2  at  11:00:00 AM', [48 + 22, 3, 24 * 6, 24, 366 * 24], day],
  ['MonDaY at 11:00:30.123', [22, 24, 24, 24 * 7, 24 * 7], day],
  ['sunday', [0.1, 24 * 7 - 10, 24, 24 * 6, 24 * 7], day],
  ['SUNDAY at 11:00', [1, 24 * 7, 2, 24 * 7, 30 * 12], day],
  ['sunDAY at 1:0:0.0 pm', [0.9, 0.2, 24 * 7 - 2, 3, 24 * 8], day],
  ['hourly', [0.9, 0.2, 0.8, 3, 1], hour],
  ['daily', [11, 1, 23, 1, 24], day],
  ['WEEKLY', [11, 2, 24 * 6, 24, 24 * 7], day],
  ['mOnthLY', [0, 24 * 13, 29 * 24, 60 * 24, 24 * 35], day],
  ['monthly', [10 * 24, 30 * 24 * 6, 24, 24 * 7, 24 * 31], day],
  ['Yearly ', [100, 24 * 7 * 30, 24 * 300, 24 * 100, 24 * 400], day],
  // The issue's own
  ['monday at 12:00', [23, 1, 24, 24 * 6, 24 * 7], day],
  ['1:00 pm', [0.5, 1, 20, 4, 24], day],
] as const) {
  test(`rotation ${JSON.stringify(rotation)} (loguru's table): files [a] [b c] [d] [e], a dated backup exactly at each boundary`, async (t) => {
    const contents = await runRecords(t, { rotation }, SUNDAY_NOON, hours, LOGURU_ROTATES, stamp)
    assert.deepEqual(contents, LOGURU_GROUPS)
  })
}

// loguru counts a duration from the file's creation; blackbox from the Unix epoch, so a
// restart keeps the grid (docs/rotation.md). The same spellings, on blackbox's grid.
for (const [rotation, hours, periodMs] of [
  ['2 h', [1, 2, 0.9, 0.5, 10], 2 * HOUR],
  ['1 hour', [0.5, 1, 0.1, 100, 1000], HOUR],
  ['7 days', [24 * 7 - 1, 1, 48, 24 * 10, 24 * 365], 7 * DAY],
  ['1h 30 minutes', [1.4, 0.2, 1, 2, 10], 1.5 * HOUR],
  ['1 w, 2D', [24 * 8, 24 * 2, 24, 24 * 9, 24 * 9], 9 * DAY],
  ['1.5d', [30, 10, 0.9, 48, 35], 1.5 * DAY],
  ['1.222 hours, 3.44s', [1.222, 0.1, 1, 1.2, 2], 1.222 * HOUR + 3440],
  ['2 h 30 min', [1, 2, 0.9, 0.5, 10], 2.5 * HOUR],
  ['1 week, 3 days', [24 * 7 - 1, 1, 48, 24 * 10, 24 * 365], 10 * DAY],
] as const) {
  test(`rotation ${JSON.stringify(rotation)}: a period of ${periodMs} ms on the epoch grid, a backup at each grid line crossed`, async (t) => {
    let at = SUNDAY_NOON.getTime()
    let period = Math.floor(at / periodMs)
    const firstRestarts = Math.floor((at + (hours[0] as number) * HOUR) / periodMs) !== period
    const rotates = new Set<string>()
    const groups: string[] = []
    for (const [i, record] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      at += (hours[i] as number) * HOUR
      const now = Math.floor(at / periodMs)
      if (now !== period && i > 0) {
        rotates.add(record)
        groups.push('')
      }
      period = now
      if (groups.length === 0) groups.push('')
      groups[groups.length - 1] += `${record}\n`
    }
    const stamp = periodMs < HOUR ? minute : periodMs < DAY ? hour : day
    assert.deepEqual(await runRecords(t, { rotation }, SUNDAY_NOON, hours, rotates, stamp, firstRestarts), groups)
    assert.ok(rotates.size > 0, 'the table crosses at least one grid line')
  })
}

// loguru's test_size_rotation: three records of 6 bytes, a limit of 8 bytes: one file each.
for (const rotation of [8, 8.0, 7.99, '8 B', '8e-6MB', '0.008 kiB', '8 b'] as const) {
  test(`rotation ${JSON.stringify(rotation)} is 8 bytes: one 6-byte record per file`, async (t) => {
    const { dir, sink, log } = await sinkIn(t, { rotation })
    const steps: string[][] = []
    for (const record of ['abcde', 'fghij', 'klmno']) {
      log.info(record)
      steps.push(listing(dir))
    }
    await sink.settled()
    assert.deepEqual(steps, [
      ['worker.log', 'worker.log.lock'],
      ['worker.log', 'worker.log.1', 'worker.log.lock'],
      ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.lock'],
    ])
    assert.deepEqual(['worker.log.2', 'worker.log.1', 'worker.log'].map((name) => readFileSync(join(dir, name), 'utf8')), ['abcde\n', 'fghij\n', 'klmno\n'])
  })
}

test('"64b" is 64 bytes here (loguru reads a lowercase b as bits: 8 bytes): the three records share a file', async (t) => {
  const { dir, log } = await sinkIn(t, { rotation: '64b' })
  for (const record of ['abcde', 'fghij', 'klmno']) log.info(record)
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.lock'])
})

test("loguru's test_multiple_rotation_conditions: ['8 B', '1 min'] rotates on whichever comes first", async (t) => {
  const clock = manualClock(new Date(2020, 0, 1, 20, 0, 0).getTime())
  const { dir, sink, log } = await sinkIn(t, { rotation: ['8 B', '1 min'], clock: clock.now })
  const steps: string[][] = []
  log.info('abcde')
  steps.push(listing(dir))
  clock.advance(1000)
  log.info('fghij')
  steps.push(listing(dir))
  clock.advance(1000)
  log.info('klm')
  steps.push(listing(dir))
  clock.set(new Date(2020, 0, 1, 20, 1, 1).getTime())
  log.info('no')
  steps.push(listing(dir))
  await sink.settled()
  const stamp = 'worker.log.2020-01-01_20-00'
  assert.deepEqual(steps, [
    ['worker.log', 'worker.log.lock'],
    ['worker.log', stamp, 'worker.log.lock'],
    ['worker.log', stamp, `${stamp}.1`, 'worker.log.lock'],
    ['worker.log', stamp, `${stamp}.1`, `${stamp}.2`, 'worker.log.lock'],
  ])
  assert.deepEqual([stamp, `${stamp}.1`, `${stamp}.2`, 'worker.log'].map((name) => readFileSync(join(dir, name), 'utf8')), ['abcde\n', 'fghij\n', 'klm\n', 'no\n'])
})

test("loguru's test_function_rotation: a function (record, file) decides, before the record it is given", async (t) => {
  const answers = [false, true, false]
  const seen: Array<{ msg: string; size: number; path: string }> = []
  const { dir, sink, log } = await sinkIn(t, {
    rotation: (record, file) => {
      seen.push({ msg: record.msg, size: file.size, path: file.path })
      return answers.shift() ?? false
    },
  })
  const steps: string[][] = []
  for (const record of ['a', 'b', 'c']) {
    log.info(record)
    steps.push(listing(dir))
  }
  await sink.settled()
  assert.deepEqual(steps, [
    ['worker.log', 'worker.log.lock'],
    ['worker.log', 'worker.log.1', 'worker.log.lock'],
    ['worker.log', 'worker.log.1', 'worker.log.lock'],
  ])
  assert.equal(readFileSync(join(dir, 'worker.log.1'), 'utf8'), 'a\n')
  assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'b\nc\n')
  const path = join(dir, 'worker.log')
  assert.deepEqual(seen, [
    { msg: 'a', size: 0, path },
    { msg: 'b', size: 2, path },
    { msg: 'c', size: 2, path },
  ])
})

test('a function in batched mode: the records before the one it picks stay in the old file', async (t) => {
  const { dir, log } = await sinkIn(t, { durability: 'batched', rotation: (record) => record.msg === 'rotate here' })
  for (const record of ['one', 'two', 'rotate here', 'three']) log.info(record)
  await log.close()
  assert.equal(readFileSync(join(dir, 'worker.log.1'), 'utf8'), 'one\ntwo\n')
  assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'rotate here\nthree\n')
})

test('a function that throws is reported once; the record is written and the sink goes on', async (t) => {
  let calls = 0
  const { dir, sink, log } = await sinkIn(t, {
    rotation: () => {
      calls++
      if (calls === 1) throw new Error('rotation error')
      return false
    },
  })
  log.info('A')
  log.info('B')
  assert.equal(sink.failures.count, 1)
  assert.match(String(sink.failures.lastError), /rotation error/)
  assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'A\nB\n')
})

test('a function through the resilient sink (setupLogging, the collector) is handed the record too', async (t) => {
  const { resilientFileSink } = await import('../../src/index.ts')
  const dir = await tempDir(t)
  const sink = resilientFileSink({ path: join(dir, 'worker.log'), format: '{message}', rotation: (record) => record.msg === 'b' })
  const log = createLogger({ sinks: [sink] })
  for (const record of ['a', 'b', 'c']) log.info(record)
  await log.close()
  assert.equal(readFileSync(join(dir, 'worker.log.1'), 'utf8'), 'a\n')
  assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'b\nc\n')
})

test('`interval` takes the same spellings; a number there stays ms, a number in `rotation` is bytes', () => {
  const now = SUNDAY_NOON.getTime()
  assert.equal(compileRotation({ interval: 'monday at 12:00' }).time?.next(now), new Date(2017, 5, 19, 12, 0).getTime())
  assert.equal(compileRotation({ interval: '500 MB' }).maxSize, 500e6)
  assert.equal(compileRotation({ interval: 3_600_000 }).time?.next(now), (Math.floor(now / HOUR) + 1) * HOUR)
  assert.equal(compileRotation({ interval: 3_600_000 }).maxSize, 10e6, "maxSize's default stays with `interval`")
  assert.equal(compileRotation({ rotation: 3_600_000 }).maxSize, 3_600_000)
  assert.equal(compileRotation({ rotation: 3_600_000 }).time, undefined)
})

test("maxSize's 10 MB default: with `interval` alone, not with `rotation` or a size in `interval`", () => {
  assert.equal(compileRotation({}).maxSize, 10e6)
  assert.equal(compileRotation({ interval: 'daily' }).maxSize, 10e6)
  assert.equal(compileRotation({ interval: ['daily', '1 GB'] }).maxSize, 1e9)
  assert.equal(compileRotation({ rotation: 'daily' }).maxSize, Number.POSITIVE_INFINITY)
  assert.equal(compileRotation({ rotation: false }).maxSize, Number.POSITIVE_INFINITY)
  assert.equal(compileRotation({ rotation: 'daily', maxSize: '1 MB' }).maxSize, 1e6)
  assert.equal(compileRotation({ rotation: '5 MB', maxSize: '1 MB' }).maxSize, 1e6, 'the smaller limit')
  assert.equal(compileRotation({ rotation: '5 MB', maxSize: false }).maxSize, 5e6, 'false: no limit from maxSize')
  assert.equal(compileRotation({ rotation: 'daily', interval: 'hourly' }).time?.next(SUNDAY_NOON.getTime()), new Date(2017, 5, 18, 13, 0).getTime(), 'both apply')
})

// What each spelling compiles to: the next rotation after Sunday 2017-06-18 12:00.
for (const [rotation, next] of [
  ['13', new Date(2017, 5, 18, 13, 0)],
  ['13:00:00.123456', new Date(2017, 5, 18, 13, 0, 0, 123)],
  ['11:00', new Date(2017, 5, 19, 11, 0)],
  ['12:00', new Date(2017, 5, 19, 12, 0)],
  ['1 pm', new Date(2017, 5, 18, 13, 0)],
  ['1pm', new Date(2017, 5, 18, 13, 0)],
  ['1:00 pm', new Date(2017, 5, 18, 13, 0)],
  ['1:30:15 PM', new Date(2017, 5, 18, 13, 30, 15)],
  ['12 am', new Date(2017, 5, 19, 0, 0)],
  ['12 pm', new Date(2017, 5, 19, 12, 0)],
  ['12:30 PM', new Date(2017, 5, 18, 12, 30)],
  ['11:00:00 AM', new Date(2017, 5, 19, 11, 0)],
  ['00:00', new Date(2017, 5, 19, 0, 0)],
  ['23:59:59.999', new Date(2017, 5, 18, 23, 59, 59, 999)],
  ['monday', new Date(2017, 5, 19, 0, 0)],
  ['w0', new Date(2017, 5, 19, 0, 0)],
  ['W0 at 00:00', new Date(2017, 5, 19, 0, 0)],
  ['w0 at 13:00', new Date(2017, 5, 19, 13, 0)],
  ['sunday', new Date(2017, 5, 25, 0, 0)],
  ['w6 at 13', new Date(2017, 5, 18, 13, 0)],
  ['w6 at 12:00', new Date(2017, 5, 25, 12, 0)],
  ['w2 at 11:00:00 AM', new Date(2017, 5, 21, 11, 0)],
  ['saturday at 23:59:59', new Date(2017, 5, 24, 23, 59, 59)],
  [' Friday  AT  6 pm ', new Date(2017, 5, 23, 18, 0)],
  ['tuesday at 1:0:0.0 pm', new Date(2017, 5, 20, 13, 0)],
  ['hourly', new Date(2017, 5, 18, 13, 0)],
  ['daily', new Date(2017, 5, 19, 0, 0)],
  ['weekly', new Date(2017, 5, 19, 0, 0)],
  ['monthly', new Date(2017, 6, 1, 0, 0)],
  ['yearly', new Date(2018, 0, 1, 0, 0)],
  ['DAILY ', new Date(2017, 5, 19, 0, 0)],
] as const) {
  test(`${JSON.stringify(rotation)} next rotates at ${next.toString().slice(0, 24)}`, () => {
    assert.equal(compileRotation({ rotation }).time?.next(SUNDAY_NOON.getTime()), next.getTime())
  })
}

test('monthly and yearly step over month ends and leap days', () => {
  const monthly = compileRotation({ rotation: 'monthly' }).time
  assert.equal(monthly?.next(new Date(2024, 0, 31, 12).getTime()), new Date(2024, 1, 1).getTime())
  assert.equal(monthly?.next(new Date(2024, 1, 29, 23, 59).getTime()), new Date(2024, 2, 1).getTime())
  assert.equal(monthly?.next(new Date(2024, 11, 31, 23, 59).getTime()), new Date(2025, 0, 1).getTime())
  assert.equal(monthly?.next(new Date(2024, 2, 1).getTime()), new Date(2024, 3, 1).getTime(), 'strictly after: the 1st at midnight is the start of a month')
  const yearly = compileRotation({ rotation: 'yearly' }).time
  assert.equal(yearly?.next(new Date(2024, 1, 29).getTime()), new Date(2025, 0, 1).getTime())
})

test('a list takes the earliest time and the smallest size', () => {
  const policy = compileRotation({ rotation: ['daily', '13:00', '1 GB', '500 MB'] })
  assert.equal(policy.time?.next(SUNDAY_NOON.getTime()), new Date(2017, 5, 18, 13, 0).getTime())
  assert.equal(policy.maxSize, 500e6)
  assert.equal(policy.time?.stamp(SUNDAY_NOON.getTime()), '2017-06-18')
  assert.equal(compileRotation({ rotation: ['daily', 'hourly'] }).time?.stamp(SUNDAY_NOON.getTime()), '2017-06-18_12', 'the finest stamp')
})

// ── refused, at creation, with the input quoted and what is accepted listed ────────────

const ACCEPTED = /a size \("500 MB", "0\.5 GiB", "1e3 KB"\), a duration \("1 week, 3 days", "2 h 30 min", "1\.5 days"\), a frequency \("hourly", "daily", "weekly", "monthly", "yearly"\), a time of day \("12:00", "13:00:00", "1:00 pm"\), a weekday \("monday", "w0"…"w6", "monday at 12:00"\)/

for (const [rotation, reason] of [
  // loguru's test_unparsable_rotation
  ['w-1', undefined],
  ['h', undefined],
  ['M', undefined],
  ['w1at13', undefined],
  ['www', undefined],
  ['w', undefined],
  ['K', undefined],
  ['foobar MB', undefined],
  ['01:00:00!UTC', undefined],
  ['foobar', undefined],
  ['__dict__', undefined],
  // test_invalid_day_rotation
  ['w7', /`w7` is no weekday: w0 \(Monday\) to w6 \(Sunday\), or a day's name/],
  ['w10', /`w10` is no weekday/],
  ['13 at w2', /`13` is no weekday/],
  ['[not|a|day] at 12:00', /`\[not\|a\|day\]` is no weekday/],
  // test_invalid_time_rotation
  ['2017.11.12', /`2017\.11\.12` is no time of day: hours 0-23 \(1-12 with am or pm\), then minutes, seconds and a fraction, each optional/],
  ['11:99', /`11:99` is no time of day/],
  ['24', /`24` is no time of day/],
  ['0 am', /`0 am` is no time of day/],
  ['13 pm', /`13 pm` is no time of day/],
  ['monday at 2017', /`2017` is no time of day/],
  ['w5 at [not|a|time]', /`\[not\|a\|time\]` is no time of day/],
  // test_invalid_value_size_rotation, test_invalid_unit_rotation_duration, test_invalid_value_rotation_duration
  ['111.111.111 kb', undefined],
  ['e KB', undefined],
  ['2 days 8 foobar', undefined],
  ['1 foobar 3 days', undefined],
  ['3 Ki', undefined],
  ['e days', undefined],
  ['1.2.3 days', undefined],
  // blackbox's
  ['fortnightly', undefined],
  ['100', /`100` is no time of day/],
  ['', undefined],
  ['0 MB', undefined],
] as const) {
  test(`rotation ${JSON.stringify(rotation)} is refused at creation, quoting it${reason ? ', saying why' : ''}`, async (t) => {
    const path = join(await tempDir(t), 'bad.log')
    for (const option of ['rotation', 'interval'] as const) {
      assert.throws(() => rotatingFileSink({ path, [option]: rotation }), (error: unknown) => {
        assert.ok(error instanceof TypeError)
        assert.match(error.message, new RegExp(`^Expected \`${option}\` to be `))
        assert.match(error.message, ACCEPTED)
        assert.ok(error.message.includes(`got \`${rotation}\` (string)`), error.message)
        if (reason) assert.match(error.message, reason)
        return true
      })
    }
  })
}

for (const [rotation, what] of [
  [[], /got an empty list/],
  [{}, /got `\[object Object\]` \(object\)/],
  [new Date(2017, 0, 1), /\(object\)/],
  [true, /got `true` \(boolean\)/],
  [Number.NaN, /got `NaN` \(number\)/],
  [-1, /got `-1` \(number\)/],
  [0, /got `0` \(number\)/],
  [['daily', 'foobar'], /got `foobar` \(string\) in the list/],
  [['daily', ['1 MB']], /\(object\) in the list/],
] as const) {
  test(`rotation ${JSON.stringify(rotation)} is refused: ${String(what)}`, async (t) => {
    const path = join(await tempDir(t), 'bad.log')
    assert.throws(() => rotatingFileSink({ path, rotation: rotation as unknown as string }), (error: unknown) => {
      assert.ok(error instanceof TypeError)
      assert.match(error.message, /^Expected `rotation` to be /)
      assert.match(error.message, what)
      return true
    })
  })
}

test('`interval: false` and `rotation: false` mean no time rotation', () => {
  assert.equal(compileRotation({ interval: false }).time, undefined)
  assert.equal(compileRotation({ rotation: false }).time, undefined)
  assert.equal(compileRotation({ rotation: false }).decide, undefined)
})
