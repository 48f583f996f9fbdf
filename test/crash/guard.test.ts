import assert from 'node:assert/strict'
import { existsSync, readFileSync, utimesSync } from 'node:fs'
import { test } from 'node:test'
import { ENV_ALLOW_LIST, createLogger, createRunFile, installCrashGuard, readEnvDefaults, setupLogging, startHeartbeat, unhandledRejectionsMode, validatePrefix } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { fixturePath, runNode, waitUntil } from '../helpers/process.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { tempDir } from '../helpers/tmp.ts'

const fixture = fixturePath('guard-cases.mjs')

async function runCase(t: Parameters<typeof tempDir>[0], which: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const dir = await tempDir(t)
  const result = await runNode(fixture, [dir, which], { env, nodeArgs })
  const [file = ''] = listRunFiles(dir).filter((path) => path.endsWith('.log'))
  return { dir, result, file, text: readFileSync(file, 'utf8') }
}

function until(condition: () => boolean, what: string): Promise<void> {
  return waitUntil(condition, { what, timeoutMs: 5000 })
}

test('heartbeats come at the interval with uptime, memory, loop delay and CPU; a blocked loop is reported', async () => {
  const memory = memorySink({ format: 'json' })
  const logger = createLogger({ level: 'debug', sinks: [memory.sink] })
  const beats = () => memory.lines.map((line) => JSON.parse(line) as Record<string, number | string>).filter((line) => line['event'] === 'heartbeat')
  const heartbeat = startHeartbeat(logger, 50)
  await until(() => beats().length >= 4, 'four heartbeats')
  const times = beats().map((beat) => Number(beat['time']))
  const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0))
  for (const gap of gaps) assert.ok(gap >= 45 && gap < 1000, `a heartbeat every ~50 ms, got a gap of ${gap} ms`)
  for (const key of ['uptimeS', 'rssMB', 'heapUsedMB', 'loopDelayP99Ms', 'loopDelayMaxMs', 'cpuUserMs', 'cpuSystemMs']) {
    assert.equal(typeof beats()[0]?.[key], 'number', key)
  }
  const blockFor = 400
  const start = Date.now()
  while (Date.now() - start < blockFor) {
    // Block the event loop on purpose.
  }
  const blockedAt = () => memory.lines.findIndex((line) => line.includes('"event":"blocked"'))
  await until(() => blockedAt() !== -1, 'the blocked-loop warning')
  // The delay histogram takes its sample when its own timer runs after the block: one of
  // the next two beats carries it.
  const beatsAfter = () => memory.lines.slice(blockedAt()).map((line) => JSON.parse(line) as Record<string, number | string>).filter((line) => line['event'] === 'heartbeat')
  await until(() => beatsAfter().length >= 2, 'two heartbeats after the block')
  heartbeat.stop()
  const blocked = JSON.parse(memory.lines[blockedAt()] ?? '{}') as { level: number; blockedMs: number; msg: string }
  assert.equal(blocked.level, 40)
  assert.ok(blocked.blockedMs >= blockFor / 2, `blocked for about ${blocked.blockedMs} ms`)
  assert.match(blocked.msg, /^the event loop was blocked for about \d+ ms/)
  const worst = Math.max(...beatsAfter().map((beat) => Number(beat['loopDelayMaxMs'])))
  assert.ok(worst >= blockFor / 2, `the loop delay max shows the block too (${worst} ms)`)
})

test('the heartbeat timer never keeps the process alive', async (t) => {
  const { result, text } = await runCase(t, 'idle-heartbeat')
  assert.equal(result.code, 0)
  assert.match(text, /exiting with code 0 after [\d.]+ s event=exit code=0/)
})

test('installing twice does not double the records; uninstall restores what was there', async () => {
  const first = memorySink()
  const second = memorySink()
  const a = createLogger({ sinks: [first.sink] })
  const b = createLogger({ sinks: [second.sink] })
  const before = process.listenerCount('exit')
  const guardA = installCrashGuard(a)
  assert.equal(installCrashGuard(a), guardA, 'the same logger gets the same guard')
  assert.equal(process.listenerCount('exit'), before + 1)
  const guardB = installCrashGuard(b)
  assert.equal(process.listenerCount('exit'), before + 1, 'a second guard suspends the first')
  process.emitWarning('watch out', { code: 'BB_TEST' })
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(first.lines.length, 0)
  assert.match(second.text(), /\[WARNING\] Warning: watch out event=warning/)
  guardB.uninstall()
  assert.equal(process.listenerCount('exit'), before + 1, 'the first guard is back')
  process.emitWarning('again')
  await new Promise((resolve) => setImmediate(resolve))
  assert.match(first.text(), /Warning: again/)
  guardA.uninstall()
  assert.equal(process.listenerCount('exit'), before)
  assert.equal(guardA.installed, false)
})

