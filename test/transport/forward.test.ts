import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { connectLogger, startCollector } from '../../src/index.ts'
import { startRsyslog, rsyslogUnavailable } from '../helpers/rsyslog.ts'
import { waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'
import { startOtlpReceiver } from '../sinks/otlp/helpers/otlp-receiver.ts'

for (const scheme of ['relp', 'syslog+tcp'] as const) {
  test(`the collector forwards to a real rsyslog over ${scheme}, queueing on disk while it is down`, async (t) => {
    const missing = rsyslogUnavailable(scheme === 'relp' ? { relp: true } : { tcp: true })
    if (missing) {
      t.skip(missing)
      return
    }
    const rsyslog = await startRsyslog(t, scheme === 'relp' ? { relp: true } : { tcp: true })
    const port = scheme === 'relp' ? rsyslog.ports.relp : rsyslog.ports.tcp
    const base = await tempDir(t)
    const socket = join(base, 'run', 'fwd.sock')
    const collector = await startCollector({ socket, dir: join(base, 'logs'), forward: [`${scheme}://127.0.0.1:${port}`] })
    t.after(() => collector.close())
    const log = await connectLogger({ socket, name: 'Forwarded', role: 'worker', heartbeatInterval: 0, format: 'json' })
    const received = () => new Set(rsyslog.received('blackbox-collector').map((entry) => /"?i"?[=:]"?(\d+)/.exec(entry.line)?.[1]).filter((i) => i !== undefined).map(Number))
    for (let i = 0; i < 200; i++) log.info({ i }, 'forwarded record')
    await log.flush()
    await waitUntil(() => received().size === 200, { what: 'the first 200 records upstream', timeoutMs: 15_000 })
    // The upstream goes away; records keep coming and wait in the disk queue.
    await rsyslog.kill('SIGKILL')
    for (let i = 200; i < 400; i++) log.info({ i }, 'forwarded record')
    await log.flush()
    await rsyslog.start()
    await waitUntil(() => received().size === 400, { what: 'all 400 records upstream after the restart', timeoutMs: 30_000 })
    const entry = rsyslog.received('blackbox-collector').find((line) => line.msg.includes('forwarded record'))
    assert.ok(entry, 'the message arrives as the record’s msg')
    assert.equal(entry.severity, 6, 'info is syslog severity 6')
    await log.close()
  })
}

test('the collector forwards to an OTLP/HTTP receiver with otlp+http://', async (t) => {
  const receiver = await startOtlpReceiver(t)
  const base = await tempDir(t)
  const socket = join(base, 'run', 'otlp.sock')
  const collector = await startCollector({ socket, dir: join(base, 'logs'), forward: [`otlp+${receiver.url}`] })
  t.after(() => collector.close())
  const log = await connectLogger({ socket, name: 'Traced', role: 'api', heartbeatInterval: 0, format: 'json' })
  for (let i = 0; i < 50; i++) log.warn({ i, user: 'alice' }, 'through the collector to OTLP')
  await log.close()
  await waitUntil(() => receiver.records().length >= 50, { what: '50 records at the OTLP receiver', timeoutMs: 15_000 })
  const [first] = receiver.records()
  assert.equal(first?.body, 'through the collector to OTLP')
  assert.equal(first?.raw['severityNumber'], 13, 'warn is WARN (13)')
  assert.equal(first?.attributes['user'], 'alice')
  assert.equal(first?.attributes['role'], 'api')
})
