// `blackbox postmortem`, run as a user runs it: the BUILT command (dist/, so `npm run build`
// first) on run files made for real by `blackbox run` and by setupLogging() programs that
// end every way a run can end, and on run files written here to exact shapes (a heartbeat
// gap of 12 s, a memory series) that a real process could not be made to produce in time.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { detectLeak, LEAK_MIN_SAMPLES } from '../../src/layout/memory-trend.ts'
import { analyzeRunFile, type Postmortem } from '../../src/layout/postmortem.ts'
import { REPORT_COLOURS } from '../../src/layout/postmortem-html.ts'
import { ActivityCounter } from '../../src/layout/series.ts'
import { sparkline } from '../../src/layout/sparkline.ts'
import { NO_ENDING_TEXT } from '../../src/layout/summarize.ts'
import { localMs, writeTree } from '../helpers/log-tree.ts'
import { chromium, chromiumOrSkip } from '../helpers/chromium.ts'
import { countColour, decodePng } from '../helpers/png.ts'
import { fixturePath, spawnNode, waitUntil, type NodeChild } from '../helpers/process.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { tempDir } from '../helpers/tmp.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const CHILD = fixturePath('postmortem-child.mjs')
const PROGRAM = fixturePath('postmortem-program.mjs')
const GUARDED = fixturePath('guarded-run.mjs')
/** How long a real run may take before a wait gives up on it. */
const RUN_TIMEOUT_MS = 15_000

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

function blackbox(args: readonly string[]): Result {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** `blackbox postmortem FILE --json`, parsed. */
function postmortemJson(file: string, ...more: string[]): Postmortem {
  const result = blackbox(['postmortem', file, '--json', ...more])
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout) as Postmortem
}

function runFileIn(dir: string): string {
  const files = listRunFiles(dir).filter((path) => path.endsWith('.log'))
  assert.equal(files.length, 1, `one run file in ${dir}: ${files.join(', ')}`)
  return files[0] as string
}

/** `blackbox run --heartbeat-interval 100 -- node postmortem-child.mjs MODE`, as a running child. */
function supervise(dir: string, mode: string): NodeChild {
  return spawnNode(bin, ['run', '--dir', dir, '--heartbeat-interval', '100', '--', process.execPath, CHILD, mode])
}

/** `node FIXTURE DIR MODE…`, waiting for its "ready <x>" line; returns x. */
async function ready(handle: NodeChild): Promise<string> {
  let found: string | undefined
  await waitUntil(() => (found = /^ready (.+)$/m.exec(handle.stdout())?.[1]) !== undefined, {
    timeoutMs: RUN_TIMEOUT_MS,
    what: `${handle.label} to say ready`,
    abortIf: () => (handle.child.exitCode !== null || handle.child.signalCode !== null) && found === undefined ? `it ended first; stderr:\n${handle.stderr()}` : undefined,
  })
  return found as string
}

// Run files written to an exact shape, in the default text preset (local times).
const time = compileTimeFormat()
const T0 = localMs('2026-11-21 10:00:00.000')

function textLine(ms: number, label: string, message: string, pid = 4321): string {
  return `${time(ms)} [${pid}] [${label}] ${message}\n`
}

function heartbeatLine(ms: number, rssMB: number, loopDelayMaxMs = 1): string {
  return textLine(ms, 'DEBUG', `heartbeat event=heartbeat uptimeS=${(ms - T0) / 1000} rssMB=${rssMB} heapUsedMB=10 loopDelayP99Ms=0.5 loopDelayMaxMs=${loopDelayMaxMs} cpuUserMs=1 cpuSystemMs=0`)
}

