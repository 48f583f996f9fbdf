// The fleet postmortem (issue #20), on real fleets: the BUILT `blackbox run` (dist/, so
// `npm run build` first) supervises a host (test/fixtures/fleet-host.mjs) that forks workers
// (test/fixtures/fleet-worker.mjs) logging through its collector; they leak and are killed by
// their host, throw with and without the crash guard, hang, finish, or are killed by the
// kernel in a memory cgroup. Asserted on `blackbox postmortem --json` and on its text.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import type { Postmortem, PostmortemProcess } from '../../src/layout/postmortem.ts'
import { chromium, findChromium } from '../helpers/chromium.ts'
import { memoryCgroup } from '../helpers/memory-cgroup.ts'
import { fixturePath, waitUntil } from '../helpers/process.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { tempDir } from '../helpers/tmp.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const HOST = fixturePath('fleet-host.mjs')
/** How long a whole fleet may take before a wait gives up on it. */
const FLEET_TIMEOUT_MS = 30_000

interface Fleet {
  /** stdout of the supervisor (the host's `worker KIND pid N` lines among it). */
  out(): string
  runFile(): string
  send(line: string): void
  exited: Promise<number | null>
}

function startFleet(dir: string, kinds: readonly string[]): Fleet {
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--heartbeat-interval', '100', '--sample-interval', '100', '--', process.execPath, HOST, ...kinds], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, BLACKBOX_TEST_DIR: dir },
  })
  let out = ''
  supervisor.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  supervisor.stderr.resume()
  const exited = new Promise<number | null>((resolve) => supervisor.once('exit', resolve))
  return {
    out: () => out,
    runFile: () => {
      const [file] = listRunFiles(dir)
      return file === undefined ? '' : readFileSync(file, 'utf8')
    },
    send: (line) => supervisor.stdin.write(`${line}\n`),
    exited,
  }
}

function workerPid(fleet: Fleet, kind: string): number | undefined {
  const match = new RegExp(`^worker ${kind} pid (\\d+)$`, 'm').exec(fleet.out())
  return match ? Number(match[1]) : undefined
}

function postmortem(dir: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [bin, 'postmortem', '--dir', dir, ...args], { encoding: 'utf8', timeout: FLEET_TIMEOUT_MS })
  assert.equal(result.status, 0, `blackbox postmortem ${args.join(' ')}: ${result.error?.message ?? ''}${result.stderr}`)
  return result.stdout
}

function byName(report: Postmortem, name: string): PostmortemProcess {
  const found = report.processes.find((process) => process.name === name)
  assert.ok(found, `no process named ${name} in ${report.processes.map((process) => process.name).join(', ')}`)
  return found
}

