import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createProgress, jobOf, type ProgressOptions } from '../../src/progress/index.ts'
import { tempDir } from '../helpers/tmp.ts'

test('bad options are refused at construction, naming the option and what was expected', async (t) => {
  const dir = await tempDir(t)
  const listeners = process.listenerCount('exit')
  const cases: [Partial<ProgressOptions> & Record<string, unknown>, string][] = [
    [{ runId: '' }, 'Expected `runId` to be a file-name part without path separators, `..` or control characters, got `""` (string)'],
    [{ runId: '../escape' }, 'Expected `runId` to be a file-name part without path separators, `..` or control characters, got `"../escape"` (string)'],
    [{ runId: 'a/b' }, 'Expected `runId` to be a file-name part without path separators, `..` or control characters, got `"a/b"` (string)'],
    [{ runId: 42 as unknown as string }, 'Expected `runId` to be a file-name part without path separators, `..` or control characters, got `42` (number)'],
    [{ runId: 'ok', job: 'x\ny' }, 'Expected `job` to be a file-name part without path separators, `..` or control characters, got `"x\\ny"` (string)'],
    [{ runId: 'ok', total: -1 }, 'Expected `total` to be a positive integer, got `-1` (number)'],
    [{ runId: 'ok', total: 2.5 }, 'Expected `total` to be a positive integer, got `2.5` (number)'],
    [{ runId: 'ok', total: '10' as unknown as number }, 'Expected `total` to be a positive integer, got `"10"` (string)'],
    [{ runId: 'ok', totalBatches: 0 }, 'Expected `totalBatches` to be a positive integer, got `0` (number)'],
    [{ runId: 'ok', statusInterval: -5 }, 'Expected `statusInterval` to be a non-negative number of ms, got `-5` (number)'],
    [{ runId: 'ok', checkpointInterval: 0 }, 'Expected `checkpointInterval` to be a positive number of ms, got `0` (number)'],
    [{ runId: 'ok', resume: 'yes' as unknown as boolean }, 'Expected `resume` to be a boolean, got `"yes"` (string)'],
    [{ runId: 'ok', heartbeatName: 'a/b' }, 'Expected `heartbeatName` to be a file-name part without path separators, `..` or control characters, got `"a/b"` (string)'],
    [{ runId: 'ok', logger: {} as never }, 'Expected `logger` to be a logger from createLogger(), got `[object Object]` (object)'],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => createProgress({ dir, ...options } as ProgressOptions), { name: 'TypeError', message }, JSON.stringify(options))
  }
  assert.throws(() => createProgress(undefined as unknown as ProgressOptions), /Expected `options` to be an object with a `runId`/)
  assert.equal(process.listenerCount('exit'), listeners, 'a refused progress leaves no listener behind')
})

test('the job of a run id is the run id without a trailing date', () => {
  assert.equal(jobOf('events_intraday_20261121'), 'events_intraday')
  assert.equal(jobOf('events_intraday_2026-11-21'), 'events_intraday')
  assert.equal(jobOf('nightly-20261121T030000'), 'nightly')
  assert.equal(jobOf('nightly_20261121_0300'), 'nightly')
  assert.equal(jobOf('v2_20261121_extra'), 'v2_20261121_extra', 'only a date at the end')
  assert.equal(jobOf('20261121'), '20261121', 'never empty')
  assert.equal(jobOf('batch_123'), 'batch_123')
})