/** Pseudo-random numbers in [0, 1) from a seed: the same noise on every run. */
function noise(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

/** JSON heartbeat lines (pino's shape) carrying a memory series, one a second. */
function memoryFile(values: readonly number[]): string {
  return values.map((rssMB, i) => `${JSON.stringify({ level: 20, time: T0 + i * 1000, pid: 4321, hostname: 'test', event: 'heartbeat', rssMB: Math.round(rssMB * 10) / 10, loopDelayMaxMs: 1, msg: 'heartbeat' })}\n`).join('')
}

describe('blackbox postmortem: how a supervised run ended (real `blackbox run`)', { concurrency: true }, () => {
  const cases = [
    { mode: 'clean', verdict: 'clean', text: 'clean exit', exitCode: 0, signal: null, exitStatus: 0, detail: 'exit code 0' },
    { mode: 'exit3', verdict: 'error', text: 'error exit', exitCode: 3, signal: null, exitStatus: 3, detail: 'exit code 3' },
    { mode: 'throw', verdict: 'uncaught', text: 'uncaught exception', exitCode: 1, signal: null, exitStatus: 1, detail: 'uncaught exception: child boom' },
  ] as const
  for (const expected of cases) {
    test(`${expected.mode}: verdict ${expected.verdict}, the errors with stacks, the last 20 records`, async (t) => {
      const dir = await tempDir(t)
      await supervise(dir, expected.mode).exited(RUN_TIMEOUT_MS)
      const report = postmortemJson(runFileIn(dir))
      assert.equal(report.source, 'supervisor')
      assert.match(report.command ?? '', new RegExp(`postmortem-child\\.mjs ${expected.mode}$`))
      assert.equal(report.verdict, expected.verdict)
      assert.equal(report.verdictText, expected.text)
      assert.equal(report.detail, expected.detail)
      assert.equal(report.exitCode, expected.exitCode)
      assert.equal(report.signal, expected.signal)
      assert.equal(report.exitStatus, expected.exitStatus)
      assert.equal(report.endKnown, true)
      assert.ok(report.durationMs !== null && report.durationMs > 0, `a duration: ${report.durationMs}`)
      assert.ok(report.endedAt !== null && report.startedAt !== null && Date.parse(report.endedAt) >= Date.parse(report.startedAt))
      // The child's error record, with the stack the collector carried across.
      const saved = report.errors.find((record) => record.message === 'could not save the batch')
      assert.ok(saved, `the child's error among ${report.errors.map((record) => record.message).join(' | ')}`)
      assert.match(saved.stack ?? '', /^Error: the disk said no\n\s+at /)
      assert.equal(saved.pid, report.pid)
      assert.equal(report.lastRecords.length, 20)
      assert.match(report.lastRecords.at(-1)?.message ?? '', /^run ended: /)
      assert.ok(report.lastRecords.every((record) => !['sample', 'child-heartbeat', 'heartbeat'].includes(String(record.fields['event']))), 'no bookkeeping among the last records')
      if (expected.mode === 'throw') {
        const fatal = report.errors.find((record) => record.level === 'CRITICAL')
        assert.match(fatal?.stack ?? '', /^Error: child boom\n\s+at /)
      }
    })
  }

  test('SIGKILL from outside: verdict sigkill, exit status 137, the last heartbeat before the end', async (t) => {
    const dir = await tempDir(t)
    const handle = supervise(dir, 'wait')
    t.after(() => handle.child.kill('SIGKILL'))
    const pid = Number(await ready(handle))
    // Heartbeats relayed by the supervisor first, so there is a last one to find.
    await waitUntil(() => listRunFiles(dir).some((path) => path.endsWith('.log') && readFileSync(path, 'utf8').includes('event=child-heartbeat')), { timeoutMs: RUN_TIMEOUT_MS, what: 'a child heartbeat in the run file' })
    process.kill(pid, 'SIGKILL')
    await handle.exited(RUN_TIMEOUT_MS)
    const report = postmortemJson(runFileIn(dir))
    assert.equal(report.verdict, 'sigkill')
    assert.equal(report.verdictText, 'SIGKILL from outside, possibly OOM')
    assert.equal(report.signal, 'SIGKILL')
    assert.equal(report.exitCode, null)
    assert.equal(report.exitStatus, 137)
    assert.equal(report.detail, 'signal SIGKILL')
    assert.equal(report.pid, pid)
    assert.deepEqual(report.attempts.map((attempt) => [attempt.pid, attempt.verdict]), [[pid, 'sigkill']])
    assert.equal(report.lastHeartbeat?.event, 'child-heartbeat')
    assert.equal(report.lastHeartbeat?.pid, pid)
    assert.ok(report.lastHeartbeat.beforeEndMs !== null && report.lastHeartbeat.beforeEndMs >= 0)
    assert.ok(report.memory.samples > 0 && report.memory.pid === pid, `memory of the child: ${JSON.stringify({ ...report.memory, series: [], heap: [] })}`)
    // The same, as a person reads it.
    const text = blackbox(['postmortem', runFileIn(dir)])
    assert.equal(text.status, 0, text.stderr)
    assert.match(text.stdout, /^ending {5}SIGKILL from outside, possibly OOM: signal SIGKILL {2}\(verdict sigkill\)$/m)
    assert.match(text.stdout, /^errors and fatal records \(\d+\)$/m)
    assert.match(text.stdout, /^last 20 records \(heartbeats and memory samples left out\)$/m)
    assert.match(text.stdout, /^heartbeat {2}last at .*before the end/m)
  })
})

describe("blackbox postmortem: how a setupLogging run ended (real programs)", { concurrency: true }, () => {
  const cases = [
    { ending: 'normal', verdict: 'completed', text: 'completed', exitCode: null, detail: null },
    { ending: 'exit3', verdict: 'error', text: 'error exit', exitCode: 3, detail: 'exit code 3' },
    { ending: 'throw', verdict: 'uncaught', text: 'uncaught exception', exitCode: 1, detail: 'uncaught exception: boom' },
  ] as const
  for (const expected of cases) {
    test(`${expected.ending}: verdict ${expected.verdict}`, async (t) => {
      const dir = await tempDir(t)
      const handle = spawnNode(GUARDED, [dir, expected.ending])
      const file = await ready(handle)
      await handle.exited(RUN_TIMEOUT_MS)
      const report = postmortemJson(file)
      assert.equal(report.source, 'program')
      assert.equal(report.verdict, expected.verdict)
      assert.equal(report.verdictText, expected.text)
      assert.equal(report.exitCode, expected.exitCode)
      assert.equal(report.detail, expected.detail)
      assert.equal(report.endKnown, true)
      assert.equal(report.stillRunning, false)
      assert.equal(report.pid, handle.child.pid)
      if (expected.ending === 'throw') {
        const fatal = report.errors.find((record) => record.level === 'CRITICAL')
        assert.equal(fatal?.message, 'uncaught exception: boom')
        assert.match(fatal.stack ?? '', /^Error: boom\n\s+at /)
        assert.match(fatal.stack ?? '', /Caused by: TypeError: the root cause/)
      }
    })
  }

  test('SIGKILL: no ending record, the process is gone, the last 20 records are the last 20 it logged', async (t) => {
    const dir = await tempDir(t)
    const handle = spawnNode(GUARDED, [dir, 'SIGKILL'])
    t.after(() => handle.child.kill('SIGKILL'))
    const file = await ready(handle)
    handle.child.kill('SIGKILL')
    await handle.exited(RUN_TIMEOUT_MS)
    const report = postmortemJson(file)
    assert.equal(report.verdict, 'none')
    assert.equal(report.verdictText, NO_ENDING_TEXT)
    assert.equal(report.endKnown, false)
    assert.equal(report.stillRunning, false)
    assert.equal(report.exitCode, null)
    assert.deepEqual(report.lastRecords.map((record) => [record.message, record.fields['i']]), Array.from({ length: 20 }, (_, k) => ['working', String(80 + k)]))
    assert.equal(report.endedAt, report.lastRecords.at(-1)?.time)
    const text = blackbox(['postmortem', file])
    assert.match(text.stdout, new RegExp(`^ending {5}${NO_ENDING_TEXT} {2}\\(verdict none\\)$`, 'm'))
    assert.match(text.stdout, new RegExp(`process ${handle.child.pid} is gone`))
  })

  test('a JSON-lines run file: the uncaught error with the stack from its `err`', async (t) => {
    const dir = await tempDir(t)
    const handle = spawnNode(GUARDED, [dir, 'throw', 'json'])
    const file = await ready(handle)
    await handle.exited(RUN_TIMEOUT_MS)
    const report = postmortemJson(file)
    assert.equal(report.verdict, 'uncaught')
    const fatal = report.errors.find((record) => record.level === 'CRITICAL')
    assert.equal(fatal?.message, 'uncaught exception: boom')
    assert.match(fatal.stack ?? '', /^Error: boom\n\s+at /)
    assert.equal(fatal.pid, handle.child.pid)
  })
})

describe('blackbox postmortem: heartbeats, gaps and hangs', { concurrency: true }, () => {
  test('a real blocked event loop: the longest gap, the worst delay, the blocked record', async (t) => {
    const dir = await tempDir(t)
    const handle = spawnNode(PROGRAM, [dir, 'block'])
    const file = await ready(handle)
    const { code } = await handle.exited(RUN_TIMEOUT_MS)
    assert.equal(code, 0, handle.stderr())
    const report = postmortemJson(file)
    assert.equal(report.verdict, 'completed')
    assert.ok(report.heartbeats >= 10, `heartbeats: ${report.heartbeats}`)
    // The program blocked its loop for 700 ms between heartbeats 40 ms apart.
    assert.ok(report.longestGapMs !== null && report.longestGapMs >= 650, `longest gap ${report.longestGapMs}`)
    assert.equal(report.longestGap?.toEnd, false)
    assert.equal(report.hang, true)
    assert.ok(report.blocked >= 1, 'a blocked record')
    assert.ok(report.worstLoopDelayMs !== null && report.worstLoopDelayMs >= 500, `worst delay ${report.worstLoopDelayMs}`)
    assert.ok(report.heartbeatIntervalMs !== null && report.heartbeatIntervalMs < 200, `interval ${report.heartbeatIntervalMs}`)
  })

  test('a 12 s silence among heartbeats 1 s apart is the longest gap, and a hang', async (t) => {
    const dir = await tempDir(t)
    const beats = [...Array.from({ length: 10 }, (_, i) => T0 + (i + 1) * 1000), ...Array.from({ length: 6 }, (_, i) => T0 + 22_000 + i * 1000)]
    const content = textLine(T0, 'INFO', 'started event=system') + beats.map((ms) => heartbeatLine(ms, 60, ms === T0 + 22_000 ? 11_900 : 1)).join('') +
      textLine(T0 + 27_500, 'INFO', 'exiting with code 0 after 27.5 s event=exit code=0 durationMs=27500 ending=completed')
    writeTree(dir, { '2026-11-21/gap_10-00-00.log': content })
    const report = await analyzeRunFile(join(dir, '2026-11-21/gap_10-00-00.log'))
    assert.equal(report.verdict, 'completed')
    assert.equal(report.durationMs, 27_500)
    assert.equal(report.heartbeats, 16)
    assert.equal(report.heartbeatIntervalMs, 1000)
    assert.equal(report.longestGapMs, 12_000)
    assert.deepEqual(report.longestGap, { from: new Date(T0 + 10_000).toISOString(), to: new Date(T0 + 22_000).toISOString(), ms: 12_000, toEnd: false })
    assert.equal(report.hang, true)
    assert.equal(report.worstLoopDelayMs, 11_900)
    assert.equal(report.worstLoopDelayAt, new Date(T0 + 22_000).toISOString())
    assert.equal(report.lastHeartbeat?.time, new Date(T0 + 27_000).toISOString())
    assert.equal(report.lastHeartbeat.beforeEndMs, 500)
    assert.equal(report.lastHeartbeat.rssMB, 60)
  })

  test('a supervisor that killed a hung child: verdict hang, the silence runs to the end', async (t) => {
    const dir = await tempDir(t)
    const child = 7777
    const lines = [textLine(T0, 'INFO', 'run started: node job.js event=run-start command="node job.js"', 100), textLine(T0 + 10, 'INFO', `child started: pid ${child} event=child-start pid=${child}`, 100)]
    for (let i = 1; i <= 8; i++) lines.push(textLine(T0 + i * 1000, 'DEBUG', `child memory: ${50 + i} MB event=sample pid=${child} rssMB=${50 + i}`, 100))
    for (let i = 1; i <= 3; i++) lines.push(textLine(T0 + i * 1000 + 5, 'DEBUG', `heartbeat from worker event=child-heartbeat client=worker pid=${child} rssMB=${50 + i} heapUsedMB=9 loopDelayMs=2 uptimeS=${i}`, 100))
    lines.push(textLine(T0 + 8003, 'ERROR', `no heartbeat from the child for 5.00 s: it seems hung (kill) event=hang pid=${child} silentMs=5000 action=kill`, 100))
    lines.push(textLine(T0 + 8020, 'ERROR', `child ${child} ended: hung (signal SIGKILL) event=child-exit pid=${child} signal=SIGKILL verdict=hang`, 100))
    lines.push(textLine(T0 + 8021, 'ERROR', 'run ended: hung (signal SIGKILL) after 8.02 s event=run-end verdict=hang signal=SIGKILL exitStatus=137 durationMs=8021 restarts=0', 100))
    writeTree(dir, { '2026-11-21/job_10-00-00.log': lines.join('') })
    const report = await analyzeRunFile(join(dir, '2026-11-21/job_10-00-00.log'))
    assert.equal(report.verdict, 'hang')
    assert.equal(report.verdictText, 'hung')
    assert.equal(report.detail, 'no heartbeat for 5000 ms; signal SIGKILL')
    assert.equal(report.exitStatus, 137)
    assert.equal(report.pid, child)
    assert.equal(report.supervisorPid, 100)
    assert.deepEqual(report.hangs, [{ time: new Date(T0 + 8003).toISOString(), pid: child, silentMs: 5000, action: 'kill' }])
    assert.deepEqual(report.longestGap, { from: new Date(T0 + 3005).toISOString(), to: new Date(T0 + 8021).toISOString(), ms: 5016, toEnd: true })
    assert.equal(report.hang, true)
    // The supervisor's /proc samples outnumber the heartbeats: they are the memory series.
    assert.equal(report.memory.source, 'sample')
    assert.equal(report.memory.samples, 8)
    assert.deepEqual([report.memory.min, report.memory.max, report.memory.first, report.memory.last], [51, 58, 51, 58])
  })

  test('the last 20 records leave out heartbeats and keep the order of the file', async (t) => {
    const dir = await tempDir(t)
    let content = ''
    for (let i = 0; i < 50; i++) {
      content += textLine(T0 + i * 100, 'INFO', `step ${i} i=${i}`)
      if (i % 5 === 0) content += heartbeatLine(T0 + i * 100 + 50, 70)
    }
    writeTree(dir, { '2026-11-21/steps_10-00-00.log': content })
    const report = await analyzeRunFile(join(dir, '2026-11-21/steps_10-00-00.log'))
    assert.deepEqual(report.lastRecords.map((record) => record.message), Array.from({ length: 20 }, (_, k) => `step ${30 + k}`))
    assert.equal(report.records, 60)
    assert.equal(report.verdict, 'none')
    const five = await analyzeRunFile(join(dir, '2026-11-21/steps_10-00-00.log'), { lastRecords: 5 })
    // Line 56 is the heartbeat after step 45.
    assert.deepEqual(five.lastRecords.map((record) => record.line), [55, 57, 58, 59, 60])
  })
})

describe('blackbox postmortem: memory over time', { concurrency: true }, () => {
  test('a real program that holds on to more and more memory: possible leak', async (t) => {
    const dir = await tempDir(t)
    const handle = spawnNode(PROGRAM, [dir, 'leak'])
    const file = await ready(handle)
    const { code } = await handle.exited(RUN_TIMEOUT_MS)
    assert.equal(code, 0, handle.stderr())
    const report = postmortemJson(file)
    assert.equal(report.memory.source, 'heartbeat')
    assert.ok(report.memory.samples >= 20, `samples: ${report.memory.samples}`)
    assert.equal(report.memory.leak, true, report.memory.leakReason)
    assert.ok(report.memory.last !== null && report.memory.first !== null && report.memory.last - report.memory.first >= 50, `${report.memory.first} → ${report.memory.last}`)
    const text = blackbox(['postmortem', file])
    assert.match(text.stdout, /^ {11}⚠ possible leak: rose [\d.]+ % \([\d.]+ → [\d.]+ MB\) across the run/m)
    assert.match(text.stdout, /^memory {5}[▁▂▃▄▅▆▇█]{20,} {2}[\d.]+ → [\d.]+ MB$/m)
  })

  test('a rising series with noise is a leak; flat and noisy, warming up, or giving memory back is not', async (t) => {
    const random = noise(7)
    const rising = Array.from({ length: 120 }, (_, i) => (50 + i * 1.5) * (1 + (random() - 0.5) * 0.03))
    const flat = Array.from({ length: 120 }, () => 80 * (1 + (random() - 0.5) * 0.1))
    const warmUp = Array.from({ length: 120 }, (_, i) => (i < 20 ? 40 + i * 2 : 80) * (1 + (random() - 0.5) * 0.02))
    // Rises, then the garbage collector gives a third of it back at the end.
    const givesBack = Array.from({ length: 120 }, (_, i) => (i < 100 ? 50 + i * 1.5 : 130))
    const dir = await tempDir(t)
    writeTree(dir, Object.fromEntries(Object.entries({ rising, flat, warmUp, givesBack }).map(([name, values]) => [`2026-11-21/${name}_10-00-00.log`, memoryFile(values)])))
    const judge = async (name: string): Promise<Postmortem['memory']> => (await analyzeRunFile(join(dir, `2026-11-21/${name}_10-00-00.log`))).memory
    const leak = await judge('rising')
    assert.equal(leak.leak, true, leak.leakReason)
    assert.equal(leak.samples, 120)
    assert.equal(leak.trend.length, 10)
    for (const name of ['flat', 'warmUp', 'givesBack']) {
      const memory = await judge(name)
      assert.equal(memory.leak, false, `${name}: ${memory.leakReason}`)
    }
    assert.match((await judge('flat')).leakReason, /^steady|^fell/)
    assert.match((await judge('warmUp')).leakReason, /levelled off/)
    assert.match((await judge('givesBack')).leakReason, /^fell \d/)
  })

  test('the leak rule: too few samples say nothing; the thresholds are inclusive of a clear rise', () => {
    assert.equal(detectLeak(Array.from({ length: LEAK_MIN_SAMPLES - 1 }, (_, i) => 10 + i * 100)).leak, false)
    assert.equal(detectLeak(Array.from({ length: LEAK_MIN_SAMPLES }, (_, i) => 100 + i * 10)).leak, true)
    // 15 % higher at the end: not "much higher".
    assert.equal(detectLeak(Array.from({ length: 60 }, (_, i) => 200 + i * 0.5)).leak, false)
  })

  test('sparkline: eight heights, scaled to the values; long series averaged to the width', () => {
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█')
    assert.equal(sparkline([5, 5, 5]), '▁▁▁')
    assert.equal(sparkline([]), '')
    assert.equal(sparkline(Array.from({ length: 400 }, (_, i) => i), 8), '▁▂▃▄▅▆▇█')
    assert.throws(() => sparkline([1], 0), /Expected `width` to be a positive integer, got `0` \(number\)/)
  })

  test('records per level are counted in buckets that widen, and none is lost', () => {
    const counter = new ActivityCounter(10)
    for (let i = 0; i < 600; i++) counter.add(T0 + i * 100, i % 3 === 0 ? 50 : 30)
    const activity = counter.result()
    assert.equal(activity.bucketMs, 10_000)
    assert.equal(activity.start !== undefined && activity.start % activity.bucketMs, 0)
    assert.deepEqual(activity.counts.flat().reduce((sum, count) => sum + count, 0), 600)
    assert.equal(activity.counts.reduce((sum, bucket) => sum + (bucket[3] ?? 0), 0), 200)
  })
})

describe('blackbox postmortem: progress files of the same run', { concurrency: true }, () => {
  test('a killed job: the status file by its pid, the last heartbeat and batch lines, the checkpoint', async (t) => {
    const dir = await tempDir(t)
    const handle = spawnNode(PROGRAM, [dir, 'progress'])
    const file = await ready(handle)
    const { signal } = await handle.exited(RUN_TIMEOUT_MS)
    assert.equal(signal, 'SIGKILL', handle.stderr())
    const report = postmortemJson(file)
    assert.equal(report.verdict, 'none')
    const progress = report.progress
    assert.equal(progress.found, true, progress.note)
    assert.equal(progress.matchedBy, 'pid')
    assert.equal(progress.runId, 'nightly_20261121')
    assert.equal(progress.job, 'nightly')
    assert.equal(progress.status, 'running')
    assert.equal(progress.pid, handle.child.pid)
    assert.deepEqual([progress.completed, progress.total, progress.pct], [6, 10, 60])
    assert.equal(progress.checkpoint?.completed, 6)
    assert.equal(progress.lastHeartbeat?.values['item'], 'item5')
    assert.equal(progress.lastHeartbeat.values['batch'], '2')
    assert.equal(progress.lastBatch?.values['batch'], '2')
    assert.equal(progress.lastBatch.values['shard'], 'shard1.parquet')
    assert.ok(progress.lastBatch.time !== null && progress.lastHeartbeat.time !== null && progress.lastBatch.time >= progress.lastHeartbeat.time)
    const text = blackbox(['postmortem', file])
    assert.match(text.stdout, /^progress {3}run nightly_20261121 \(job nightly\): running {2}6\/10 items \(60 %\)$/m)
    assert.match(text.stdout, /^ {11}last heartbeat at .*: item item5, batch 2\/4/m)
    assert.match(text.stdout, /^ {11}checkpoint: 6 items completed/m)
  })

  test('no progress files: says so; --progress names them for a run that could not be matched', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, {
      '2026-11-21/plain_10-00-00.log': textLine(T0, 'INFO', 'working') + textLine(T0 + 1000, 'INFO', 'exiting with code 0 after 1 s event=exit code=0 durationMs=1000 ending=completed'),
      // Another run's progress, a day later: not this run's.
      'heartbeats/other_20261122_heartbeat.json': JSON.stringify({
        run_id: 'other_20261122', job: 'other', status: 'completed', pid: 1, hostname: 'x', started_at: new Date(T0 + 86_400_000).toISOString(), updated_at: new Date(T0 + 86_401_000).toISOString(),
        completed: 3, total: 3, pct: 100, last_item: 'c', files: { heartbeat: join(dir, 'other/heartbeat_20261122.log'), batches: join(dir, 'other/batches_20261122.log'), checkpoint: join(dir, 'checkpoints/other_20261122_completed.json') },
      }),
      'other/heartbeat_20261122.log': 'timestamp\trun_id\titem\tbatch\ttotal_batches\tcompleted\ttotal\tpct\trate_per_s\teta_s\tevents\textra\trss_gb\n' +
        `2026-11-22 10:00:00.500\tother_20261122\tc\t\t\t3\t3\t100\t\t\t\t\t0.05\n`,
    })
    const file = join(dir, '2026-11-21/plain_10-00-00.log')
    const report = postmortemJson(file)
    assert.equal(report.progress.found, false)
    assert.match(report.progress.note, /^no progress files of this run under /)
    const text = blackbox(['postmortem', file])
    assert.match(text.stdout, /^progress {3}none: no progress files of this run/m)
    const named = postmortemJson(file, '--progress', 'other_20261122')
    assert.equal(named.progress.found, true)
    assert.equal(named.progress.matchedBy, 'option')
    assert.equal(named.progress.status, 'completed')
    assert.equal(named.progress.lastHeartbeat?.values['item'], 'c')
  })
})

