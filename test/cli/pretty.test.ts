// `blackbox pretty`, run as a user runs it: the BUILT command (dist/, so `npm run build`
// first) in a child process, JSON lines on its stdin.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { createLogger } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const EXIT_TIMEOUT_MS = 10_000

const GREEN = '\u001b[32m'
const RED = '\u001b[31m'
const DEFAULT_FG = '\u001b[39m'
const localTime = compileTimeFormat()

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `input | blackbox pretty`, with the colour variables of this process removed and `env` on top. */
function pretty(input: string, env: NodeJS.ProcessEnv = {}): Result {
  const base: NodeJS.ProcessEnv = { ...process.env }
  delete base['NO_COLOR']
  delete base['FORCE_COLOR']
  const result = spawnSync(process.execPath, [bin, 'pretty'], { input, encoding: 'utf8', env: { ...base, ...env }, timeout: EXIT_TIMEOUT_MS })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** What a pino logger writes for a few calls, line by line. */
function pinoLines(options: pino.LoggerOptions, log: (logger: pino.Logger) => void): string[] {
  const lines: string[] = []
  log(pino(options, { write: (line: string) => lines.push(line) }))
  return lines
}

describe('blackbox pretty', () => {
  test("pino's JSON lines: time, pid, level, message, name and fields; err as its stack", () => {
    const err = new TypeError('card declined')
    const lines = pinoLines({ name: 'shop' }, (log) => {
      log.info({ user: 'alice', cart: { items: 3 } }, 'checkout started')
      log.error(err, 'could not charge')
    })
    const [first, second] = lines.map((line) => JSON.parse(line) as { time: number })
    const result = pretty(lines.join(''))
    assert.equal(result.status, 0, result.stderr)
    const stack = (err.stack ?? '').split('\n').map((text) => `  | ${text}\n`).join('')
    assert.equal(
      result.stdout,
      `${localTime(first?.time ?? 0)} [${process.pid}] [INFO] checkout started name=shop user=alice cart={"items":3}\n` +
        `${localTime(second?.time ?? 0)} [${process.pid}] [ERROR] could not charge name=shop\n${stack}`,
    )
    assert.equal(result.stderr, '')
  })

  test('pino with an ISO time and level labels', () => {
    const lines = pinoLines({ timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, (log) => log.warn('iso'))
    const time = (JSON.parse(lines[0] ?? '{}') as { time: string }).time
    assert.equal(pretty(lines.join('')).stdout, `${localTime(Date.parse(time))} [${process.pid}] [WARNING] iso\n`)
  })

  test("blackbox's JSON lines read as its default text preset would have written them", () => {
    const json = memorySink({ format: 'json' })
    const text = memorySink({ format: 'text' })
    const log = createLogger({ level: 'trace', sinks: [json.sink, text.sink] }).child({ requestId: 7 })
    log.trace('tracing')
    log.info({ user: 'alice', note: 'two words' }, 'first line\nsecond line')
    log.success('done')
    log.error(Object.assign(new Error('could not save', { cause: new RangeError('disk quota') }), { code: 'EDQUOT' }), 'while saving')
    log.fatal('giving up')
    const result = pretty(json.text())
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout, text.text())
  })

  test('lines that are not JSON records pass through unchanged; a torn last line is printed as it is', () => {
    const record = `${JSON.stringify({ level: 30, time: new Date(2026, 10, 21, 5, 52, 25, 123).getTime(), msg: 'a record' })}\n`
    const input = ['plain text', '', '  | looks like a continuation', '[1,2]', '{"no":"level"}', '{"level":30, oops', 'tab\there\r', ''].join('\n')
    const torn = '{"level":30,"time":1,"msg":"cut'
    const result = pretty(input + record + torn)
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout, `${input}2026-11-21 05:52:25.123 [INFO] a record\n${torn}`)
  })

  test('colours like the console sink with FORCE_COLOR=1; none with NO_COLOR, nor when stdout is not a terminal', () => {
    const at = new Date(2026, 10, 21, 5, 52, 25, 123).getTime()
    const input = [{ level: 30, time: at, pid: 1, msg: 'ok' }, { level: 50, time: at, pid: 1, msg: 'bad' }].map((record) => `${JSON.stringify(record)}\n`).join('')
    assert.equal(
      pretty(input, { FORCE_COLOR: '1' }).stdout,
      `2026-11-21 05:52:25.123 [1] [${GREEN}INFO${DEFAULT_FG}] ok\n2026-11-21 05:52:25.123 [1] [${RED}ERROR${DEFAULT_FG}] bad\n`,
    )
    const plain = '2026-11-21 05:52:25.123 [1] [INFO] ok\n2026-11-21 05:52:25.123 [1] [ERROR] bad\n'
    assert.equal(pretty(input, { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout, plain)
    assert.equal(pretty(input).stdout, plain)
  })

  test('`… | blackbox pretty | head -1`: exits 0 quietly when its reader goes away', async () => {
    const child = spawn(process.execPath, [bin, 'pretty'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    // The child may be gone before all of stdin is written: that EPIPE is ours, and expected.
    child.stdin.on('error', () => {})
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    child.stdin.write('{"level":30,"time":1,"msg":"first"}\n')
    await new Promise((resolve) => child.stdout.once('data', resolve))
    child.stdout.destroy()
    child.stdin.end('{"level":30,"time":1,"msg":"after the reader left"}\n'.repeat(5000))
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`blackbox pretty did not exit within EXIT_TIMEOUT_MS (${EXIT_TIMEOUT_MS} ms); stderr: ${stderr}`))
      }, EXIT_TIMEOUT_MS)
    })
    try {
      assert.equal(await Promise.race([exited, timeout]), 0, `exit code; stderr: ${stderr}`)
    } finally {
      clearTimeout(timer)
    }
    assert.equal(stderr, '')
  })
})
