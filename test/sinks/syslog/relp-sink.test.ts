import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { encodeRelpFrame, RelpDecoder, type RelpFrame } from '../../../src/sinks/syslog/relp-frame.ts'
import { relpSink } from '../../../src/sinks/syslog/relp-sink.ts'
import { parseSyslogMessage, sdParams } from '../../helpers/rfc5424-parser.ts'
import { fixturePath, runNode, waitUntil } from '../../helpers/process.ts'
import { rsyslogUnavailable, startRsyslog, type Rsyslog } from '../../helpers/rsyslog.ts'
import { tempDir } from '../../helpers/tmp.ts'

const DELIVERY_TIMEOUT_MS = 15_000

async function rsyslogOrSkip(t: TestContext): Promise<Rsyslog | undefined> {
  const why = rsyslogUnavailable({ relp: true })
  if (why !== undefined) {
    t.diagnostic(why)
    t.skip(why)
    return undefined
  }
  return startRsyslog(t, { relp: true })
}

/** The `i` field of each message of `appName` rsyslog wrote, in order. */
function indexes(rsyslog: Rsyslog, appName: string): number[] {
  return rsyslog.received(appName).map((received) => Number(sdParams(received.sd, 'fields@32473')?.['i']))
}

test('every record is acknowledged: when flush() resolves rsyslog has written them all; the spool goes at close', async (t) => {
  const rsyslog = await rsyslogOrSkip(t)
  if (!rsyslog) return
  const spool = join(await tempDir(t), 'app.spool')
  const sink = relpSink({ host: '127.0.0.1', port: rsyslog.ports.relp, spool, appName: 'bb-relp', facility: 'local0' })
  const log = createLogger({ name: 'relp', sinks: [sink] })
  const count = 2000
  for (let i = 0; i < count; i++) log.info({ i }, 'acknowledged')
  log.warn('last')
  assert.equal(sink.pending, count + 1, 'each record is in the spool when its call returns')
  await log.flush()
  assert.equal(sink.pending, 0)
  // No waiting here: rsyslog (with a direct queue) writes a record before acknowledging it.
  const got = rsyslog.received('bb-relp')
  assert.deepEqual(got.slice(0, count).map((received) => Number(sdParams(received.sd, 'fields@32473')?.['i'])), Array.from({ length: count }, (_, i) => i))
  assert.equal(got[0]?.pri, 16 * 8 + 6)
  assert.equal(got[0]?.msgId, 'relp')
  assert.equal(got.at(-1)?.severity, 4)
  assert.equal(got.at(-1)?.msg, '\uFEFFlast')
  assert.ok(existsSync(sink.spoolPath))
  await log.close()
  assert.equal(existsSync(sink.spoolPath), false, 'a drained spool is removed at close')
})

test('rsyslog SIGKILLed and restarted in the middle of a stream: every record arrives at least once', async (t) => {
  const rsyslog = await rsyslogOrSkip(t)
  if (!rsyslog) return
  const spool = join(await tempDir(t), 'kill.spool')
  const sink = relpSink({ host: '127.0.0.1', port: rsyslog.ports.relp, spool, appName: 'bb-relp-kill', minReconnectDelay: 20, maxReconnectDelay: 200 })
  const log = createLogger({ sinks: [sink] })
  const count = 6000
  const killAt = 2000
  const restartAt = 4000
  for (let i = 0; i < count; i++) {
    // A burst of 1000 just before the kill, so that the window is full when it comes.
    if (i >= killAt - 1000 && i < killAt) {
      log.info({ i }, 'streamed')
      continue
    }
    if (i === killAt) await waitUntil(() => rsyslog.received('bb-relp-kill').length > 0, { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'the first records at rsyslog' })
    log.info({ i }, 'streamed')
    if (i === killAt) {
      // Mid-stream: earlier records acknowledged, a window's worth in flight (rsyslog may
      // have written some whose answers are lost with it), the rest not sent yet.
      assert.ok(sink.pending > 0, 'records unacknowledged when rsyslog dies')
      await new Promise((resolve) => setImmediate(resolve))
      await rsyslog.kill('SIGKILL')
    }
    if (i === restartAt) await rsyslog.start()
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
  }
  await log.flush()
  const seen = new Set(indexes(rsyslog, 'bb-relp-kill'))
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i))
  assert.deepEqual(missing, [], 'no record lost')
  t.diagnostic(`${indexes(rsyslog, 'bb-relp-kill').length - count} duplicates (resent after the kill, allowed)`)
  assert.equal(sink.dropped, 0)
  await log.close()
})