/** The documented keys of `--json` (docs/postmortem.md), in order. */
const TOP_KEYS = [
  'version', 'headline', 'file', 'source', 'command', 'pid', 'supervisorPid', 'hostname', 'verdict', 'verdictText', 'detail', 'startedAt', 'endedAt', 'endKnown',
  'durationMs', 'exitCode', 'signal', 'exitStatus', 'restarts', 'attempts', 'stillRunning', 'records', 'levels', 'lastRecords', 'errors', 'errorCount',
  'heartbeats', 'lastHeartbeat', 'heartbeatIntervalMs', 'longestGapMs', 'longestGap', 'hang', 'hangs', 'worstLoopDelayMs', 'worstLoopDelayAt', 'blocked',
  'memory', 'loopDelay', 'activity', 'progress', 'progressRuns', 'processes',
]
const MEMORY_KEYS = ['source', 'pid', 'unit', 'samples', 'min', 'max', 'mean', 'first', 'last', 'leak', 'judged', 'leakReason', 'trend', 'series', 'heap']
const RECORD_KEYS = ['line', 'time', 'level', 'pid', 'message', 'stack', 'fields']
const PROGRESS_KEYS = ['found', 'matchedBy', 'note', 'runId', 'job', 'statusPath', 'status', 'pid', 'updatedAt', 'completed', 'total', 'pct', 'lastItem', 'lastHeartbeat', 'lastBatch', 'checkpoint']

