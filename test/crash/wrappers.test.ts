import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { crashSafe, createLogger, guardOf, logged, type Logger } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { tempDir } from '../helpers/tmp.ts'

function captured(): { logger: Logger; messages: () => string[]; fields: () => Record<string, unknown>[] } {
  const memory = memorySink({ format: 'json' })
  const logger = createLogger({ level: 'debug', sinks: [memory.sink] })
  const parsed = () => memory.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, messages: () => parsed().map((line) => String(line['msg'])), fields: parsed }
}

const KINDS = {
  sync: (x: number) => x * 2,
  async: async (x: number) => x * 2,
  throwing: (x: number): number => {
    throw new Error(`bad ${x}`)
  },
  rejecting: async (x: number): Promise<number> => {
    throw new Error(`bad ${x}`)
  },
}

for (const [kind, fn] of Object.entries(KINDS)) {
  test(`crashSafe on a ${kind} function keeps its shape and records start and end`, async () => {
    const { logger, messages, fields } = captured()
    const wrapped = crashSafe(fn as (x: number) => unknown, { logger, name: 'job' })
    let result: unknown
    if (kind === 'sync') {
      result = wrapped(21)
      assert.equal(result, 42, 'a sync function stays sync')
    } else if (kind === 'throwing') {
      assert.throws(() => wrapped(21), /bad 21/, 'the error is rethrown synchronously')
    } else {
      const promise = wrapped(21) as unknown as Promise<number>
      assert.ok(promise instanceof Promise)
      if (kind === 'async') assert.equal(await promise, 42)
      else await assert.rejects(promise, /bad 21/)
    }
    await new Promise((resolve) => setImmediate(resolve))
    const [start, end] = messages()
    assert.equal(start, 'starting job')
    if (kind === 'sync' || kind === 'async') assert.match(end ?? '', /^completed job in \d+\.\d\d s$/)
    else {
      assert.match(end ?? '', /^job failed after \d+\.\d\d s: bad 21$/)
      const err = fields()[1]?.['err'] as { stack: string }
      assert.match(err.stack, /Error: bad 21\n\s+at /, 'with the stack')
    }
    assert.equal(guardOf(logger), undefined, 'the guard it installed is gone after the call')
  })

  test(`@logged on a ${kind} method records start, duration or error`, async () => {
    const { logger, messages, fields } = captured()
    class Job {
      readonly logger = logger
      @logged()
      run(x: number): unknown {
        return fn(x)
      }
    }
    const job = new Job()
    if (kind === 'sync') assert.equal(job.run(1), 2)
    else if (kind === 'throwing') assert.throws(() => job.run(1), /bad 1/)
    else if (kind === 'async') assert.equal(await job.run(1), 2)
    else await assert.rejects(job.run(1) as Promise<number>, /bad 1/)
    const [start, end] = messages()
    assert.equal(start, 'starting Job.run')
    if (kind === 'sync' || kind === 'async') {
      assert.match(end ?? '', /^completed Job\.run in \d+\.\d\d s$/)
      assert.equal(typeof fields()[1]?.['durationMs'], 'number')
    } else {
      assert.match(end ?? '', /^Job\.run failed after \d+\.\d\d s: bad 1$/)
      assert.equal(fields()[1]?.['level'], 50)
    }
  })
}

test('@logged takes a name, a level and a logger; static methods are named by their class', () => {
  const { logger, fields } = captured()
  class Tool {
    @logged({ name: 'tool.make', level: 'debug', logger })
    make(): string {
      return 'made'
    }

    @logged({ logger })
    static build(): string {
      return 'built'
    }
  }
  assert.equal(new Tool().make(), 'made')
  assert.equal(Tool.build(), 'built')
  assert.deepEqual(fields().map((line) => [line['level'], line['msg']]).map(([level, msg]) => `${String(level)} ${String(msg).replace(/[\d.]+ s$/, 'N s')}`), [
    '20 starting tool.make', '20 completed tool.make in N s', '30 starting Tool.build', '30 completed Tool.build in N s',
  ])
})

test('crashSafe without a logger sets up a run file named after the prefix', async (t) => {
  const dir = await tempDir(t)
  const main = crashSafe(async function nightly() {
    return 'done'
  }, { dir, prefix: 'my_task', heartbeatInterval: 0, console: false, systemInfo: false })
  assert.equal(await main(), 'done')
  const [file = ''] = listRunFiles(dir)
  assert.match(file, /\/\d{4}-\d\d-\d\d\/my_task_\d\d-\d\d-\d\d\.log$/)
  const text = readFileSync(file, 'utf8')
  assert.match(text, /\[INFO\] starting nightly event=start function=nightly\n/)
  assert.match(text, /\[SUCCESS\] completed nightly in [\d.]+ s event=cleanup ending=completed/)
})
