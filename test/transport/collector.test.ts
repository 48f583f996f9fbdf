import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { appLogDir, CollectorClient, connectLogger, createLogger, getLogger, startCollector, type ClientEvent, type ClientExit, type Collector } from '../../src/index.ts'
import { encodeFrame, FrameType } from '../../src/transport/frame.ts'
import { encodeHello } from '../../src/transport/messages.ts'
import { fixturePath, spawnNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const client = fixturePath('collector-peer.mjs')

async function collectorIn(t: Parameters<typeof tempDir>[0], options: { heartbeatTimeout?: number } = {}) {
  const base = await tempDir(t)
  const socket = join(base, 'run', 'app.sock')
  const dir = join(base, 'logs')
  const collector = await startCollector({ socket, dir, heartbeatTimeout: options.heartbeatTimeout ?? 200 })
  t.after(() => collector.close())
  const log = () => (existsSync(join(dir, 'collector.log')) ? readFileSync(join(dir, 'collector.log'), 'utf8') : '')
  const role = (name = 'worker') => (existsSync(join(dir, `${name}.log`)) ? readFileSync(join(dir, `${name}.log`), 'utf8') : '')
  return { base, socket, dir, collector, log, role }
}

function numbers(text: string, name: string): number[] {
  return text.split('\n').filter((line) => line.includes(`"client":"${name}"`)).map((line) => (JSON.parse(line) as { i: number }).i)
}

test('records keep their own time, pid and name; BYE is a clean goodbye', async (t) => {
  const { socket, log, role } = await collectorIn(t)
  const result = spawnNode(client, [socket, 'DataProcessor', '500', 'close'])
  const end = await result.exited()
  assert.equal(end.code, 0, end.stderr)
  await waitUntil(() => /finished: DataProcessor \(pid \d+\) said goodbye \(close\)/.test(log()), { what: 'the goodbye record', timeoutMs: 5000 })
  const lines = role().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { i: number; pid: number; name: string; time: number })
  assert.deepEqual(lines.map((line) => line.i), Array.from({ length: 500 }, (_, i) => i))
  assert.equal(lines[0]?.pid, result.child.pid, 'the client’s pid, not the collector’s')
  assert.equal(lines[0]?.name, 'DataProcessor')
  assert.ok((lines[0]?.time ?? 0) <= Date.now())
  assert.match(log(), /connected: DataProcessor \(role worker, pid \d+\)/)
  assert.doesNotMatch(log(), /dead:/)
})

test('a client SIGKILLed mid-stream: its returned records are there, and its death is recorded with the signal, in time', async (t) => {
  const { socket, log, role, collector, base } = await collectorIn(t)
  const progress = join(base, 'progress')
  const child = spawnNode(client, [socket, 'Doomed', '0', 'kill', progress])
  collector.attach(child.child)
  await waitUntil(() => existsSync(progress) && statSync(progress).size > 20_000, { what: 'the client to log a few thousand records', timeoutMs: 15_000 })
  child.child.kill('SIGKILL')
  const killedAt = Date.now()
  await child.exited()
  await waitUntil(() => /dead: Doomed \(pid \d+\) killed by SIGKILL/.test(log()), { what: 'the death record', timeoutMs: 5000 })
  // Within one heartbeat interval (100 ms) plus one second.
  assert.ok(Date.now() - killedAt < 1100 + 500, 'recorded in time')
  const returned = readFileSync(progress, 'utf8').split('\n').filter(Boolean).map(Number)
  const last = returned.at(-1) ?? -1
  await waitUntil(() => numbers(role(), 'Doomed').length > last, { what: 'every returned record in worker.log', timeoutMs: 5000 })
  const got = numbers(role(), 'Doomed')
  assert.deepEqual(got.slice(0, last + 1), Array.from({ length: last + 1 }, (_, i) => i))
})

test('onClientEvent: hello when a client connects; dead with the exit status of an attached child', async (t) => {
  const base = await tempDir(t)
  const events: [string, ClientEvent, ClientExit | undefined][] = []
  const collector = await startCollector({ socket: join(base, 'run', 'app.sock'), dir: join(base, 'logs'), onClientEvent: (info, event, exit) => events.push([info.name, event, exit]) })
  t.after(() => collector.close())
  const progress = join(base, 'progress')
  const child = spawnNode(client, [collector.socket, 'Doomed', '0', 'kill', progress])
  collector.attach(child.child)
  await waitUntil(() => events.some(([name, event]) => name === 'Doomed' && event === 'hello'), { what: 'the hello event', timeoutMs: 15_000 })
  child.child.kill('SIGKILL')
  await child.exited()
  await waitUntil(() => events.some(([, event]) => event === 'dead'), { what: 'the dead event', timeoutMs: 5000 })
  assert.deepEqual(events.filter(([, event]) => event !== 'late' && event !== 'back'), [['Doomed', 'hello', undefined], ['Doomed', 'dead', { code: null, signal: 'SIGKILL' }]])
})

