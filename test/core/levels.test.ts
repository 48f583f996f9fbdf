import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LEVEL_NAMES, LEVEL_VALUES, levelValue, type LevelInput } from '../../src/core/levels.ts'
import { createLogger } from '../../src/index.ts'

test('levels have pino numbers and Python aliases', () => {
  assert.deepEqual(LEVEL_VALUES, { trace: 10, debug: 20, info: 30, success: 35, warn: 40, error: 50, fatal: 60 })
  assert.equal(levelValue('warning'), 40)
  assert.equal(levelValue('CRITICAL'), 60)
  assert.equal(levelValue(35), 35)
  assert.throws(() => levelValue(25), /Expected `level` to be one of .* or one of their numbers \(10, 20, 30, 35, 40, 50, 60\), got `25` \(number\)/)
  assert.equal(levelValue(25, '--level', { anyNumber: true }), 25, 'a reader’s filter takes any number')
  assert.equal(levelValue('silent'), Number.POSITIVE_INFINITY)
  assert.throws(() => levelValue('verbose'), /Expected `level` to be one of .* got `verbose` \(string\)/)
})

test('a level round-trips: read back and set again, the logger logs the same (issue #15)', () => {
  assert.throws(() => createLogger({ level: 999 as LevelInput }), /Expected `level` to be one of .* got `999` \(number\)/)
  for (const level of [...LEVEL_NAMES, 'warning', 'critical', 'silent', 10, 35, 60] as const) {
    const log = createLogger({ level, sinks: [] })
    const before = LEVEL_NAMES.map((name) => log.isLevelEnabled(name))
    log.level = log.level
    assert.deepEqual(LEVEL_NAMES.map((name) => log.isLevelEnabled(name)), before, `level ${String(level)}`)
  }
})