test('a process that dies while the server is down leaves its records in the spool; the next run sends them', async (t) => {
  const rsyslog = await rsyslogOrSkip(t)
  if (!rsyslog) return
  await rsyslog.kill('SIGKILL')
  const spool = join(await tempDir(t), 'child.spool')
  const count = 500
  const child = await runNode(fixturePath('relp-log-then-die.mjs'), [String(rsyslog.ports.relp), spool, String(count)])
  assert.equal(child.signal, 'SIGKILL', child.stderr)
  assert.equal(child.stdout, `logged ${count}\n`)
  assert.ok(existsSync(spool), 'the spool outlives the process')

  await rsyslog.start()
  const sink = relpSink({ host: '127.0.0.1', port: rsyslog.ports.relp, spool, appName: 'bb-relp-next' })
  assert.equal(sink.spoolPath, spool, 'the dead process held the lock; it is taken over')
  assert.equal(sink.pending, count)
  await sink.flush()
  assert.deepEqual(indexes(rsyslog, 'bb-relp-child'), Array.from({ length: count }, (_, i) => i))
  await sink.close()
})

test('a full spool drops the newest records, and a later record says how many', async (t) => {
  const rsyslog = await rsyslogOrSkip(t)
  if (!rsyslog) return
  await rsyslog.kill('SIGKILL')
  const spool = join(await tempDir(t), 'full.spool')
  const sink = relpSink({ host: '127.0.0.1', port: rsyslog.ports.relp, spool, appName: 'bb-relp-full', maxSpoolBytes: 4000, minReconnectDelay: 20, maxReconnectDelay: 100 })
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < 100; i++) log.info({ i }, 'while the server is down')
  const kept = sink.pending
  const dropped = sink.dropped
  assert.equal(kept + dropped, 100)
  assert.ok(dropped > 0)
  await rsyslog.start()
  await log.flush()
  log.info({ i: 100 }, 'after')
  await log.flush()
  const got = rsyslog.received('bb-relp-full')
  assert.deepEqual(got.slice(0, kept).map((received) => Number(sdParams(received.sd, 'fields@32473')?.['i'])), Array.from({ length: kept }, (_, i) => i), 'the oldest were kept')
  const notice = got[kept]
  assert.match(notice?.msg ?? '', new RegExp(`^\\uFEFFblackbox: ${dropped} records were dropped: the spool .* was full`))
  assert.equal(notice?.severity, 4)
  assert.equal(sdParams(got[kept + 1]?.sd ?? [], 'fields@32473')?.['i'], '100')
  await log.close()
})

/** A RELP server of our own, to script what rsyslog would not do on demand. */
async function fakeServer(t: TestContext, onFrame: (frame: RelpFrame, socket: Socket, session: number) => void): Promise<number> {
  let sessions = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    const session = ++sessions
    sockets.add(socket)
    const decoder = new RelpDecoder()
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) onFrame(frame, socket, session)
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