test('reportDeaths() says at once the death of a client whose exit status is awaited', async (t) => {
  const base = await tempDir(t)
  const events: [string, ClientEvent, ClientExit | undefined][] = []
  const collector = await startCollector({ socket: join(base, 'run', 'app.sock'), dir: join(base, 'logs'), onClientEvent: (info, event, exit) => events.push([info.name, event, exit]) })
  t.after(() => collector.close())
  // A connection that drops while its process (this one) lives: the collector waits for an exit status.
  const raw = connect(collector.socket)
  await new Promise((resolve) => raw.once('connect', resolve))
  raw.end(encodeHello({ clientId: 'dropped', pid: process.pid, name: 'Dropped', role: 'worker', startTime: Date.now(), lastSeq: 0 }))
  await waitUntil(() => collector.clients().some((info) => info.name === 'Dropped' && !info.connected), { what: 'the collector to see the connection drop', timeoutMs: 5000 })
  assert.deepEqual(events, [['Dropped', 'hello', undefined]], 'not said yet: DEATH_WAIT_MS is not over')
  collector.reportDeaths()
  assert.deepEqual(events, [['Dropped', 'hello', undefined], ['Dropped', 'dead', undefined]])
  collector.reportDeaths()
  assert.equal(events.length, 2, 'said once')
})

test('a worker whose heartbeats stop is recorded late, then back', async (t) => {
  const { socket, log } = await collectorIn(t, { heartbeatTimeout: 200 })
  const end = await spawnNode(client, [socket, 'Sleepy', '10', 'block']).exited()
  assert.equal(end.code, 0, end.stderr)
  assert.match(log(), /late: Sleepy \(pid \d+\) has not checked in for \d+ s past its announced heartbeat/)
  assert.match(log(), /back: Sleepy \(pid \d+\) checked in again/)
})

test('malformed frames and random bytes close only that connection; the collector and other clients go on', async (t) => {
  const { socket, log, role, dir } = await collectorIn(t)
  const good = await connectLogger({ socket, name: 'Steady', role: 'steady', heartbeatInterval: 0, format: '{message}' })
  const send = (bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const raw = connect(socket)
      raw.on('error', () => resolve())
      raw.once('close', () => resolve())
      raw.once('connect', () => raw.end(bytes))
    })
  const hello = encodeHello({ clientId: 'raw', pid: process.pid, name: 'raw', role: 'raw', startTime: Date.now(), lastSeq: 0 })
  const cases: [string, Buffer][] = [
    ['bad magic', Buffer.from('XX\u0001\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000')],
    ['bad version', Buffer.concat([hello.subarray(0, 2), Buffer.from([9]), hello.subarray(3)])],
    ['bad type', encodeFrame(77 as FrameType, Buffer.alloc(0))],
    ['oversize', Buffer.from([0x42, 0x42, 1, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])],
    ['bad checksum', Buffer.concat([hello.subarray(0, 8), Buffer.from([0, 0, 0, 0]), hello.subarray(12)])],
    ['LOGS before HELLO', encodeFrame(FrameType.LOGS, Buffer.alloc(13))],
    ['a role that escapes', encodeHello({ clientId: 'x', pid: 1, name: 'x', role: '../etc', startTime: 0, lastSeq: 0 })],
  ]
  for (const [, bytes] of cases) await send(bytes)
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => send(Buffer.from(bytes))), { numRuns: 60 })
  good.info('still here')
  await good.flush()
  assert.match(role('steady'), /still here\n/)
  for (const reason of ['bad magic', 'protocol version 9', 'unknown frame type 77', 'over the limit', 'checksum mismatch', 'the first frame must be HELLO', 'Expected `role`']) {
    assert.ok(log().includes(reason), `collector.log says why: ${reason}`)
  }
  assert.ok(!existsSync(join(dir, '..', 'etc.log')), 'no file outside the log directory')
  await good.close()
})

test('the socket is mode 0600 in a 0700 directory; a second collector on it is refused; a stale socket file is replaced', async (t) => {
  const { socket, dir, collector } = await collectorIn(t)
  assert.equal(statSync(socket).mode & 0o777, 0o600)
  assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700)
  await assert.rejects(startCollector({ socket, dir }), /A collector already listens on/)
  await collector.close()
  // A collector killed without cleaning up leaves its socket file: the next one starts anyway.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`])
  assert.ok(existsSync(socket))
  const next = await startCollector({ socket, dir })
  await next.close()
})

