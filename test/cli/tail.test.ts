// `blackbox tail`, run as a user runs it: the BUILT command (dist/, so `npm run build`
// first) in a child process, on real files. `tail -f` is driven by writing to the file and
// waiting, with a deadline, for what it prints.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { appendFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { writeTree } from '../helpers/log-tree.ts'
import { exitedReason, killIfRunning, spawnNode, waitUntil, type NodeChild } from '../helpers/process.ts'
import { RUNS, textLine } from '../helpers/run-logs.ts'
import { tempDir, type CleanupHost } from '../helpers/tmp.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
// Bounds for `tail -f` to react; it polls every 250 ms at worst, and waits 150 ms of quiet.
const FOLLOW_TIMEOUT_MS = 5_000
const EXIT_TIMEOUT_MS = 5_000

const YELLOW = '\u001b[33m'
const RED = '\u001b[31m'
const DEFAULT_FG = '\u001b[39m'

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The built command, with the colour variables of this process removed and `env` on top. */
function blackbox(args: readonly string[], env: NodeJS.ProcessEnv = {}): Result {
  const base: NodeJS.ProcessEnv = { ...process.env }
  delete base['NO_COLOR']
  delete base['FORCE_COLOR']
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...base, ...env } })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** What the command prints, after checking that it succeeded. */
function stdoutOf(args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const result = blackbox(args, env)
  assert.equal(result.status, 0, `blackbox ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** Twelve records, the fourth with continuation lines. */
function numbered(): string[] {
  return Array.from({ length: 12 }, (_, i) => {
    const line = textLine(`2026-11-21 05:52:25.${String(100 + i)}`, i % 4 === 3 ? 'WARNING' : 'INFO', `record ${i + 1}`)
    return i === 3 ? `${line}  | second line of record 4\n  | third line\n` : line
  })
}

describe('blackbox tail', () => {
  test('the last 10 records of the newest run file by default; --lines N; continuation lines belong to their record', async (t) => {
    const dir = await tempDir(t)
    const records = numbered()
    writeTree(dir, {
      '2026-11-21/execution_05-52-25.log': records.join(''),
      '2026-11-20/execution_09-00-00.log': RUNS.completed,
    })
    const latest = blackbox(['tail', '--dir', dir])
    assert.equal(latest.status, 0, latest.stderr)
    assert.equal(latest.stdout, records.slice(2).join(''))
    assert.equal(latest.stderr, '')

    const path = join(dir, '2026-11-20/execution_09-00-00.log')
    const two = blackbox(['tail', '--lines', '2', path])
    assert.equal(two.status, 0, two.stderr)
    assert.equal(two.stdout, RUNS.completed.split(/(?<=\n)/).slice(-2).join(''))
    assert.equal(stdoutOf(['tail', '-n', '9', '--dir', dir, 'latest']), records.slice(3).join(''))
  })

  test('--level keeps records at or above the level (aliases too); --grep those whose text contains TEXT, case-sensitive', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'run.log')
    const records = numbered()
    writeFileSync(path, records.join(''))
    const warnings = [records[3], records[7], records[11]].join('')
    assert.equal(stdoutOf(['tail', '--level', 'warn', path]), warnings)
    assert.equal(stdoutOf(['tail', '--level', 'WARNING', path]), warnings)
    assert.equal(stdoutOf(['tail', '--level', '40', path]), warnings)
    assert.equal(stdoutOf(['tail', '--level', 'error', path]), '')
    // A continuation line is part of the record's text.
    assert.equal(stdoutOf(['tail', '--grep', 'third line', path]), records[3])
    assert.equal(stdoutOf(['tail', '--grep', 'Third line', path]), '')
    assert.equal(stdoutOf(['tail', '--grep', 'record 1', '--lines', '2', path]), [records[10], records[11]].join(''))
    assert.equal(stdoutOf(['tail', '--grep', 'record 1', '--level', 'warning', path]), records[11])
  })

  test('JSON records become text lines: time, pid, level, message, fields; the error stack on continuation lines', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'role.log')
    const time = new Date(2026, 10, 21, 5, 52, 25, 123)
    const err = { type: 'Error', message: 'could not save', stack: 'Error: could not save\n    at save (file:///app/save.js:10:11)', code: 'EDQUOT' }
    writeFileSync(
      path,
      [
        { level: 30, time: time.getTime(), pid: 77, hostname: 'vm', name: 'shop', user: 'alice', msg: 'checkout started' },
        { level: 50, time: time.getTime() + 1, pid: 77, hostname: 'vm', err, msg: 'while saving' },
        { level: 'warn', time: time.toISOString(), msg: 'pino with a label and an ISO time\nand a second line', note: 'two words' },
        { no: 'level' },
      ]
        .map((record) => `${JSON.stringify(record)}\n`)
        .join(''),
    )
    const result = blackbox(['tail', path])
    assert.equal(result.status, 0, result.stderr)
    assert.equal(
      result.stdout,
      [
        '2026-11-21 05:52:25.123 [77] [INFO] checkout started name=shop user=alice',
        '2026-11-21 05:52:25.124 [77] [ERROR] while saving',
        '  | Error: could not save',
        '  |     at save (file:///app/save.js:10:11)',
        '  |     code=EDQUOT',
        '2026-11-21 05:52:25.123 [WARNING] pino with a label and an ISO time note="two words"',
        '  | and a second line',
        '{"no":"level"}',
        '',
      ].join('\n'),
    )
  })

  test('colours like the console sink with FORCE_COLOR=1; none with NO_COLOR, nor when stdout is not a terminal', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'run.log')
    const json = `${JSON.stringify({ level: 50, time: new Date(2026, 10, 21, 5, 52, 26).getTime(), pid: 1, msg: 'json' })}\n`
    writeFileSync(path, RUNS.sigterm + json)
    assert.equal(
      stdoutOf(['tail', '-n', '2', path], { FORCE_COLOR: '1' }),
      `2026-11-21 05:52:27.000 [4321] [${YELLOW}WARNING${DEFAULT_FG}] received SIGTERM (termination request) event=signal signal=SIGTERM ending=signal\n` +
        `2026-11-21 05:52:26.000 [1] [${RED}ERROR${DEFAULT_FG}] json\n`,
    )
    const plain = RUNS.sigterm.split(/(?<=\n)/).at(-1) + '2026-11-21 05:52:26.000 [1] [ERROR] json\n'
    assert.equal(stdoutOf(['tail', '-n', '2', path], { FORCE_COLOR: '1', NO_COLOR: '1' }), plain)
    assert.equal(stdoutOf(['tail', '-n', '2', path]), plain, 'a pipe is not a terminal')
  })

  test('a torn last line is shown as it is; compressed backups are read', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { 'torn.log': RUNS.torn, 'backup.log.1.gz': gzipSync(RUNS.exit3) })
    assert.equal(stdoutOf(['tail', '-n', '2', join(dir, 'torn.log')]), `${RUNS.torn.split(/(?<=\n)/).slice(-2).join('')}\n`)
    assert.equal(stdoutOf(['tail', join(dir, 'backup.log.1.gz')]), RUNS.exit3)
  })

  test('mistakes: exit 2 for the command line, 1 for a missing file or no run file', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { 'a.log.1.gz': gzipSync(RUNS.exit3) })
    for (const [args, message] of [
      [['--level', 'loud'], /Expected `--level` to be one of trace, .*, got `loud`/],
      [['--lines', 'ten'], /Expected `--lines` to be a non-negative integer, got `ten`/],
      [['a.log', 'b.log'], /Expected one FILE at most, got 2/],
      [['--frob'], /Unknown option '--frob'/],
      [['-f', join(dir, 'a.log.1.gz')], /Cannot follow a compressed file/],
    ] as const) {
      const result = blackbox(['tail', ...args])
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, new RegExp(`^blackbox tail: ${message.source}`))
      assert.match(result.stderr, /Usage: blackbox tail /)
    }
    const missing = blackbox(['tail', join(dir, 'nope.log')])
    assert.deepEqual([missing.status, missing.stdout, missing.stderr], [1, '', `blackbox tail: no such file: ${join(dir, 'nope.log')}\n`])
    const none = blackbox(['tail', '--dir', join(dir, 'empty')])
    assert.deepEqual([none.status, none.stderr], [1, `blackbox tail: no run files in ${join(dir, 'empty')}\n`])
  })
})

describe('blackbox tail -f', () => {
  const line = (name: string): string => textLine('2026-11-21 05:52:25.100', 'INFO', name)

  function follow(t: CleanupHost, args: readonly string[]): NodeChild {
    const child = spawnNode(bin, ['tail', '-f', ...args], { env: { NO_COLOR: '1' } })
    t.after(() => killIfRunning(child))
    return child
  }

  async function printed(child: NodeChild, text: string): Promise<void> {
    try {
      await waitUntil(() => child.stdout().includes(text), {
        timeoutMs: FOLLOW_TIMEOUT_MS,
        what: `tail -f to print ${JSON.stringify(text)}`,
        abortIf: () => exitedReason(child),
      })
    } catch (error) {
      throw new Error(`${(error as Error).message}; it printed ${JSON.stringify(child.stdout())}`)
    }
  }

  async function stop(child: NodeChild, signal: NodeJS.Signals): Promise<string> {
    child.child.kill(signal)
    const result = await child.exited(EXIT_TIMEOUT_MS)
    assert.equal(result.code, 0, `exit code after ${signal}; stderr: ${result.stderr}`)
    return result.stdout
  }

  test('across a rotation: the rest of the old file, then the new file from its start, each record once, in order', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'run.log')
    writeFileSync(path, line('A1') + line('A2') + line('A3'))
    const child = follow(t, ['--lines', '2', path])
    await printed(child, line('A3'))
    // What a rotating writer does: last records, rename, a new file under the old name.
    appendFileSync(path, line('A4') + line('A5'))
    renameSync(path, `${path}.1`)
    writeFileSync(path, line('B1'))
    await printed(child, line('B1'))
    appendFileSync(path, line('B2'))
    await printed(child, line('B2'))
    const stdout = await stop(child, 'SIGINT')
    assert.equal(stdout, ['A2', 'A3', 'A4', 'A5', 'B1', 'B2'].map(line).join(''))
    assert.match(child.stderr(), /was rotated; following the new file/)
  })

  test('across a truncation: from the start again; --level applies to new records', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'run.log')
    writeFileSync(path, line('A1') + line('A2') + line('A3'))
    const child = follow(t, ['--level', 'info', path])
    await printed(child, line('A3'))
    writeFileSync(path, line('B1'))
    await printed(child, line('B1'))
    appendFileSync(path, textLine('2026-11-21 05:52:25.100', 'DEBUG', 'not shown') + line('B2'))
    await printed(child, line('B2'))
    const stdout = await stop(child, 'SIGTERM')
    assert.equal(stdout, ['A1', 'A2', 'A3', 'B1', 'B2'].map(line).join(''))
    assert.match(child.stderr(), /was truncated; reading it from the start/)
  })

  test('a record appended in two writes is printed once, whole, with its continuation lines', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'run.log')
    writeFileSync(path, line('A1'))
    const child = follow(t, [path])
    await printed(child, line('A1'))
    const record = `${textLine('2026-11-21 05:52:26.000', 'ERROR', 'written in two halves')}  | Error: boom\n  |     at main (file:///app/main.js:3:9)\n`
    const half = record.indexOf('two') + 2
    // A2 and the first half in one write: once A2 is out (after the quiet period), tail has
    // read the half line too, and held it back.
    appendFileSync(path, line('A2') + record.slice(0, half))
    await printed(child, line('A2'))
    appendFileSync(path, record.slice(half))
    await printed(child, record)
    appendFileSync(path, line('A3'))
    await printed(child, line('A3'))
    const stdout = await stop(child, 'SIGINT')
    assert.equal(stdout, line('A1') + line('A2') + record + line('A3'))
  })
})