test('a ring left beside the file by a killed process is recovered into it first: the report has its last records', async (t) => {
  const path = join(await tempDir(t), 'app.log')
  // 50 records in the ring only (no drain worker), then SIGKILL (test/fixtures/ring-undrained.mjs).
  const made = spawnSync(process.execPath, [fixturePath('ring-undrained.mjs'), path, '50'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS })
  if (made.stdout.startsWith('sync')) {
    t.skip('the ring addon is not built: the fixture ran with durability sync')
    return
  }
  assert.equal(made.signal, 'SIGKILL', made.stderr)
  assert.equal(statSync(path).size, 0, 'before: the records are only in the ring')
  const result = blackbox(['postmortem', path, '--json'])
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stderr, /recovered 50 records from .*app\.log\.ring/)
  const report = JSON.parse(result.stdout) as Postmortem
  assert.equal(report.lastRecords.at(-1)?.fields['i'], 49, 'the last record the process logged')
})

describe('blackbox postmortem --json and the command line', () => {
  test('--json: one object with the documented keys and types', async (t) => {
    const dir = await tempDir(t)
    const content = textLine(T0, 'INFO', 'system event=system') + heartbeatLine(T0 + 1000, 64) + heartbeatLine(T0 + 2000, 65) +
      textLine(T0 + 2100, 'CRITICAL', 'uncaught exception: boom event=uncaught ending=uncaught') + '  | Error: boom\n  |     at main (file:///app/main.js:3:9)\n' +
      textLine(T0 + 2101, 'ERROR', 'exiting with code 1 after 2.1 s event=exit code=1 durationMs=2101 ending=error')
    writeTree(dir, { '2026-11-21/shape_10-00-00.log': content })
    const report = postmortemJson(join(dir, '2026-11-21/shape_10-00-00.log'))
    assert.deepEqual(Object.keys(report), TOP_KEYS)
    assert.deepEqual(Object.keys(report.memory), MEMORY_KEYS)
    assert.deepEqual(Object.keys(report.progress), PROGRESS_KEYS)
    for (const record of [...report.lastRecords, ...report.errors]) assert.deepEqual(Object.keys(record), RECORD_KEYS)
    assert.equal(report.version, 2)
    assert.deepEqual(report.file, { path: join(dir, '2026-11-21/shape_10-00-00.log'), name: 'shape_10-00-00.log', date: '2026-11-21', size: Buffer.byteLength(content), torn: false, damaged: null })
    assert.deepEqual(
      { verdict: report.verdict, detail: report.detail, exitCode: report.exitCode, durationMs: report.durationMs, endedAt: report.endedAt, startedAt: report.startedAt },
      { verdict: 'uncaught', detail: 'uncaught exception: boom', exitCode: 1, durationMs: 2101, endedAt: new Date(T0 + 2101).toISOString(), startedAt: new Date(T0).toISOString() },
    )
    assert.deepEqual(report.errors.map((record) => [record.line, record.level, record.message, record.stack]), [
      [4, 'CRITICAL', 'uncaught exception: boom', 'Error: boom\n    at main (file:///app/main.js:3:9)'],
      [7, 'ERROR', 'exiting with code 1 after 2.1 s', null],
    ])
    assert.equal(report.errorCount, 2)
    assert.deepEqual(report.levels, { debug: 2, info: 1, error: 1, fatal: 1 })
    assert.deepEqual(report.memory.series, [[T0 + 1000, 64], [T0 + 2000, 65]])
    assert.equal(report.memory.unit, 'MB')
    assert.equal(report.longestGapMs, 1000)
    assert.equal(report.activity.bucketMs, 100)
    assert.deepEqual(report.activity.levels, ['debug', 'info', 'warning', 'error', 'critical'])
    assert.equal(report.activity.counts.flat().reduce((sum, count) => sum + count, 0), 5)
  })

  test('latest by default; no run file is exit 1; a wrong command line is exit 2', async (t) => {
    const dir = await tempDir(t)
    const none = blackbox(['postmortem', '--dir', dir])
    assert.equal(none.status, 1)
    assert.equal(none.stderr, `blackbox postmortem: no run files in ${dir}\n`)
    writeTree(dir, { '2026-11-21/a_10-00-00.log': textLine(T0, 'INFO', 'first'), '2026-11-21/b_11-00-00.log': textLine(T0 + 3_600_000, 'INFO', 'second') })
    const latest = blackbox(['postmortem', '--dir', dir, '--json'])
    assert.equal(latest.status, 0, latest.stderr)
    assert.equal((JSON.parse(latest.stdout) as Postmortem).file.name, 'b_11-00-00.log')
    const two = blackbox(['postmortem', 'a', 'b'])
    assert.equal(two.status, 2)
    assert.match(two.stderr, /^blackbox postmortem: Expected at most one FILE, got 2: `a` `b`\n\nUsage: blackbox postmortem /)
    const last = blackbox(['postmortem', '--last', '0'])
    assert.equal(last.status, 2)
    assert.match(last.stderr, /Expected `--last` to be a positive integer, got `0` \(string\)/)
    const missing = blackbox(['postmortem', join(dir, 'nope.log')])
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /^blackbox postmortem: ENOENT/)
  })
})

