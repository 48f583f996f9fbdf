import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { memoryCgroup } from '../helpers/memory-cgroup.ts'
import { fixturePath, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const bin = fixturePath('../../dist/cli/main.js')
const child = fixturePath('run-child.mjs')

/** The run file of the run named `name` in `dir`; its name is the script's by default. */
function runFileIn(dir: string, name = 'run-child'): string {
  const [day] = readdirSync(dir)
  const file = readdirSync(join(dir, day as string)).find((entry) => new RegExp(`^${name}_\\d\\d-\\d\\d-\\d\\d(_\\d+)?\\.log$`).test(entry))
  return join(dir, day as string, file as string)
}

/** The run file's text, or '' while it is not there. */
function runTextIn(dir: string, name: string): string {
  try {
    return readFileSync(runFileIn(dir, name), 'utf8')
  } catch {
    return ''
  }
}

/** The verdict `blackbox postmortem --json` gives for the run in `dir`. */
function postmortemVerdict(dir: string): string {
  const result = spawnSync(process.execPath, [bin, 'postmortem', '--dir', dir, '--json'], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  return (JSON.parse(result.stdout) as { verdict: string }).verdict
}

function run(dir: string, mode: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [bin, 'run', '--dir', dir, '--heartbeat-interval', '100', ...extra, '--', process.execPath, child, mode], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  })
}

const ENDINGS: [string, number, string, RegExp][] = [
  ['clean', 0, 'clean', /\[SUCCESS\] run ended: clean exit \(exit code 0\)/],
  ['exit3', 3, 'error', /\[ERROR\] run ended: error exit \(exit code 3\)/],
  ['throw', 1, 'uncaught', /\[CRITICAL\] uncaught exception: child boom[\s\S]*\[ERROR\] run ended: uncaught exception \(exit code 1\)/],
]

for (const [mode, status, verdict, ending] of ENDINGS) {
  test(`blackbox run, ${mode}: the run file, the verdict, the exit status`, async (t) => {
    const dir = await tempDir(t)
    const result = run(dir, mode)
    assert.equal(result.status, status, result.stderr)
    const text = readFileSync(runFileIn(dir), 'utf8')
    assert.match(text, /\[INFO\] run started: .*run-child\.mjs/)
    assert.match(text, /\[INFO\] child started mode=/, 'the child’s own records, through its collector')
    assert.match(text, /\[INFO\] pid \d+ stream=stdout/, 'stdout captured line by line')
    assert.match(text, /\[WARNING\] a line on stderr stream=stderr/, 'stderr captured and marked')
    assert.match(text, new RegExp(`event=run-end verdict=${verdict}`))
    assert.match(text, ending)
    assert.match(result.stdout, /pid \d+/, 'still shown on the terminal')
    assert.equal(postmortemVerdict(dir), verdict)
  })
}

test('a child gone before its collector client connected: its records still reach the run file', async (t) => {
  const dir = await tempDir(t)
  const result = run(dir, 'quick')
  assert.equal(result.status, 3, result.stderr)
  const text = readFileSync(runFileIn(dir), 'utf8')
  assert.deepEqual([...text.matchAll(/quick record i=(\d+)/g)].map((match) => Number(match[1])), Array.from({ length: 30 }, (_, i) => i))
  assert.ok(text.indexOf('quick record i=29') < text.indexOf('run ended:'), 'delivered before the end of the run')
})

test('BLACKBOX_DURABILITY=ring: a child SIGKILLed after a burst that never yielded; the run\'s collector delivers its ring', async (t) => {
  const dir = await tempDir(t)
  const result = run(dir, 'burst-kill', [], { BLACKBOX_DURABILITY: 'ring' })
  assert.equal(result.status, 137, result.stderr)
  const text = readFileSync(runFileIn(dir), 'utf8')
  assert.deepEqual([...text.matchAll(/burst record i=(\d+)/g)].map((match) => Number(match[1])), Array.from({ length: 5000 }, (_, i) => i))
  assert.ok(text.indexOf('burst record i=4999') < text.indexOf('run ended:'), 'delivered before the end of the run')
  t.diagnostic(/durability 'ring' needs/.test(result.stderr) ? 'ran with the sync fallback (no addon)' : 'ran in ring mode')
})

