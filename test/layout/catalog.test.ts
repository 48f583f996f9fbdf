import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { zipSync } from 'fflate'
import { getLatestLogFile, listLogFiles } from '../../src/layout/catalog.ts'
import { cleanLogs } from '../../src/layout/clean.ts'
import { parseRunFileName, type RunFileName } from '../../src/layout/run-file-name.ts'
import { printLogSummary } from '../../src/layout/print-summary.ts'
import { summarizeLogFile, type LogFileSummary } from '../../src/layout/summarize.ts'
import { listTree, localMs, writeTree } from '../helpers/log-tree.ts'
import { RUNS } from '../helpers/run-logs.ts'
import { tempDir } from '../helpers/tmp.ts'

const at = (text: string): Date => new Date(localMs(text))

/** A log folder with run files, backups, and names that are not ours. */
function writeCatalogTree(root: string): void {
  writeTree(root, {
    'logs/README.md': 'not a day folder',
    'logs/misc/execution_01-00-00.log': RUNS.completed,
    'logs/2026-13-45/execution_01-00-00.log': RUNS.completed,
    'logs/2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: at('2026-11-21 05:52:25.600') },
    'logs/2026-11-21/execution_05-52-25_2.log': { content: RUNS.completed, mtime: at('2026-11-21 05:52:26.353') },
    'logs/2026-11-21/manual_task_06-00-00.log': { content: RUNS.uncaught, mtime: at('2026-11-21 06:30:00.000') },
    'logs/2026-11-21/manual_task_06-00-00.log.1': { content: RUNS.sigkill, mtime: at('2026-11-21 06:20:00.000') },
    'logs/2026-11-21/manual_task_06-00-00.log.2.gz': { content: gzipSync(RUNS.sigkill), mtime: at('2026-11-21 06:10:00.000') },
    'logs/2026-11-21/other_06-00-00.log': { content: RUNS.sigterm, mtime: at('2026-11-21 07:00:00.000') },
    'logs/2026-11-21/other_06-00-00.log.2026-11-21_06.zip': { content: zipSync({ 'other_06-00-00.log': Buffer.from(RUNS.sigkill) }), mtime: at('2026-11-21 06:59:00.000') },
    'logs/2026-11-21/other_06-00-00.log.compressing-123-1.tmp': { content: 'the rotating sink at work', mtime: at('2026-11-21 06:59:30.000') },
    'logs/2026-11-21/notes.txt': 'foreign',
    'logs/2026-11-21/execution.log': 'foreign: no start time in the name',
    'logs/2026-11-21/worker.log': 'a collector role file',
    'logs/2026-11-21/execution_05-52-25.log.gz': 'not a backup name: no number',
    'logs/2026-11-21/sub/execution_07-00-00.log': RUNS.completed,
    'logs/2026-11-20/execution_23-59-59.log': { content: RUNS.sigterm, mtime: at('2026-11-21 00:00:10.000') },
    'logs/2026-11-20/execution_10-00-00.log': { content: RUNS.sigkill, mtime: at('2026-11-20 10:30:00.000') },
    'logs/2026-11-20/execution_09-00-00.log': { content: RUNS.torn, mtime: at('2026-11-20 09:30:00.000') },
  })
  symlinkSync(join(root, 'logs/2026-11-21/execution_05-52-25.log'), join(root, 'logs/2026-11-21/link_08-00-00.log'))
}

