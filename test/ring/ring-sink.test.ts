// The ring sink in one process: each whenFull policy on a ring that is full, the drain
// worker, a ring file of another format version, and the fallback without the addon.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger } from '../../src/index.ts'
import { FileSink } from '../../src/sinks/file.ts'
import { NO_ADDON_ENV, RING_FALLBACK_WARNING_CODE, loadRingAddon } from '../../src/ring/addon.ts'
import { RING_HEADER_BYTES, RING_MAGIC, RingFormatError, SLOT } from '../../src/ring/ring-file.ts'
import { recoverRing } from '../../src/ring/recover.ts'
import { RingFileSink, ringFileSink, type RingWhenFull } from '../../src/ring/ring-sink.ts'
import { parseJsonLines, readLines } from '../helpers/lines.ts'
import { fixturePath, runNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const addon = loadRingAddon()
const NO_ADDON = addon.addon === undefined ? `native addon not available: ${addon.reason}` : false
/** The smallest ring: 4 KiB holds about 60 of the records below. */
const SMALL_RING_BYTES = 4096
const RECORDS = 300

async function records(path: string): Promise<Array<Record<string, unknown>>> {
  const lines = await readLines(path)
  assert.equal(lines.partial, '', 'the file ends with a newline')
  return parseJsonLines(lines.complete, path) as Array<Record<string, unknown>>
}

function assertNumbered(found: ReadonlyArray<Record<string, unknown>>, expected: readonly number[]): void {
  assert.deepEqual(found.map((record) => record['i']), expected)
}

function openRing(path: string, whenFull: RingWhenFull, extra: { blockTimeout?: number; drainInBackground?: boolean } = {}): RingFileSink {
  const sink = ringFileSink({ path, format: 'json', ringSize: SMALL_RING_BYTES, whenFull, drainInBackground: false, ...extra })
  assert.ok(sink instanceof RingFileSink, 'ring mode ran (the addon loaded)')
  return sink
}

test('whenFull spill: a full ring is drained, then the record written, in call order', { skip: NO_ADDON }, async (t) => {
  const path = join(await tempDir(t), 'spill.log')
  const sink = openRing(path, 'spill')
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < RECORDS; i++) log.info({ i, pad: 'x'.repeat(20) }, 'rec')
  assert.ok(sink.stats.spilled >= 3, `spilled ${sink.stats.spilled} times`)
  // Before close: what the last spill wrote is in the file, and only the ring holds the rest.
  const before = await records(path)
  assert.ok(before.length > 0 && before.length < RECORDS, `${before.length} records in the file before close`)
  assertNumbered(before, [...Array(before.length).keys()])
  await log.close()
  assertNumbered(await records(path), [...Array(RECORDS).keys()])
  assert.equal(existsSync(`${path}.ring`), false, 'close removes the drained ring')
})

test('whenFull block: waits at most blockTimeout for the drain, then spills in order', { skip: NO_ADDON }, async (t) => {
  const path = join(await tempDir(t), 'block.log')
  const BLOCK_MS = 40
  const sink = openRing(path, 'block', { blockTimeout: BLOCK_MS })
  const log = createLogger({ sinks: [sink] })
  let i = 0
  while (sink.stats.blocked === 0) log.info({ i: i++ }, 'rec')
  // Nothing drains in the background here: the call that found the ring full waited the whole bound.
  assert.equal(sink.stats.blockTimeouts, 1)
  const started = performance.now()
  log.info({ i: i++ }, 'rec')
  const waited = performance.now() - started
  assert.ok(waited < BLOCK_MS, `the spill emptied the ring, so the next call did not wait (${waited.toFixed(1)} ms)`)
  await log.close()
  assertNumbered(await records(path), [...Array(i).keys()])
})

test('whenFull block with the drain worker: calls wait for the worker, nothing lost or reordered', { skip: NO_ADDON }, async (t) => {
  const path = join(await tempDir(t), 'block-worker.log')
  const sink = openRing(path, 'block', { blockTimeout: 2000, drainInBackground: true })
  assert.equal(await sink.ready, true, 'the drain worker runs')
  const log = createLogger({ sinks: [sink] })
  const COUNT = 20_000
  for (let i = 0; i < COUNT; i++) log.info({ i }, 'rec')
  t.diagnostic(`blocked ${sink.stats.blocked} times, ${sink.stats.blockTimeouts} timeouts, ${sink.stats.spilled} spills`)
  await log.close()
  assertNumbered(await records(path), [...Array(COUNT).keys()])
})

test('whenFull drop: records that do not fit are counted, and the count is written in order', { skip: NO_ADDON }, async (t) => {
  const path = join(await tempDir(t), 'drop.log')
  const sink = openRing(path, 'drop')
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < RECORDS; i++) log.info({ i }, 'rec')
  const dropped = sink.stats.dropped
  assert.ok(dropped > 0 && dropped < RECORDS, `dropped ${dropped}`)
  await log.close()
  const found = await records(path)
  const kept = found.filter((record) => record['i'] !== undefined)
  const notices = found.filter((record) => record['dropped'] !== undefined)
  assertNumbered(kept, [...Array(RECORDS - dropped).keys()])
  assert.deepEqual(notices.map((record) => record['dropped']), [dropped])
  assert.equal(found.at(-1), notices[0], 'the notice comes after the records kept before it')
})

