// The log-management commands, run as a user runs them: the BUILT command (dist/, so
// `npm run build` first) in a child process, on real folders.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { listLogFiles } from '../../src/layout/catalog.ts'
import { localDate } from '../../src/layout/run-file.ts'
import { printLogSummary } from '../../src/layout/print-summary.ts'
import { listTree, localMs, writeTree } from '../helpers/log-tree.ts'
import { viaJson } from '../helpers/plain.ts'
import { spawnNode } from '../helpers/process.ts'
import { RUNS } from '../helpers/run-logs.ts'
import { tempDir } from '../helpers/tmp.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

function blackbox(args: readonly string[], cwd?: string): Result {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

const at = (text: string): Date => new Date(localMs(text))
// Old enough for any `--older-than` these tests use, whenever they run.
const LONG_AGO = at('2020-01-01 00:00:00.000')

/** Two days of runs, a backup, and a file that is not ours. */
function writeLogs(dir: string): void {
  writeTree(dir, {
    '2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: at('2026-11-21 05:52:26.000') },
    '2026-11-21/execution_05-52-25.log.1.gz': { content: gzipSync(RUNS.sigkill), mtime: at('2026-11-21 05:52:25.500') },
    '2026-11-20/job_23-00-00.log': { content: RUNS.sigterm, mtime: at('2026-11-20 23:30:00.000') },
    '2026-11-20/notes.txt': { content: 'mine, not blackbox\n', mtime: LONG_AGO },
  })
}

function assertUsageError(result: Result, command: string, message: RegExp): void {
  assert.equal(result.status, 2, result.stderr)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, new RegExp(`^blackbox ${command}: ${message.source}`))
  assert.match(result.stderr, new RegExp(`Usage: blackbox ${command} `))
}

describe('blackbox ls', () => {
  test('path, size and modification time of each run file, newest first', async (t) => {
    const dir = await tempDir(t)
    writeLogs(dir)
    const result = blackbox(['ls', '--dir', dir])
    assert.equal(result.status, 0, result.stderr)
    const gzSize = `${gzipSync(RUNS.sigkill).length} B`
    const width = join(dir, '2026-11-21/execution_05-52-25.log.1.gz').length
    const sizes = [`${Buffer.byteLength(RUNS.exit3)} B`, gzSize, `${Buffer.byteLength(RUNS.sigterm)} B`]
    const sizeWidth = Math.max(...sizes.map((size) => size.length))
    assert.equal(
      result.stdout,
      [
        `${join(dir, '2026-11-21/execution_05-52-25.log').padEnd(width)}  ${sizes[0]?.padStart(sizeWidth)}  2026-11-21 05:52:26`,
        `${join(dir, '2026-11-21/execution_05-52-25.log.1.gz').padEnd(width)}  ${sizes[1]?.padStart(sizeWidth)}  2026-11-21 05:52:25`,
        `${join(dir, '2026-11-20/job_23-00-00.log').padEnd(width)}  ${sizes[2]?.padStart(sizeWidth)}  2026-11-20 23:30:00`,
        '',
      ].join('\n'),
    )
    assert.equal(result.stderr, '')
  })

  test('--json: the entries listLogFiles() returns; --days narrows them', async (t) => {
    const dir = await tempDir(t)
    writeLogs(dir)
    const all = blackbox(['ls', '--dir', dir, '--json'])
    assert.equal(all.status, 0, all.stderr)
    assert.deepEqual(JSON.parse(all.stdout), viaJson(await listLogFiles({ dir })))
    const days = join(dir, 'days')
    writeTree(days, { [`${localDate(new Date())}/execution_00-00-00.log`]: RUNS.completed, '2020-01-01/execution_00-00-00.log': RUNS.completed })
    const today = blackbox(['ls', '--dir', days, '--days', '1', '--json'])
    assert.equal(today.status, 0, today.stderr)
    assert.deepEqual((JSON.parse(today.stdout) as Array<{ name: string }>).map((file) => file.name), ['execution_00-00-00.log'], 'today counts as 1: only its folder')
  })

  test('--dir defaults to logs in the working folder; none there is not an error', async (t) => {
    const root = await tempDir(t)
    const empty = blackbox(['ls'], root)
    assert.deepEqual(empty, { status: 0, stdout: '', stderr: 'blackbox ls: no run files in logs\n' })
    writeLogs(join(root, 'logs'))
    const found = blackbox(['ls'], root)
    assert.equal(found.status, 0)
    assert.deepEqual(
      found.stdout.split('\n').map((line) => line.split(/\s+/)[0]),
      ['logs/2026-11-21/execution_05-52-25.log', 'logs/2026-11-21/execution_05-52-25.log.1.gz', 'logs/2026-11-20/job_23-00-00.log', ''],
    )
  })

  test('bad usage exits 2 with the reason and the usage on stderr', () => {
    assertUsageError(blackbox(['ls', '--days', '0']), 'ls', /Expected `--days` to be a positive integer, got `0` \(string\)/)
    assertUsageError(blackbox(['ls', '--days', 'two']), 'ls', /Expected `--days` to be a positive integer, got `two` \(string\)/)
    assertUsageError(blackbox(['ls', '--frob']), 'ls', /Unknown option '--frob'/)
    assertUsageError(blackbox(['ls', 'extra']), 'ls', /Unexpected argument 'extra'/)
  })
})

