import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConsoleSink, createLogger, type Sink } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'

const dir = mkdtempSync(join(tmpdir(), 'blackbox-logger-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function jsonLogger(options: Parameters<typeof createLogger>[0] = {}) {
  const memory = memorySink({ format: 'json' })
  const log = createLogger({ ...options, sinks: [memory.sink] })
  const parsed = () => memory.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { log, memory, parsed }
}

test('createLogger() with no options logs to the console at info', () => {
  const log = createLogger()
  assert.equal(log.level, 'info')
  assert.equal(log.sinks.length, 1)
  assert.ok(log.sinks[0] instanceof ConsoleSink)
})

test('level is readable and settable by name, alias or number', () => {
  const { log, memory } = jsonLogger({ level: 'debug' })
  assert.equal(log.level, 'debug')
  log.level = 'warning'
  assert.equal(log.level, 'warn')
  assert.equal(log.levelValue, 40)
  log.info('dropped')
  log.warn('kept')
  log.level = 'critical'
  log.error('dropped')
  log.critical('kept')
  log.level = 10
  log.trace('kept')
  log.level = 'silent'
  log.fatal('dropped')
  assert.equal(log.level, 'silent')
  assert.deepEqual(memory.records.map((record) => record.msg), ['kept', 'kept', 'kept'])
  assert.throws(() => (log.level = 'loud' as 'info'), /Expected `level` to be one of .* got `loud` \(string\)/)
})

test('a disabled level is one shared no-op function', () => {
  const { log } = jsonLogger({ level: 'warn' })
  assert.equal(log.debug, log.info, 'every disabled level is the same function')
  assert.equal(log.debug.name, 'noop')
  assert.notEqual(log.warn, log.debug)
  log.level = 'trace'
  assert.notEqual(log.debug.name, 'noop', 'enabling rebinds the methods')
})

test('isLevelEnabled follows the logger level and the sinks', () => {
  const memory = memorySink({ level: 'info' })
  const log = createLogger({ level: 'debug', sinks: [memory.sink] })
  assert.equal(log.isLevelEnabled('debug'), false, 'no sink takes debug')
  assert.equal(log.isLevelEnabled('warning'), true)
  log.level = 'error'
  assert.equal(log.isLevelEnabled('warn'), false)
  assert.equal(log.isLevelEnabled('fatal'), true)
})

test('level numbers and aliases reach the sinks as pino numbers', () => {
  const { log, parsed } = jsonLogger({ level: 'trace' })
  for (const method of ['trace', 'debug', 'info', 'success', 'warn', 'warning', 'error', 'fatal', 'critical'] as const) log[method](method)
  assert.deepEqual(parsed().map((line) => line['level']), [10, 20, 30, 35, 40, 40, 50, 60, 60])
})

test('message formatting: printf tokens, extra arguments, fields then message', () => {
  const { log, parsed } = jsonLogger()
  log.info('plain message %s %d', 'a', 1)
  log.info('%j and %o', { a: 1 }, [2])
  log.info('extra', 'args', 3)
  log.info({ user: 'alice', ms: 1.5 }, 'request handled')
  log.info({ user: 'bob' }, 'user %s', 'bob')
  log.info(42)
  log.info(null)
  log.info({ only: 'fields' })
  const lines = parsed()
  assert.deepEqual(lines.map((line) => line['msg']), [
    'plain message a 1', '{"a":1} and [ 2, [length]: 1 ]', 'extra args 3', 'request handled', 'user bob', '42', 'null', '',
  ])
  assert.equal(lines[3]?.['user'], 'alice')
  assert.equal(lines[3]?.['ms'], 1.5)
  assert.equal(lines[7]?.['only'], 'fields')
})

test('errors: log.error(err), log.error(err, msg) and { err } all give an err object', () => {
  const { log, parsed } = jsonLogger()
  const error = Object.assign(new Error('boom'), { code: 'E_BOOM' })
  log.error(error)
  log.error(error, 'while saving %s', 'file')
  log.warn({ err: error, attempt: 2 }, 'retrying')
  const [first, second, third] = parsed()
  assert.equal(first?.['msg'], 'boom')
  assert.equal(second?.['msg'], 'while saving file')
  assert.equal(third?.['msg'], 'retrying')
  assert.equal(third?.['attempt'], 2)
  for (const line of [first, second, third]) {
    const err = line?.['err'] as Record<string, unknown>
    assert.equal(err['type'], 'Error')
    assert.equal(err['message'], 'boom')
    assert.equal(err['code'], 'E_BOOM')
    assert.match(String(err['stack']), /^Error: boom\n\s+at /)
  }
})

test('child loggers carry bindings, keep their own level, share the sinks', () => {
  const { log, parsed } = jsonLogger({ name: 'app', bindings: { service: 'api' } })
  const child = log.child({ reqId: 42 })
  const grandchild = child.child({ step: 'save' }, { level: 'debug' })
  child.info('from child')
  grandchild.debug('from grandchild')
  log.level = 'error'
  assert.equal(child.level, 'info', 'a child keeps the level it started with')
  child.info('still logged')
  const lines = parsed()
  assert.deepEqual(lines.map((line) => [line['name'], line['service'], line['reqId'], line['step'], line['msg']]), [
    ['app', 'api', 42, undefined, 'from child'],
    ['app', 'api', 42, 'save', 'from grandchild'],
    ['app', 'api', 42, undefined, 'still logged'],
  ])
  assert.deepEqual(grandchild.bindings, { service: 'api', reqId: 42, step: 'save' })
})

test('redaction replaces values in every sink, never mutating the caller’s object', () => {
  const json = memorySink({ format: 'json' })
  const text = memorySink({ format: 'text' })
  const log = createLogger({ redact: ['password', 'req.headers.authorization', '*.token', 'list[0]'], sinks: [json.sink, text.sink] })
  const fields = {
    password: 'hunter2',
    req: { headers: { authorization: 'Bearer abc', accept: 'json' } },
    github: { token: 'ghp_secret', user: 'alice' },
    list: ['first', 'second'],
  }
  log.info(fields, 'login')
  log.child({ password: 'in-bindings' }).info('child')
  const line = JSON.parse(json.lines[0] as string) as typeof fields
  assert.equal(line.password, '[Redacted]')
  assert.equal(line.req.headers.authorization, '[Redacted]')
  assert.equal(line.req.headers.accept, 'json')
  assert.equal(line.github.token, '[Redacted]')
  assert.equal(line.github.user, 'alice')
  assert.deepEqual(line.list, ['[Redacted]', 'second'])
  assert.equal(fields.password, 'hunter2', 'the caller’s object is untouched')
  for (const secret of ['hunter2', 'Bearer abc', 'ghp_secret', 'in-bindings']) {
    assert.equal(json.text().includes(secret), false, `json hides ${secret}`)
    assert.equal(text.text().includes(secret), false, `text hides ${secret}`)
  }
})

test('when every sink writes JSON, fields go straight to text, and the record still gives them as of the call', () => {
  const { log, memory, parsed } = jsonLogger()
  const fields = { n: 1, s: 'quote " and \u2028', nested: { list: [1, 'two'] }, gone: undefined }
  log.info(fields, 'direct')
  fields.n = 2
  fields.nested.list.push('three')
  const record = memory.records[0]
  assert.equal(typeof record?.fieldsJson, 'string', 'the direct path ran')
  assert.deepEqual(record?.fields, { n: 1, s: 'quote " and \u2028', nested: { list: [1, 'two'] } })
  assert.deepEqual(parsed()[0], { ...parsed()[0], n: 1, s: 'quote " and \u2028', nested: { list: [1, 'two'] }, msg: 'direct' })
  assert.ok(memory.lines[0]?.includes('\\u2028'), 'U+2028 is escaped in the line')
  log.info({ user: 'a', err: new Error('boom') }, 'with an error')
  assert.equal(memory.records[1]?.fieldsJson, undefined, 'an err field takes the copying path')
  assert.deepEqual(memory.records[1]?.fields, { user: 'a' })
  assert.equal((parsed()[1]?.['err'] as { message: string }).message, 'boom')
})

test('with a text sink beside the JSON one, fields are copied once and both lines have them', () => {
  const json = memorySink({ format: 'json' })
  const text = memorySink({ format: 'text' })
  createLogger({ sinks: [json.sink, text.sink] }).info({ user: 'alice' }, 'both')
  assert.equal(json.records[0]?.fieldsJson, undefined)
  assert.equal((JSON.parse(json.lines[0] as string) as { user: string }).user, 'alice')
  assert.match(text.lines[0] as string, /both user=alice/)
})

test('redaction takes a censor, and refuses a path it cannot parse', () => {
  const { memory } = (() => {
    const memory = memorySink({ format: 'json' })
    createLogger({ redact: { paths: ['key'], censor: '***' }, sinks: [memory.sink] }).info({ key: 'v' })
    return { memory }
  })()
  assert.equal((JSON.parse(memory.lines[0] as string) as { key: string }).key, '***')
  assert.throws(() => createLogger({ redact: ['a..b'], sinks: [] }), /Expected `redact` paths like .* got `a\.\.b`/)
})

test('a throwing sink never throws into the caller and never stops the other sinks', () => {
  const good = memorySink()
  const broken: Sink = { ...memorySink({ name: 'broken' }).sink, write: () => { throw new Error('nope') } }
  const log = createLogger({ sinks: [broken, good.sink] })
  assert.doesNotThrow(() => {
    log.info('one')
    log.info('two')
  })
  assert.equal(good.lines.length, 2)
  assert.equal(broken.failures?.count, 2, 'every failure is counted')
})

test('a failing sink is reported once on stderr, in a block that names it', () => {
  const path = join(dir, 'isolation.log')
  const fixture = fileURLToPath(new URL('../fixtures/failing-sink.mjs', import.meta.url))
  const result = spawnSync(process.execPath, [fixture, path], { encoding: 'utf8' })
  assert.equal(result.status, 0)
  assert.equal(result.stdout, 'survived\n')
  assert.equal(result.stderr.match(/blackbox: sink "broken-by-design" failed during write/g)?.length, 1, result.stderr)
  assert.match(result.stderr, /disk on fire/)
  assert.equal(readFileSync(path, 'utf8').split('\n').filter(Boolean).length, 5)
})

test('flush, flushSync and close reach every sink; close() leaves the flush to each sink’s close, once, and a second close() is the first', async () => {
  const calls: string[] = []
  const spy = (name: string): Sink => ({
    ...memorySink({ name }).sink,
    flush: async () => void calls.push(`${name}.flush`),
    flushSync: () => void calls.push(`${name}.flushSync`),
    close: async () => void calls.push(`${name}.close`),
  })
  const log = createLogger({ sinks: [spy('a'), spy('b')] })
  log.flushSync()
  await log.flush()
  await log.close()
  await log.child({ part: 'x' }).close()
  assert.deepEqual(calls, ['a.flushSync', 'b.flushSync', 'a.flush', 'b.flush', 'a.close', 'b.close'])
})

test('bad configuration throws at construction, naming the option', () => {
  assert.throws(() => createLogger({ level: 'verbose' as 'info' }), /Expected `level`/)
  assert.throws(() => createLogger({ sinks: 'file' as unknown as Sink[] }), /Expected `sinks` to be an array/)
  assert.throws(() => createLogger({ sinks: [{} as Sink] }), /Expected `sinks\[0\]` to be a sink/)
  assert.throws(() => createLogger({ limits: { maxDepth: 0 } }), /Expected `limits.maxDepth` to be a positive integer, got `0`/)
})
