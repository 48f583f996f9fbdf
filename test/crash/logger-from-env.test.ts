import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { createLogger, getLoggerFromEnv, guardOf, installCrashGuard, startCollector } from '../../src/index.ts'
import { collectorPlace } from '../helpers/collector-place.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Sets environment variables for one test; each test names a role of its own (getLogger keeps one logger per role). */
function withEnv(t: TestContext, env: Record<string, string | undefined>): void {
  const before = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  const set = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  set(env)
  t.after(() => set(before))
}

/** A collector for the test, in BLACKBOX_SOCKET. */
async function collectorInEnv(t: TestContext, role: string): Promise<void> {
  const place = await collectorPlace(t, 'blackbox-from-env-')
  const collector = await startCollector({ socket: place.socket, dir: place.logs })
  t.after(() => collector.close())
  withEnv(t, { BLACKBOX_SOCKET: place.socket, BLACKBOX_ROLE: role })
}

test('with a collector: the logger is guarded, once; called again, the same logger and guard', async (t) => {
  await collectorInEnv(t, 'guarded')
  const logger = getLoggerFromEnv()
  const guard = guardOf(logger)
  t.after(async () => {
    guard?.uninstall()
    await logger.close()
  })
  assert.ok(guard, 'a guard is installed')
  assert.equal(getLoggerFromEnv(), logger)
  assert.equal(guardOf(logger), guard)
})

test('with a collector and crashGuard: false: no guard', async (t) => {
  await collectorInEnv(t, 'unguarded')
  const logger = getLoggerFromEnv({ crashGuard: false })
  t.after(() => logger.close())
  assert.equal(guardOf(logger), undefined)
})

test('with a collector, a guard the program installed before keeps its place', async (t) => {
  const own = installCrashGuard(createLogger({ sinks: [memorySink().sink] }))
  t.after(() => own.uninstall())
  await collectorInEnv(t, 'second')
  const logger = getLoggerFromEnv()
  t.after(() => logger.close())
  assert.equal(guardOf(logger), undefined)
  assert.ok(own.installed)
})

test('without a collector: no guard', async (t) => {
  withEnv(t, { BLACKBOX_SOCKET: undefined, BLACKBOX_ROLE: 'alone', BLACKBOX_DIR: await tempDir(t) })
  const logger = getLoggerFromEnv()
  t.after(() => logger.close())
  assert.equal(guardOf(logger), undefined)
})