describe('blackbox latest', () => {
  test('prints the newest run file, never a backup', async (t) => {
    const dir = await tempDir(t)
    writeLogs(dir)
    assert.deepEqual(blackbox(['latest', '--dir', dir]), { status: 0, stdout: `${join(dir, '2026-11-21', 'execution_05-52-25.log')}\n`, stderr: '' })
    const json = blackbox(['latest', '--dir', dir, '--json'])
    assert.equal(json.status, 0)
    assert.deepEqual(JSON.parse(json.stdout), viaJson((await listLogFiles({ dir }))[0]))
  })

  test('exits 1 when there is no run file (with --json: null)', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/notes.txt': 'foreign' })
    assert.deepEqual(blackbox(['latest', '--dir', dir]), { status: 1, stdout: '', stderr: `blackbox latest: no run files in ${dir}\n` })
    const json = blackbox(['latest', '--dir', dir, '--json'])
    assert.deepEqual([json.status, json.stdout], [1, 'null\n'])
  })
})

describe('blackbox summary', () => {
  test('prints what printLogSummary() prints: per file, the records and how the run ended', async (t) => {
    const dir = await tempDir(t)
    writeLogs(dir)
    const result = blackbox(['summary', '--dir', dir])
    assert.equal(result.status, 0, result.stderr)
    let expected = ''
    await printLogSummary({ dir, stream: { write: (text: string) => (expected += text) } })
    assert.equal(result.stdout, expected)
    const endings = result.stdout.split('\n').filter((line) => line.startsWith('  ending'))
    assert.deepEqual(endings, [
      '  ending   error: exit code 3',
      "  ending   none in a rotated backup (the run's end is in execution_05-52-25.log)",
      '  ending   signal: SIGTERM',
    ])
  })

  test('--json: an array of summaries', async (t) => {
    const dir = await tempDir(t)
    writeLogs(dir)
    const result = blackbox(['summary', '--dir', dir, '--json'])
    assert.equal(result.status, 0, result.stderr)
    const summaries = JSON.parse(result.stdout) as Array<{ name: string; ending: string; endingDetail?: string; records: number }>
    assert.deepEqual(
      summaries.map((summary) => [summary.name, summary.records, summary.ending, summary.endingDetail]),
      [
        ['execution_05-52-25.log', 3, 'error', 'exit code 3'],
        ['execution_05-52-25.log.1.gz', 3, 'none', undefined],
        ['job_23-00-00.log', 3, 'signal', 'SIGTERM'],
      ],
    )
  })

  test('a run killed mid-write: no ending record, torn last line', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log': RUNS.torn })
    const result = blackbox(['summary', '--dir', dir])
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /\n {2}ending {3}no ending record: killed or still running\n {2}torn {5}the last line was cut off mid-write\n$/)
  })

  test('a reader that goes away early (| head) ends it quietly, exit 0', async (t) => {
    const dir = await tempDir(t)
    // Far more output than a pipe holds (64 KiB on Linux), so writes fail once the reader is gone.
    const files: Record<string, string> = {}
    for (let i = 0; i < 1000; i++) files[`2026-11-21/execution_05-52-25_${i + 1}.log`] = RUNS.sigkill
    writeTree(dir, files)
    const child = spawnNode(bin, ['summary', '--dir', dir])
    child.child.stdout?.once('data', () => child.child.stdout?.destroy())
    const result = await child.exited()
    assert.deepEqual([result.code, result.signal, result.stderr], [0, null, ''])
  })

  test('bad usage exits 2', () => {
    assertUsageError(blackbox(['summary', '--days', '-3']), 'summary', /Option '--days' argument is ambiguous/)
    assertUsageError(blackbox(['summary', '--days=-3']), 'summary', /Expected `--days` to be a positive integer, got `-3` \(string\)/)
    assertUsageError(blackbox(['summary', '--days', '1.5']), 'summary', /Expected `--days` to be a positive integer, got `1.5` \(string\)/)
  })
})

