import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { progressCommand } from '../../src/cli/progress.ts'
import { createProgress, type ProgressStatus } from '../../src/progress/index.ts'
import { waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

// FORCE_COLOR may be set where the tests run; the text is what is compared.
const ANSI = /\u001b\[[0-9;]*m/g

/** Runs the command in this process with stdout and stderr captured. */
async function run(t: TestContext, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = t.mock.method(process.stdout, 'write', (chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  const err = t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  })
  try {
    const code = await progressCommand(argv)
    return { code, stdout: stdout.replace(ANSI, ''), stderr }
  } finally {
    out.mock.restore()
    err.mock.restore()
  }
}

function status(overrides: Partial<ProgressStatus> = {}): ProgressStatus {
  const now = Date.now()
  return {
    run_id: 'events_intraday_20261121', job: 'events_intraday', status: 'running', pid: process.pid, hostname: hostname(),
    started_at: new Date(now - 600_000).toISOString(), first_started_at: new Date(now - 600_000).toISOString(), attempt: 1,
    updated_at: new Date(now - 5000).toISOString(), seq: 42, last_item: 'AAPL', last_completed: 'MSFT', batch: 5, total_batches: 40, batches_done: 4,
    completed: 2060, total: 5000, pct: 41.2, rate_per_s: 3.4, eta_s: 864.7, eta_at: new Date(now + 864_700).toISOString(), events: 12450, rss_gb: 0.152, elapsed_s: 600,
    files: { heartbeat: 'logs/events_intraday/heartbeat_20261121.log', batches: 'logs/events_intraday/batches_20261121.log', checkpoint: 'logs/checkpoints/events_intraday_20261121_completed.json' },
    ...overrides,
  }
}

function writeStatus(dir: string, value: ProgressStatus): string {
  const folder = join(dir, 'heartbeats')
  mkdirSync(folder, { recursive: true })
  const path = join(folder, `${value.run_id}_heartbeat.json`)
  writeFileSync(path, JSON.stringify(value))
  return path
}

test('--once prints one line: run, state, bar, percentage, counts, rate, ETA, item, batch, memory, age', async (t) => {
  const dir = await tempDir(t)
  const path = writeStatus(dir, status())
  const result = await run(t, path, '--once')
  assert.equal(result.code, 0, result.stderr)
  assert.match(
    result.stdout,
    /^events_intraday_20261121 {2}running {2}\[#{12}\.{18}\] {2}41\.2% {2}2,060\/5,000 {2}3\.4\/s {2}ETA 14m 25s {2}item AAPL {2}batch 5\/40 {2}0\.15 GB {2}updated [56]s ago\n$/,
  )
})

test('RUN is a run id under --dir, and by default the most recently written status file', async (t) => {
  const dir = await tempDir(t)
  const older = writeStatus(dir, status({ run_id: 'older_run', status: 'completed', completed: 5000, pct: 100 }))
  writeStatus(dir, status({ run_id: 'newer_run', status: 'failed: uncaught Error: boom\u001b[2J', total: null, pct: null, eta_s: null, rate_per_s: 0.25, batch: null }))
  utimesSync(older, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
  const byId = await run(t, 'older_run', '--dir', dir, '--once')
  assert.equal(byId.code, 0)
  assert.match(byId.stdout, /^older_run {2}completed {2}\[#{30}\] 100\.0% {2}5,000\/5,000 {2}3\.4\/s {2}item AAPL {2}batch 5\/40 {2}0\.15 GB/)
  assert.doesNotMatch(byId.stdout, /ETA/, 'no ETA once the run has ended')
  const newest = await run(t, '--dir', dir, '--once')
  assert.equal(newest.code, 0)
  // No total: no bar; a slow rate per minute; the control character in the reason escaped.
  assert.match(newest.stdout, /^newer_run {2}failed: uncaught Error: boom\\e\[2J {2}2,060 done {2}15\.0\/min {2}item AAPL {2}0\.15 GB/)
})

test('a running status whose process is gone is reported, and the live view ends with 1', async (t) => {
  const dir = await tempDir(t)
  // The pid of a process that has exited.
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  const exited = child.pid ?? 0
  const path = writeStatus(dir, status({ pid: exited }))
  const printed = await run(t, path, '--once')
  assert.match(printed.stdout, new RegExp(`^events_intraday_20261121 {2}running, but process ${exited} is gone \\(killed\\?\\) {2}\\[`))
  const live = await run(t, path, '--interval', '10')
  assert.equal(live.code, 1)
  assert.equal(live.stdout.split('\n').length, 2, 'one line, then the end')
})

test('the live view follows the file until the run ends; off a terminal it prints a line per change', async (t) => {
  const dir = await tempDir(t)
  const progress = createProgress({ dir, runId: 'live_20261121', total: 3, statusInterval: 0 })
  let stdout = ''
  const out = t.mock.method(process.stdout, 'write', (chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  let code: number | undefined
  try {
    const viewing = progressCommand(['live_20261121', '--dir', dir, '--interval', '10']).then((value) => {
      code = value
    })
    const lines = (): string[] => stdout.replace(ANSI, '').split('\n').filter((line) => line !== '')
    await waitUntil(() => lines().length >= 1, { timeoutMs: 5000, what: 'the first line' })
    progress.heartbeat({ item: 'a', batch: 1, totalBatches: 1 })
    progress.complete('a')
    await waitUntil(() => lines().some((line) => line.includes('1/3')), { timeoutMs: 5000, what: 'a line with 1 of 3 done' })
    assert.equal(code, undefined, 'still following while the run runs')
    progress.complete('b')
    progress.complete('c')
    await progress.finish()
    await viewing
    assert.equal(code, 0)
    const last = lines().at(-1) ?? ''
    assert.match(last, /^live_20261121 {2}completed {2}\[#{30}\] 100\.0% {2}3\/3 /)
    assert.ok(lines().length <= 6, `a line per change, not per look: ${lines().length} lines`)
  } finally {
    out.mock.restore()
    await progress.finish()
  }
})

test('wrong command lines exit 2 with the usage; no status file exits 1; --help prints the usage', async (t) => {
  const dir = await tempDir(t)
  const none = await run(t, '--dir', dir, '--once')
  assert.equal(none.code, 1)
  assert.equal(none.stderr, `blackbox progress: no status files in ${join(dir, 'heartbeats')}\n`)
  const missing = await run(t, 'nope', '--dir', dir)
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^blackbox progress: no status file for `nope`/)
  for (const argv of [['--interval', '0'], ['--interval', 'soon'], ['a', 'b'], ['--frobnicate']]) {
    const result = await run(t, ...argv, '--dir', dir)
    assert.equal(result.code, 2, argv.join(' '))
    assert.match(result.stderr, /^blackbox progress: .+\n\nUsage: blackbox progress/, argv.join(' '))
  }
  const bad = await run(t, '--interval', '0')
  assert.match(bad.stderr, /Expected `--interval` to be a positive integer of ms, got `0` \(string\)/)
  const help = await run(t, '--help')
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^Usage: blackbox progress \[RUN\] \[--dir DIR\] \[--once\]/)
})