test('blackbox run, SIGKILL from outside: verdict sigkill, status 137', async (t) => {
  const dir = await tempDir(t)
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--heartbeat-interval', '100', '--', process.execPath, child, 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => /pid (\d+)/.test(out), { what: 'the child to start', timeoutMs: 15_000 })
  process.kill(Number(/pid (\d+)/.exec(out)?.[1]), 'SIGKILL')
  const status = await new Promise((resolve) => supervisor.once('exit', resolve))
  assert.equal(status, 137)
  assert.match(readFileSync(runFileIn(dir), 'utf8'), /run ended: SIGKILL from outside, possibly OOM \(signal SIGKILL\).* verdict=sigkill/)
  assert.equal(postmortemVerdict(dir), 'sigkill')
})

test('blackbox run forwards SIGTERM to the child and exits as the child did (143)', async (t) => {
  const dir = await tempDir(t)
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--', process.execPath, child, 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => out.includes('pid '), { what: 'the child to start', timeoutMs: 15_000 })
  supervisor.kill('SIGTERM')
  const status = await new Promise((resolve) => supervisor.once('exit', resolve))
  assert.equal(status, 143)
  const text = readFileSync(runFileIn(dir), 'utf8')
  assert.match(text, /forwarding SIGTERM to the child/)
  assert.match(text, /received SIGTERM .* event=signal signal=SIGTERM ending=signal/, 'the child’s guard recorded it')
  assert.match(text, /verdict=signal/)
})

test('a hang with --on-hang kill: recorded, killed, verdict hang', async (t) => {
  const dir = await tempDir(t)
  const result = run(dir, 'hang', ['--hang-after', '600', '--on-hang', 'kill', '--sample-interval', '100'])
  assert.equal(result.status, 137, result.stderr)
  const text = readFileSync(runFileIn(dir), 'utf8')
  assert.match(text, /\[ERROR\] no heartbeat from the child for [\d.]+ s: it seems hung \(kill\) event=hang/)
  assert.match(text, /run ended: hung \(signal SIGKILL\)/)
  assert.equal(postmortemVerdict(dir), 'hang')
})

test('--restart on-failure: the failure and the restart are recorded, the second run succeeds', async (t) => {
  const dir = await tempDir(t)
  const mark = join(dir, 'mark')
  const result = run(dir, 'flaky', ['--restart', 'on-failure', '--backoff', '50'], { BLACKBOX_TEST_MARK: mark })
  assert.equal(result.status, 0, result.stderr)
  const text = readFileSync(runFileIn(dir), 'utf8')
  assert.match(text, /restarting \(1 of 3\) in [\d.]+ s after: error exit event=restart attempt=1/)
  assert.match(text, /run ended: clean exit \(exit code 0\) .* restarts=1/)
})

