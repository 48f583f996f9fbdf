import assert from 'node:assert/strict'
import { existsSync, readdirSync, symlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLogger } from '../../../src/index.ts'
import { syslogSink, type SyslogSinkOptions } from '../../../src/sinks/syslog/syslog-sink.ts'
import { sdParams } from '../../helpers/rfc5424-parser.ts'
import {
  findRsyslogModuleDir,
  opensslUnavailable,
  RSYSLOG_START_TIMEOUT_MS,
  rsyslogOrSkip,
  rsyslogUnavailable,
  startRsyslog,
  type Received,
  type Rsyslog,
} from '../../helpers/rsyslog.ts'
import { waitUntil } from '../../helpers/process.ts'
import { tempDir } from '../../helpers/tmp.ts'

const DELIVERY_TIMEOUT_MS = 10_000
const BOM = '\uFEFF'

async function receivedCount(rsyslog: Rsyslog, appName: string, count: number): Promise<Received[]> {
  await waitUntil(() => rsyslog.received(appName).length >= count, { timeoutMs: DELIVERY_TIMEOUT_MS, what: `rsyslog to write ${count} messages of ${appName}` })
  return rsyslog.received(appName)
}

/** Logs one record of each level with fields, a child with bindings and an error; checks each part as rsyslog saw it. */
async function roundTrip(rsyslog: Rsyslog, options: Omit<SyslogSinkOptions, 'appName'>, lineBreak = '#012'): Promise<void> {
  const appName = `bb-${options.protocol ?? 'tcp'}-${options.framing ?? 'octets'}`
  const sink = syslogSink({ ...options, appName, facility: 'local3' })
  const log = createLogger({ name: 'orders', level: 'trace', sinks: [sink] })
  const levels = ['trace', 'debug', 'info', 'success', 'warn', 'error', 'fatal'] as const
  for (const [i, level] of levels.entries()) log[level]({ i, quote: 'say "hi" [x]\\', 'bad name=1': true }, `${level} message ✓`)
  log.child({ reqId: 42 }, { name: 'child' }).info('from the child')
  log.error(new TypeError('boom'), 'failed')
  await log.flush()
  const got = await receivedCount(rsyslog, appName, levels.length + 2)
  assert.equal(got.length, levels.length + 2)

  const expectedSeverity = [7, 7, 6, 5, 4, 3, 2]
  for (const [i, level] of levels.entries()) {
    const message = got.find((received) => received.msg === `${BOM}${level} message ✓`)
    assert.ok(message, `the ${level} record arrived: ${got.map((received) => received.line).join('\n')}`)
    assert.equal(message.severity, expectedSeverity[i], `${level} severity`)
    assert.equal(message.pri, 19 * 8 + (expectedSeverity[i] as number), `${level} PRI with facility local3`)
    assert.equal(message.hostname, hostname())
    assert.equal(message.appName, appName)
    assert.equal(message.procId, String(process.pid))
    assert.equal(message.msgId, 'orders')
    assert.match(message.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/, 'milliseconds and offset')
    assert.deepEqual(sdParams(message.sd, 'fields@32473'), { i: String(i), quote: 'say "hi" [x]\\', 'bad_name_1': 'true' })
  }
  const child = got.find((received) => received.msg === `${BOM}from the child`)
  assert.equal(child?.msgId, 'child')
  assert.deepEqual(sdParams(child?.sd ?? [], 'fields@32473'), { reqId: '42' })
  const failed = got.find((received) => received.msg === `${BOM}failed`)
  const err = sdParams(failed?.sd ?? [], 'err@32473')
  assert.equal(err?.['type'], 'TypeError')
  assert.equal(err?.['message'], 'boom')
  assert.ok(err?.['stack']?.startsWith(`TypeError: boom${lineBreak}    at `), `the stack, its line breaks as ${lineBreak}: ${err?.['stack']}`)
  await log.close()
}

test('tcp, octet counting: every level, fields, bindings and errors arrive as sent', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { tcp: true })
  if (!rsyslog) return
  await roundTrip(rsyslog, { host: '127.0.0.1', port: rsyslog.ports.tcp, protocol: 'tcp' })
})

test('tcp, newline framing: a line break inside a message cannot end it early', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { tcp: true })
  if (!rsyslog) return
  // rsyslog escapes a received LF as #012; newline framing sends it as the two characters \n.
  await roundTrip(rsyslog, { host: '127.0.0.1', port: rsyslog.ports.tcp, framing: 'newline' }, '\\n')
  const log = createLogger({ sinks: [syslogSink({ host: '127.0.0.1', port: rsyslog.ports.tcp, framing: 'newline', appName: 'bb-newline' })] })
  log.info('first line\n<14>1 2026-01-01T00:00:00Z forged - - - - injected')
  log.info('next')
  await log.flush()
  const got = await receivedCount(rsyslog, 'bb-newline', 2)
  assert.deepEqual(got.map((received) => received.msg), [`${BOM}first line\\n<14>1 2026-01-01T00:00:00Z forged - - - - injected`, `${BOM}next`])
  await log.close()
})

