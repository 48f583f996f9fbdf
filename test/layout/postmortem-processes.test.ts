// The processes of a run file (issue #20), on run files written here to exact shapes: a
// fleet as `blackbox run` writes it (the supervisor's records about each process, the
// processes' own records relayed with their pid), so that every way the story is told can be
// checked line by line. Real fleets under `blackbox run` are in test/cli/fleet-postmortem.test.ts.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { judgeMemory, LEAK_MIN_SAMPLES } from '../../src/layout/memory-trend.ts'
import { analyzeRunFile } from '../../src/layout/postmortem.ts'
import { summarizeLogFile } from '../../src/layout/summarize.ts'
import { createProgress } from '../../src/progress/index.ts'
import { writeTree } from '../helpers/log-tree.ts'
import { tempDir } from '../helpers/tmp.ts'

const stamp = compileTimeFormat()
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0)
const SUPERVISOR = 100
const HOST = 200
const LEAKY = 300
const STEADY = 400

/** One record of the default text preset, newline included. */
function line(ms: number, pid: number, label: string, message: string): string {
  return `${stamp(T0 + ms)} [${pid}] [${label}] ${message}\n`
}

function heartbeat(ms: number, name: string, pid: number, rssMB: number): string {
  return line(ms, SUPERVISOR, 'DEBUG', `heartbeat from ${name} event=child-heartbeat client=${name} pid_=${pid} rssMB=${rssMB} heapUsedMB=9 loopDelayMs=3 uptimeS=1`)
}

/** The demo's fleet: a host, a worker that leaks and is killed by the host, a worker that finishes. */
function demoFleet(): string {
  let text = line(0, SUPERVISOR, 'INFO', 'run started: node host.mjs event=run-start command="node host.mjs"')
  text += line(10, SUPERVISOR, 'INFO', `child started: pid ${HOST} event=child-start pid_=${HOST}`)
  text += line(300, SUPERVISOR, 'INFO', `host (pid ${HOST}, role worker) connected event=child-hello client=host role=worker pid_=${HOST} ppid=${SUPERVISOR}`)
  text += line(310, HOST, 'INFO', 'host starting two workers')
  text += line(500, SUPERVISOR, 'INFO', `worker-leaky (pid ${LEAKY}, role worker) connected event=child-hello client=worker-leaky role=worker pid_=${LEAKY} ppid=${HOST}`)
  text += line(510, SUPERVISOR, 'INFO', `worker-steady (pid ${STEADY}, role worker) connected event=child-hello client=worker-steady role=worker pid_=${STEADY} ppid=${HOST}`)
  for (let i = 0; i < 5; i++) {
    text += heartbeat(600 + i * 200, 'host', HOST, 60)
    text += heartbeat(610 + i * 200, 'worker-leaky', LEAKY, 80 + i * 20)
    text += heartbeat(620 + i * 200, 'worker-steady', STEADY, 61)
    text += line(630 + i * 200, LEAKY, 'INFO', `batch ${i + 1}/40 done`)
  }
  text += line(1500, HOST, 'ERROR', `worker leaky uses 161 MB, over the 160 MB limit: killing it worker=leaky pid_=${LEAKY} rssMB=161`)
  text += line(1510, SUPERVISOR, 'ERROR', `worker-leaky (pid ${LEAKY}) died without saying goodbye event=child-dead client=worker-leaky role=worker pid_=${LEAKY}`)
  text += line(1520, HOST, 'ERROR', `worker leaky ended: SIGKILL worker=leaky pid_=${LEAKY} code=null signal=SIGKILL`)
  text += line(2000, STEADY, 'SUCCESS', 'worker steady finished')
  text += line(2010, SUPERVISOR, 'INFO', `worker-steady (pid ${STEADY}) said goodbye event=child-bye client=worker-steady pid_=${STEADY}`)
  text += line(2020, HOST, 'SUCCESS', `worker steady ended: exit code 0 worker=steady pid_=${STEADY} code=0 signal=null`)
  text += line(2100, SUPERVISOR, 'INFO', `host (pid ${HOST}) said goodbye event=child-bye client=host pid_=${HOST}`)
  text += line(2200, SUPERVISOR, 'ERROR', `child ${HOST} ended: error exit (exit code 1) event=child-exit pid_=${HOST} code=1 verdict=error`)
  text += line(2200, SUPERVISOR, 'ERROR', 'run ended: error exit (exit code 1) after 2.2 s event=run-end verdict=error code=1 exitStatus=1 durationMs=2200 restarts=0')
  return text
}