test('any command, not only Node: stdout and stderr only', async (t) => {
  const dir = await tempDir(t)
  const result = spawnSync(process.execPath, [bin, 'run', '--dir', dir, '--name', 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 4'], { encoding: 'utf8' })
  assert.equal(result.status, 4)
  const [day] = readdirSync(dir)
  const text = readFileSync(join(dir, day as string, readdirSync(join(dir, day as string)).find((name) => name.startsWith('shell_')) as string), 'utf8')
  assert.match(text, /\[INFO\] out stream=stdout/)
  assert.match(text, /\[WARNING\] err stream=stderr/)
  assert.match(text, /run ended: error exit \(exit code 4\)/)
})

test('a memory-limited child killed by the kernel: verdict oom', async (t) => {
  const cgroup = memoryCgroup(t, 96)
  if (!cgroup) return
  const dir = await tempDir(t)
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--sample-interval', '50', '--', process.execPath, child, 'oom'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => /pid (\d+)/.test(out), { what: 'the child to start', timeoutMs: 15_000 })
  cgroup.add(Number(/pid (\d+)/.exec(out)?.[1]))
  // The supervisor must have seen the move before the kill: it says so in the run file.
  await waitUntil(() => readFileSync(runFileIn(dir), 'utf8').includes(`memory cgroup of ${cgroup.path}`), { what: 'the supervisor to see the child in the cgroup', timeoutMs: 10_000 })
  supervisor.stdin.write('go\n')
  const status = await new Promise((resolve) => supervisor.once('exit', resolve))
  assert.equal(status, 137)
  assert.match(readFileSync(runFileIn(dir), 'utf8'), /run ended: killed by the OOM killer \(signal SIGKILL\).* verdict=oom/)
  assert.equal(postmortemVerdict(dir), 'oom')
})

test('a host and the worker it forks, SIGKILLed by the host: both introduced with their parents, the worker sampled, its death recorded', async (t) => {
  const dir = await tempDir(t)
  const fleet = fixturePath('run-fleet.mjs')
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--sample-interval', '50', '--heartbeat-interval', '100', '--', process.execPath, fleet, 'host', 'kill'], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => supervisor.kill('SIGKILL'))
  let out = ''
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = new Promise((resolve) => supervisor.once('exit', resolve))
  await waitUntil(() => /host \d+ worker \d+/.test(out), { what: 'the host to fork its worker', timeoutMs: 15_000 })
  const [, host, worker] = /host (\d+) worker (\d+)/.exec(out) as RegExpExecArray
  await waitUntil(() => runTextIn(dir, 'run-fleet').includes(`event=sample pid_=${worker} `), { what: 'a memory sample of the worker', timeoutMs: 10_000 })
  supervisor.stdin.write('kill\n')
  assert.equal(await exited, 0)
  const text = readFileSync(runFileIn(dir, 'run-fleet'), 'utf8')
  assert.match(text, new RegExp(`\\[INFO\\] host \\(pid ${host}, role worker\\) connected event=child-hello client=host role=worker pid_=${host} ppid=${supervisor.pid}\n`))
  assert.match(text, new RegExp(`\\[INFO\\] worker-1 \\(pid ${worker}, role worker\\) connected event=child-hello client=worker-1 role=worker pid_=${worker} ppid=${host}\n`))
  assert.match(text, new RegExp(`\\[DEBUG\\] worker-1 \\(pid ${worker}\\) memory: [\\d.]+ MB event=sample pid_=${worker} rssMB=[\\d.]+\n`))
  const death = new RegExp(`\\[ERROR\\] worker-1 \\(pid ${worker}\\) died without saying goodbye event=child-dead client=worker-1 role=worker pid_=${worker}\n`)
  assert.match(text, death)
  assert.ok(text.search(death) < text.indexOf('event=child-exit'), 'the worker’s death before the host’s end')
  assert.match(text, /event=run-end verdict=clean/)
})

test('a host that hangs while its worker checks in: the host is hung all the same (the worker\'s heartbeats are not the host\'s)', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t)
  const fleet = fixturePath('run-fleet.mjs')
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--heartbeat-interval', '100', '--hang-after', '600', '--on-hang', 'kill', '--sample-interval', '50', '--', process.execPath, fleet, 'host', 'hang'], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => supervisor.kill('SIGKILL'))
  const exited = new Promise((resolve) => supervisor.once('exit', resolve))
  const beats = (client: string): number => (runTextIn(dir, 'run-fleet').match(new RegExp(`event=child-heartbeat client=${client} `, 'g')) ?? []).length
  await waitUntil(() => beats('host') >= 2 && beats('worker-1') >= 2, { what: 'the host and its worker to check in', timeoutMs: 15_000 })
  supervisor.stdin.write('hang\n')
  assert.equal(await exited, 137)
  const text = readFileSync(runFileIn(dir, 'run-fleet'), 'utf8')
  assert.match(text, /no heartbeat from the child for [\d.]+ s: it seems hung \(kill\) event=hang/)
  assert.match(text, /event=run-end verdict=hang/)
})

