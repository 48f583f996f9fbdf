import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setImmediate } from 'node:timers/promises'
import { createLogger } from '../../../src/index.ts'
import { RELP_WINDOW_FRAMES } from '../../../src/sinks/syslog/relp-client.ts'
import { encodeRelpFrame, RelpDecoder, type RelpFrame } from '../../../src/sinks/syslog/relp-frame.ts'
import { relpSink } from '../../../src/sinks/syslog/relp-sink.ts'
import { parseSyslogMessage, sdParams } from '../../helpers/rfc5424-parser.ts'
import { fixturePath, runNode, waitUntil } from '../../helpers/process.ts'
import { rsyslogOrSkip, type Rsyslog } from '../../helpers/rsyslog.ts'
import { tempDir } from '../../helpers/tmp.ts'

const DELIVERY_TIMEOUT_MS = 15_000
const RELP = { relp: true }

/** The `i` field of each message of `appName` rsyslog wrote, in order. */
function indexes(rsyslog: Rsyslog, appName: string): number[] {
  return rsyslog.received(appName).map((received) => Number(sdParams(received.sd, 'fields@32473')?.['i']))
}

test('every record is acknowledged: when flush() resolves rsyslog has written them all; the spool goes at close', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, RELP)
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

/** `[0, 1, 2, 5, 7, 8]` as `0-2, 5, 7-8`, so a report of thousands of indexes stays short. */
function ranges(sorted: readonly number[]): string {
  const parts: string[] = []
  for (let k = 0; k < sorted.length; k++) {
    const first = sorted[k] as number
    while (sorted[k + 1] === (sorted[k] as number) + 1) k++
    parts.push(first === sorted[k] ? String(first) : `${first}-${sorted[k]}`)
  }
  return parts.length === 0 ? 'none' : parts.join(', ')
}

/** Rejects, naming the bound, if `promise` has not settled within `timeoutMs`. */
async function settlesWithin<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const STREAM_COUNT = 3000
const STOP_AT = 1000
const RESTART_AT = 2000
const YIELD_EVERY = 100
const STREAM_FLUSH_TIMEOUT_MS = 5_000
// The bound on ending the session in close().
const STREAM_CLOSE_TIMEOUT_MS = 2_000
const CLOSE_MARGIN_MS = 1_000
// maxReconnectDelay (200 ms) and a connection to 127.0.0.1, with room to spare.
const RECONNECT_TIMEOUT_MS = 5_000

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`rsyslog stopped (${signal}) and restarted in the middle of ${STREAM_COUNT} records: each arrives, duplicates only from the window in flight, close() settles`, async (t) => {
    const rsyslog = await rsyslogOrSkip(t, RELP)
    if (!rsyslog) return
    const appName = `bb-relp-${signal.toLowerCase()}`
    const sink = relpSink({
      host: '127.0.0.1',
      port: rsyslog.ports.relp,
      spool: join(await tempDir(t), 'restart.spool'),
      appName,
      minReconnectDelay: 20,
      maxReconnectDelay: 200,
      flushTimeout: STREAM_FLUSH_TIMEOUT_MS,
      closeTimeout: STREAM_CLOSE_TIMEOUT_MS,
    })
    const log = createLogger({ sinks: [sink] })
    let unackedAtStop = 0
    for (let i = 0; i < STREAM_COUNT; i++) {
      log.info({ i }, 'streamed')
      // The session is up before the stream goes on, so the stop comes in the middle of it.
      if (i === 0) await waitUntil(() => sink.pending === 0, { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'the first record to be acknowledged' })
      // The yield lets the pump put the last burst on the wire: some of it is in flight when rsyslog stops.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await setImmediate()
      if (i === STOP_AT - 1) {
        unackedAtStop = sink.pending
        await rsyslog.kill(signal)
      }
      if (i === RESTART_AT - 1) await rsyslog.start()
    }

    // close() flushes only over an open session (with none, the records wait in the spool for
    // the next run), and the sink may still be in its reconnect delay: wait for the session.
    t.diagnostic(`session ${sink.connected ? 'already open' : 'not open yet'} when the last record was logged`)
    await waitUntil(() => sink.connected, { timeoutMs: RECONNECT_TIMEOUT_MS, what: 'the sink to reopen its session after the restart' })
    const closeBoundMs = STREAM_FLUSH_TIMEOUT_MS + STREAM_CLOSE_TIMEOUT_MS + CLOSE_MARGIN_MS
    const closeStarted = performance.now()
    await settlesWithin(log.close(), closeBoundMs, 'log.close() (flushTimeout + closeTimeout + margin)')
    t.diagnostic(`close() settled in ${Math.round(performance.now() - closeStarted)} ms (bound ${closeBoundMs} ms); ${sink.pending} records left in the spool`)

    const missing = (): number[] => {
      const seen = new Set(indexes(rsyslog, appName))
      return Array.from({ length: STREAM_COUNT }, (_, i) => i).filter((i) => !seen.has(i))
    }
    try {
      await waitUntil(() => missing().length === 0, { timeoutMs: DELIVERY_TIMEOUT_MS, what: `rsyslog to write all ${STREAM_COUNT} records` })
    } catch (error) {
      const lacking = missing()
      assert.fail(`${(error as Error).message}: ${lacking.length} missing (${ranges(lacking)}); spool pending ${sink.pending}, last failure: ${String(sink.failures.lastError)}`)
    }

    const got = indexes(rsyslog, appName)
    const copies = new Map<number, number>()
    for (const i of got) copies.set(i, (copies.get(i) ?? 0) + 1)
    assert.deepEqual([...copies.keys()].filter((i) => !Number.isInteger(i) || i < 0 || i >= STREAM_COUNT), [], 'only the records logged')
    const duplicated = [...copies].filter(([, n]) => n > 1).map(([i]) => i).sort((a, b) => a - b)
    const extra = got.length - STREAM_COUNT
    // RELP resends what was not acknowledged when the session broke: at most a window, all
    // from the records unacknowledged when rsyslog was stopped.
    const firstUnacked = STOP_AT - unackedAtStop
    t.diagnostic(`${unackedAtStop} records unacknowledged at the stop (from ${firstUnacked}); duplicates: ${extra} (${ranges(duplicated)})`)
    assert.ok(extra <= RELP_WINDOW_FRAMES, `${extra} duplicates, more than a window (${RELP_WINDOW_FRAMES}): ${ranges(duplicated)}`)
    assert.deepEqual(
      duplicated.filter((i) => i < firstUnacked || i >= firstUnacked + RELP_WINDOW_FRAMES),
      [],
      `duplicates only among the window unacknowledged at the stop (${firstUnacked}-${firstUnacked + RELP_WINDOW_FRAMES - 1})`,
    )
    assert.equal(sink.dropped, 0)
    assert.equal(sink.refused, 0)
  })
}

test('a process that dies while the server is down leaves its records in the spool; the next run sends them', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, RELP)
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
  const rsyslog = await rsyslogOrSkip(t, RELP)
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
