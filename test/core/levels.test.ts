import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LEVEL_VALUES, levelValue } from '../../src/core/levels.ts'

test('levels have pino numbers and Python aliases', () => {
  assert.deepEqual(LEVEL_VALUES, { trace: 10, debug: 20, info: 30, success: 35, warn: 40, error: 50, fatal: 60 })
  assert.equal(levelValue('warning'), 40)
  assert.equal(levelValue('CRITICAL'), 60)
  assert.equal(levelValue(25), 25)
  assert.equal(levelValue('silent'), Number.POSITIVE_INFINITY)
  assert.throws(() => levelValue('verbose'), /Expected `level` to be one of .* got `verbose` \(string\)/)
})