function svgOf(dom: string, id: string): string {
  const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(dom)?.[0]
  assert.ok(svg, `an <svg id="${id}"> in the DOM`)
  return svg
}

/** The points of each polyline in an SVG, checked to be numbers inside its box. */
function polylinePoints(svg: string): Array<Array<[number, number]>> {
  const [, width = 0, height = 0] = (/viewBox="0 0 (\d+) (\d+)"/.exec(svg) ?? []).map(Number)
  return [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((match) => (match[1] ?? '').trim().split(/\s+/).map((pair) => {
    const [x, y] = pair.split(',').map(Number) as [number, number]
    assert.ok(x >= 0 && x <= width && y >= 0 && y <= height, `point ${pair} inside 0 0 ${width} ${height}`)
    return [x, y]
  }))
}

/** A `blackbox run` file of a fleet, in the shape of a real one (examples/fleet): a supervisor, a host that forks two workers, one of which leaks and is killed by the host. */
const FLEET = { supervisor: 7100, host: 7101, leaky: 7102, steady: 7103 } as const

function fleetRunFile(): string {
  const { supervisor, host, leaky, steady } = FLEET
  const lines: Array<[number, string]> = []
  const add = (ms: number, label: string, message: string, pid: number): void => {
    lines.push([ms, textLine(T0 + ms, label, message, pid)])
  }
  const beat = (ms: number, client: string, pid: number, rssMB: number, loopDelayMs: number): void =>
    add(ms, 'DEBUG', `heartbeat from ${client} event=child-heartbeat client=${client} pid_=${pid} rssMB=${rssMB} heapUsedMB=10 loopDelayMs=${loopDelayMs} uptimeS=1`, supervisor)
  add(0, 'INFO', 'run started: node host.mjs event=run-start command="node host.mjs"', supervisor)
  add(30, 'INFO', `child started: pid ${host} event=child-start pid_=${host}`, supervisor)
  add(300, 'INFO', 'host starting two workers', host)
  add(340, 'INFO', `worker steady started worker=steady pid_=${steady}`, host)
  add(350, 'INFO', `worker leaky started worker=leaky pid_=${leaky}`, host)
  for (let i = 0; i < 19; i++) beat(400 + i * 200, 'host', host, 60 + (i % 2) * 0.2, 2 + (i % 3))
  add(1000, 'INFO', 'worker leaky starting symbols=200', leaky)
  const leakyBeats = [[80, 120], [100, 170], [120, 100], [140, 150], [160, 140]] as const
  for (const [i, [rssMB, loopDelayMs]] of leakyBeats.entries()) beat(1100 + i * 200, 'worker-leaky', leaky, rssMB, loopDelayMs)
  add(1450, 'ERROR', 'batch 3 timed out, retrying batch=3', leaky)
  add(2000, 'ERROR', `worker leaky uses 161 MB, over the 160 MB limit: killing it worker=leaky pid_=${leaky} rssMB=161`, host)
  add(2040, 'ERROR', `worker leaky ended: SIGKILL worker=leaky pid_=${leaky} code=null signal=SIGKILL`, host)
  add(1200, 'INFO', 'worker steady starting symbols=200', steady)
  for (let i = 0; i < 10; i++) beat(1300 + i * 200, 'worker-steady', steady, 60 + i * 0.2, 3)
  add(2500, 'INFO', 'a record with <script>document.title="pwned"</script> in it', steady)
  add(3300, 'SUCCESS', 'worker steady finished', steady)
  add(3320, 'INFO', `worker-steady (pid ${steady}) said goodbye event=child-bye client=worker-steady pid_=${steady}`, supervisor)
  add(3350, 'INFO', `worker steady ended: exit code 0 worker=steady pid_=${steady} code=0 signal=null`, host)
  add(3400, 'INFO', 'a worker failed: the host gives up', host)
  add(4100, 'INFO', `host (pid ${host}) said goodbye event=child-bye client=host pid_=${host}`, supervisor)
  add(4150, 'ERROR', `child ${host} ended: error exit (exit code 1) event=child-exit pid_=${host} code=1 verdict=error`, supervisor)
  add(4150, 'ERROR', 'run ended: error exit (exit code 1) after 4.15 s event=run-end verdict=error code=1 exitStatus=1 durationMs=4150 restarts=0', supervisor)
  return lines.sort((a, b) => a[0] - b[0]).map(([, line]) => line).join('')
}

/** A status file under `<dir>/heartbeats/` (src/progress/status.ts), as the progress of a worker wrote it. */
function statusFile(dir: string, runId: string, pid: number, status: string, completed: number, fromMs: number, toMs: number): string {
  return JSON.stringify({
    run_id: runId, job: runId, status, pid, hostname: 'fleet-test', started_at: new Date(T0 + fromMs).toISOString(), first_started_at: new Date(T0 + fromMs).toISOString(),
    attempt: 1, updated_at: new Date(T0 + toMs).toISOString(), seq: 3, last_item: `SYM${completed - 1}`, last_completed: `SYM${completed - 1}`, batch: null, total_batches: null,
    batches_done: 0, completed, total: 200, pct: completed / 2, rate_per_s: null, eta_s: null, eta_at: null, events: null, rss_gb: 0.1, elapsed_s: (toMs - fromMs) / 1000,
    files: { heartbeat: join(dir, runId, 'heartbeat_20261121.log'), batches: join(dir, runId, 'batches_20261121.log'), checkpoint: join(dir, 'checkpoints', `${runId}_completed.json`) },
  })
}

/** Each element's opening tag in `html` whose tag opens with `start`, as its attributes. */
function tagsOf(html: string, start: string): Array<Record<string, string>> {
  return [...html.matchAll(new RegExp(`${start}[^>]*>`, 'g'))].map((match) => Object.fromEntries([...match[0].matchAll(/([\w-]+)="([^"]*)"/g)].map((attribute) => [attribute[1] as string, attribute[2] as string])))
}

describe('blackbox postmortem --html, in a real browser', () => {
  test('one self-contained file: charts drawn, the ending, every log text escaped', async (t: TestContext) => {
    const browser = chromiumOrSkip(t)
    if (browser === undefined) return
    const dir = await tempDir(t)
    const handle = spawnNode(PROGRAM, [dir, 'report'])
    const file = await ready(handle)
    await handle.exited(RUN_TIMEOUT_MS)
    const html = join(dir, 'report.html')
    const made = blackbox(['postmortem', file, '--html', html])
    assert.equal(made.status, 0, made.stderr)
    assert.equal(made.stderr, `blackbox postmortem: wrote ${html}\n`)
    const source = readFileSync(html, 'utf8')
    // Nothing to fetch and nothing to run: no such element, no src or href, no url() or @import in the style.
    for (const tag of source.match(/<[a-zA-Z][^>]*>/g) ?? []) {
      assert.doesNotMatch(tag, /^<(script|link|img|iframe|object|embed|image|use)\b/i)
      assert.doesNotMatch(tag, /\s(src|href|xlink:href)\s*=/i)
    }
    assert.doesNotMatch(/<style>([\s\S]*?)<\/style>/.exec(source)?.[1] ?? '', /url\(|@import/i)
    assert.ok(source.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`), 'a policy that forbids fetching')

    const profile = join(dir, 'profile')
    const dump = chromium(browser, profile, ['--dump-dom'], `file://${html}`)
    assert.equal(dump.status, 0, dump.stderr)
    const dom = dump.stdout
    // The records holding markup are text in the page, not elements.
    const contains = (fragment: string): void => assert.ok(dom.includes(fragment), `the DOM holds ${fragment}`)
    contains('a record with &lt;script&gt;document.title="pwned"&lt;/script&gt; in it')
    contains('attribute &amp; entity test &lt;/pre&gt;&lt;/td&gt;')
    contains('note="&gt;&lt;img src=x onerror=alert(2)&gt;')
    contains('Error: the disk said no &lt;b&gt;twice&lt;/b&gt;')
    for (const element of ['<script', '<img', '<b>']) assert.ok(!dom.toLowerCase().includes(element), `no ${element} element in the DOM`)
    assert.ok(/<title>Postmortem: report_[\d-]+\.log — uncaught exception<\/title>/.test(dom), 'the title, not changed by a script')
    assert.ok(/<header class="verdict bad" id="verdict" data-verdict="uncaught">\s*<h1>uncaught exception<\/h1>/.test(dom), 'the ending in the header')
    // The charts: polylines of many points inside their boxes, bars of real size, the end marked.
    const memory = polylinePoints(svgOf(dom, 'chart-memory'))
    assert.ok(memory.length >= 1 && (memory[0]?.length ?? 0) >= 10, `memory polylines: ${memory.map((line) => line.length).join(', ')}`)
    const rss = memory[0] ?? []
    assert.ok((rss.at(-1)?.[1] ?? 0) < (rss[0]?.[1] ?? 0), 'the RSS line rises (smaller y) from start to end')
    const delay = polylinePoints(svgOf(dom, 'chart-loop-delay'))
    assert.ok((delay[0]?.length ?? 0) >= 10, 'a loop-delay line')
    const bars = [...svgOf(dom, 'chart-records').matchAll(/<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)]
    assert.ok(bars.length >= 10, `bars: ${bars.length}`)
    assert.ok(bars.every((bar) => Number(bar[3]) > 0 && Number(bar[4]) > 0), 'every bar has a size')
    for (const id of ['chart-memory', 'chart-loop-delay', 'chart-records']) assert.ok(/<line class="marker"[^>]*>(<\/line>)?\s*<text[^>]*>end: uncaught exception<\/text>/.test(svgOf(dom, id)), `${id} marks the end`)

    const shot = join(dir, 'report.png')
    const screenshot = chromium(browser, profile, [`--screenshot=${shot}`, '--window-size=1200,1600'], `file://${html}`)
    assert.equal(screenshot.status, 0, screenshot.stderr)
    assert.ok(existsSync(shot), 'the screenshot was written')
    assert.ok(statSync(shot).size > 30_000, `a screenshot of a page with charts, not a blank one: ${statSync(shot).size} bytes`)
    const png = decodePng(readFileSync(shot))
    assert.deepEqual([png.width, png.height], [1200, 1600])
    // What the browser painted: the RSS and loop-delay lines, and the error and info bars.
    for (const [name, colour, least] of [['rss', REPORT_COLOURS.rss, 300], ['loop delay', REPORT_COLOURS.loopDelay, 300], ['info bars', REPORT_COLOURS.info, 2000], ['error bars', REPORT_COLOURS.error, 200]] as const) {
      const pixels = countColour(png, colour)
      assert.ok(pixels >= least, `${name} (${colour}): ${pixels} pixels painted, at least ${least} expected`)
    }
  })

  test('a fleet: the headline, a line, a lane, a row and one colour per process, every progress run', async (t: TestContext) => {
    const browser = chromiumOrSkip(t)
    if (browser === undefined) return
    const dir = await tempDir(t)
    const { host, leaky, steady } = FLEET
    const tsvHead = 'timestamp\trun_id\titem\tbatch\ttotal_batches\tcompleted\ttotal\tpct\trate_per_s\teta_s\tevents\textra\trss_gb\n'
    writeTree(dir, {
      '2026-11-21/host_10-00-00.log': fleetRunFile(),
      'heartbeats/fleet_leaky_heartbeat.json': statusFile(dir, 'fleet_leaky', leaky, 'running', 15, 1000, 1900),
      'heartbeats/fleet_steady_heartbeat.json': statusFile(dir, 'fleet_steady', steady, 'completed', 200, 1200, 3290),
      'fleet_leaky/heartbeat_20261121.log': `${tsvHead}${time(T0 + 1850)}\tfleet_leaky\tSYM014\t3\t40\t14\t200\t7\t\t\t\t\t0.16\n`,
    })
    const file = join(dir, '2026-11-21/host_10-00-00.log')
    const report = await analyzeRunFile(file)
    assert.match(report.headline ?? '', new RegExp(`^worker-leaky \\(pid ${leaky}\\) was killed by SIGKILL from host \\(pid ${host}\\)`))
    const html = join(dir, 'fleet.html')
    const made = blackbox(['postmortem', file, '--html', html])
    assert.equal(made.status, 0, made.stderr)
    // One browser run for both the DOM and what it painted: each start of Chromium costs seconds.
    const shot = join(dir, 'fleet.png')
    const drawn = chromium(browser, join(dir, 'profile'), ['--dump-dom', `--screenshot=${shot}`, '--window-size=1200,1600'], `file://${html}`)
    assert.equal(drawn.status, 0, drawn.stderr)
    const dom = drawn.stdout
    assert.ok(!dom.toLowerCase().includes('<script'), 'no <script> element in the DOM')
    assert.ok(dom.includes('a record with &lt;script&gt;document.title="pwned"&lt;/script&gt; in it'), 'the record with markup shows as text')

    const labels = { host: `host (pid ${host})`, leaky: `worker-leaky (pid ${leaky})`, steady: `worker-steady (pid ${steady})` }
    const headline = /<p class="headline" id="headline">([\s\S]*?)<\/p>/.exec(dom)?.[1] ?? ''
    assert.ok(headline.includes((report.headline ?? '').replace(/>/g, '&gt;')), `the headline at the top: ${headline}`)
    assert.ok(dom.indexOf('id="headline"') < dom.indexOf('id="verdict"'), 'the headline comes first')

    // A line per process in both charts, and a legend entry of the line's colour for each.
    const colourOf = new Map<string, string>()
    for (const id of ['chart-memory', 'chart-loop-delay']) {
      const svg = svgOf(dom, id)
      const lines = tagsOf(svg, '<polyline class="series"')
      assert.deepEqual(lines.map((line) => line['data-label']).sort(), Object.values(labels).sort(), `${id}: a line per process`)
      assert.equal(polylinePoints(svg).length, 3)
      const legend = new Map([...svg.matchAll(/<g class="legend-entry" data-label="([^"]*)"><line class="swatch"[^>]* stroke="([^"]*)"/g)].map((match) => [match[1], match[2]]))
      for (const line of lines) {
        const label = line['data-label'] as string
        assert.equal(legend.get(label), line['stroke'], `${id}: the legend names ${label} in its line's colour`)
        assert.equal(colourOf.get(label) ?? line['stroke'], line['stroke'], `${label} has the same colour in every chart`)
        colourOf.set(label, line['stroke'] as string)
      }
    }
    assert.equal(new Set(colourOf.values()).size, 3, `a colour each: ${JSON.stringify([...colourOf])}`)

    // A lane per process: its bar in its colour, its error records ticked, its end labelled with the ending.
    const timeline = svgOf(dom, 'chart-timeline')
    const lanes = timeline.split('<g class="lane" ').slice(1)
    const expectedLanes = [
      [labels.host, 3, 'exit code 1'],
      [labels.leaky, 1, `killed by SIGKILL from host (pid ${host})`],
      [labels.steady, 0, 'ended cleanly (exit code 0)'],
    ] as const
    assert.equal(lanes.length, expectedLanes.length, 'a lane per process')
    lanes.forEach((lane, index) => {
      const [label, errors, ending] = expectedLanes[index] as (typeof expectedLanes)[number]
      assert.ok(lane.includes(`data-label="${label}"`), `lane ${index} is ${label}, in the order the processes started`)
      assert.equal(tagsOf(lane, '<rect class="lane-bar"')[0]?.['fill'], colourOf.get(label), `${label}: the bar has the process's colour`)
      assert.equal(tagsOf(lane, '<line class="lane-mark"').length, errors, `${label}: ${errors} error marks`)
      assert.equal(/<text class="lane-end-label"[^>]*>([^<]*)<\/text>/.exec(lane)?.[1], ending, `${label}: the end says how it ended`)
    })

    // A table row per process, worst first, with the leak verdict in words; a section per progress run.
    const rows = [...dom.matchAll(/<tr data-pid="(\d+)"[\s\S]*?<\/tr>/g)]
    assert.deepEqual(rows.map((row) => Number(row[1])), report.processes.map((process) => process.pid))
    assert.deepEqual(rows.map((row) => Number(row[1])), [leaky, host, steady])
    const verdicts = rows.map((row) => /(possible leak|no leak|not judged):/.exec(row[0])?.[1])
    assert.deepEqual(verdicts, ['possible leak', 'no leak', 'not judged'], 'too few samples are not judged, never "no leak"')
    for (const row of rows) {
      const process = report.processes.find((candidate) => candidate.pid === Number(row[1]))
      assert.ok(row[0].includes(`style="background: ${colourOf.get(`${process?.name} (pid ${row[1]})`)}"`), `row ${row[1]}: the process's colour`)
    }
    const runs = [...dom.matchAll(/<article class="progress-run" data-run-id="([^"]*)">([\s\S]*?)<\/article>/g)]
    assert.deepEqual(runs.map((run) => run[1]), ['fleet_leaky', 'fleet_steady'], 'every progress run, the unfinished first')
    const [leakyRun, steadyRun] = runs.map((run) => run[2] ?? '')
    assert.ok(leakyRun?.includes(labels.leaky) && leakyRun.includes('15 of 200') && leakyRun.includes('item=SYM014'), `fleet_leaky: owner, count, last heartbeat: ${leakyRun}`)
    assert.ok(steadyRun?.includes(labels.steady) && steadyRun.includes('200 of 200'), 'fleet_steady: owner and count')

    // What the browser painted: each process's colour, in its lane and lines.
    const png = decodePng(readFileSync(shot))
    for (const [label, colour] of colourOf) {
      const pixels = countColour(png, colour, 12)
      assert.ok(pixels >= 1000, `${label} (${colour}): ${pixels} pixels painted, at least 1000 expected`)
    }
  })
})
