import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { fixturePath, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const bin = fixturePath('../../dist/cli/main.js')
const child = fixturePath('run-child.mjs')

function runFileIn(dir: string): string {
  const [day] = readdirSync(dir)
  const file = readdirSync(join(dir, day as string)).find((name) => /^run-child_\d\d-\d\d-\d\d(_\d+)?\.log$/.test(name))
  return join(dir, day as string, file as string)
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

/** A memory cgroup of our own under this process's, where the kernel can be made to kill for memory. */
function memoryCgroup(t: TestContext): string | undefined {
  let line: string | undefined
  try {
    line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(entry))
  } catch {
    line = undefined
  }
  const base = line ? join('/sys/fs/cgroup/memory', line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1)) : undefined
  if (!base || !existsSync(join(base, 'memory.limit_in_bytes'))) {
    t.skip('no cgroup v1 memory controller to limit a child with here')
    return undefined
  }
  const cgroup = join(base, `blackbox-oom-${process.pid}`)
  try {
    mkdirSync(cgroup)
    writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(96 * 1024 * 1024))
    if (existsSync(join(cgroup, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(cgroup, 'memory.memsw.limit_in_bytes'), String(96 * 1024 * 1024))
  } catch (error) {
    t.skip(`cannot make a memory cgroup here: ${(error as Error).message}`)
    return undefined
  }
  t.after(() => rmdirSync(cgroup))
  return cgroup
}

test('a memory-limited child killed by the kernel: verdict oom', async (t) => {
  const cgroup = memoryCgroup(t)
  if (!cgroup) return
  const dir = await tempDir(t)
  const supervisor = spawn(process.execPath, [bin, 'run', '--dir', dir, '--sample-interval', '50', '--', process.execPath, child, 'oom'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  supervisor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => /pid (\d+)/.test(out), { what: 'the child to start', timeoutMs: 15_000 })
  writeFileSync(join(cgroup, 'cgroup.procs'), /pid (\d+)/.exec(out)?.[1] as string)
  // The supervisor must have seen the move before the kill: it says so in the run file.
  await waitUntil(() => readFileSync(runFileIn(dir), 'utf8').includes(`memory cgroup of ${cgroup}`), { what: 'the supervisor to see the child in the cgroup', timeoutMs: 10_000 })
  supervisor.stdin.write('go\n')
  const status = await new Promise((resolve) => supervisor.once('exit', resolve))
  assert.equal(status, 137)
  assert.match(readFileSync(runFileIn(dir), 'utf8'), /run ended: killed by the OOM killer \(signal SIGKILL\).* verdict=oom/)
  assert.equal(postmortemVerdict(dir), 'oom')
})
