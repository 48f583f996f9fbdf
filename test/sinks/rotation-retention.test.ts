// `retention`: loguru's spellings (tests/test_filesink_retention.py): a duration, a count, or a
// function of the managed files; only managed files are ever touched.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger, rotatingFileSink } from '../../src/index.ts'
import { compileRetention } from '../../src/sinks/rotation-policy.ts'
import { tempDir } from '../helpers/tmp.ts'
import { rotatingSinkIn } from '../helpers/rotating-sink.ts'

const RECORD = 'x'.repeat(49) // 50 bytes with the newline
const HOUR = 3_600_000

function listing(dir: string): string[] {
  return readdirSync(dir).sort()
}

const sinkIn = rotatingSinkIn

for (const retention of ['1 hour', '1H', ' 1 h ', '60 min', '3600 s', '1 hour, 0 s']) {
  test(`retention ${JSON.stringify(retention)}: backups older than an hour go, younger ones and foreign files stay`, async (t) => {
    const dir = await tempDir(t)
    const now = Date.now()
    const aged = (name: string, ms: number) => {
      writeFileSync(join(dir, name), `${name}\n`)
      utimesSync(join(dir, name), (now - ms) / 1000, (now - ms) / 1000)
    }
    aged('worker.log.1', 0.5 * HOUR)
    aged('worker.log.2.gz', 2 * HOUR)
    aged('worker.log.2026-11-21', 0.9 * HOUR)
    aged('worker.log.2026-11-20.tar.gz', 25 * HOUR)
    aged('worker.log.old', 48 * HOUR)
    aged('other.log.3', 48 * HOUR)
    const sink = rotatingFileSink({ path: join(dir, 'worker.log'), retention, clock: () => now })
    await sink.settled()
    await sink.close()
    assert.deepEqual(listing(dir), ['other.log.3', 'worker.log', 'worker.log.1', 'worker.log.2026-11-21', 'worker.log.old'])
  })
}

test('retention 10 keeps ten backups: `maxFiles` has no default of its own beside `retention`', async (t) => {
  const { dir, sink, log } = await sinkIn(t, { maxSize: 50, retention: 10 })
  const steps: number[] = []
  for (let i = 0; i < 14; i++) {
    log.info(RECORD)
    await sink.settled()
    steps.push(listing(dir).filter((name) => /^worker\.log\.\d+$/.test(name)).length)
  }
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10])
  assert.deepEqual(listing(dir), ['worker.log', ...Array.from({ length: 10 }, (_, i) => `worker.log.${i + 1}`), 'worker.log.lock'].sort())
})

for (const retention of [0, 1, 10]) {
  test(`loguru's test_retention_count ${retention}: at most ${retention} backups after a rotation`, async (t) => {
    const dir = await tempDir(t)
    for (let i = 0; i < retention; i++) writeFileSync(join(dir, `worker.log.${i + 1}`), 'test')
    const sink = rotatingFileSink({ path: join(dir, 'worker.log'), format: '{message}', maxSize: 5, retention })
    const log = createLogger({ sinks: [sink] })
    log.info('test')
    log.info('test')
    await log.close()
    const backups = listing(dir).filter((name) => name !== 'worker.log')
    assert.equal(backups.length, retention)
    assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'test\n')
  })
}

test('an explicit maxFiles still caps a duration retention', async (t) => {
  const { dir, sink, log } = await sinkIn(t, { maxSize: 50, retention: '7 days', maxFiles: 2 })
  for (let i = 0; i < 5; i++) log.info(RECORD)
  await sink.settled()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.lock'])
})

test('a function is handed the managed backups, newest first, and may do what it likes with them (loguru\'s test_retention_function)', async (t) => {
  const dir = await tempDir(t)
  writeFileSync(join(dir, 'worker.log.7'), 'A')
  writeFileSync(join(dir, 'worker'), 'B')
  writeFileSync(join(dir, 'worker.log.bak'), 'C')
  const handed: string[][] = []
  const sink = rotatingFileSink({
    path: join(dir, 'worker.log'),
    format: '{message}',
    maxSize: 50,
    retention: (files) => {
      handed.push(files.map((file) => file.slice(dir.length + 1)))
      for (const file of files) renameSync(file, `${file}.xyz`)
    },
  })
  const log = createLogger({ sinks: [sink] })
  await sink.settled()
  log.info(RECORD)
  log.info(RECORD)
  await sink.settled()
  log.info(RECORD)
  await log.close()
  assert.deepEqual(handed, [['worker.log.7'], ['worker.log.1'], ['worker.log.1']])
  assert.deepEqual(listing(dir), ['worker', 'worker.log', 'worker.log.1.xyz', 'worker.log.7.xyz', 'worker.log.bak'])
})

test('a function keeps every backup by default; with maxFiles it sees what maxFiles left', async (t) => {
  const seen: number[] = []
  const { dir, sink, log } = await sinkIn(t, { maxSize: 50, maxFiles: 3, retention: (files) => void seen.push(files.length) })
  for (let i = 0; i < 6; i++) {
    log.info(RECORD)
    await sink.settled()
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 3, 3])
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.3', 'worker.log.lock'])
  const unbounded = await sinkIn(t, { maxSize: 50, retention: () => {} })
  for (let i = 0; i < 8; i++) unbounded.log.info(RECORD)
  await unbounded.sink.settled()
  assert.equal(listing(unbounded.dir).length, 9, 'the current file, seven backups and the lock')
})

test('a retention function that throws is reported once and the sink goes on', async (t) => {
  const { dir, sink, log } = await sinkIn(t, {
    maxSize: 50,
    retention: () => {
      throw new Error('retention error')
    },
  })
  log.info(RECORD)
  log.info(RECORD)
  log.info('still writing')
  await sink.settled()
  assert.ok(sink.failures.count >= 1)
  assert.match(String(sink.failures.lastError), /retention error/)
  assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'still writing\n')
})

test('compiled once: a duration, a count, a function', () => {
  assert.deepEqual(compileRetention(undefined, '1 week, 3 days'), { maxFiles: Number.POSITIVE_INFINITY, maxAgeMs: 10 * 24 * HOUR, select: undefined })
  assert.deepEqual(compileRetention(undefined, 3), { maxFiles: 3, maxAgeMs: undefined, select: undefined })
  assert.deepEqual(compileRetention(undefined, undefined), { maxFiles: 5, maxAgeMs: undefined, select: undefined })
  assert.deepEqual(compileRetention(4, 10), { maxFiles: 4, maxAgeMs: undefined, select: undefined })
  const select = () => {}
  assert.deepEqual(compileRetention(undefined, select), { maxFiles: Number.POSITIVE_INFINITY, maxAgeMs: undefined, select })
})

const ACCEPTED = 'Expected `retention` to be a count of backups, a duration like "7 days", "1 week, 3 days" or "2 h 30 min", or a function of the managed files'

// loguru's test_unparsable_retention, test_invalid_value_retention_duration, test_invalid_retention_type
for (const retention of ['W5', 'monday at 14:00', 'sunday', 'nope', 'd', 'H', '__dict__', '5 MB', '3 hours 2 dayz', '', -1, 1.5, Number.NaN, true, {}, new Date(2017, 0, 1)]) {
  test(`retention ${JSON.stringify(retention)} is refused at creation, quoting it`, async (t) => {
    const path = join(await tempDir(t), 'bad.log')
    assert.throws(() => rotatingFileSink({ path, retention: retention as string }), {
      name: 'TypeError',
      message: `${ACCEPTED}, got \`${String(retention)}\` (${typeof retention})`,
    })
  })
}
