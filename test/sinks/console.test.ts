import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { consoleSink, createLogger, shouldColour } from '../../src/index.ts'
import { CONSOLE_MAX_FIELDS_CHARS } from '../../src/sinks/console.ts'

const dir = mkdtempSync(join(tmpdir(), 'blackbox-console-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function captured(options: Parameters<typeof consoleSink>[0] = {}): { text: () => string; sink: ReturnType<typeof consoleSink> } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  const sink = consoleSink({ ...options, stream })
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') }
}

test('compact console line: [HH:MM:SS] [pid] [LEVEL] message fields', () => {
  const { sink, text } = captured({ colors: false })
  createLogger({ sinks: [sink] }).info({ user: 'alice' }, 'hello')
  assert.match(text(), new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] \\[${process.pid}\\] \\[INFO\\] hello user=alice\\n$`))
})

test('levels are coloured as specified when colours are on', () => {
  const { sink, text } = captured({ colors: true })
  const log = createLogger({ level: 'debug', sinks: [sink] })
  log.debug('d')
  log.info('i')
  log.success('s')
  log.warn('w')
  log.error('e')
  log.fatal('f')
  const esc = '\u001b['
  const out = text()
  assert.ok(out.includes(`${esc}36mDEBUG`), 'DEBUG cyan')
  assert.ok(out.includes(`${esc}32mINFO`), 'INFO green')
  assert.ok(out.includes(`${esc}92mSUCCESS`), 'SUCCESS bright green')
  assert.ok(out.includes(`${esc}33mWARNING`), 'WARNING yellow')
  assert.ok(out.includes(`${esc}31mERROR`), 'ERROR red')
  assert.ok(out.includes(`${esc}35mCRITICAL`), 'CRITICAL magenta')
})

test('no colours when off: no escape codes at all', () => {
  const { sink, text } = captured({ colors: false })
  createLogger({ sinks: [sink] }).error('plain')
  assert.equal(text().includes('\u001b'), false)
})

test('colour decision: NO_COLOR, then FORCE_COLOR, then TTY', () => {
  const tty = { isTTY: true }
  const pipe = { isTTY: false }
  const cases: [string, { isTTY: boolean }, NodeJS.ProcessEnv, boolean][] = [
    ['TTY', tty, {}, true],
    ['pipe', pipe, {}, false],
    ['TTY with NO_COLOR', tty, { NO_COLOR: '1' }, false],
    ['TTY with empty NO_COLOR (ignored, per no-color.org)', tty, { NO_COLOR: '' }, true],
    ['pipe with FORCE_COLOR', pipe, { FORCE_COLOR: '1' }, true],
    ['TTY with FORCE_COLOR=0', tty, { FORCE_COLOR: '0' }, false],
    ['NO_COLOR beats FORCE_COLOR', pipe, { NO_COLOR: '1', FORCE_COLOR: '1' }, false],
    ['TERM=dumb', tty, { TERM: 'dumb' }, false],
  ]
  for (const [name, stream, env, expected] of cases) assert.equal(shouldColour(stream, env), expected, name)
})

test('per-sink level: the console takes warnings only while another sink takes all', () => {
  const quiet = captured({ colors: false, level: 'warn' })
  const loud = captured({ colors: false })
  const log = createLogger({ level: 'debug', sinks: [quiet.sink, loud.sink] })
  log.info('info')
  log.warning('warning')
  assert.equal(quiet.text().split('\n').filter(Boolean).length, 1)
  assert.equal(loud.text().split('\n').filter(Boolean).length, 2)
})

test('EPIPE on a closed stdout disables the console sink quietly; the program and the file go on', async () => {
  const path = join(dir, 'epipe.log')
  const fixture = fileURLToPath(new URL('../fixtures/console-epipe.mjs', import.meta.url))
  const child = spawn(process.execPath, [fixture, path, '2000'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise((resolve) => child.stdout.once('data', resolve))
  child.stdout.destroy()
  child.stdin.write('go\n')
  const code = await new Promise((resolve) => child.on('exit', resolve))
  assert.equal(code, 0, `the child exits cleanly; stderr: ${stderr}`)
  assert.equal(stderr, '', 'nothing reported: EPIPE is not a failure worth a block')
  const written = readFileSync(path, 'utf8').split('\n').filter(Boolean)
  assert.equal(written.length, 2001)
})

test('many console sinks on one stream share one error listener', async () => {
  const before = process.stderr.listenerCount('error')
  const logs = Array.from({ length: 20 }, () => createLogger())
  assert.ok(process.stderr.listenerCount('error') <= before + 1)
  await Promise.all(logs.map((log) => log.close()))
})

test(`the console shows at most CONSOLE_MAX_FIELDS_CHARS (${CONSOLE_MAX_FIELDS_CHARS}) characters of fields: setupLogging's system record stays one short line; a file gets them all`, () => {
  const { sink, text } = captured({ colors: false })
  const json = captured({ colors: false, format: 'text' })
  const log = createLogger({ sinks: [sink, json.sink] })
  const system = { node: 'v20', cpus: Array.from({ length: 64 }, (_, i) => `cpu ${i}`), env: { PATH: '/usr/bin:'.repeat(40) } }
  log.info({ event: 'system', system }, 'system: Node v20 on linux x64')
  const line = text()
  assert.ok(line.length < CONSOLE_MAX_FIELDS_CHARS + 80, `one short line: ${line.length} characters`)
  assert.match(line, /\] system: Node v20 on linux x64 event=system system=\{.*…\n$/)
  assert.ok(json.text().includes('cpu 63'), 'an explicit format is not cut')
})
