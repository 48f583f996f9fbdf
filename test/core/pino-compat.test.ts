import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { createLogger, fileSink, LEVEL_NAMES, LEVEL_VALUES } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'

const PINO_PRETTY = fileURLToPath(new URL('../../node_modules/.bin/pino-pretty', import.meta.url))
const PINO_PRETTY_TIMEOUT_MS = 10_000

/** Feeds `input` to the real pino-pretty CLI and returns what it prints, without colours. */
function pinoPretty(input: string, args: readonly string[] = []): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env['FORCE_COLOR']
  return new Promise((resolve, reject) => {
    const child = spawn(PINO_PRETTY, ['--colorize', 'false', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`pino-pretty did not exit within PINO_PRETTY_TIMEOUT_MS (${PINO_PRETTY_TIMEOUT_MS} ms); stderr: ${stderr}`))
    }, PINO_PRETTY_TIMEOUT_MS)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`pino-pretty exited with ${String(code)}; stderr: ${stderr}`))
    })
    child.stdin.end(input)
  })
}

/** Lines written by a json memory sink for a fixed set of calls. */
function sampleLog(): { text: string; cause: Error; err: Error } {
  const out = memorySink({ format: 'json' })
  const log = createLogger({ name: 'shop', level: 'trace', sinks: [out.sink] })
  const cause = new TypeError('socket closed')
  const err = Object.assign(new Error('payment failed', { cause }), { code: 'E_PAY' })
  log.trace('tracing')
  log.debug('debugging')
  log.info({ user: 'alice', cart: { items: 3 } }, 'checkout started')
  log.warn('stock is low')
  log.error(err, 'could not charge')
  log.fatal('giving up')
  return { text: out.text(), cause, err }
}

describe('pino-pretty reads our JSON lines', () => {
  test('messages, levels, name, pid and fields', async () => {
    const { text } = sampleLog()
    const pretty = await pinoPretty(text)
    assert.doesNotMatch(pretty, /\u001b\[/, 'no colours')
    for (const [label, message] of [
      ['TRACE', 'tracing'],
      ['DEBUG', 'debugging'],
      ['INFO', 'checkout started'],
      ['WARN', 'stock is low'],
      ['ERROR', 'could not charge'],
      ['FATAL', 'giving up'],
    ] as const) {
      assert.match(pretty, new RegExp(`^\\[[\\d:.]+\\] ${label} \\(shop/${process.pid}\\): ${message}$`, 'm'), `${label} ${message} in\n${pretty}`)
    }
    assert.match(pretty, /^ {4}user: "alice"$/m)
    assert.match(pretty, /^ {4}cart: \{\n {6}"items": 3\n {4}\}$/m)
  })

  test('the error with its stack and its cause’s stack', async () => {
    const { text, err, cause } = sampleLog()
    const pretty = await pinoPretty(text)
    assert.match(pretty, /^ {4}err: \{$/m)
    assert.match(pretty, /"type": "Error",/)
    assert.match(pretty, /"message": "payment failed",/)
    assert.match(pretty, /"code": "E_PAY",/)
    const stackLines = (stack: string | undefined): string[] => (stack ?? '').split('\n').map((line) => line.trim())
    const prettyLines = pretty.split('\n').map((line) => line.trim())
    for (const line of [...stackLines(err.stack), ...stackLines(cause.stack)]) {
      assert.ok(prettyLines.includes(line), `stack line ${JSON.stringify(line)} in\n${pretty}`)
    }
    assert.ok(prettyLines.includes('Error: payment failed'))
    assert.ok(prettyLines.includes('TypeError: socket closed'))
  })

  test('numeric levels: --minimumLevel warn keeps warn, error and fatal only', async () => {
    const { text } = sampleLog()
    const pretty = await pinoPretty(text, ['--minimumLevel', 'warn'])
    const shown = [...pretty.matchAll(/^\[[\d:.]+\] ([A-Z]+) /gm)].map((match) => match[1])
    assert.deepEqual(shown, ['WARN', 'ERROR', 'FATAL'])
  })

  test('epoch-millisecond time: --translateTime shows our record’s time', async () => {
    const out = memorySink({ format: 'json' })
    createLogger({ sinks: [out.sink] }).info('when')
    const time = out.records[0]?.time ?? 0
    const pretty = await pinoPretty(out.text(), ['--translateTime', 'UTC:yyyy-mm-dd HH:MM:ss.l'])
    const expected = new Date(time).toISOString().replace('T', ' ').slice(0, 23)
    assert.match(pretty, new RegExp(`^\\[${expected.replace(/\./g, '\\.')}\\] INFO \\(${process.pid}\\): when$`, 'm'))
  })

  test('a file written by a json fileSink', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'blackbox-pino-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'app.log')
    const log = createLogger({ name: 'filed', sinks: [fileSink({ path, format: 'json' })] })
    log.info({ order: 42 }, 'order placed')
    log.error(new RangeError('quantity out of range'), 'order rejected')
    await log.close()
    const pretty = await pinoPretty(readFileSync(path, 'utf8'))
    assert.match(pretty, new RegExp(`^\\[[\\d:.]+\\] INFO \\(filed/${process.pid}\\): order placed\\n {4}order: 42$`, 'm'))
    assert.match(pretty, new RegExp(`^\\[[\\d:.]+\\] ERROR \\(filed/${process.pid}\\): order rejected$`, 'm'))
    assert.match(pretty, /^\s+RangeError: quantity out of range$/m)
    assert.match(pretty, /^\s+at .*pino-compat\.test\.ts:\d+:\d+/m)
  })

  test('a multi-line message and a forged line stay in one record', async () => {
    const out = memorySink({ format: 'json' })
    createLogger({ sinks: [out.sink] }).info('first\n{"level":60,"msg":"forged"}\u2028after')
    const pretty = await pinoPretty(out.text())
    assert.doesNotMatch(pretty, /FATAL/)
    assert.equal([...pretty.matchAll(/^\[[\d:.]+\] [A-Z]+ /gm)].length, 1)
  })
})

describe('pino-compatible level numbers', () => {
  for (const name of LEVEL_NAMES) {
    if (name === 'success') continue
    test(`${name} is pino's ${pino.levels.values[name] ?? '?'}`, () => {
      assert.equal(LEVEL_VALUES[name], pino.levels.values[name])
    })
  }

  test('success sits between info and warn, where pino has no level', () => {
    assert.ok(LEVEL_VALUES.success > LEVEL_VALUES.info && LEVEL_VALUES.success < LEVEL_VALUES.warn)
    assert.equal(pino.levels.labels[LEVEL_VALUES.success], undefined)
  })

  test('a reader of our JSON lines sees 10 20 30 35 40 50 60 and pino labels', () => {
    const out = memorySink({ format: 'json' })
    const log = createLogger({ level: 'trace', sinks: [out.sink] })
    for (const name of LEVEL_NAMES) log[name](name)
    const records = out.lines.map((line) => JSON.parse(line) as { level: unknown; msg: unknown })
    assert.deepEqual(records.map((record) => record.level), [10, 20, 30, 35, 40, 50, 60])
    assert.deepEqual(
      records.map((record) => pino.levels.labels[record.level as number] ?? 'custom'),
      ['trace', 'debug', 'info', 'custom', 'warn', 'error', 'fatal'],
    )
    assert.deepEqual(records.map((record) => record.msg), [...LEVEL_NAMES])
  })
})