test('cleanup logs completion, removes every handler, and is safe to call twice', async (t) => {
  const dir = await tempDir(t)
  const counts = () => ['exit', 'beforeExit', 'warning', 'SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtExceptionMonitor'].map((event) => process.listenerCount(event))
  const before = counts()
  const { guard, file } = setupLogging({ dir, console: false, heartbeatInterval: 10, systemInfo: false })
  assert.notDeepEqual(counts(), before)
  await guard.cleanup()
  await guard.cleanup()
  assert.deepEqual(counts(), before)
  const text = readFileSync(file, 'utf8')
  assert.equal(text.match(/completed execution in/g)?.length, 1)
})

test('an application with its own SIGTERM handler keeps it: the guard only records', async (t) => {
  const { result, text } = await runCase(t, 'app-sigterm')
  assert.equal(result.code, 0)
  assert.equal(result.signal, null)
  assert.match(text, /received SIGTERM .* event=signal signal=SIGTERM handledBy=application\n/)
  assert.doesNotMatch(text, /ending=signal/)
  assert.match(text, /the application shuts down its own way/)
})

test('an application with its own uncaughtException listener goes on: the guard only records', async (t) => {
  const { result, text } = await runCase(t, 'app-uncaught')
  assert.equal(result.code, 0)
  assert.match(text, /\[CRITICAL\] uncaught exception: survivable event=uncaught handledBy=application\n/)
  assert.match(text, /the application carries on/)
  assert.match(text, /completed app-uncaught in/)
})