describe('listLogFiles', () => {
  test('run files and backups in day folders, newest first; nothing else', async (t) => {
    const root = await tempDir(t)
    writeCatalogTree(root)
    const dir = join(root, 'logs')
    const files = await listLogFiles({ dir })
    assert.deepEqual(
      files.map((file) => `${file.date}/${file.name}`),
      [
        // Same day and start time: by modification time, newest first.
        '2026-11-21/other_06-00-00.log',
        '2026-11-21/other_06-00-00.log.2026-11-21_06.zip',
        '2026-11-21/manual_task_06-00-00.log',
        '2026-11-21/manual_task_06-00-00.log.1',
        '2026-11-21/manual_task_06-00-00.log.2.gz',
        // The second run started in that second is the newer.
        '2026-11-21/execution_05-52-25_2.log',
        '2026-11-21/execution_05-52-25.log',
        '2026-11-20/execution_23-59-59.log',
        '2026-11-20/execution_10-00-00.log',
        '2026-11-20/execution_09-00-00.log',
      ],
    )
    assert.deepEqual(files[4], {
      path: join(dir, '2026-11-21', 'manual_task_06-00-00.log.2.gz'),
      date: '2026-11-21',
      name: 'manual_task_06-00-00.log.2.gz',
      size: gzipSync(RUNS.sigkill).length,
      mtime: localMs('2026-11-21 06:10:00.000'),
      run: 'manual_task_06-00-00.log',
      backup: true,
      rotation: 2,
      stamp: undefined,
      compression: 'gzip',
    })
    assert.deepEqual(files[6], {
      path: join(dir, '2026-11-21', 'execution_05-52-25.log'),
      date: '2026-11-21',
      name: 'execution_05-52-25.log',
      size: Buffer.byteLength(RUNS.exit3),
      mtime: localMs('2026-11-21 05:52:25.600'),
      run: 'execution_05-52-25.log',
      backup: false,
      rotation: undefined,
      stamp: undefined,
      compression: undefined,
    })
  })

  test('daysBack keeps the last N day folders, today counting as 1', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, {
      '2026-11-19/execution_10-00-00.log': RUNS.completed,
      '2026-11-20/execution_10-00-00.log': RUNS.completed,
      '2026-11-21/execution_10-00-00.log': RUNS.completed,
    })
    const now = at('2026-11-21 00:00:01.000')
    const dates = async (daysBack: number): Promise<string[]> => (await listLogFiles({ dir, daysBack, now })).map((file) => file.date)
    assert.deepEqual(await dates(1), ['2026-11-21'])
    assert.deepEqual(await dates(2), ['2026-11-21', '2026-11-20'])
    assert.deepEqual(await dates(30), ['2026-11-21', '2026-11-20', '2026-11-19'])
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(listLogFiles({ dir, daysBack: bad }), { name: 'TypeError', message: `Expected \`daysBack\` to be a positive integer, got \`${bad}\` (number)` })
    }
  })

  test('a missing folder has no run files; so does an empty one', async (t) => {
    const root = await tempDir(t)
    assert.deepEqual(await listLogFiles({ dir: join(root, 'nope') }), [])
    mkdirSync(join(root, 'logs', '2026-11-21'), { recursive: true })
    assert.deepEqual(await listLogFiles({ dir: join(root, 'logs') }), [])
  })
})

describe('parseRunFileName', () => {
  test('run files and the backups the rotating sink names', () => {
    const cases: ReadonlyArray<readonly [string, Partial<RunFileName>]> = [
      ['execution_21-02-34.log', { prefix: 'execution', time: '21-02-34', sequence: 1, run: 'execution_21-02-34.log', backup: false }],
      ['manual_task_00-00-00_12.log', { prefix: 'manual_task', time: '00-00-00', sequence: 12, run: 'manual_task_00-00-00_12.log', backup: false }],
      ['a b_23-59-59.log.1', { prefix: 'a b', run: 'a b_23-59-59.log', backup: true, rotation: 1, stamp: undefined, compression: undefined }],
      ['x_01-02-03.log.2.gz', { run: 'x_01-02-03.log', backup: true, rotation: 2, compression: 'gzip' }],
      ['x_01-02-03.log.2026-11-21', { backup: true, rotation: undefined, stamp: '2026-11-21', compression: undefined }],
      ['x_01-02-03.log.2026-11-21_14-30.3.zip', { backup: true, stamp: '2026-11-21_14-30', compression: 'zip' }],
    ]
    for (const [name, expected] of cases) {
      const parsed = parseRunFileName(name)
      assert.ok(parsed, name)
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(parsed[key as keyof RunFileName], value, `${name}: ${key}`)
    }
  })

  test('names that are not ours', () => {
    for (const name of [
      'execution.log', 'worker.log', 'notes.txt', 'execution_21-02-34.txt', 'execution_24-00-00.log', 'execution_21-60-00.log',
      '_21-02-34.log', 'execution_21-02-34_0.log', 'execution_21-02-34.log.gz', 'execution_21-02-34.log.1.bz2',
      'execution_21-02-34.log.compressing-123-1.tmp', 'execution_21-02-34.log.1.gz.tmp', '.._21-02-34.log', 'a\u0007_21-02-34.log',
    ]) {
      assert.equal(parseRunFileName(name), undefined, name)
    }
  })
})