test('a role that would escape the log directory is refused', () => {
  for (const role of ['../x', '/etc/y', 'a\u0000b', '..', 'a/b']) {
    assert.throws(() => new CollectorClient({ socket: '/nonexistent/s.sock', role }), /Expected `role` to be a name of letters/, JSON.stringify(role))
  }
})

test('getLogger: synchronous; records logged before the collector is up are kept and delivered', async (t) => {
  const base = await tempDir(t)
  const socket = join(base, 'run', 'late.sock')
  const dir = join(base, 'logs')
  // A client process logs while no collector listens, and exits: its spool holds the records.
  const early = await spawnNode(client, [socket, 'Early', '300', 'spool']).exited()
  assert.equal(early.code, 0, early.stderr)
  const collector: Collector = await startCollector({ socket, dir })
  t.after(() => collector.close())
  const text = readFileSync(join(dir, 'worker.log'), 'utf8')
  assert.deepEqual(numbers(text, 'Early'), Array.from({ length: 300 }, (_, i) => i))
  assert.match(readFileSync(join(dir, 'collector.log'), 'utf8'), /delivered 300 records that Early \(pid \d+\) left in its spool/)
})

test('getLogger without a collector writes the role file directly, and returns the same logger for a role', async (t) => {
  const dir = await tempDir(t)
  const saved = process.env['BLACKBOX_SOCKET']
  delete process.env['BLACKBOX_SOCKET']
  t.after(() => {
    if (saved !== undefined) process.env['BLACKBOX_SOCKET'] = saved
  })
  const host = getLogger('host-direct', { dir })
  assert.equal(getLogger('host-direct', { dir }), host)
  host.info('no collector here')
  assert.match(readFileSync(join(dir, 'host-direct.log'), 'utf8'), /\[INFO\] no collector here\n/)
  await host.close()
})

test('appLogDir follows the platform', () => {
  const home = '/home/ana'
  assert.equal(appLogDir('myapp', { platform: 'linux', env: {}, home }), '/home/ana/.config/myapp/logs')
  assert.equal(appLogDir('myapp', { platform: 'linux', env: { XDG_CONFIG_HOME: '/xdg' }, home }), '/xdg/myapp/logs')
  assert.equal(appLogDir('myapp', { platform: 'linux', env: { XDG_CONFIG_HOME: 'relative' }, home }), '/home/ana/.config/myapp/logs', 'a relative XDG_CONFIG_HOME is ignored, as the spec says')
  assert.equal(appLogDir('myapp', { platform: 'darwin', env: {}, home: '/Users/ana' }), '/Users/ana/Library/Application Support/myapp/logs')
  assert.equal(appLogDir('myapp', { platform: 'win32', env: { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, home: 'C:\\Users\\ana' }), 'C:\\Users\\ana\\AppData\\Roaming\\myapp\\logs')
  assert.equal(appLogDir('myapp', { platform: 'linux', env: { BLACKBOX_PORTABLE: '1' }, execPath: '/opt/tool/bin/tool' }), '/opt/tool/bin/logs')
  assert.match(appLogDir(undefined, { platform: 'linux', env: {} }), /blackbox\/logs$/)
  assert.throws(() => appLogDir('../evil', { platform: 'linux', env: {}, home }), /Expected `appName` to be a plain name/)
})

test('blackbox collector runs in the foreground and stops on SIGTERM; --detach refuses to start twice', async (t) => {
  const base = await tempDir(t)
  const socket = join(base, 'run', 'cli.sock')
  const bin = fixturePath('../../dist/cli/main.js')
  const foreground = spawn(process.execPath, [bin, 'collector', '--socket', socket, '--dir', join(base, 'logs')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  foreground.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await waitUntil(() => out.includes('collector listening on'), { what: 'the collector to listen', timeoutMs: 10_000 })
  const log = await connectLogger({ socket, name: 'CliClient', role: 'cli', heartbeatInterval: 0 })
  log.info('through the command line collector')
  await log.close()
  const detached = spawnSync(process.execPath, [bin, 'collector', '--socket', socket, '--detach'], { encoding: 'utf8' })
  assert.equal(detached.status, 1)
  assert.match(detached.stderr, /a collector already listens on/)
  foreground.kill('SIGTERM')
  const code = await new Promise((resolve) => foreground.once('exit', resolve))
  assert.equal(code, 0)
  assert.match(readFileSync(join(base, 'logs', 'cli.log'), 'utf8'), /through the command line collector/)
  const started = spawnSync(process.execPath, [bin, 'collector', '--socket', socket, '--dir', join(base, 'logs2'), '--detach'], { encoding: 'utf8' })
  assert.equal(started.status, 0, started.stderr)
  const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1])
  t.after(() => {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      // already gone
    }
  })
  assert.ok(existsSync(`${socket}.pid`))
  const again = spawnSync(process.execPath, [bin, 'collector', '--socket', socket, '--detach'], { encoding: 'utf8' })
  assert.equal(again.status, 1)
})