test('report: true writes a Node diagnostic report beside the run file and names it', async (t) => {
  const { result, file, text } = await runCase(t, 'report')
  assert.equal(result.code, 1)
  const reportPath = file.replace(/\.log$/, '.report.json')
  assert.match(text, new RegExp(`uncaught exception: with a report event=uncaught ending=uncaught report=${reportPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { header: { processId: number } }
  assert.equal(typeof report.header.processId, 'number')
})

test('--unhandled-rejections=warn: the rejection is recorded as an error and the process goes on', async (t) => {
  const { result, text } = await runCase(t, 'warn-mode', ['--unhandled-rejections=warn'])
  assert.equal(result.code, 0)
  assert.match(text, /\[ERROR\] unhandled rejection: only a warning event=unhandledRejection mode=warn\n/)
  assert.match(text, /completed warn-mode in/)
})

test('unhandledRejectionsMode reads the command line and NODE_OPTIONS', () => {
  assert.equal(unhandledRejectionsMode([], ''), 'throw')
  assert.equal(unhandledRejectionsMode(['--unhandled-rejections=strict'], ''), 'strict')
  assert.equal(unhandledRejectionsMode([], '--max-old-space-size=100 --unhandled-rejections=none'), 'none')
  assert.equal(unhandledRejectionsMode(['--unhandled-rejections', 'warn-with-error-code'], ''), 'warn-with-error-code')
  assert.equal(unhandledRejectionsMode(['--unhandled-rejections=bogus'], ''), 'throw')
})

test('system information at start: versions, machine, process; only allow-listed environment', async (t) => {
  const { text } = await runCase(t, 'system-info', [], { NODE_ENV: 'production', MY_SECRET_TOKEN: 'hunter2' })
  const line = text.split('\n').find((entry) => entry.includes('event=system')) ?? ''
  assert.match(line, /\[INFO\] system: Node v\d+\.\d+\.\d+ on \w+ \w+/)
  const system = JSON.parse(/system=(\{.*\})$/.exec(line)?.[1] ?? '{}') as Record<string, unknown>
  for (const key of ['node', 'v8', 'platform', 'arch', 'osRelease', 'hostname', 'pid', 'ppid', 'cwd', 'argv', 'execArgv', 'user', 'cpuModel', 'cpuCount', 'totalMemory', 'freeMemory', 'timeZone']) {
    assert.ok(key in system, `system info has ${key}`)
  }
  const env = system['env'] as Record<string, string>
  assert.equal(env['NODE_ENV'], 'production')
  assert.deepEqual(Object.keys(env).filter((name) => !(ENV_ALLOW_LIST as readonly string[]).includes(name)), [], 'only allow-listed variables')
  assert.doesNotMatch(text, /hunter2/)
})

test('run files: dated folder, prefix and time; a second run in the same second gets its own file', async (t) => {
  const dir = await tempDir(t)
  const start = new Date(2026, 10, 21, 21, 2, 34)
  const first = createRunFile(dir, 'job', start)
  const second = createRunFile(dir, 'job', start)
  assert.equal(first, `${dir}/2026-11-21/job_21-02-34.log`)
  assert.equal(second, `${dir}/2026-11-21/job_21-02-34_2.log`)
  const a = setupLogging({ dir, console: false, heartbeatInterval: 0, systemInfo: false })
  const b = setupLogging({ dir, console: false, heartbeatInterval: 0, systemInfo: false })
  assert.notEqual(a.file, b.file)
  assert.match(a.file, /\/\d{4}-\d\d-\d\d\/execution_\d\d-\d\d-\d\d(_\d+)?\.log$/)
  await a.guard.cleanup()
  await b.guard.cleanup()
})

test('a prefix that could leave its folder is refused', () => {
  for (const prefix of ['../up', 'a/b', 'a\\b', 'a\u0000b', 'line\nbreak', '', '..']) {
    assert.throws(() => validatePrefix(prefix), /Expected `prefix` to be a file-name part without path separators/, JSON.stringify(prefix))
  }
  assert.equal(validatePrefix('manual_task-2'), 'manual_task-2')
})

test('BLACKBOX_* set the defaults; explicit options win; bad values are ignored', async (t) => {
  assert.deepEqual(readEnvDefaults({ BLACKBOX_LEVEL: 'warning', BLACKBOX_FORMAT: 'json', BLACKBOX_DIR: 'var/logs', BLACKBOX_MAX_SIZE: '10 MB', BLACKBOX_RETENTION: '7 days' }), {
    level: 'warning', format: 'json', dir: 'var/logs', maxSize: 10_000_000, retention: 7 * 86_400_000,
  })
  const dir = await tempDir(t)
  const saved = { ...process.env }
  t.after(() => {
    process.env = saved
  })
  process.env['BLACKBOX_LEVEL'] = 'error'
  process.env['BLACKBOX_DIR'] = dir
  process.env['BLACKBOX_FORMAT'] = 'json'
  const fromEnv = setupLogging({ console: false, heartbeatInterval: 0, systemInfo: false })
  assert.equal(fromEnv.logger.level, 'error')
  assert.ok(fromEnv.file.startsWith(dir))
  fromEnv.logger.error('as json')
  assert.match(readFileSync(fromEnv.file, 'utf8'), /^\{"level":50,/)
  const explicit = setupLogging({ level: 'info', format: 'text', console: false, heartbeatInterval: 0, systemInfo: false })
  assert.equal(explicit.logger.level, 'info')
  await fromEnv.guard.cleanup()
  await explicit.guard.cleanup()
})

test('an invalid BLACKBOX_* value is reported once and ignored, never fatal', async (t) => {
  const { result, text } = await runCase(t, 'system-info', [], { BLACKBOX_LEVEL: 'loud', BLACKBOX_MAX_SIZE: 'huge' })
  assert.equal(result.code, 0)
  assert.equal(result.stderr.match(/blackbox: ignoring BLACKBOX_LEVEL: Expected `BLACKBOX_LEVEL` to be one of/g)?.length, 1)
  assert.equal(result.stderr.match(/blackbox: ignoring BLACKBOX_MAX_SIZE: .*got `huge`/g)?.length, 1)
  assert.match(text, /\[DEBUG\]|\[INFO\]/, 'the default level applies')
})

test('maxSize (or BLACKBOX_MAX_SIZE) makes the run file rotate', async (t) => {
  const dir = await tempDir(t)
  const saved = process.env['BLACKBOX_MAX_SIZE']
  process.env['BLACKBOX_MAX_SIZE'] = '1 KB'
  t.after(() => {
    if (saved === undefined) delete process.env['BLACKBOX_MAX_SIZE']
    else process.env['BLACKBOX_MAX_SIZE'] = saved
  })
  const { logger, guard, file } = setupLogging({ dir, console: false, heartbeatInterval: 0, systemInfo: false })
  for (let i = 0; i < 50; i++) logger.info({ i }, 'filling the run file')
  await guard.cleanup()
  const names = listRunFiles(dir).map((path) => path.slice(file.length))
  assert.ok(names.includes('') && names.includes('.1'), `the run file and its first backup: ${names.join(', ')}`)
})

test('BLACKBOX_RETENTION removes older run files at start, never this run’s', async (t) => {
  const dir = await tempDir(t)
  const saved = process.env['BLACKBOX_RETENTION']
  process.env['BLACKBOX_RETENTION'] = '7 days'
  t.after(() => {
    if (saved === undefined) delete process.env['BLACKBOX_RETENTION']
    else process.env['BLACKBOX_RETENTION'] = saved
  })
  const old = createRunFile(dir, 'nightly', new Date(2020, 0, 1, 3, 0, 0))
  const aged = (Date.now() - 30 * 86_400_000) / 1000
  utimesSync(old, aged, aged)
  const { logger, guard, file } = setupLogging({ dir, console: false, heartbeatInterval: 0, systemInfo: false })
  await waitUntil(() => !existsSync(old), { what: 'the old run file to be removed', timeoutMs: 5000 })
  await waitUntil(() => readFileSync(file, 'utf8').includes('event=retention'), { what: 'the retention record', timeoutMs: 5000 })
  logger.info('still here')
  await guard.cleanup()
  assert.match(readFileSync(file, 'utf8'), /removed 1 run files older than BLACKBOX_RETENTION/)
})
