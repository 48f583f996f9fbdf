import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { createLogger, resilientFileSink, type ResilientFileSinkOptions } from '../../src/index.ts'
import { fixturePath, spawnNode, waitUntil } from '../helpers/process.ts'
import { fillDisk, smallDisk } from '../helpers/tmpfs.ts'
import { tempDir } from '../helpers/tmp.ts'

const MB = 1024 * 1024

/** A small real disk, or the test says why not and is skipped. */
async function diskOrSkip(t: TestContext, size: number): Promise<string | undefined> {
  const disk = await smallDisk(t, size)
  if ('reason' in disk) {
    t.skip(disk.reason)
    return undefined
  }
  return disk.dir
}

function jsonNumbers(text: string): number[] {
  return text.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { i?: number }).i).filter((i): i is number => i !== undefined)
}

/** The recovery timer never keeps a process alive; while a test awaits it, something must. */
async function keptAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1000)
  try {
    return await promise
  } finally {
    clearInterval(timer)
  }
}

function quietSink(options: ResilientFileSinkOptions) {
  const sink = resilientFileSink({ fallback: 'none', minFreeSpace: '16 KB', recoveryInterval: 50, maxSize: false, ...options })
  return { sink, log: createLogger({ sinks: [sink] }) }
}

test('a full disk: the program goes on, the fallback gets every record, recovery replays them all exactly once, in order', async (t) => {
  let dir = await diskOrSkip(t, 4 * MB)
  let free: () => void
  if (dir) {
    const filler = fillDisk(dir)
    free = () => rmSync(filler)
  } else {
    // Without a tmpfs: /dev/full gives the same ENOSPC; "freeing space" replaces it with a file.
    dir = await tempDir(t)
    const link = join(dir, 'app.log')
    symlinkSync('/dev/full', link)
    free = () => rmSync(link)
    t.diagnostic('no tmpfs here: the failure path runs against /dev/full')
  }
  const path = join(dir, 'app.log')
  const child = spawnNode(fixturePath('disk-full-child.mjs'), [path, '10000', 'recover'], { stdin: true })
  await waitUntil(() => child.stdout().includes('logged 10000'), { what: 'the child to log 10,000 records on a full disk', timeoutMs: 20_000 })
  assert.match(child.stdout(), /^degraded\n/)
  free()
  child.child.stdin?.write('free\n')
  const result = await child.exited()
  assert.equal(result.code, 0, result.stderr.slice(-2000))
  assert.match(result.stdout, /recovered \{"downtimeMs":\d+,"replayed":\d+,"dropped":0\}/)
  assert.match(result.stderr, /CRITICAL: Disk full! No space left on device \(ENOSPC\) writing .*app\.log\. Switching to stderr; .* Recovery check every 0 s\./)
  assert.match(result.stderr, /blackbox: logging to .*app\.log recovered after \d+ s; \d+ records replayed, 0 dropped/)
  const fallback = jsonNumbers(result.stderr)
  const file = readFileSync(path, 'utf8')
  assert.deepEqual(jsonNumbers(file), Array.from({ length: 10_000 }, (_, i) => i), 'every record exactly once, in order')
  assert.equal(fallback.at(-1), 9999, 'the fallback received the records logged while degraded')
  assert.deepEqual(fallback, Array.from({ length: fallback.length }, (_, k) => 10_000 - fallback.length + k))
  assert.match(file.trimEnd().split('\n').at(-1) ?? '', /"event":"outage".*"replayed":\d+,"dropped":0,"msg":"blackbox: .* could not be written from .* to .* \(ENOSPC: .*\): \d+ records replayed, 0 dropped"/)
})

test('emergency cleanup removes the oldest managed backups first, never the current file or foreign files, and says how much it freed', async (t) => {
  const dir = await diskOrSkip(t, 2 * MB)
  if (!dir) return
  const backups = ['app.log.1.gz', 'app.log.2', 'app.log.3.gz', 'app.log.4']
  for (const [k, name] of backups.entries()) {
    writeFileSync(join(dir, name), Buffer.alloc(100 * 1024, 0x41))
    const when = (Date.now() - (k + 1) * 60_000) / 1000
    utimesSync(join(dir, name), when, when)
  }
  writeFileSync(join(dir, 'app.log.old'), 'foreign')
  writeFileSync(join(dir, 'other.log.9'), 'foreign')
  const { sink, log } = quietSink({ path: join(dir, 'app.log'), emergencyCleanup: '150 KB', maxFiles: 10 })
  const cleanups: { files: string[]; freedBytes: number }[] = []
  sink.on('cleanup', (event) => cleanups.push(event))
  log.info('before the disk fills')
  const filler = fillDisk(dir)
  // The last page of the file may still take a few records; the first that does not fit degrades the sink.
  for (let k = 0; k < 10_000 && !sink.state.degraded; k++) log.info('filling the last page')
  assert.equal(sink.state.degraded, true)
  assert.deepEqual(cleanups.map((event) => event.files.map((file) => file.slice(dir.length + 1))), [['app.log.4', 'app.log.3.gz']])
  assert.equal(cleanups[0]?.freedBytes, 200 * 1024)
  assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log.1.gz', 'app.log.2', 'app.log.lock', 'app.log.old', 'filler', 'other.log.9'])
  rmSync(filler)
  await log.close()
})