for (const whenFull of ['drop', 'block'] as const) {
  test(`in-flight memory full with a stalled collector, whenFull '${whenFull}': bounded, and ${whenFull === 'drop' ? 'the drops are counted and told' : 'the wait is bounded, then spilled'}`, async (t) => {
    const base = await tempDir(t)
    const socket = join(base, 'run', 'stall.sock')
    const dir = join(base, 'logs')
    const collectorProcess = spawnNode(fixturePath('collector-process.mjs'), [socket, dir, '10 MB', '5'])
    t.after(() => {
      collectorProcess.child.kill('SIGCONT')
      collectorProcess.child.kill('SIGTERM')
    })
    await waitUntil(() => collectorProcess.stdout().includes('ready'), { what: 'the collector to listen', timeoutMs: 10_000 })
    const sink = new CollectorClient({ socket, name: 'Squeezed', role: 'worker', heartbeatInterval: 0, format: '{message}', maxInFlight: '64 KB', whenFull, blockTimeout: 50 })
    const log = createLogger({ sinks: [sink] })
    await sink.connected()
    collectorProcess.child.kill('SIGSTOP')
    const started = Date.now()
    for (let i = 0; i < 20_000; i++) log.info(`record ${i} ${'x'.repeat(60)}`)
    const elapsed = Date.now() - started
    assert.ok(sink.stats.inFlightBytes <= 64 * 1024, `in-flight memory stays under the bound (${sink.stats.inFlightBytes})`)
    if (whenFull === 'drop') assert.ok(sink.stats.dropped > 0, 'records were dropped and counted')
    else {
      assert.equal(sink.stats.dropped, 0)
      assert.ok(sink.stats.spoolBytes > 0, 'after the bounded wait, the rest went to the spool')
      assert.ok(elapsed < 20_000, `blocking is bounded (${elapsed} ms)`)
    }
    const dropped = sink.stats.dropped
    collectorProcess.child.kill('SIGCONT')
    await log.close()
    const text = readFileSync(join(dir, 'worker.log'), 'utf8')
    if (whenFull === 'drop') {
      assert.match(text, new RegExp(`blackbox: ${dropped} records were dropped \\(in-flight limit reached, whenFull: drop\\)`))
      assert.equal(text.split('\n').filter((line) => line.startsWith('record ')).length, 20_000 - dropped)
    } else {
      assert.equal(text.split('\n').filter((line) => line.startsWith('record ')).length, 20_000, 'nothing lost')
    }
  })
}

test('one exit path: the crash guard’s "exiting with code" record reaches the collector before the client’s BYE', async (t) => {
  const { socket, log, role } = await collectorIn(t)
  const end = await spawnNode(fixturePath('guarded-client-exit.mjs'), [socket, 'Ending']).exited()
  assert.equal(end.code, 3, end.stderr)
  await waitUntil(() => /finished: Ending \(pid \d+\) said goodbye \(exit code 3\)/.test(log()), { what: 'the goodbye record', timeoutMs: 5000 })
  await waitUntil(() => role().includes('"event":"exit"'), { what: `the guard's exit record in worker.log (it holds: ${JSON.stringify(role())})`, timeoutMs: 5000 })
  const records = role().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { event?: string; code?: number })
  assert.equal(records.at(-1)?.code, 3, 'the exit record is the last')
  // The collector counts what it wrote for a client when the BYE arrives: all of them, so the exit record came first.
  assert.equal(/said goodbye \(exit code 3\).* records=(\d+)/.exec(log())?.[1], String(records.length), log())
})

test('getLogger without a collector or a folder says once where its records go (#19)', async (t) => {
  const home = await tempDir(t)
  const script = "import { getLogger } from './dist/index.js'; getLogger('first').info('a'); getLogger('second').info('b')"
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: home, HOME: home }
  delete env['BLACKBOX_SOCKET']
  delete env['BLACKBOX_DIR']
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env, cwd: join(import.meta.dirname, '..', '..') })
  assert.equal(result.status, 0, result.stderr)
  const notes = result.stderr.split('\n').filter((line) => line.startsWith('blackbox: getLogger('))
  assert.equal(notes.length, 1, result.stderr)
  assert.match(notes[0] ?? '', /getLogger\('first'\): no collector \(BLACKBOX_SOCKET is not set\) and no dir given: records go to .*first\.log$/)
  const path = /records go to (.*)$/.exec(notes[0] ?? '')?.[1] ?? ''
  assert.match(readFileSync(path, 'utf8'), /\] a\n/)
})