test('against a scripted server: offers, resending in a new session with new numbers, a refusal, serverclose', async (t) => {
  const seen: Array<{ session: number; txnr: number; command: string; msg: string }> = []
  let opens = ''
  const port = await fakeServer(t, (frame, socket, session) => {
    const msg = frame.command === 'syslog' ? (parseSyslogMessage(frame.data.toString()).msg ?? '') : ''
    seen.push({ session, txnr: frame.txnr, command: frame.command, msg })
    if (frame.command === 'open') {
      opens = frame.data.toString()
      socket.write(encodeRelpFrame(frame.txnr, 'rsp', '200 OK\nrelp_version=0\nrelp_software=fake\ncommands=syslog'))
    } else if (frame.command === 'syslog' && session === 1) {
      // The first session acknowledges 'a', refuses 'b', leaves 'c' unanswered and ends.
      if (msg === 'a') socket.write(encodeRelpFrame(frame.txnr, 'rsp', '200 OK'))
      if (msg === 'b') socket.write(encodeRelpFrame(frame.txnr, 'rsp', '500 not today'))
      if (msg === 'c') socket.end(encodeRelpFrame(0, 'serverclose'))
    } else if (frame.command === 'syslog') {
      socket.write(encodeRelpFrame(frame.txnr, 'rsp', '200 OK'))
    } else if (frame.command === 'close') {
      socket.end(encodeRelpFrame(frame.txnr, 'rsp'))
    }
  })
  const spool = join(await tempDir(t), 'fake.spool')
  const sink = relpSink({ host: '127.0.0.1', port, spool, appName: 'bb-fake', minReconnectDelay: 10, maxReconnectDelay: 50 })
  const log = createLogger({ sinks: [sink] })
  log.info('a')
  log.info('b')
  log.info('c')
  await log.flush()
  assert.equal(sink.refused, 1)
  assert.match(String(sink.failures.lastError), /refused a record \("500 not today"\)|serverclose/)
  log.info('d')
  await log.close()
  assert.match(opens, /^relp_version=0\nrelp_software=blackbox-log\ncommands=syslog$/)
  assert.deepEqual(
    seen.map(({ session, txnr, command, msg }) => `${session} ${txnr} ${command} ${msg}`),
    ['1 1 open ', '1 2 syslog a', '1 3 syslog b', '1 4 syslog c', '2 1 open ', '2 2 syslog c', '2 3 syslog d', '2 4 close '],
  )
})

test('a server that stops answering: after ackTimeout the session is reopened and the records resent', async (t) => {
  const sessions: string[][] = []
  const port = await fakeServer(t, (frame, socket, session) => {
    if (frame.command === 'open') {
      sessions[session - 1] = []
      socket.write(encodeRelpFrame(frame.txnr, 'rsp', '200 OK\nrelp_version=0\ncommands=syslog'))
    } else if (frame.command === 'syslog') {
      sessions[session - 1]?.push(parseSyslogMessage(frame.data.toString()).msg ?? '')
      // The first session swallows everything in silence.
      if (session > 1) socket.write(encodeRelpFrame(frame.txnr, 'rsp', '200 OK'))
    } else if (frame.command === 'close') {
      socket.end(encodeRelpFrame(frame.txnr, 'rsp'))
    }
  })
  const sink = relpSink({ host: '127.0.0.1', port, spool: join(await tempDir(t), 'silent.spool'), ackTimeout: 200, minReconnectDelay: 10, maxReconnectDelay: 50 })
  const log = createLogger({ sinks: [sink] })
  log.info('one')
  log.info('two')
  await log.flush()
  assert.deepEqual(sessions, [['one', 'two'], ['one', 'two']])
  assert.match(String(sink.failures.lastError), /answered nothing for 200 ms \(ackTimeout\)/)
  await log.close()
})

test('option errors name the option and what was expected', async (t) => {
  const dir = await tempDir(t)
  assert.throws(() => relpSink({ host: '127.0.0.1', port: 0, spool: join(dir, 's') }), { message: 'Expected `port` to be an integer from 1 to 65535, got `0` (number)' })
  assert.throws(() => relpSink({ host: '127.0.0.1', window: 0, spool: join(dir, 's') }), { message: 'Expected `window` to be an integer of at least 1, got `0` (number)' })
  assert.throws(() => relpSink({ host: '127.0.0.1', maxSpoolBytes: 'lots', spool: join(dir, 's') }), /Expected `maxSpoolBytes` to be a positive size like "10 MB"/)
  assert.throws(() => relpSink({ host: '127.0.0.1', spool: '' }), { message: 'Expected `spool` to be a file path, got `` (string)' })
})