async function fleetFile(t: import('node:test').TestContext, content: string): Promise<string> {
  const dir = await tempDir(t)
  writeTree(dir, { '2026-11-21/host_10-00-00.log': content })
  return join(dir, '2026-11-21/host_10-00-00.log')
}

describe('postmortem: the processes of a fleet', { concurrency: true }, () => {
  test('each process with its ending, worst first; the killed worker named with who killed it and its leak', async (t) => {
    const report = await analyzeRunFile(await fleetFile(t, demoFleet()))
    assert.deepEqual(report.processes.map((process) => [process.name, process.pid, process.ending, process.kind]), [
      ['worker-leaky', LEAKY, 'sigkill', 'client'],
      ['host', HOST, 'error', 'child'],
      ['worker-steady', STEADY, 'clean', 'client'],
    ])
    const [leaky, host, steady] = report.processes
    assert.ok(leaky && host && steady)
    assert.equal(leaky.endingText, `killed by SIGKILL from host (pid ${HOST})`)
    assert.deepEqual(leaky.killedBy && [leaky.killedBy.pid, leaky.killedBy.name], [HOST, 'host'])
    assert.equal(leaky.ppid, HOST)
    assert.equal(leaky.role, 'worker')
    assert.equal(leaky.signal, 'SIGKILL')
    assert.equal(leaky.endKnown, true)
    assert.equal(leaky.endedAt, new Date(T0 + 1510).toISOString())
    assert.equal(leaky.memory.samples, 5)
    assert.equal(leaky.memory.leak, true, leaky.memory.leakReason)
    assert.equal(leaky.memory.leakReason, 'grew 80 → 160 MB in 800 ms, then it was killed')
    assert.equal(leaky.lastRecords.at(-1)?.message, `worker-leaky (pid ${LEAKY}) died without saying goodbye`)
    assert.equal(host.exitCode, 1)
    assert.equal(host.endingText, 'exit code 1')
    assert.equal(host.errorCount, 2 + 1, 'its own two errors and the supervisor\'s child-exit')
    assert.equal(steady.endingText, 'ended cleanly (exit code 0)')
    // Five samples, steady and not killed: too few to say "no leak".
    assert.equal(steady.memory.judged, false)
    assert.match(steady.memory.leakReason, /^too few samples to judge \(5, at least 12 needed\)$/)
    assert.equal(report.headline, `worker-leaky (pid ${LEAKY}) was killed by SIGKILL from host (pid ${HOST}) at 160 MB, after growing 80 → 160 MB in 800 ms: a leak`)
    // The supervised command's own ending is still the run's.
    assert.equal(report.verdict, 'error')
  })

  test('a worker that died with Node\'s uncaught-exception text on the shared stderr: the block is its, not the host\'s', async (t) => {
    let text = demoFleet().split('\n').filter((entry) => !entry.includes('killing it') && !entry.includes('ended: SIGKILL')).join('\n')
    // The host lived on after the block: the worker that went without a goodbye at that moment threw.
    text = text.replace(/^(.*event=child-dead.*)$/m, `${line(1505, SUPERVISOR, 'ERROR', `Error: out of symbols event=uncaught stream=stderr pid_=${HOST}`)}  | /app/worker.mjs:12\n  |     at next (/app/worker.mjs:12:9)\n$1`)
    const report = await analyzeRunFile(await fleetFile(t, text))
    const leaky = report.processes.find((process) => process.pid === LEAKY)
    const host = report.processes.find((process) => process.pid === HOST)
    assert.equal(leaky?.ending, 'uncaught')
    assert.equal(leaky?.error, 'Error: out of symbols')
    assert.equal(leaky?.endingText, 'uncaught Error: out of symbols')
    assert.equal(host?.ending, 'error')
    assert.equal(report.processes[0]?.pid, LEAKY)
    assert.match(report.headline ?? '', /^worker-leaky \(pid 300\) died of an uncaught error: Error: out of symbols/)
  })

  test('heartbeats that stop while the process lives: a hang, then the kill', async (t) => {
    let text = demoFleet()
    // The steady worker checks in every 200 ms, then falls silent for 1.7 s before its parent kills it.
    text = text.replace(/^.*worker steady finished.*\n.*event=child-bye client=worker-steady.*\n/m, '')
    text = text.replace(/^(.*worker steady ended: exit code 0.*)$/m, line(3100, HOST, 'ERROR', `worker steady is stuck: killing it worker=steady pid_=${STEADY} signal=SIGTERM`).trimEnd())
    const report = await analyzeRunFile(await fleetFile(t, text))
    const steady = report.processes.find((process) => process.pid === STEADY)
    assert.equal(steady?.hang, true)
    assert.equal(steady?.ending, 'hang')
    assert.match(steady?.endingText ?? '', /^hung: no heartbeat for [\d.]+ s then killed by SIGTERM from host \(pid 200\)$/)
  })

  test('a progress run the records name is shown whenever its files were written; a name that is a path is not followed', async (t) => {
    const path = await fleetFile(t, demoFleet() +
      line(1200, LEAKY, 'INFO', 'resuming run nightly_old: 1 of 3 items already complete event=progress runId=nightly_old completed=1 total=3') +
      line(1210, LEAKY, 'INFO', 'run ../../secret event=progress runId=../../secret'))
    // Written now, days after the run file's times: no time or pid matches it, its name does.
    const progress = createProgress({ dir: join(path, '..', '..'), runId: 'nightly_old', total: 3, resume: false })
    progress.complete('a')
    await progress.finish()
    const report = await analyzeRunFile(path)
    assert.deepEqual(report.progressRuns.map((run) => [run.runId, run.matchedBy, run.finished, run.completed]), [['nightly_old', 'record', true, 1]])
  })

  test('blackbox summary: the supervisor\'s verdict is the ending; how many processes, and the worst', async (t) => {
    const summary = await summarizeLogFile(await fleetFile(t, demoFleet()))
    assert.equal(summary.ending, 'error')
    assert.equal(summary.endingDetail, 'error exit (exit code 1)')
    assert.equal(summary.processes, 3)
    assert.equal(summary.worstEnding, 'sigkill')
    assert.match(summary.worst ?? '', /^worker-leaky \(pid 300\) was killed by SIGKILL from host/)
  })
})