test('the drain worker moves records to the file without flush', { skip: NO_ADDON }, async (t) => {
  const path = join(await tempDir(t), 'worker.log')
  const sink = ringFileSink({ path, format: 'json' })
  assert.ok(sink instanceof RingFileSink && sink.draining)
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < 100; i++) log.info({ i }, 'rec')
  const deadline = Date.now() + 5000
  while ((await readLines(path)).complete.length < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  assertNumbered(await records(path), [...Array(100).keys()])
  await log.close()
})

test('reopen() after an external rename: earlier records stay in the renamed file, later ones go to the new one', { skip: NO_ADDON }, async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'rotated.log')
  const sink = ringFileSink({ path, format: 'json' })
  assert.ok(sink instanceof RingFileSink && sink.draining)
  assert.equal(await sink.ready, true, 'the drain worker runs')
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < RECORDS; i++) log.info({ i }, 'rec')
  renameSync(path, join(dir, 'rotated.log.1'))
  sink.reopen()
  for (let i = RECORDS; i < 2 * RECORDS; i++) log.info({ i }, 'rec')
  // The worker, not close(), must move these: it writes to the new file too.
  await waitUntil(async () => existsSync(path) && (await readLines(path)).complete.length === RECORDS, { timeoutMs: 5000, what: 'the worker to drain into the reopened file' })
  await log.close()
  assertNumbered(await records(join(dir, 'rotated.log.1')), [...Array(RECORDS).keys()])
  assertNumbered(await records(path), [...Array(RECORDS).keys()].map((i) => i + RECORDS))
})

for (const awaitReady of [false, true]) {
  test(`a program that never closes its ring sink ends by itself, every record written${awaitReady ? ' (after await sink.ready)' : ''}`, { skip: NO_ADDON }, async (t) => {
    const path = join(await tempDir(t), 'never-closed.log')
    const end = await runNode(fixturePath('ring-never-closed.mjs'), [path, '500', ...(awaitReady ? ['await-ready'] : [])], { timeoutMs: 15_000 })
    assert.equal(end.code, 0, `the program ended with ${String(end.code)}/${String(end.signal)}:\n${end.stderr}`)
    assertNumbered(await records(path), [...Array(500).keys()])
    assert.equal(existsSync(`${path}.ring`), false, 'the exit drain left nothing in the ring')
  })
}

function ringWithVersion(path: string, version: number): Buffer {
  const bytes = Buffer.alloc(RING_HEADER_BYTES + SMALL_RING_BYTES)
  bytes.write(RING_MAGIC, 0, 'latin1')
  bytes.writeUInt32LE(version, SLOT.VERSION * 4)
  bytes.writeUInt32LE(RING_HEADER_BYTES, SLOT.HEADER_BYTES * 4)
  bytes.writeUInt32LE(SMALL_RING_BYTES, SLOT.CAPACITY * 4)
  writeFileSync(path, bytes)
  return bytes
}

test('a ring file of another format version is refused with a clear message and left untouched', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'app.log')
  const ring = `${path}.ring`
  const bytes = ringWithVersion(ring, 2)
  assert.throws(() => recoverRing(ring), (error: unknown) => {
    assert.ok(error instanceof RingFormatError)
    assert.match(error.message, /format version 2; this blackbox reads version 1 only/)
    return true
  })
  if (!NO_ADDON) {
    assert.throws(() => ringFileSink({ path, format: 'json' }), /app\.log\.ring is a blackbox ring file of format version 2/)
  }
  const cli = await runNode(fixturePath('ring-recover-cli.mjs'), [ring])
  assert.equal(cli.code, 1)
  assert.match(cli.stderr, /^blackbox recover: .*format version 2; this blackbox reads version 1 only\. .*left untouched\.\n$/)
  assert.deepEqual(readFileSync(ring), bytes, 'the ring file is unchanged')
  assert.equal(existsSync(path), false, 'no log file was made')
})

test(`without the addon (${NO_ADDON_ENV}=1) ring falls back to sync with one warning`, async (t) => {
  const path = join(await tempDir(t), 'fallback.log')
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => {
    warnings.push(warning)
  }
  process.on('warning', onWarning)
  t.after(() => process.removeListener('warning', onWarning))
  process.env[NO_ADDON_ENV] = '1'
  let sink
  try {
    sink = ringFileSink({ path, format: 'json' })
  } finally {
    delete process.env[NO_ADDON_ENV]
  }
  assert.ok(sink instanceof FileSink && !(sink instanceof RingFileSink))
  assert.equal(sink.durability, 'sync')
  const log = createLogger({ sinks: [sink] })
  log.info({ i: 0 }, 'rec')
  // A sync sink: the record is in the file before close.
  assertNumbered(await records(path), [0])
  await log.close()
  await new Promise((resolve) => setImmediate(resolve))
  const ours = warnings.filter((warning) => (warning as NodeJS.ErrnoException).code === RING_FALLBACK_WARNING_CODE)
  assert.equal(ours.length, 1)
  assert.match(ours[0]?.message ?? '', /BLACKBOX_NO_ADDON=1 is set; .*fallback\.log is written with durability 'sync' instead/)
  assert.equal(existsSync(`${path}.ring`), false)
})
