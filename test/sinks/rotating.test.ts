import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { createLogger, FileLockedError, INODE_CHECK_INTERVAL_MS, rotatingFileSink } from '../../src/index.ts'
import { fileSize, fixturePath, spawnNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'
import { rotatingSinkIn } from '../helpers/rotating-sink.ts'

/** A clock the test moves by hand. */
function manualClock(start: number) {
  let now = start
  return { now: () => now, set: (ms: number) => void (now = ms), advance: (ms: number) => void (now += ms) }
}

function listing(dir: string): string[] {
  return readdirSync(dir).sort()
}

// `{message}` only: every record is exactly its message and a newline, so sizes are exact.
const RECORD = 'x'.repeat(49) // 50 bytes with the newline

const sinkIn = rotatingSinkIn

test('size rotation: exact listings after each rotation, backups shifted, the oldest dropped', async (t) => {
  const { dir, sink, log } = await sinkIn(t, { maxSize: 200, maxFiles: 2 })
  const steps: string[][] = []
  for (let i = 0; i < 16; i++) {
    log.info(`${String(i).padStart(2, '0')}${RECORD.slice(2)}`)
    if (i % 4 === 3) steps.push(listing(dir))
  }
  await sink.settled()
  assert.deepEqual(steps, [
    ['worker.log', 'worker.log.lock'],
    ['worker.log', 'worker.log.1', 'worker.log.lock'],
    ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.lock'],
    ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.lock'],
  ])
  // 200 bytes hold four records; each rotation happens before the write that would pass it.
  const first = (name: string) => readFileSync(join(dir, name), 'utf8').slice(0, 2)
  assert.deepEqual(['worker.log.2', 'worker.log.1', 'worker.log'].map(first), ['04', '08', '12'])
  assert.equal(sink.rotations, 3)
})

for (const [interval, start, later, stamp] of [
  ['hourly', new Date(2026, 10, 21, 14, 30), new Date(2026, 10, 21, 15, 0), '2026-11-21_14'],
  ['daily', new Date(2026, 10, 21, 23, 59), new Date(2026, 10, 22, 0, 0), '2026-11-21'],
  ['06:30', new Date(2026, 10, 21, 6, 0), new Date(2026, 10, 21, 6, 30), '2026-11-21'],
  ['weekly', new Date(2026, 10, 21, 12, 0), new Date(2026, 10, 23, 0, 0), '2026-11-21'],
] as const) {
  test(`time rotation '${interval}': a dated backup at the boundary, none before it`, async (t) => {
    const clock = manualClock(start.getTime())
    const { dir, log, sink } = await sinkIn(t, { interval, clock: clock.now })
    log.info('before')
    clock.set(later.getTime() - 1)
    log.info('just before the boundary')
    assert.deepEqual(listing(dir), ['worker.log', 'worker.log.lock'])
    clock.set(later.getTime())
    log.info('after')
    await sink.settled()
    assert.deepEqual(listing(dir), ['worker.log', `worker.log.${stamp}`, 'worker.log.lock'])
    assert.equal(readFileSync(join(dir, `worker.log.${stamp}`), 'utf8'), 'before\njust before the boundary\n')
    assert.equal(readFileSync(join(dir, 'worker.log'), 'utf8'), 'after\n')
  })
}

test('size and time together: a second backup in the same period gets a counter', async (t) => {
  const clock = manualClock(new Date(2026, 10, 21, 10, 0).getTime())
  const { dir, log, sink } = await sinkIn(t, { interval: 'daily', maxSize: 100, clock: clock.now })
  for (let i = 0; i < 5; i++) log.info(RECORD)
  await sink.settled()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.2026-11-21', 'worker.log.2026-11-21.1', 'worker.log.lock'])
})

test('a million records through a 1 MB limit with gzip: each exactly once, in order, every .gz readable by gunzip', async (t) => {
  const { dir, log, sink } = await sinkIn(t, { maxSize: '1 MB', maxFiles: 1000, compress: 'gzip', format: '{message}' })
  const total = 1_000_000
  for (let i = 0; i < total; i++) log.info(String(i))
  await log.close()
  const backups = listing(dir).filter((name) => name.endsWith('.gz')).sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))
  assert.ok(backups.length >= 5, `several rotations (${backups.length})`)
  assert.ok(!listing(dir).some((name) => /\.log\.\d+$/.test(name) || name.endsWith('.tmp')), 'no uncompressed backup or temporary left')
  for (const name of backups) {
    const result = spawnSync('gunzip', ['-t', join(dir, name)])
    assert.equal(result.status, 0, `gunzip -t ${name}: ${String(result.stderr)}`)
  }
  const text = backups.map((name) => gunzipSync(readFileSync(join(dir, name))).toString()).join('') + readFileSync(join(dir, 'worker.log'), 'utf8')
  const numbers = text.split('\n').slice(0, -1)
  assert.equal(numbers.length, total)
  for (let i = 0; i < total; i++) if (numbers[i] !== String(i)) assert.fail(`record ${i} is ${numbers[i]}`)
  assert.equal(sink.rotations, backups.length)
})

