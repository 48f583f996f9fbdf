import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { test } from 'node:test'
import { createProgress, readStatus, type ProgressStatus } from '../../src/progress/index.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { exitedReason, fileSize, fixturePath, killIfRunning, runNode, spawnNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const START = Date.UTC(2026, 10, 21, 20, 2, 34, 0)
/** The polling reader reads at least this often… */
const MIN_READS = 1000
/** …and sees at least this many versions of the status file go by… */
const MIN_VERSIONS_SEEN = 100
/** …within this bound. */
const POLL_BOUND_MS = 15_000
const job = fixturePath('progress-job.mjs')

function statusOf(dir: string, runId: string): ProgressStatus {
  return readStatus(join(dir, 'heartbeats', `${runId}_heartbeat.json`))
}

test('the status file is rewritten at most every statusInterval ms, however often the job reports, and says completed after finish()', async (t) => {
  const dir = await tempDir(t)
  let now = START
  const progress = createProgress({ dir, runId: 'throttled', total: 200, statusInterval: 100, now: () => now })
  const writes: { seq: number; at: number }[] = []
  const look = (): void => {
    const status = statusOf(dir, 'throttled')
    if (status.seq !== writes.at(-1)?.seq) writes.push({ seq: status.seq, at: Date.parse(status.updated_at) - START })
  }
  look()
  // 100 items 10 ms apart, all in one synchronous loop: no timer can run meanwhile.
  progress.heartbeat({ item: 'item0' })
  for (let i = 0; i < 100; i++) {
    now += 10
    progress.complete(`item${i}`)
    look()
    progress.heartbeat({ item: `item${i + 1}` })
    look()
  }
  assert.deepEqual(writes, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((at, i) => ({ seq: i + 1, at })))
  const running = statusOf(dir, 'throttled')
  assert.equal(running.status, 'running')
  assert.equal(running.completed, 100)
  assert.equal(running.pct, 50)
  assert.equal(running.rate_per_s, 100, '100 items in 1 s')
  assert.equal(running.eta_s, 1)
  assert.equal(running.eta_at, new Date(START + 2000).toISOString())
  assert.equal(running.last_item, 'item99')
  assert.equal(running.pid, process.pid)

  now += 5
  await progress.finish()
  const finished = statusOf(dir, 'throttled')
  assert.equal(finished.status, 'completed', 'finish() writes at once, whatever the interval')
  assert.equal(finished.seq, 12)
  assert.equal(finished.eta_at, null)
})

test('a report within the interval reaches the file when the interval has passed, with no further call', async (t) => {
  const dir = await tempDir(t)
  const progress = createProgress({ dir, runId: 'trailing', statusInterval: 50 })
  try {
    progress.heartbeat({ item: 'the last one', batch: 7 })
    assert.equal(statusOf(dir, 'trailing').last_item, null, 'not yet: the file was written at creation, under 50 ms ago')
    await waitUntil(() => statusOf(dir, 'trailing').last_item === 'the last one', { timeoutMs: 5000, what: 'the trailing status write' })
    assert.equal(statusOf(dir, 'trailing').batch, 7)
    assert.equal(statusOf(dir, 'trailing').seq, 2)
  } finally {
    await progress.finish()
  }
})

test('a reader polling the status file while a job rewrites it as fast as it can always reads whole JSON', async (t) => {
  const dir = await tempDir(t)
  const stop = join(dir, 'stop')
  const handle = spawnNode(job, [dir, 'spam', '10', stop, 'spam'])
  const path = join(dir, 'heartbeats', 'spam_heartbeat.json')
  const seen = new Set<number>()
  let reads = 0
  let watched = false
  try {
    await waitUntil(async () => (await fileSize(path)) > 0, { timeoutMs: 15_000, what: 'the first status file', abortIf: () => exitedReason(handle) })
    // Until the reader has seen enough versions go by (a bound, not a duration: fsync is
    // slow on a busy disk).
    const deadline = Date.now() + POLL_BOUND_MS
    while (seen.size < MIN_VERSIONS_SEEN || reads < MIN_READS) {
      if (Date.now() > deadline) assert.fail(`after ${POLL_BOUND_MS} ms (POLL_BOUND_MS) the reader had read ${reads} times and seen ${seen.size} versions`)
      // readFileSync, JSON.parse: a partial or mixed file fails here.
      const status = JSON.parse(readFileSync(path, 'utf8')) as ProgressStatus
      assert.equal(status.run_id, 'spam')
      assert.ok(status.last_item === null || (typeof status.last_item === 'string' && status.last_item.length > 20_000), 'the item: none yet, or the 20 kB one')
      seen.add(status.seq)
      reads++
      if (reads % 16 === 0) await yieldToLoop()
    }
    watched = true
  } finally {
    writeFileSync(stop, '')
    // Here, not in t.after(): after-hooks run in order, and tempDir's removal comes first.
    if (!watched) killIfRunning(handle)
  }
  const result = await handle.exited()
  assert.equal(result.code, 0, `the job had stopped when asked; stderr: ${result.stderr}`)
  assert.equal(statusOf(dir, 'spam').status, 'completed')
})