describe('the memory verdict judges what it has (issue #20)', () => {
  // The issue's case: 81 → 258 MB in 1.3 s over 8 heartbeats, then the OOM killer.
  const oomSeries = Array.from({ length: 8 }, (_, i) => ({ time: T0 + Math.round((i * 1300) / 7), value: Math.round(81 + (i * 177) / 7) }))

  test('eight samples rising to an OOM kill: a leak, said as it happened', () => {
    const verdict = judgeMemory(oomSeries, 'oom')
    assert.equal(verdict.leak, true)
    assert.equal(verdict.reason, 'grew 81 → 258 MB in 1.3 s, then the OOM killer')
  })

  test('the same samples, killed from outside: a leak; ended on their own: not judged, never "no leak"', () => {
    assert.equal(judgeMemory(oomSeries, 'killed').reason, 'grew 81 → 258 MB in 1.3 s, then it was killed')
    const quiet = judgeMemory(oomSeries, 'other')
    assert.deepEqual([quiet.leak, quiet.judged], [false, false])
    assert.equal(quiet.reason, `too few samples to judge (8, at least ${LEAK_MIN_SAMPLES} needed)`)
  })

  test('few samples that fall on the way, or stay flat, before a kill: not judged', () => {
    const sawtooth = [80, 120, 90, 130, 95, 140].map((value, i) => ({ time: T0 + i * 100, value }))
    const flat = [80, 81, 80, 81].map((value, i) => ({ time: T0 + i * 100, value }))
    for (const [name, series] of [['sawtooth', sawtooth], ['flat', flat]] as const) {
      const verdict = judgeMemory(series, 'killed')
      assert.deepEqual([verdict.leak, verdict.judged], [false, false], `${name}: ${verdict.reason}`)
    }
  })

  test('enough samples: the windows rule decides, and says so', () => {
    const flat = Array.from({ length: 40 }, (_, i) => ({ time: T0 + i * 100, value: 80 + (i % 2) }))
    const verdict = judgeMemory(flat, 'killed')
    assert.deepEqual([verdict.leak, verdict.judged], [false, true])
    assert.match(verdict.reason, /^steady/)
  })
})