test('zip: every backup is readable by the system unzip and holds the records', async (t) => {
  const { dir, log } = await sinkIn(t, { maxSize: '16 KB', maxFiles: 100, compress: 'zip' })
  for (let i = 0; i < 20_000; i++) log.info(String(i))
  await log.close()
  const archives = listing(dir).filter((name) => name.endsWith('.zip'))
  assert.ok(archives.length >= 3)
  let records = 0
  for (const name of archives) {
    const result = spawnSync('unzip', ['-p', join(dir, name)], { encoding: 'utf8', maxBuffer: 1 << 26 })
    assert.equal(result.status, 0, `unzip ${name}`)
    records += result.stdout.split('\n').length - 1
  }
  records += readFileSync(join(dir, 'worker.log'), 'utf8').split('\n').length - 1
  assert.equal(records, 20_000)
})

test('retention touches managed files only, and counts those of an earlier run', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'worker.log')
  const foreign = ['worker.log.bak', 'worker.log.1.old', 'other.log.1', 'worker.logger.1', 'notes.txt', 'worker.log.2026-11-21.txt']
  for (const name of [...foreign, 'worker.log.1.gz', 'worker.log.2.gz', 'worker.log.3', 'worker.log.4.gz']) writeFileSync(join(dir, name), 'old\n')
  const sink = rotatingFileSink({ path, maxFiles: 2, compress: 'gzip' })
  await sink.settled()
  await sink.close()
  assert.deepEqual(listing(dir), ['notes.txt', 'other.log.1', 'worker.log', 'worker.log.1.gz', 'worker.log.1.old', 'worker.log.2.gz', 'worker.log.2026-11-21.txt', 'worker.log.bak', 'worker.logger.1'])
})

test('retention by age deletes backups older than the limit', async (t) => {
  const clock = manualClock(Date.now())
  const { dir, log, sink } = await sinkIn(t, { maxSize: 60, maxFiles: 10, retention: '7 days', clock: clock.now })
  log.info(RECORD)
  log.info(RECORD)
  log.info(RECORD)
  await sink.settled()
  const old = (Date.now() - 8 * 86_400_000) / 1000
  utimesSync(join(dir, 'worker.log.2'), old, old)
  log.info(RECORD)
  await sink.settled()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1', 'worker.log.2', 'worker.log.lock'])
  assert.match(readFileSync(join(dir, 'worker.log.2'), 'utf8'), /^x+\n$/, 'the old one went; what is .2 now was .1')
})

test('a restarted program appends to the current file and continues the numbering', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'worker.log')
  for (const run of [1, 2]) {
    const log = createLogger({ sinks: [rotatingFileSink({ path, maxSize: 100, format: '{message}' })] })
    for (const record of ['a', 'b', 'c']) log.info(`run ${run} ${record} ${'x'.repeat(41)}`)
    await log.close()
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8').replace(/ x+/g, '')
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1', 'worker.log.2'])
  assert.equal(read('worker.log.2'), 'run 1 a\nrun 1 b\n')
  assert.equal(read('worker.log.1'), 'run 1 c\nrun 2 a\n', 'run 2 appended to the file run 1 left')
  assert.equal(read('worker.log'), 'run 2 b\nrun 2 c\n')
})

test('batched durability: records around rotations are never lost or reordered', async (t) => {
  const { dir, log } = await sinkIn(t, { maxSize: '16 KB', maxFiles: 100, durability: 'batched', batchSize: 4096 })
  for (let i = 0; i < 5000; i++) log.info(String(i))
  await log.close()
  const files = listing(dir).filter((name) => /^worker\.log(\.\d+)?$/.test(name)).sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0))
  const numbers = files.flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1))
  assert.deepEqual(numbers, Array.from({ length: 5000 }, (_, i) => String(i)))
})

test('a second writer of the same file is refused with a pointer to the collector; a stale lock is taken over', async (t) => {
  const { path } = await sinkIn(t)
  assert.throws(() => rotatingFileSink({ path }), (error: unknown) => {
    assert.ok(error instanceof FileLockedError)
    assert.match(error.message, new RegExp(`already written by process ${process.pid}.*collector`))
    return true
  })
  const dir = await tempDir(t)
  const stale = join(dir, 'stale.log')
  // A pid far above any pid_max: the process that held it is gone.
  writeFileSync(`${stale}.lock`, '999999999\n')
  const sink = rotatingFileSink({ path: stale })
  assert.equal(readlinkSync(`${stale}.lock`), String(process.pid))
  await sink.close()
  assert.deepEqual(listing(dir), ['stale.log'], 'close releases the lock')
})