test('a fleet: a leak killed by its host, uncaught errors with and without the guard, a hang, a clean worker', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t)
  const fleet = startFleet(dir, ['leak', 'throw', 'throw-unguarded', 'hang', 'clean'])
  // The hung worker stops once its heartbeats have come a few times, and is killed from
  // outside once the supervisor has seen them stop.
  await waitUntil(() => (fleet.runFile().match(/event=child-heartbeat client=worker-hang /g) ?? []).length >= 3, { what: 'worker-hang to check in three times', timeoutMs: FLEET_TIMEOUT_MS })
  fleet.send('go hang')
  await waitUntil(() => /event=child-late client=worker-hang/.test(fleet.runFile()), { what: 'the supervisor to see worker-hang late', timeoutMs: FLEET_TIMEOUT_MS })
  const hung = workerPid(fleet, 'hang')
  assert.ok(hung !== undefined, fleet.out())
  process.kill(hung, 'SIGKILL')
  assert.equal(await fleet.exited, 1)

  const report = JSON.parse(postmortem(dir, '--json')) as Postmortem
  const leak = byName(report, 'worker-leak')
  const host = byName(report, 'host')
  assert.deepEqual([leak.ending, leak.signal, leak.killedBy?.pid, leak.ppid], ['sigkill', 'SIGKILL', host.pid, host.pid], leak.endingText)
  assert.equal(leak.memory.leak, true, leak.memory.leakReason)
  assert.match(leak.memory.leakReason, /^grew [\d.]+ → [\d.]+ MB in [\d.]+ m?s, then it was killed$|^rose/)

  const guarded = byName(report, 'worker-throw')
  assert.deepEqual([guarded.ending, guarded.error], ['uncaught', 'Error: worker throw boom'])
  const unguarded = byName(report, 'worker-throw-unguarded')
  assert.deepEqual([unguarded.ending, unguarded.error], ['uncaught', 'Error: worker throw-unguarded boom'])
  // Node's text came as one record, not one per line of the stack.
  assert.doesNotMatch(fleet.runFile(), /\[WARNING\] +at /)

  const hang = byName(report, 'worker-hang')
  assert.deepEqual([hang.ending, hang.hang, hang.signal], ['hang', true, 'SIGKILL'], hang.endingText)

  const clean = byName(report, 'worker-clean')
  assert.equal(clean.ending, 'clean')
  assert.equal(host.ending, 'error')
  assert.equal(host.exitCode, 1)
  assert.equal(report.processes.at(-1)?.name, 'worker-clean', 'worst first: the clean worker last')
  assert.equal(report.processes.length, 6)
  assert.ok(report.headline !== null && report.headline.startsWith(`${report.processes[0]?.name} (pid ${report.processes[0]?.pid})`), report.headline ?? 'no headline')

  // Every progress run, the unfinished ones first, each with its owner.
  const runs = report.progressRuns.map((run) => [run.runId, run.finished, run.owner?.name])
  assert.deepEqual(runs.at(-1), ['fleet_clean', true, 'worker-clean'])
  for (const kind of ['leak', 'throw', 'throw-unguarded', 'hang']) assert.ok(runs.some(([runId, finished, owner]) => runId === `fleet_${kind}` && finished === false && owner === `worker-${kind}`), `fleet_${kind} in ${JSON.stringify(runs)}`)

  // The terminal: the worst thing first, then every process.
  const text = postmortem(dir)
  assert.match(text, /^worst {6}\S/m)
  assert.match(text, /^processes \(6, 5 ended badly\)$/m)
  assert.match(text, /^ {2}✗ worker-leak \(pid \d+, parent \d+, role worker\): killed by SIGKILL from host/m)

  // blackbox summary: the run's processes, and the worst ending.
  const summary = spawnSync(process.execPath, [bin, 'summary', '--dir', dir], { encoding: 'utf8' }).stdout
  assert.match(summary, /^ {2}fleet {4}6 processes; worst: /m)

  // The HTML, as a browser builds it: a lane per process, a memory line per process sampled.
  const found = findChromium()
  if ('reason' in found) {
    t.diagnostic(`the HTML report is not checked in a browser: ${found.reason}`)
    return
  }
  const html = join(dir, 'report.html')
  postmortem(dir, '--html', html)
  const dom = chromium(found.path, join(dir, 'profile'), ['--dump-dom'], `file://${html}`).stdout
  const lanes = [...dom.matchAll(/<g class="lane" data-key="[^"]*" data-label="([^"]*)">/g)].map((match) => match[1])
  assert.deepEqual(lanes.sort(), report.processes.map((process) => `${process.name} (pid ${process.pid})`).sort())
  const memory = /<svg id="chart-memory"[\s\S]*?<\/svg>/.exec(dom)?.[0] ?? ''
  const lines = [...memory.matchAll(/<polyline class="series" data-label="([^"]*)"/g)].map((match) => match[1])
  const sampled = report.processes.filter((process) => process.memory.samples > 1).map((process) => `${process.name} (pid ${process.pid})`)
  for (const label of sampled) assert.ok(lines.includes(label), `a memory line for ${label} in ${JSON.stringify(lines)}`)
})

test('a worker killed by the kernel in a memory cgroup: ending oom, its rise said however few the samples', { timeout: 60_000 }, async (t) => {
  const cgroup = memoryCgroup(t, 160)
  if (!cgroup) return
  const dir = await tempDir(t)
  const fleet = startFleet(dir, ['oom'])
  await waitUntil(() => workerPid(fleet, 'oom') !== undefined, { what: 'the oom worker to start', timeoutMs: FLEET_TIMEOUT_MS })
  const pid = workerPid(fleet, 'oom') as number
  // Connected and sampled first: the supervisor must know its cgroup before the kill.
  await waitUntil(() => /event=child-hello client=worker-oom/.test(fleet.runFile()), { what: 'worker-oom to connect', timeoutMs: FLEET_TIMEOUT_MS })
  cgroup.add(pid)
  await waitUntil(() => fleet.runFile().includes(`memory cgroup of ${cgroup.path}`) && new RegExp(`event=cgroup pid_=${pid}`).test(fleet.runFile()), { what: 'the supervisor to see the worker in the cgroup', timeoutMs: FLEET_TIMEOUT_MS })
  fleet.send('go oom')
  assert.equal(await fleet.exited, 1)
  const report = JSON.parse(postmortem(dir, '--json')) as Postmortem
  const worker = byName(report, 'worker-oom')
  assert.equal(worker.ending, 'oom', worker.endingText)
  assert.equal(worker.memory.leak, true, worker.memory.leakReason)
  assert.match(worker.memory.leakReason, /then the OOM killer$/)
  assert.equal(report.processes[0]?.name, 'worker-oom')
  assert.match(report.headline ?? '', /^worker-oom \(pid \d+\) was killed by the OOM killer at [\d.]+ MB, after growing/)
})