describe('blackbox clean', () => {
  test('--dry-run prints what would go and removes nothing; then the real clean removes exactly that', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, {
      '2026-11-20/job_23-00-00.log': { content: RUNS.sigterm, mtime: LONG_AGO },
      '2026-11-20/job_23-00-00.log.1.gz': { content: gzipSync(RUNS.sigkill), mtime: LONG_AGO },
      '2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: LONG_AGO },
      '2026-11-21/notes.txt': { content: 'mine\n', mtime: LONG_AGO },
      '2026-11-22/execution_05-52-25.log': RUNS.completed,
    })
    const before = listTree(dir)
    const sizes = [Buffer.byteLength(RUNS.sigterm), gzipSync(RUNS.sigkill).length, Buffer.byteLength(RUNS.exit3)]
    const total = sizes.reduce((a, b) => a + b, 0)
    const files = ['2026-11-20/job_23-00-00.log', '2026-11-20/job_23-00-00.log.1.gz', '2026-11-21/execution_05-52-25.log'].map((file) => join(dir, file))
    const report = (verb: string, free: string, note: string): string =>
      [
        ...files.map((file, i) => `${verb} ${file} (${sizes[i]} B)`),
        `${verb} ${join(dir, '2026-11-20')} (left empty)`,
        `${free} ${total >= 1000 ? `${(total / 1000).toFixed(1)} kB` : `${total} B`} in 3 files${note}`,
        '',
      ].join('\n')

    const dry = blackbox(['clean', '--dir', dir, '--older-than', '30 days', '--dry-run'])
    assert.deepEqual(dry, { status: 0, stdout: report('would remove', 'would free', ' (dry run: nothing was removed)'), stderr: '' })
    assert.deepEqual(listTree(dir), before)

    const real = blackbox(['clean', '--dir', dir, '--older-than', '30 days'])
    assert.deepEqual(real, { status: 0, stdout: report('removed', 'freed', ''), stderr: '' })
    assert.deepEqual(listTree(dir), ['2026-11-21/', '2026-11-21/notes.txt', '2026-11-22/', '2026-11-22/execution_05-52-25.log'])

    const again = blackbox(['clean', '--dir', dir, '--older-than', '30 days'])
    assert.deepEqual(again, { status: 0, stdout: `nothing older than 30 days in ${dir}\n`, stderr: '' })
  })

  test('--json: the result of cleanLogs()', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: LONG_AGO } })
    const result = blackbox(['clean', '--dir', dir, '--older-than', '1 week', '--json'])
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout), {
      removed: [{ path: join(dir, '2026-11-21', 'execution_05-52-25.log'), size: Buffer.byteLength(RUNS.exit3) }],
      removedDirs: [join(dir, '2026-11-21')],
      freedBytes: Buffer.byteLength(RUNS.exit3),
      dryRun: false,
      failed: [],
    })
    assert.equal(existsSync(join(dir, '2026-11-21')), false)
  })

  test('bad usage exits 2 and removes nothing', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log': { content: RUNS.exit3, mtime: LONG_AGO } })
    assertUsageError(blackbox(['clean', '--dir', dir]), 'clean', /Expected `--older-than` to be a duration like "30 days", got nothing/)
    assertUsageError(blackbox(['clean', '--dir', dir, '--older-than', 'soon']), 'clean', /Expected `--older-than` to be a positive duration like "7 days", "12 h", "1 week" or a number of ms, got `soon` \(string\)/)
    assertUsageError(blackbox(['clean', '--dir', dir, '--older-than', '0 days']), 'clean', /Expected `--older-than` to be a positive duration/)
    assert.deepEqual(listTree(dir), ['2026-11-21/', '2026-11-21/execution_05-52-25.log'])
  })
})

describe('help', () => {
  for (const command of ['ls', 'latest', 'summary', 'clean']) {
    test(`blackbox ${command} --help prints its usage`, () => {
      const result = blackbox([command, '--help'])
      assert.equal(result.status, 0)
      assert.match(result.stdout, new RegExp(`^Usage: blackbox ${command} `))
    })
  }

  test('blackbox --help lists the commands', () => {
    const result = blackbox(['--help'])
    assert.equal(result.status, 0)
    for (const command of ['ls', 'latest', 'summary', 'clean']) assert.match(result.stdout, new RegExp(`^ {2}${command} +\\[--dir DIR\\]`, 'm'))
  })
})