test('udp: one datagram per message; a long one is cut to maxDatagramBytes with a marker', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { udp: true })
  if (!rsyslog) return
  await roundTrip(rsyslog, { host: '127.0.0.1', port: rsyslog.ports.udp, protocol: 'udp' })
  const sink = syslogSink({ host: '127.0.0.1', port: rsyslog.ports.udp, protocol: 'udp', appName: 'bb-udp-long', maxDatagramBytes: 1000 })
  const log = createLogger({ sinks: [sink] })
  log.info({ small: 1 }, 'é'.repeat(3000))
  await log.flush()
  const [received] = await receivedCount(rsyslog, 'bb-udp-long', 1)
  assert.ok(received)
  assert.match(received.msg, /^\uFEFFé+…\[truncated\]$/)
  assert.deepEqual(sdParams(received.sd, 'fields@32473'), { small: '1' }, 'the structured data is kept when it fits')
  // The line as rsyslog wrote it is longer than the datagram only by what the template adds.
  assert.ok(Buffer.byteLength(received.msg) < 1000)
  await log.close()
})

// One rsyslog for both TLS cases: its GnuTLS driver takes about a second to start.
test('tls (RFC 5425): verified against the CA every record arrives; a server the CA does not vouch for gets nothing', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { tls: true })
  if (!rsyslog) return
  await roundTrip(rsyslog, { host: '127.0.0.1', port: rsyslog.ports.tls, protocol: 'tls', tls: { ca: rsyslog.ca ?? '' } })

  // Without the CA, the server's certificate cannot be verified: refused, reported once, retried.
  const sink = syslogSink({ host: '127.0.0.1', port: rsyslog.ports.tls, protocol: 'tls', appName: 'bb-untrusted', minReconnectDelay: 50, maxReconnectDelay: 100, flushTimeout: 100 })
  const log = createLogger({ sinks: [sink] })
  log.info('must not be sent to an unverified server')
  await waitUntil(() => sink.failures.count >= 2, { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'two failed TLS handshakes' })
  assert.match(String((sink.failures.lastError as NodeJS.ErrnoException).code), /CERT|SIGNATURE|VERIFY/)
  assert.equal(sink.queued, 1, 'the record waits in the queue')
  await sink.close()
  assert.equal(rsyslog.received('bb-untrusted').length, 0)
})

test('tcp: the sink reconnects after rsyslog is killed and restarted; what was logged meanwhile arrives', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { tcp: true })
  if (!rsyslog) return
  const sink = syslogSink({ host: '127.0.0.1', port: rsyslog.ports.tcp, appName: 'bb-reconnect', minReconnectDelay: 20, maxReconnectDelay: 100 })
  const log = createLogger({ sinks: [sink] })
  log.info('before')
  await receivedCount(rsyslog, 'bb-reconnect', 1)
  await rsyslog.kill('SIGKILL')
  await waitUntil(() => !sink.connected, { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'the sink to see the connection close' })
  for (let i = 0; i < 50; i++) log.info({ i }, 'while down')
  assert.equal(sink.queued, 50)
  await rsyslog.start()
  await log.flush()
  const got = await receivedCount(rsyslog, 'bb-reconnect', 51)
  assert.deepEqual(got.slice(1).map((received) => sdParams(received.sd, 'fields@32473')?.['i']), Array.from({ length: 50 }, (_, i) => String(i)))
  assert.equal(sink.dropped, 0)
  await log.close()
})