for (const dropPolicy of ['oldest', 'newest'] as const) {
  test(`buffer overflow while degraded (dropPolicy ${dropPolicy}): drops counted and reported exactly`, async (t) => {
    const dir = await diskOrSkip(t, 1 * MB)
    if (!dir) return
    const path = join(dir, 'app.log')
    // Every record is exactly 100 bytes: the 10,000-byte buffer holds exactly 100 of them.
    const { sink, log } = quietSink({ path, bufferLimit: 10_000, dropPolicy, format: '{message}', emergencyCleanup: false })
    const filler = fillDisk(dir)
    // A full tmpfs may still take a few bytes into the last page of the file: fill that too.
    closeSync(openSync(path, 'a'))
    for (let i = 0; i < 1000; i++) log.info(String(i).padStart(4, '0').padEnd(99, '.'))
    assert.equal(sink.state.degraded, true)
    const onDisk = readFileSync(path, 'utf8').split('\n').filter(Boolean).length
    assert.equal(sink.state.buffered, 100)
    assert.equal(sink.state.dropped, 1000 - onDisk - 100)
    const recovered = new Promise<{ downtimeMs: number; replayed: number; dropped: number }>((resolve) => sink.once('recovered', resolve))
    rmSync(filler)
    const outage = await keptAlive(recovered)
    assert.deepEqual(outage, { downtimeMs: outage.downtimeMs, replayed: 100, dropped: 1000 - onDisk - 100 })
    await log.close()
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean)
    const kept = lines.slice(onDisk, onDisk + 100).map((line) => Number(line.slice(0, 4)))
    const first = dropPolicy === 'oldest' ? 900 : onDisk
    assert.deepEqual(kept, Array.from({ length: 100 }, (_, k) => first + k))
    assert.match(lines.at(-1) ?? '', new RegExp(`100 records replayed, ${1000 - onDisk - 100} dropped`))
  })
}

test('a SIGKILL while degraded: the records already written to the fallback stream are there', async (t) => {
  const dir = await diskOrSkip(t, 1 * MB)
  if (!dir) return
  fillDisk(dir)
  const stderrPath = join(await tempDir(t), 'stderr')
  const stderr = openSync(stderrPath, 'w')
  const child = spawn(process.execPath, [fixturePath('disk-full-child.mjs'), join(dir, 'app.log'), '1000000', 'hold'], { stdio: ['ignore', 'pipe', stderr] })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => /logged [1-9]\d{3,}/.test(out), { what: 'the child to log a few thousand degraded records', timeoutMs: 20_000 })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  closeSync(stderr)
  const reported = Math.max(...[...out.matchAll(/logged (\d+)/g)].map((match) => Number(match[1])))
  const fallback = jsonNumbers(readFileSync(stderrPath, 'utf8').split('\n').filter((line) => line.endsWith('}')).join('\n'))
  const onDisk = jsonNumbers(readFileSync(join(dir, 'app.log'), 'utf8'))
  const seen = new Set([...fallback, ...onDisk])
  for (let i = 0; i < reported; i++) assert.ok(seen.has(i), `record ${i} (of ${reported} reported) is in the file or the fallback`)
})

test('ENOSPC in the middle of rotations and compressions: reported, writing goes on, nothing lost once space returns', async (t) => {
  const dir = await diskOrSkip(t, 1 * MB)
  if (!dir) return
  const path = join(dir, 'app.log')
  const reserve = join(dir, 'reserve')
  writeFileSync(reserve, Buffer.alloc(300 * 1024))
  const { sink, log } = quietSink({ path, maxSize: '64 KB', maxFiles: 1000, compress: 'gzip', format: '{message}', emergencyCleanup: false })
  let i = 0
  // Log until the disk is full; yield now and then so compressions run (and fail) meanwhile.
  while (!sink.state.degraded) {
    for (let k = 0; k < 100; k++) log.info(String(i++))
    await new Promise((resolve) => setImmediate(resolve))
  }
  for (let k = 0; k < 500; k++) log.info(String(i++))
  const recovered = new Promise((resolve) => sink.once('recovered', resolve))
  rmSync(reserve)
  await keptAlive(recovered)
  await log.close()
  const names = readdirSync(dir)
  assert.ok(!names.some((name) => name.endsWith('.tmp')), 'no temporary archive left behind')
  const backups = names.filter((name) => /^app\.log\.\d+(\.gz)?$/.test(name)).sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))
  const text = backups.map((name) => (name.endsWith('.gz') ? gunzipSync(readFileSync(join(dir, name))).toString() : readFileSync(join(dir, name), 'utf8'))).join('') + readFileSync(path, 'utf8')
  const numbers = text.split('\n').filter((line) => /^\d+$/.test(line)).map(Number)
  assert.deepEqual(numbers, Array.from({ length: i }, (_, k) => k), 'every record exactly once, in order, across backups and the current file')
})

test('bad options are refused at creation', async (t) => {
  const path = join(await tempDir(t), 'x.log')
  assert.throws(() => resilientFileSink({ path, fallback: 'syslog' as 'stderr' }), /Expected `fallback` to be 'stdout', 'stderr' or 'none', got `syslog`/)
  assert.throws(() => resilientFileSink({ path, bufferLimit: 'lots' }), /Expected `bufferLimit` to be a positive size .* got `lots`/)
  assert.throws(() => resilientFileSink({ path, recoveryInterval: 0 }), /Expected `recoveryInterval` to be a positive integer of ms, got `0`/)
  assert.throws(() => resilientFileSink({ path, dropPolicy: 'random' as 'oldest' }), /Expected `dropPolicy` to be 'oldest' or 'newest'/)
})
