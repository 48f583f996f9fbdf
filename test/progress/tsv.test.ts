import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { BATCH_COLUMNS, createProgress, escapeTsvField, HEARTBEAT_COLUMNS, unescapeTsvField } from '../../src/progress/index.ts'
import { tempDir } from '../helpers/tmp.ts'
import { readTsv } from './tsv-reader.ts'

/** 2026-11-21 21:02:34.567, local time. */
const START = new Date(2026, 10, 21, 21, 2, 34, 567).getTime()

/** A clock the test moves. */
function clock(start = START): { now: () => number; advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

test('a field escaped for TSV holds no tab, line break or control character, and reads back exactly', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (value) => {
      const field = escapeTsvField(value)
      assert.doesNotMatch(field, /[\t\n\r\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
      assert.equal(unescapeTsvField(field), value)
    }),
    { numRuns: 2000 },
  )
  assert.equal(escapeTsvField('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re')
  assert.equal(escapeTsvField('\u001b[31m'), '\\u001b[31m')
})

test('the heartbeat and batch files read back as a pandas user reads them: split on tabs, by the documented column names', async (t) => {
  const dir = await tempDir(t)
  const time = clock()
  const progress = createProgress({ dir, runId: 'events_intraday_20261121', total: 4, now: time.now, statusInterval: 0 })
  const tricky = 'AA\tPL\nline two \\ done'
  progress.heartbeat({ symbol: tricky, batch: 5, totalBatches: 40, events: 12450, source: 'feed\tA\nB', nested: { ok: true } })
  time.advance(1000)
  progress.complete(tricky)
  progress.heartbeat({ item: 'MSFT' })
  time.advance(500)
  progress.batch({ batch: 5, symbols: 50, events: 4523, shard: 'shard0005.parquet', path: 'C:\\tmp\\x' })
  await progress.finish()

  const jobDir = join(dir, 'events_intraday')
  assert.deepEqual(readdirSync(jobDir).sort(), ['batches_20261121.log', 'heartbeat_20261121.log'])
  const heartbeats = readTsv(readFileSync(join(jobDir, 'heartbeat_20261121.log'), 'utf8'))
  assert.deepEqual(heartbeats.columns, ['timestamp', 'run_id', 'item', 'batch', 'total_batches', 'completed', 'total', 'pct', 'rate_per_s', 'eta_s', 'events', 'extra', 'rss_gb'])
  assert.deepEqual(heartbeats.columns, [...HEARTBEAT_COLUMNS])
  const [first, second] = heartbeats.rows
  assert.ok(first !== undefined && second !== undefined && heartbeats.rows.length === 2)
  assert.equal(first['timestamp'], '2026-11-21 21:02:34.567')
  assert.equal(first['run_id'], 'events_intraday_20261121')
  assert.equal(unescapeTsvField(first['item'] ?? ''), tricky)
  assert.equal(first['batch'], '5')
  assert.equal(first['total_batches'], '40')
  assert.equal(first['completed'], '0')
  assert.equal(first['total'], '4')
  assert.equal(first['pct'], '0')
  assert.equal(first['rate_per_s'], '', 'no rate before an item is completed')
  assert.equal(first['events'], '12450')
  // Unknown fields: one JSON object, which a JSON reader takes as it is.
  assert.deepEqual(JSON.parse(first['extra'] ?? ''), { source: 'feed\tA\nB', nested: { ok: true } })
  assert.ok(Number(first['rss_gb']) > 0, `rss_gb is a number of GB: ${String(first['rss_gb'])}`)

  assert.equal(second['timestamp'], '2026-11-21 21:02:35.567')
  assert.equal(second['item'], 'MSFT')
  assert.equal(second['batch'], '5', 'batch carries over from the last heartbeat that gave one')
  assert.equal(second['total_batches'], '40')
  assert.equal(second['completed'], '1')
  assert.equal(second['pct'], '25')
  assert.equal(second['rate_per_s'], '1', '1 item in 1 s')
  assert.equal(second['eta_s'], '3', '3 items left at 1 per second')
  assert.equal(second['events'], '')
  assert.equal(second['extra'], '')

  const batches = readTsv(readFileSync(join(jobDir, 'batches_20261121.log'), 'utf8'))
  assert.deepEqual(batches.columns, [...BATCH_COLUMNS])
  assert.deepEqual(batches.columns, ['timestamp', 'run_id', 'batch', 'total_batches', 'items', 'events', 'shard', 'duration_s', 'completed', 'total', 'pct', 'extra', 'rss_gb'])
  const [batch] = batches.rows
  assert.ok(batch !== undefined && batches.rows.length === 1)
  assert.equal(batch['timestamp'], '2026-11-21 21:02:36.067')
  assert.equal(batch['batch'], '5')
  assert.equal(batch['total_batches'], '40')
  assert.equal(batch['items'], '50', '`symbols` is another name for `items`')
  assert.equal(batch['events'], '4523')
  assert.equal(batch['shard'], 'shard0005.parquet')
  assert.equal(batch['duration_s'], '1.5', 'seconds since the run started, for the first batch')
  assert.equal(batch['completed'], '1')
  assert.deepEqual(JSON.parse(batch['extra'] ?? ''), { path: 'C:\\tmp\\x' })
})

test('`item` wins over `symbol`, which then goes into extra; a string is the item', async (t) => {
  const dir = await tempDir(t)
  const progress = createProgress({ dir, runId: 'job', now: clock().now })
  progress.heartbeat({ item: 'A', symbol: 'B' })
  progress.heartbeat('C')
  await progress.finish()
  const { rows } = readTsv(readFileSync(join(dir, 'job', 'heartbeat_20261121.log'), 'utf8'))
  assert.deepEqual(rows.map((row) => [row['item'], row['extra'], row['total']]), [['A', '{"symbol":"B"}', ''], ['C', '', '']])
})

test('the header is written once, when the file is created: later runs of the job that day append; a new day starts a new file', async (t) => {
  const dir = await tempDir(t)
  const time = clock()
  for (const runId of ['prices_20261121', 'prices_20261121_2', 'prices_20261121']) {
    const progress = createProgress({ dir, runId, now: time.now, job: 'prices' })
    progress.heartbeat({ item: runId })
    await progress.finish()
  }
  // 21:02 + 3 h is the next day.
  time.advance(3 * 3_600_000)
  const progress = createProgress({ dir, runId: 'prices_20261121', now: time.now, job: 'prices' })
  progress.heartbeat({ item: 'after midnight' })
  progress.batch({ batch: 1 })
  await progress.finish()

  const jobDir = join(dir, 'prices')
  assert.deepEqual(readdirSync(jobDir).sort(), ['batches_20261122.log', 'heartbeat_20261121.log', 'heartbeat_20261122.log'])
  const day1 = readFileSync(join(jobDir, 'heartbeat_20261121.log'), 'utf8').split('\n')
  assert.equal(day1[0], HEARTBEAT_COLUMNS.join('\t'))
  assert.equal(day1.filter((line) => line.startsWith('timestamp')).length, 1)
  assert.deepEqual(readTsv(day1.join('\n')).rows.map((row) => row['item']), ['prices_20261121', 'prices_20261121_2', 'prices_20261121'])
  const day2 = readTsv(readFileSync(join(jobDir, 'heartbeat_20261122.log'), 'utf8'))
  assert.deepEqual(day2.rows.map((row) => [row['timestamp'], row['item']]), [['2026-11-22 00:02:34.567', 'after midnight']])
})

test('the job folder is the run id without its trailing date, unless `job` says otherwise', async (t) => {
  const dir = await tempDir(t)
  for (const [runId, job] of [['events_intraday_20261121', 'events_intraday'], ['backfill-2026-11-21', 'backfill'], ['nightly_20261121_0300', 'nightly'], ['20261121', '20261121'], ['plain', 'plain']]) {
    const progress = createProgress({ dir, runId: runId as string, now: clock().now })
    assert.equal(progress.job, job, runId)
    progress.heartbeat('x')
    await progress.finish()
  }
  assert.deepEqual(readdirSync(dir).sort(), ['20261121', 'backfill', 'checkpoints', 'events_intraday', 'heartbeats', 'nightly', 'plain'])
})
