// Issue #15, "Hostile input", readers and the command line: each case run as a user runs it,
// the BUILT command (dist/, so `npm run build` first) in a child process, on real files.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { zipSync } from 'fflate'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { listTree, localMs, writeTree } from '../helpers/log-tree.ts'
import { listRunFiles } from '../helpers/run-files.ts'
import { RUNS } from '../helpers/run-logs.ts'
import { removeTempDir, tempDir } from '../helpers/tmp.ts'
import { unprivilegedNode } from '../helpers/unprivileged.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const EXIT_TIMEOUT_MS = 20_000
// Controls a terminal acts on (C0 but tab and newline, DEL, C1, U+2028/9), as escapeInline() knows them.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/
const localTime = compileTimeFormat()

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The built command, without colours, with `input` on stdin; `prefix` runs it through
 * another program (setpriv). Asynchronous, so that the cases of a suite run side by side.
 */
async function blackbox(args: readonly string[], options: { input?: string; command?: string; prefix?: readonly string[] } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env['FORCE_COLOR']
  const child = spawn(options.command ?? process.execPath, [...(options.prefix ?? []), bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  // A command that does not read its stdin may be gone before all of it is written.
  child.stdin.on('error', () => {})
  child.stdin.end(options.input ?? '')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`blackbox ${args.join(' ')} did not exit within EXIT_TIMEOUT_MS (${EXIT_TIMEOUT_MS} ms); stderr: ${stderr}`))
    }, EXIT_TIMEOUT_MS)
  })
  const closed = new Promise<Result>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (status) => resolve({ status, stdout, stderr }))
  })
  try {
    return await Promise.race([closed, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const AT = localMs('2026-11-21 05:52:25.123')
const json = (record: Record<string, unknown>): string => `${JSON.stringify({ level: 30, time: AT, pid: 7, ...record })}\n`
const AFTER = json({ msg: 'the line after' })

describe('deep nesting and long stacks: tail, pretty and postmortem go on (#15)', { concurrency: true }, () => {
  const cases = {
    'a line nested 5,000 deep': `{"level":30,"time":${AT},"pid":7,"msg":"deep","a":${'['.repeat(5000)}${']'.repeat(5000)}}\n`,
    'an error stack of 200,000 lines': json({ level: 50, msg: 'many', err: { type: 'Error', message: 'm', stack: `Error: m\n${'    at f (file:///app.js:1:1)\n'.repeat(200_000)}` } }),
  }
  for (const [name, line] of Object.entries(cases)) {
    test(`${name}: every command prints it and the line after, exit 0`, async (t) => {
      const path = join(await tempDir(t), 'app.log')
      writeFileSync(path, line + AFTER)
      const [tail, pretty, postmortem] = await Promise.all([blackbox(['tail', path]), blackbox(['pretty'], { input: line + AFTER }), blackbox(['postmortem', path, '--dir', join(path, '..')])])
      const results = { tail, pretty, postmortem }
      for (const [command, result] of Object.entries(results)) {
        assert.equal(result.status, 0, `${command}: ${result.stderr.slice(0, 500)}`)
        assert.doesNotMatch(result.stderr, /call stack/, command)
        assert.match(result.stdout, /the line after/, command)
      }
      for (const command of ['tail', 'pretty'] as const) {
        const lines = results[command].stdout.split('\n')
        assert.equal(lines.length, 3, `${command}: one line for each record`)
        assert.equal(lines[1], `${localTime(AT)} [7] [INFO] the line after`)
      }
    })
  }
})

describe('odd values shown as what they are (#15)', () => {
  test('tail and pretty: a number message, an impossible time, a stack that is not text', async (t) => {
    const input = json({ msg: 123 }) + '{"level":30,"pid":7,"time":1e300,"msg":"when"}\n' + json({ level: 50, msg: 'failed', err: { stack: 123 } })
    const expected = `${localTime(AT)} [7] [INFO] 123\n[7] [INFO] when time=1e+300\n${localTime(AT)} [7] [ERROR] failed\n  | 123\n`
    const path = join(await tempDir(t), 'app.log')
    writeFileSync(path, input)
    assert.deepEqual(await blackbox(['pretty'], { input }), { status: 0, stdout: expected, stderr: '' })
    assert.deepEqual(await blackbox(['tail', path]), { status: 0, stdout: expected, stderr: '' })
    const report = JSON.parse((await blackbox(['postmortem', path, '--json'])).stdout) as { errors: Array<{ message: string; stack: string | null }>; lastRecords: Array<{ message: string; time: string | null }> }
    assert.deepEqual(report.errors.map(({ message, stack }) => [message, stack]), [['failed', '123']])
    assert.deepEqual(report.lastRecords.map(({ message, time }) => [message, time]), [['123', new Date(AT).toISOString()], ['when', null], ['failed', new Date(AT).toISOString()]])
  })
})

describe('terminal output escapes control characters (#15)', () => {
  test('tail: a damaged text file, a JSON message, a file name; pretty: a line passed through', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'app.log')
    writeFileSync(path, `${localTime(AT)} [7] [INFO] clear \u001b[2J screen\n${json({ msg: 'bell \u0007 title \u001b]0;owned\u0007' })}`)
    const tail = await blackbox(['tail', path])
    assert.equal(tail.status, 0, tail.stderr)
    assert.equal(tail.stdout, `${localTime(AT)} [7] [INFO] clear \\e[2J screen\n${localTime(AT)} [7] [INFO] bell \\u0007 title \\e]0;owned\\u0007\n`)
    const missing = await blackbox(['tail', join(dir, 'no\u001b[31msuch')])
    assert.equal(missing.status, 1)
    assert.doesNotMatch(missing.stderr, RAW_CONTROL)
    assert.match(missing.stderr, /no\\e\[31msuch/)
    assert.equal((await blackbox(['pretty'], { input: 'not json \u001b[2J\u009b\n' })).stdout, 'not json \\e[2J\\u009b\n')
    writeTree(dir, { '2026-11-21/app_05-52-25.log': json({ level: 60, msg: 'uncaught exception: \u001b[2Jgone', event: 'uncaught', ending: 'uncaught' }) })
    const summary = await blackbox(['summary', '--dir', dir])
    assert.equal(summary.status, 0, summary.stderr)
    assert.match(summary.stdout, /ending {3}uncaught: uncaught exception: \\e\[2Jgone\n/)
  })

  test('progress: a damaged status file, its name, and the text in it', async (t) => {
    const dir = await tempDir(t)
    mkdirSync(join(dir, 'heartbeats'))
    writeFileSync(join(dir, 'heartbeats', 'broken_heartbeat.json'), '{"run_id":"x", \u001b[31mRED\u0007 }')
    const broken = await blackbox(['progress', 'broken', '--dir', dir, '--once'])
    assert.equal(broken.status, 1)
    assert.match(broken.stderr, /is not valid JSON/)
    assert.doesNotMatch(broken.stderr + broken.stdout, RAW_CONTROL)
    const named = join(dir, 'heartbeats', 'x\u001b[2J_heartbeat.json')
    writeFileSync(named, '\u001b[2J')
    const byName = await blackbox(['progress', named, '--once'])
    assert.equal(byName.status, 1)
    assert.doesNotMatch(byName.stderr + byName.stdout, RAW_CONTROL)
    writeFileSync(named, JSON.stringify({ run_id: 'r\u001b[2J', status: 'failed: \u0007', completed: 1, total: '\u001b', pid: '\u009b', last_item: { a: '\u001b' }, updated_at: '\u001b' }))
    const text = await blackbox(['progress', named, '--once'])
    assert.equal(text.status, 0, text.stderr)
    assert.match(text.stdout, /r\\e\[2J/)
    assert.doesNotMatch(text.stderr + text.stdout, RAW_CONTROL)
  })
})

describe('damaged archives: a note on stderr, exit 1 (#15)', { concurrency: true }, () => {
  const text = RUNS.exit3.repeat(3)
  const gz = gzipSync(text)
  const zip = Buffer.from(zipSync({ 'execution_05-52-25.log': Buffer.from(text) }))
  const zipDirectory = zip.length - 22 - zip.readUInt32LE(zip.length - 22 + 12)
  const damaged = {
    'a .gz without its 8-byte trailer': { name: 'execution_05-52-25.log.1.gz', bytes: gz.subarray(0, gz.length - 8), note: /trailer/ },
    'a .gz cut short by 3 bytes': { name: 'execution_05-52-25.log.1.gz', bytes: gz.subarray(0, gz.length - 3), note: /trailer/ },
    'a .zip without its central directory': { name: 'execution_05-52-25.log.1.zip', bytes: zip.subarray(0, zipDirectory), note: /central directory/ },
  }
  for (const [name, { name: file, bytes, note }] of Object.entries(damaged)) {
    test(`${name}: tail prints the records before the damage, says what is wrong, exits 1`, async (t) => {
      const path = join(await tempDir(t), file)
      writeFileSync(path, bytes)
      const tail = await blackbox(['tail', path, '--lines', '100'])
      assert.equal(tail.status, 1, tail.stderr)
      assert.equal(tail.stderr.split('\n').length, 2, 'one note')
      assert.match(tail.stderr, new RegExp(`^blackbox tail: ${path}: could not be decompressed past line 10: .*${note.source}`))
      assert.equal(tail.stdout, text, 'the records before the damage')
    })
  }

  test('summary and postmortem of a damaged .gz: what could be read, a note, exit 1', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log.1.gz': damaged['a .gz without its 8-byte trailer'].bytes })
    const path = join(dir, '2026-11-21', 'execution_05-52-25.log.1.gz')
    const summary = await blackbox(['summary', '--dir', dir])
    assert.equal(summary.status, 1, summary.stderr)
    assert.match(summary.stdout, /records {2}9: INFO 6, ERROR 3/)
    assert.match(summary.stdout, /\n {2}damaged {2}could not be decompressed past line 10: .*trailer/)
    assert.match(summary.stderr, new RegExp(`^blackbox summary: ${path}: could not be decompressed past line 10: .*trailer`))
    const postmortem = await blackbox(['postmortem', path])
    assert.equal(postmortem.status, 1, postmortem.stderr)
    assert.match(postmortem.stdout, /^postmortem .*, 9 records, damaged: could not be decompressed past line 10: .*trailer/)
    assert.match(postmortem.stderr, new RegExp(`^blackbox postmortem: ${path}: could not be decompressed past line 10: .*trailer`))
  })

  test('whole archives: no note, exit 0', async (t) => {
    const dir = await tempDir(t)
    writeTree(dir, { '2026-11-21/execution_05-52-25.log.1.gz': gz, '2026-11-21/execution_05-52-25.log.2.zip': zip })
    for (const args of [['tail', join(dir, '2026-11-21/execution_05-52-25.log.1.gz')], ['tail', join(dir, '2026-11-21/execution_05-52-25.log.2.zip')], ['summary', '--dir', dir]]) {
      const result = await blackbox(args)
      assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stderr, '')
    }
  })
})

describe('unreadable entries are skipped with a note; the rest goes on (#15)', () => {
  /**
   * A log folder whose newest day folder is mode 000, and whose other day holds an
   * unreadable (mode 000) run file newer than a readable one; all owned by the user the
   * command runs as, in a folder that user can reach.
   */
  async function lockedLogs(t: TestContext, uid: number): Promise<{ dir: string; locked: string; lockedFile: string; readable: string }> {
    // Made here, not with tempDir(): the modes must be put back before the folder is removed.
    const root = mkdtempSync(join(tmpdir(), 'blackbox-test-'))
    t.after(async () => {
      chmodSync(join(root, 'logs', '2026-11-21'), 0o755)
      await removeTempDir(root)
    })
    chmodSync(root, 0o755)
    const dir = join(root, 'logs')
    const old = new Date(localMs('2020-01-01 00:00:00.000'))
    writeTree(dir, {
      '2026-11-21/execution_05-52-25.log': { content: RUNS.completed, mtime: old },
      '2026-11-20/job_08-00-00.log': { content: RUNS.exit3, mtime: old },
      '2026-11-20/job_09-00-00.log': { content: RUNS.sigterm, mtime: old },
    })
    const locked = join(dir, '2026-11-21')
    const lockedFile = join(dir, '2026-11-20', 'job_09-00-00.log')
    if (uid !== process.getuid?.()) for (const path of [dir, join(dir, '2026-11-20'), locked, join(dir, '2026-11-20/job_08-00-00.log'), lockedFile, join(locked, 'execution_05-52-25.log')]) chownSync(path, uid, uid)
    chmodSync(lockedFile, 0o000)
    chmodSync(locked, 0o000)
    return { dir, locked, lockedFile, readable: join(dir, '2026-11-20', 'job_08-00-00.log') }
  }

  const who = unprivilegedNode()

  test('ls, latest, summary, tail, postmortem and clean, as a user file modes apply to', async (t) => {
    if ('skip' in who) {
      t.skip(who.skip)
      return
    }
    const { dir, locked, lockedFile, readable } = await lockedLogs(t, who.uid)
    const run = (args: readonly string[]): Promise<Result> => blackbox(args, { command: who.command, prefix: who.prefix })
    const skippedFolder = new RegExp(`cannot read ${locked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied \\(EACCES\\); skipped`)
    const skippedFile = new RegExp(`cannot read ${lockedFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied \\(EACCES\\); skipped`)

    const ls = await run(['ls', '--dir', dir])
    assert.equal(ls.status, 1, `ls: not everything could be listed; ${ls.stderr}`)
    assert.deepEqual(ls.stdout.split('\n').map((line) => line.split('  ')[0]), [lockedFile, readable, ''])
    assert.match(ls.stderr, skippedFolder)

    const latest = await run(['latest', '--dir', dir])
    assert.deepEqual([latest.status, latest.stdout], [0, `${readable}\n`], latest.stderr)
    assert.match(latest.stderr, skippedFolder)
    assert.match(latest.stderr, skippedFile)

    const summary = await run(['summary', '--dir', dir])
    assert.equal(summary.status, 1, summary.stderr)
    assert.match(summary.stdout, /^2026-11-20 {2}job_08-00-00\.log/)
    assert.doesNotMatch(summary.stdout, /job_09/)
    assert.match(summary.stderr, skippedFolder)
    assert.match(summary.stderr, skippedFile)

    const tail = await run(['tail', '--dir', dir])
    assert.equal(tail.status, 0, tail.stderr)
    assert.equal(tail.stdout, RUNS.exit3)
    assert.match(tail.stderr, skippedFolder)
    assert.match(tail.stderr, skippedFile)
    const tailLocked = await run(['tail', lockedFile])
    assert.equal(tailLocked.status, 1)
    assert.match(tailLocked.stderr, /permission denied/)

    const postmortem = await run(['postmortem', '--dir', dir])
    assert.equal(postmortem.status, 0, postmortem.stderr)
    assert.match(postmortem.stdout, new RegExp(`^postmortem ${readable}`))
    assert.match(postmortem.stderr, skippedFolder)

    const clean = await run(['clean', '--dir', dir, '--older-than', '1 day'])
    assert.equal(clean.status, 1, clean.stderr)
    assert.match(clean.stdout, new RegExp(`removed ${readable}`))
    assert.equal(clean.stderr, `blackbox clean: ${locked}: could not read: permission denied (EACCES)\n`)
    chmodSync(locked, 0o755)
    assert.deepEqual(listTree(dir), ['2026-11-21/', '2026-11-21/execution_05-52-25.log'], 'the locked day is left as it was; the other day is cleaned')
  })
})

describe('blackbox run on a command that cannot start (#15)', () => {
  test('a missing command: "command not found", exit 127 as shells do; the run file says so', async (t) => {
    const dir = await tempDir(t)
    const result = await blackbox(['run', '--dir', dir, '--', '/no/such/cmd'])
    assert.equal(result.status, 127, result.stderr)
    assert.equal(result.stderr.split('\n')[0], 'blackbox run: command not found: /no/such/cmd')
    const [file] = listRunFiles(dir)
    assert.ok(file !== undefined)
    const text = readFileSync(file, 'utf8')
    assert.doesNotMatch(text, /undefined/)
    assert.match(text, /\[ERROR\] could not start \/no\/such\/cmd: command not found .*event=spawn-error/)
    assert.match(text, /run ended: the command could not be started \(command not found\) .*verdict=not-started exitStatus=127/)
    const report = JSON.parse((await blackbox(['postmortem', file, '--json'])).stdout) as { verdict: string; detail: string; exitStatus: number }
    assert.deepEqual([report.verdict, report.detail, report.exitStatus], ['not-started', 'command not found: /no/such/cmd', 127])
  })

  test('a file that is not executable: exit 126, as shells do', async (t) => {
    const dir = await tempDir(t)
    const script = join(dir, 'not-executable.sh')
    writeFileSync(script, 'echo hi\n', { mode: 0o644 })
    // Root may run any file with an x bit, but not one with none: mode 0644 stops root too.
    const result = await blackbox(['run', '--dir', join(dir, 'logs'), '--', script])
    assert.equal(result.status, 126, result.stderr)
    assert.match(result.stderr.split('\n')[0] ?? '', /^blackbox run: permission denied: .*not-executable\.sh$/)
    assert.equal(listRunFiles(join(dir, 'logs')).length, 1, 'the run file records it')
  })
})