test('tcp: a full queue drops the oldest, and the next message says how many', async (t) => {
  const rsyslog = await rsyslogOrSkip(t, { tcp: true })
  if (!rsyslog) return
  await rsyslog.kill('SIGKILL')
  const sink = syslogSink({ host: '127.0.0.1', port: rsyslog.ports.tcp, appName: 'bb-overflow', maxQueueBytes: 4000, minReconnectDelay: 20, maxReconnectDelay: 100 })
  const log = createLogger({ sinks: [sink] })
  const total = 100
  for (let i = 0; i < total; i++) log.info({ i }, 'queued while nobody listens')
  const dropped = sink.dropped
  assert.ok(dropped > 0 && dropped < total, `some dropped: ${dropped}`)
  await waitUntil(() => sink.failures.count >= 1, { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'the refused connection to be reported' })
  assert.equal((sink.failures.lastError as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  await rsyslog.start()
  await log.flush()
  const kept = total - dropped
  const [notice, ...got] = await receivedCount(rsyslog, 'bb-overflow', kept + 1)
  assert.ok(notice)
  assert.equal(notice.severity, 4)
  assert.equal(notice.msgId, 'blackbox')
  assert.match(notice.msg, new RegExp(`^\uFEFFblackbox: ${dropped} syslog messages were dropped \\(drop-oldest\\)`))
  assert.deepEqual(sdParams(notice.sd, 'fields@32473'), { dropped: String(dropped) })
  assert.deepEqual(
    got.map((received) => Number(sdParams(received.sd, 'fields@32473')?.['i'])),
    Array.from({ length: kept }, (_, k) => dropped + k),
    'the newest records were kept, in order',
  )
  await log.close()
})

/** A copy of rsyslogd's module directory, as symbolic links, without `left out`: a machine where that package is not installed. */
async function moduleDirWithout(t: TestContext, moduleDir: string, leftOut: string): Promise<string> {
  const copy = await tempDir(t, 'blackbox-rsyslog-modules-')
  for (const name of readdirSync(moduleDir)) if (name !== leftOut) symlinkSync(join(moduleDir, name), join(copy, name))
  return copy
}

test('rsyslog helper: finds rsyslogd\'s module directory; an input whose module is missing is refused, naming the Debian package', async (t) => {
  const why = rsyslogUnavailable()
  if (why !== undefined) return t.skip(why)
  const found = findRsyslogModuleDir()
  assert.ok(found, 'neither rsyslogd nor dpkg names the module directory')
  t.diagnostic(`rsyslogd's modules: ${found.dir} (from ${found.source})`)
  assert.ok(existsSync(join(found.dir, 'imtcp.so')), `imtcp.so in ${found.dir}`)

  const withoutGtls = await moduleDirWithout(t, found.dir, 'lmnsd_gtls.so')
  assert.match(rsyslogUnavailable({ tls: true }, { moduleDir: withoutGtls }) ?? '', /^rsyslog-gnutls is not installed: rsyslogd's module directory .* has no lmnsd_gtls\.so, .*; the tls input cannot work/)
  assert.equal(rsyslogUnavailable({ tcp: true, udp: true }, { moduleDir: withoutGtls }), undefined, 'plain TCP and UDP need no driver')
  const withoutRelp = await moduleDirWithout(t, found.dir, 'imrelp.so')
  assert.match(rsyslogUnavailable({ tcp: true, relp: true }, { moduleDir: withoutRelp }) ?? '', /^rsyslog-relp is not installed: .* has no imrelp\.so/)

  // The skip the TLS test takes, through the same function, on a stand-in context.
  const said: string[] = []
  const host = { after: (fn: () => Promise<void> | void) => t.after(fn), skip: (message?: string) => said.push(`skip: ${message}`), diagnostic: (message: string) => said.push(`diagnostic: ${message}`) }
  assert.equal(await rsyslogOrSkip(host, { tls: true }, { moduleDir: withoutGtls }), undefined, 'rsyslog is not started')
  assert.equal(said.length, 2)
  assert.match(said[1] ?? '', /^skip: rsyslog-gnutls is not installed: /)
})

test('rsyslog helper: rsyslogd without the gtls driver fails at once, naming the TLS input and showing what rsyslogd said', async (t) => {
  const why = rsyslogUnavailable({ tcp: true }) ?? opensslUnavailable()
  if (why !== undefined) return t.skip(why)
  const found = findRsyslogModuleDir()
  assert.ok(found)
  const withoutGtls = await moduleDirWithout(t, found.dir, 'lmnsd_gtls.so')
  const started = performance.now()
  await assert.rejects(startRsyslog(t, { tls: true }, { moduleDir: withoutGtls }), (error: Error) => {
    assert.match(error.message, /^rsyslogd did not listen for tls \(imtcp with TLS \(gtls\) on tcp\/\d+\): /)
    assert.match(error.message, /rsyslogd's output:\n.*lmnsd_gtls\.so/)
    return true
  })
  assert.ok(performance.now() - started < RSYSLOG_START_TIMEOUT_MS, 'no waiting for a port that will never listen')
})

test('option errors name the option and what was expected', () => {
  assert.throws(() => syslogSink({ host: '127.0.0.1', port: 0 }), { message: 'Expected `port` to be an integer from 1 to 65535, got `0` (number)' })
  assert.throws(() => syslogSink({ host: '' }), { message: 'Expected `host` to be a host name or IP address, got `` (string)' })
  assert.throws(() => syslogSink({ host: 'x', protocol: 'sctp' as 'tcp' }), { message: "Expected `protocol` to be 'tcp' or 'tls' or 'udp', got `sctp` (string)" })
  assert.throws(() => syslogSink({ host: 'x', protocol: 'udp', framing: 'newline' }), /Expected `framing` to be left out with protocol 'udp'/)
  assert.throws(() => syslogSink({ host: 'x', facility: 'local9' }), /Expected `facility` to be one of kern, user, .* or an integer from 0 to 23, got `local9` \(string\)/)
  assert.throws(() => syslogSink({ host: 'x', maxDatagramBytes: 100, protocol: 'udp' }), { message: 'Expected `maxDatagramBytes` to be an integer of at least 480, got `100` (number)' })
  assert.throws(() => syslogSink({ host: 'x', overflow: 'block' as 'drop-oldest' }), { message: "Expected `overflow` to be 'drop-oldest' or 'drop-newest', got `block` (string)" })
  assert.throws(() => syslogSink({ host: 'x', enterpriseId: 'acme' }), /Expected `enterpriseId` to be a private enterprise number/)
})