describe('getLatestLogFile', () => {
  test('the newest run file', async (t) => {
    const root = await tempDir(t)
    writeCatalogTree(root)
    assert.equal(await getLatestLogFile({ dir: join(root, 'logs') }), join(root, 'logs', '2026-11-21', 'other_06-00-00.log'))
  })

  test('never a rotated backup; undefined when there is no run file', async (t) => {
    const dir = await tempDir(t)
    assert.equal(await getLatestLogFile({ dir }), undefined)
    writeTree(dir, { '2026-11-21/execution_09-00-00.log.3.gz': gzipSync('') })
    assert.equal(await getLatestLogFile({ dir }), undefined)
    writeTree(dir, { '2026-11-20/execution_09-00-00.log': RUNS.completed })
    assert.equal(await getLatestLogFile({ dir }), join(dir, '2026-11-20', 'execution_09-00-00.log'))
  })
})

describe('summarizeLogFile', () => {
  type Expected = Pick<LogFileSummary, 'records' | 'levels' | 'first' | 'last' | 'ending' | 'endingDetail' | 'exitCode' | 'torn' | 'damaged' | 'processes' | 'worst' | 'worstEnding'>
  const one = (worstEnding: LogFileSummary['worstEnding'], worst?: string): Pick<LogFileSummary, 'processes' | 'worst' | 'worstEnding'> => ({ processes: 1, worst: worst === undefined ? undefined : `process (pid 4321) ${worst}`, worstEnding })
  const cases: ReadonlyArray<readonly [keyof typeof RUNS, Expected]> = [
    ['completed', { records: 4, levels: { info: 3, success: 1 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:26.353'), ending: 'completed', endingDetail: 'exit code 0', exitCode: 0, torn: false, damaged: undefined, ...one('clean') }],
    ['exit3', { records: 3, levels: { info: 2, error: 1 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:25.600'), ending: 'error', endingDetail: 'exit code 3', exitCode: 3, torn: false, damaged: undefined, ...one('error', 'exited with code 3') }],
    ['uncaught', { records: 4, levels: { info: 2, error: 1, fatal: 1 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:25.701'), ending: 'uncaught', endingDetail: 'uncaught exception: boom', exitCode: 1, torn: false, damaged: undefined, ...one('uncaught', 'died of an uncaught error: Error: boom') }],
    ['sigterm', { records: 3, levels: { info: 2, warn: 1 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:27.000'), ending: 'signal', endingDetail: 'SIGTERM', exitCode: undefined, torn: false, damaged: undefined, ...one('signal', 'was killed by SIGTERM') }],
    ['sigkill', { records: 3, levels: { debug: 1, info: 2 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:25.300'), ending: 'none', endingDetail: undefined, exitCode: undefined, torn: false, damaged: undefined, ...one('unknown', 'stopped logging with no ending record') }],
    ['torn', { records: 2, levels: { info: 2 }, first: localMs('2026-11-21 05:52:25.100'), last: localMs('2026-11-21 05:52:25.200'), ending: 'none', endingDetail: undefined, exitCode: undefined, torn: true, damaged: undefined, ...one('unknown', 'stopped logging with no ending record') }],
  ]
  for (const [run, expected] of cases) {
    test(`a run that ended: ${run}`, async (t) => {
      const dir = await tempDir(t)
      writeTree(dir, { '2026-11-21/execution_05-52-25.log': RUNS[run] })
      const path = join(dir, '2026-11-21', 'execution_05-52-25.log')
      assert.deepEqual(await summarizeLogFile(path), { path, date: '2026-11-21', name: 'execution_05-52-25.log', size: Buffer.byteLength(RUNS[run]), ...expected })
    })
  }

  test('JSON lines, compressed, outside a day folder: the same reading', async (t) => {
    const dir = await tempDir(t)
    const json = [
      { level: 30, time: 1000, pid: 1, hostname: 'h', event: 'start', msg: 'start' },
      { level: 60, time: 2000, pid: 1, hostname: 'h', event: 'unhandledRejection', ending: 'uncaught', err: { type: 'Error', message: 'nope' }, msg: 'unhandled rejection: nope' },
      { level: 50, time: 2001, pid: 1, hostname: 'h', event: 'exit', code: 1, ending: 'error', msg: 'exiting with code 1 after 1.0 s' },
    ]
      .map((record) => `${JSON.stringify(record)}\n`)
      .join('')
    writeTree(dir, { 'app.log.1.gz': gzipSync(json) })
    const path = join(dir, 'app.log.1.gz')
    assert.deepEqual(await summarizeLogFile(path), {
      path,
      date: undefined,
      name: 'app.log.1.gz',
      size: gzipSync(json).length,
      records: 3,
      levels: { info: 1, error: 1, fatal: 1 },
      first: 1000,
      last: 2001,
      ending: 'uncaught',
      endingDetail: 'unhandled rejection: nope',
      exitCode: 1,
      torn: false,
      damaged: undefined,
      processes: 1,
      worst: 'process (pid 1) died of an uncaught error: Error: nope',
      worstEnding: 'uncaught',
    })
  })

  test('the strongest ending wins whatever the order; a signal record without a signal name gives its message', async (t) => {
    const dir = await tempDir(t)
    const lines = [
      '{"level":40,"time":1,"event":"signal","ending":"signal","msg":"received a signal"}',
      '{"level":50,"time":2,"event":"exit","code":143,"ending":"error","msg":"exiting with code 143"}',
      '{"level":35,"time":3,"event":"cleanup","ending":"completed","msg":"completed"}',
      '{"level":30,"time":4,"event":"heartbeat","ending":"bogus","msg":"not an ending"}',
      '',
    ].join('\n')
    writeTree(dir, { 'run.log': lines })
    const summary = await summarizeLogFile(join(dir, 'run.log'))
    assert.deepEqual([summary.ending, summary.endingDetail, summary.exitCode], ['signal', 'received a signal', 143])
  })

  test('lines of no known format are counted as unknown, never dropped', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { 'run.log': 'hello\n2026-11-21 05:52:25.100 [1] [INFO] a\nworld\n' })
    const summary = await summarizeLogFile(join(dir, 'run.log'))
    assert.deepEqual([summary.records, summary.levels], [3, { info: 1, unknown: 2 }])
  })
})

describe('printLogSummary', () => {
  test('one block per run file, newest first, and the summaries returned', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, {
      '2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: at('2026-11-21 05:52:26.000') },
      '2026-11-21/execution_05-52-25.log.1': { content: RUNS.sigkill, mtime: at('2026-11-21 05:52:25.500') },
      '2026-11-20/execution_10-00-00.log': RUNS.torn,
      '2026-11-20/notes.txt': 'foreign',
    })
    let out = ''
    const summaries = await printLogSummary({ dir, stream: { write: (text: string) => (out += text) } })
    assert.equal(
      out,
      [
        `2026-11-21  execution_05-52-25.log  ${Buffer.byteLength(RUNS.exit3)} B`,
        '  records  3: INFO 2, ERROR 1',
        '  time     2026-11-21 05:52:25.100 → 2026-11-21 05:52:25.600 (500 ms)',
        '  ending   error: exit code 3',
        '',
        `2026-11-21  execution_05-52-25.log.1  ${Buffer.byteLength(RUNS.sigkill)} B`,
        '  records  3: DEBUG 1, INFO 2',
        '  time     2026-11-21 05:52:25.100 → 2026-11-21 05:52:25.300 (200 ms)',
        "  ending   none in a rotated backup (the run's end is in execution_05-52-25.log)",
        '',
        `2026-11-20  execution_10-00-00.log  ${Buffer.byteLength(RUNS.torn)} B`,
        '  records  2: INFO 2',
        '  time     2026-11-21 05:52:25.100 → 2026-11-21 05:52:25.200 (100 ms)',
        '  ending   no ending record: killed or still running',
        '  torn     the last line was cut off mid-write',
        '',
      ].join('\n'),
    )
    assert.deepEqual(
      summaries.map((summary) => [summary.name, summary.ending]),
      [['execution_05-52-25.log', 'error'], ['execution_05-52-25.log.1', 'none'], ['execution_10-00-00.log', 'none']],
    )
  })

  test('json: the summaries as one JSON array; an empty folder says so', async (t) => {
    const dir = await tempDir(t)
    let out = ''
    const stream = { write: (text: string) => (out += text) }
    assert.deepEqual(await printLogSummary({ dir, stream }), [])
    assert.equal(out, `no run files in ${dir}\n`)
    out = ''
    await printLogSummary({ dir, stream, daysBack: 3 })
    assert.equal(out, `no run files in ${dir} from the last 3 days\n`)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log': RUNS.sigterm })
    out = ''
    const summaries = await printLogSummary({ dir, stream, json: true })
    assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(summaries)))
    assert.equal(summaries[0]?.endingDetail, 'SIGTERM')
  })
})

describe('cleanLogs', () => {
  const now = localMs('2026-12-25 12:00:00.000')
  const old = at('2026-11-01 00:00:00.000')
  const recent = at('2026-12-24 00:00:00.000')

  function writeCleanTree(root: string): void {
    writeTree(root, {
      'logs/README.md': { content: 'foreign', mtime: old },
      'logs/misc/execution_01-00-00.log': { content: RUNS.completed, mtime: old },
      'logs/2026-13-45/execution_01-00-00.log': { content: RUNS.completed, mtime: old },
      // Only old run files: emptied, then removed.
      'logs/2026-11-20/execution_10-00-00.log': { content: RUNS.sigkill, mtime: old },
      'logs/2026-11-20/execution_10-00-00.log.1.gz': { content: gzipSync(RUNS.sigkill), mtime: old },
      // Old run file beside foreign files and a folder: those stay, so does the day folder.
      'logs/2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: old },
      'logs/2026-11-21/notes.txt': { content: 'foreign', mtime: old },
      'logs/2026-11-21/execution.log': { content: 'foreign', mtime: old },
      'logs/2026-11-21/sub/execution_07-00-00.log': { content: RUNS.completed, mtime: old },
      'logs/2026-11-21/execution_05-52-25.log.compressing-99-1.tmp': { content: 'the rotating sink\'s own', mtime: old },
      // A long run: its run file is recent, its first backup old.
      'logs/2026-11-22/execution_23-00-00.log': { content: RUNS.completed, mtime: recent },
      'logs/2026-11-22/execution_23-00-00.log.1': { content: RUNS.sigkill, mtime: old },
      'logs/2026-11-22/execution_23-00-00.log.2026-11-22.zip': { content: 'a dated backup', mtime: old },
      'logs/2026-12-20/execution_08-00-00.log': { content: RUNS.completed, mtime: recent },
    })
    // Already empty: not emptied by the clean, so left alone (it may be today's, about to be used).
    mkdirSync(join(root, 'logs', '2026-11-01'))
  }

  const expectedRemoved = (dir: string) => [
    { path: join(dir, '2026-11-20', 'execution_10-00-00.log'), size: Buffer.byteLength(RUNS.sigkill) },
    { path: join(dir, '2026-11-20', 'execution_10-00-00.log.1.gz'), size: gzipSync(RUNS.sigkill).length },
    { path: join(dir, '2026-11-21', 'execution_05-52-25.log'), size: Buffer.byteLength(RUNS.exit3) },
    { path: join(dir, '2026-11-22', 'execution_23-00-00.log.1'), size: Buffer.byteLength(RUNS.sigkill) },
    { path: join(dir, '2026-11-22', 'execution_23-00-00.log.2026-11-22.zip'), size: Buffer.byteLength('a dated backup') },
  ]

  test('removes old run files and backups, and the day folders it emptied; nothing else', async (t) => {
    const root = await tempDir(t)
    writeCleanTree(root)
    const dir = join(root, 'logs')
    const result = await cleanLogs({ dir, olderThan: '30 days', now })
    const removed = expectedRemoved(dir)
    assert.deepEqual(result, {
      removed,
      removedDirs: [join(dir, '2026-11-20')],
      freedBytes: removed.reduce((sum, file) => sum + file.size, 0),
      dryRun: false,
      failed: [],
    })
    assert.deepEqual(listTree(root), [
      'logs/',
      'logs/2026-11-01/',
      'logs/2026-11-21/',
      'logs/2026-11-21/execution.log',
      'logs/2026-11-21/execution_05-52-25.log.compressing-99-1.tmp',
      'logs/2026-11-21/notes.txt',
      'logs/2026-11-21/sub/',
      'logs/2026-11-21/sub/execution_07-00-00.log',
      'logs/2026-11-22/',
      'logs/2026-11-22/execution_23-00-00.log',
      'logs/2026-12-20/',
      'logs/2026-12-20/execution_08-00-00.log',
      'logs/2026-13-45/',
      'logs/2026-13-45/execution_01-00-00.log',
      'logs/README.md',
      'logs/misc/',
      'logs/misc/execution_01-00-00.log',
    ])
    const again = await cleanLogs({ dir, olderThan: '30 days', now })
    assert.deepEqual([again.removed, again.removedDirs, again.freedBytes], [[], [], 0], 'a second clean finds nothing')
  })

  test('dryRun: says the same, removes nothing', async (t) => {
    const root = await tempDir(t)
    writeCleanTree(root)
    const dir = join(root, 'logs')
    const before = listTree(root)
    const result = await cleanLogs({ dir, olderThan: 30 * 86_400_000, now, dryRun: true })
    const removed = expectedRemoved(dir)
    assert.deepEqual(result, { removed, removedDirs: [join(dir, '2026-11-20')], freedBytes: removed.reduce((sum, file) => sum + file.size, 0), dryRun: true, failed: [] })
    assert.deepEqual(listTree(root), before)
  })

  test('the limit is by modification time: a file just inside it stays', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, {
      '2026-12-20/a_00-00-00.log': { content: 'x\n', mtime: new Date(now - 5 * 86_400_000 + 1000) },
      '2026-12-20/b_00-00-00.log': { content: 'x\n', mtime: new Date(now - 5 * 86_400_000 - 1000) },
    })
    const result = await cleanLogs({ dir, olderThan: '5 days', now })
    assert.deepEqual(result.removed.map((file) => file.path), [join(dir, '2026-12-20', 'b_00-00-00.log')])
  })

  test('a missing folder: nothing to do; a bad olderThan is refused with the input quoted', async (t) => {
    const dir = join(await tempDir(t), 'nope')
    assert.deepEqual(await cleanLogs({ dir, olderThan: '1 day' }), { removed: [], removedDirs: [], freedBytes: 0, dryRun: false, failed: [] })
    await assert.rejects(cleanLogs({ dir, olderThan: 'a while' }), {
      name: 'TypeError',
      message: 'Expected `olderThan` to be a positive duration like "7 days", "12 h", "1 week" or a number of ms, got `a while` (string)',
    })
    await assert.rejects(cleanLogs({ dir, olderThan: -1 }), { name: 'TypeError', message: /got `-1` \(number\)$/ })
  })
})