test('external logrotate: a moved or deleted file is followed, the path written again', async (t) => {
  const clock = manualClock(1_000_000)
  const { dir, path, log } = await sinkIn(t, { clock: clock.now })
  log.info('one')
  renameSync(path, `${path}.rotated-by-logrotate`)
  clock.advance(INODE_CHECK_INTERVAL_MS)
  log.info('two')
  rmSync(path)
  clock.advance(INODE_CHECK_INTERVAL_MS)
  log.info('three')
  assert.equal(readFileSync(`${path}.rotated-by-logrotate`, 'utf8'), 'one\n')
  assert.equal(readFileSync(path, 'utf8'), 'three\n')
  assert.ok(listing(dir).includes('worker.log'))
})

test('a failed compression is reported, the backup kept, and the sink keeps writing', async (t) => {
  const { dir, path, log, sink } = await sinkIn(t, { maxSize: 60, compress: 'gzip', maxFiles: 5 })
  log.info(RECORD)
  log.info(RECORD)
  // The backup vanishes before its compression reads it.
  rmSync(`${path}.1`, { force: true })
  await sink.settled()
  assert.equal(sink.failures.count, 1)
  log.info(RECORD)
  log.info('still writing')
  await sink.settled()
  assert.equal(readFileSync(path, 'utf8'), 'still writing\n')
  assert.ok(listing(dir).includes('worker.log.1.gz'))
})

test('bad options are refused at creation, quoting the input', async (t) => {
  const path = join(await tempDir(t), 'bad.log')
  assert.throws(() => rotatingFileSink({ path, maxSize: 'ten MB' }), /Expected `maxSize` to be a positive size .* got `ten MB`/)
  assert.throws(() => rotatingFileSink({ path, interval: 'fortnightly' }), /^TypeError: Expected `interval` to be a size \("500 MB", .*, a duration \(.*, a number of ms, a function \(record, file\) => boolean, a list of these or false, got `fortnightly` \(string\)$/)
  assert.throws(() => rotatingFileSink({ path, compress: 'bz2' as 'gzip' }), /Expected `compress` to be 'gz', 'zip', 'tar', 'tar\.gz', 'br', 'zst', a function of the backup's path or false, got `bz2` \(string\): Node has no bzip2/)
  assert.throws(() => rotatingFileSink({ path, retention: -1 }), /Expected `retention` to be a count of backups, a duration like "7 days", .* got `-1` \(number\)/)
  assert.throws(() => rotatingFileSink({ path, maxFiles: 1.5 }), /Expected `maxFiles` to be a non-negative integer, got `1.5`/)
})

test('SIGKILL in the middle of rotations and compressions: no record lost, no corrupt archive', async (t) => {
  const runs = 6
  const parallel = 2
  const one = async (run: number): Promise<void> => {
    const dir = await tempDir(t)
    const path = join(dir, 'worker.log')
    const progressPath = join(dir, 'progress')
    const child = spawnNode(fixturePath('rotate-until-killed.mjs'), [path, progressPath])
    await waitUntil(async () => (await fileSize(progressPath)) > 20_000, { what: `run ${run} to log a few thousand records`, timeoutMs: 20_000 })
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 200))
    child.child.kill('SIGKILL')
    await child.exited()
    const reported = readFileSync(progressPath, 'utf8').split('\n').filter((line) => /^\d+$/.test(line)).map(Number)
    const last = reported.at(-1) ?? -1
    // The next run of the program: takes over the stale lock, finishes what was cut short.
    const sink = rotatingFileSink({ path, maxSize: '8 KB', maxFiles: 100_000, compress: 'gzip', format: 'json' })
    await sink.settled()
    await sink.close()
    const names = listing(dir)
    assert.ok(!names.some((name) => name.endsWith('.tmp')), `run ${run}: no temporary archive left: ${names.join(' ')}`)
    assert.ok(!names.some((name) => /^worker\.log\.\d+$/.test(name)), `run ${run}: every backup compressed`)
    const backups = names.filter((name) => /^worker\.log\.\d+\.gz$/.test(name)).sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))
    let text = ''
    for (const name of backups) {
      assert.equal(spawnSync('gunzip', ['-t', join(dir, name)]).status, 0, `run ${run}: ${name} is a complete gzip file`)
      text += gunzipSync(readFileSync(join(dir, name))).toString()
    }
    text += readFileSync(path, 'utf8')
    const seen = new Map<number, number>()
    for (const line of text.split('\n')) {
      try {
        const { i } = JSON.parse(line) as { i: number }
        seen.set(i, (seen.get(i) ?? 0) + 1)
      } catch {
        // The record in flight when the kill came may be cut: it was never owed.
      }
    }
    for (let i = 0; i <= last; i++) assert.equal(seen.get(i), 1, `run ${run}: record ${i} of ${last} reported is there exactly once`)
  }
  for (let start = 0; start < runs; start += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, runs - start) }, (_, k) => one(start + k)))
  }
})