test('a worker that throws on the stderr it shares with its host: one ERROR record, but the host’s exit 1 stays an error exit', async (t) => {
  const dir = await tempDir(t)
  const result = spawnSync(process.execPath, [bin, 'run', '--dir', dir, '--', process.execPath, fixturePath('run-fleet.mjs'), 'host', 'throw'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 1, result.stderr)
  const text = readFileSync(runFileIn(dir, 'run-fleet'), 'utf8')
  assert.equal([...text.matchAll(/\[ERROR\] Error: worker boom event=uncaught stream=stderr /g)].length, 1, text)
  assert.match(text, /worker-1 \(pid \d+\) said goodbye \(exit code 1\) event=child-bye/, 'the worker’s client said goodbye at its exit, with its exit code')
  assert.match(text, /event=run-end verdict=error code=1/)
})

for (const mode of ['plain', 'unguarded']) {
  test(`a child that throws without a crash guard (${mode}): Node's report on stderr is one ERROR record with the stack, verdict uncaught`, async (t) => {
    const dir = await tempDir(t)
    const result = spawnSync(process.execPath, [bin, 'run', '--dir', dir, '--', process.execPath, fixturePath('run-throw.mjs'), mode], { encoding: 'utf8', timeout: 30_000 })
    assert.equal(result.status, 1, result.stderr)
    assert.match(result.stderr, /^Error: boom$/m, 'still shown on the terminal')
    const text = readFileSync(runFileIn(dir, 'run-throw'), 'utf8')
    const reports = [...text.matchAll(/^.* \[ERROR\] Error: boom event=uncaught stream=stderr pid_=(\d+)\n((?: {2}\| .*\n)+)/gm)]
    assert.equal(reports.length, 1, text)
    const [report] = reports as [RegExpExecArray]
    assert.match(report[2] as string, /^ {2}\| .*run-throw\.mjs:\d+\n/, 'the header: where it was thrown')
    assert.match(report[2] as string, /^ {2}\| {5}at Timeout\._onTimeout \(.*run-throw\.mjs:\d+:\d+\)$/m, 'the stack, on continuation lines')
    assert.match(report[2] as string, /^ {2}\| Node\.js v\d+/m)
    assert.match(text, new RegExp(`child started: pid ${report[1]}`), 'attributed to the child')
    assert.doesNotMatch(text, /\[WARNING\] .*(at |Error: boom|Node\.js v)/, 'no warning per line of the report')
    if (mode === 'unguarded') {
      assert.match(text, /\[INFO\] child started mode=unguarded/)
      assert.doesNotMatch(text, /\[CRITICAL\]/, 'no guard, no record of its own')
    }
    assert.match(text, /event=run-end verdict=uncaught/)
  })
}

test('getLoggerFromEnv() in a child of blackbox run installs the crash guard: the throw is a CRITICAL record with its stack', async (t) => {
  const dir = await tempDir(t)
  const result = spawnSync(process.execPath, [bin, 'run', '--dir', dir, '--', process.execPath, fixturePath('run-throw.mjs'), 'guarded'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(result.status, 1, result.stderr)
  const text = readFileSync(runFileIn(dir, 'run-throw'), 'utf8')
  assert.match(text, /\[CRITICAL\] uncaught exception: boom event=uncaught ending=uncaught\n {2}\| Error: boom\n {2}\| {5}at Timeout\._onTimeout \(.*run-throw\.mjs:\d+:\d+\)\n/)
  assert.match(text, /event=run-end verdict=uncaught/)
})