for (const [ending, expected, code] of [
  ['throw', 'failed: uncaught Error: boom at item00002', 1],
  ['reject', 'failed: unhandled rejection: Error: rejected at item00002', 1],
  ['exit3', 'failed: exited with code 3 before finish()', 3],
  ['guarded-throw', 'failed: uncaught Error: boom at item00002', 1],
] as const) {
  test(`a child process that ends by ${ending} leaves the status "${expected}"`, async (t) => {
    const dir = await tempDir(t)
    const result = await runNode(job, [dir, 'ending', '10', join(dir, 'side'), ending])
    assert.equal(result.code, code, result.stderr)
    const status = statusOf(dir, 'ending')
    assert.equal(status.status, expected)
    assert.equal(status.completed, 3)
    assert.equal(status.last_completed, 'item00002')
    if (ending === 'guarded-throw') {
      const [runFile] = listRunFiles(dir).filter((path) => path.endsWith('.log'))
      assert.ok(runFile !== undefined, 'the crash guard wrote its run file')
      assert.match(readFileSync(runFile, 'utf8'), /uncaught exception: boom at item00002/)
    }
  })
}

test('a job that did every item and exited 0 without finish() is completed', async (t) => {
  const dir = await tempDir(t)
  const result = await runNode(job, [dir, 'forgot', '5', join(dir, 'side'), 'forget'])
  assert.equal(result.code, 0, result.stderr)
  assert.equal(statusOf(dir, 'forgot').status, 'completed')
  assert.equal(statusOf(dir, 'forgot').completed, 5)
})

/** Whether the crash guard tells listeners other than its `onCrash` option (see docs/progress.md, "Crashes"). */
test('SIGTERM to a job with the crash guard: the guard tells the progress, and the status says failed with the signal', async (t) => {
  const dir = await tempDir(t)
  const handle = spawnNode(job, [dir, 'term', '10', join(dir, 'side'), 'guarded-wait'])
  try {
    await waitUntil(() => handle.stdout().includes('waiting'), { timeoutMs: 15_000, what: 'the job to wait for the signal', abortIf: () => exitedReason(handle) })
    // The throttled status write of the third item comes within statusInterval (50 ms).
    await waitUntil(() => statusOf(dir, 'term').completed === 3, { timeoutMs: 5000, what: 'the status to show 3 items', abortIf: () => exitedReason(handle) })
  } catch (error) {
    killIfRunning(handle)
    throw error
  }
  handle.child.kill('SIGTERM')
  const result = await handle.exited()
  assert.equal(result.signal, 'SIGTERM', 'the guard re-raises the signal')
  const status = statusOf(dir, 'term')
  assert.equal(status.status, 'failed: signal SIGTERM')
  assert.equal(status.pid, handle.child.pid)
  assert.equal(status.completed, 3)
})

test('fail() marks the run failed at once; calls after the end are ignored and counted, and never throw', async (t) => {
  const dir = await tempDir(t)
  const before = { exit: process.listenerCount('exit'), monitor: process.listenerCount('uncaughtExceptionMonitor') }
  const progress = createProgress({ dir, runId: 'failing', statusInterval: 60_000 })
  assert.equal(process.listenerCount('exit'), before.exit + 1)
  progress.complete('a')
  progress.fail(new TypeError('the feed\nwent away'))
  assert.equal(progress.status, 'failed: TypeError: the feed went away')
  assert.equal(statusOf(dir, 'failing').status, 'failed: TypeError: the feed went away')
  assert.deepEqual({ exit: process.listenerCount('exit'), monitor: process.listenerCount('uncaughtExceptionMonitor') }, before, 'the ending removed its listeners')
  progress.heartbeat('late')
  progress.complete('late')
  await progress.finish()
  assert.equal(progress.failures, 2)
  assert.equal(statusOf(dir, 'failing').status, 'failed: TypeError: the feed went away', 'finish() after fail() changes nothing')
  assert.equal(progress.isComplete('late'), false)
})

test('when its files cannot be written, the job goes on: every call returns, failures are counted, the checkpoint still works', async (t) => {
  const dir = await tempDir(t)
  // A file where the job's folder and the status folder should be: every write there fails.
  writeFileSync(join(dir, 'blocked'), '')
  writeFileSync(join(dir, 'heartbeats'), '')
  const progress = createProgress({ dir, runId: 'blocked_20261121', statusInterval: 0 })
  assert.ok(progress.failures >= 1, 'the first status write failed')
  const counts = [progress.failures]
  for (let i = 0; i < 3; i++) {
    progress.heartbeat({ item: `i${i}` })
    progress.batch({ batch: i })
    progress.complete(`i${i}`)
    counts.push(progress.failures)
  }
  await progress.finish()
  assert.ok(counts.every((count, i) => i === 0 || count > (counts[i - 1] ?? 0)), `each call after a failure fails again and is counted: ${counts.join(', ')}`)
  assert.equal(progress.status, 'completed')
  const resumed = createProgress({ dir, runId: 'blocked_20261121', statusDir: join(dir, 'status') })
  assert.deepEqual(resumed.remaining(['i0', 'i1', 'i2', 'i3']), ['i3'])
  await resumed.finish()
  assert.equal(readStatus(join(dir, 'status', 'blocked_20261121_heartbeat.json')).status, 'completed', '`statusDir` moves the status file')
})
