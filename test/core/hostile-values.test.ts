// Issue #15: no value a program logs can drop its record, throw from a log call or from
// child(), or be blamed on a healthy sink.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createLogger, type Sink } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { fixturePath, runNode } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** A Proxy whose getPrototypeOf trap throws: `instanceof` on it throws. */
function prototypeTrap(): object {
  return new Proxy({}, {
    getPrototypeOf() {
      throw new Error('no prototype for you')
    },
  })
}

function longStackError(message: string, lines: number): Error {
  const error = new Error(message)
  error.stack = `Error: ${message}\n${Array.from({ length: lines }, (_, i) => `    at frame${i} (app.js:${i}:1)`).join('\n')}`
  return error
}

for (const format of ['text', 'json'] as const) {
  describe(`hostile values, ${format} sink`, () => {
    for (const [name, make] of [['a revoked Proxy', revokedProxy], ['a Proxy whose getPrototypeOf trap throws', prototypeTrap]] as const) {
      test(`${name} as the fields: the record is written with the marker, and no sink is blamed`, () => {
        const memory = memorySink({ format })
        const log = createLogger({ sinks: [memory.sink] })
        log.info(make(), 'still here')
        assert.equal(memory.lines.length, 1, 'the record is written')
        assert.match(memory.text(), /still here/)
        if (name === 'a revoked Proxy') assert.match(memory.text(), /\[Serializing threw: Cannot perform 'ownKeys' on a proxy that has been revoked\]/)
        assert.equal(memory.sink.failures?.count, 0, 'the healthy sink is not blamed')
      })

      test(`child(${name}) does not throw; its records say what the bindings were`, () => {
        const memory = memorySink({ format })
        const log = createLogger({ sinks: [memory.sink] })
        const child = log.child(make())
        child.info('from the child')
        assert.equal(memory.lines.length, 1)
        assert.match(memory.text(), /from the child/)
        assert.equal(memory.sink.failures?.count, 0)
      })
    }

    test('an error and its cause with 70,000-line stacks (limits raised): the record is written, with both stacks', () => {
      const memory = memorySink({ format })
      const log = createLogger({ sinks: [memory.sink], limits: { maxStringLength: 10 * 1024 * 1024 } })
      const error = longStackError('outer', 70_000)
      error.cause = longStackError('inner', 70_000)
      log.error(error, 'deep trouble')
      log.info('after')
      assert.equal(memory.records.length, 2, 'both records are written')
      assert.match(memory.lines[0] ?? '', /deep trouble/)
      assert.match(memory.lines[0] ?? '', /frame69999/)
      assert.match(memory.lines[0] ?? '', format === 'text' ? /Caused by: Error: inner/ : /"cause":\{"type":"Error","message":"inner"/)
      assert.equal(memory.sink.failures?.count, 0)
    })
  })
}

test('a formatter that throws is reported as the formatter’s failure; the sink still gets the record, without its fields', () => {
  const lines: string[] = []
  const sink: Sink = {
    name: 'fragile',
    level: 0,
    formatter: {
      key: 'fragile-format',
      needsCallsite: false,
      format(record) {
        if (record.fields !== undefined) throw new Error('cannot format fields')
        return `${record.msg}\n`
      },
    },
    write: (line) => void lines.push(line),
    flush: async () => {},
    flushSync: () => {},
    close: async () => {},
  }
  const log = createLogger({ sinks: [sink] })
  log.info({ a: 1 }, 'with fields')
  assert.deepEqual(lines, ['with fields [the record could not be formatted: Error: cannot format fields]\n'])
})

test('real process, real files: every hostile record is on disk in both formats, and no key is forged', async (t) => {
  const dir = await tempDir(t)
  const textPath = join(dir, 'hostile.log')
  const jsonPath = join(dir, 'hostile.json')
  const result = await runNode(fixturePath('hostile-values.mjs'), [textPath, jsonPath])
  assert.equal(result.code, 0, result.stderr)
  assert.doesNotMatch(result.stderr, /blackbox: sink/, 'no sink is blamed')
  const text = readFileSync(textPath, 'utf8')
  const json = readFileSync(jsonPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
  for (let n = 1; n <= 5; n++) {
    assert.match(text, new RegExp(`\\] case=${n} `), `case ${n} in the text file`)
    assert.ok(json.some((record) => String(record['msg']).startsWith(`case=${n} `)), `case ${n} in the JSON file`)
  }
  assert.match(text, / {2}\| Caused by: Error: inner/)
  const forged = json.find((record) => String(record['msg']).startsWith('case=5 '))
  assert.equal(forged?.['level'], 30)
  assert.ok(typeof forged?.['pid'] === 'number' && forged['pid'] !== 1, 'the pid is the process’s own')
  assert.notEqual(forged?.['hostname'], 'forged')
  assert.notEqual(forged?.['time'], 153)
  assert.equal(forged?.['time_'], 153)
})
