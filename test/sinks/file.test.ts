import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createLogger, fileSink, liveSinks } from '../../src/index.ts'
import type { WriterFs } from '../../src/sinks/fd-writer.ts'
import { waitUntil } from '../helpers/process.ts'

const dir = mkdtempSync(join(tmpdir(), 'blackbox-file-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '')
}

test('sync mode: the record is in the file when the call returns', async () => {
  const path = join(dir, 'sync.log')
  const log = createLogger({ sinks: [fileSink({ path })] })
  log.info('first')
  assert.match(readFileSync(path, 'utf8'), /\[INFO\] first\n$/)
  log.warn('second')
  assert.equal(lines(path).length, 2)
  await log.close()
})

test('batched mode: nothing is written before flushSync, everything after', async () => {
  const path = join(dir, 'batched.log')
  const sink = fileSink({ path, durability: 'batched', format: 'json' })
  const log = createLogger({ sinks: [sink] })
  for (let i = 0; i < 10; i++) log.info({ i }, 'queued')
  assert.equal(readFileSync(path, 'utf8'), '')
  log.flushSync()
  assert.deepEqual(lines(path).map((line) => (JSON.parse(line) as { i: number }).i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  await log.close()
})

test('batched mode: a full batch is written at once, the rest by the timer', async () => {
  const path = join(dir, 'batched-size.log')
  const log = createLogger({ sinks: [fileSink({ path, durability: 'batched', batchSize: 100, batchInterval: 20, format: 'json' })] })
  log.info('a record longer than one hundred characters once the level, time, pid and hostname are in it')
  assert.equal(lines(path).length, 1, 'a batch over batchSize is written by the call that filled it')
  log.info('waits for the timer')
  assert.equal(lines(path).length, 1)
  await waitUntil(() => lines(path).length === 2, { what: 'the batch timer to write the second record', timeoutMs: 5000 })
  await log.close()
})

test('fatal flushes batched sinks synchronously', async () => {
  const path = join(dir, 'fatal.log')
  const log = createLogger({ sinks: [fileSink({ path, durability: 'batched' })] })
  log.info('before')
  log.fatal('the end')
  assert.equal(lines(path).length, 2)
  await log.close()
})

test('reopen() after an external rename writes to a new file at the path', async () => {
  const path = join(dir, 'rotate.log')
  const sink = fileSink({ path })
  const log = createLogger({ sinks: [sink] })
  log.info('before rotation')
  renameSync(path, `${path}.1`)
  log.info('still to the renamed file, as logrotate without copytruncate expects until told')
  sink.reopen()
  log.info('after reopen')
  assert.equal(lines(`${path}.1`).length, 2)
  assert.deepEqual(lines(path).map((line) => line.replace(/^.*\] /, '')), ['after reopen'])
  await log.close()
})

test('reopenOnSignal: SIGHUP reopens the file', async () => {
  const path = join(dir, 'sighup.log')
  const log = createLogger({ sinks: [fileSink({ path, reopenOnSignal: 'SIGHUP' })] })
  log.info('one')
  renameSync(path, `${path}.1`)
  // A signal listener does not keep the event loop alive: a timer holds it until delivery.
  const keepAlive = setInterval(() => {}, 1000)
  const delivered = new Promise((resolve) => process.once('SIGHUP', resolve))
  process.kill(process.pid, 'SIGHUP')
  await delivered
  clearInterval(keepAlive)
  log.info('two')
  assert.equal(lines(path).length, 1)
  await log.close()
  assert.equal(process.listenerCount('SIGHUP'), 0, 'close() removes its signal listener')
})

test('fsync: always calls fsync(2) after every write; never does not', async () => {
  for (const policy of ['always', 'never'] as const) {
    let fsyncs = 0
    const counting: WriterFs = { ...fs, fsyncSync: (fd: number) => { fsyncs++; fs.fsyncSync(fd) } }
    const log = createLogger({ sinks: [fileSink({ path: join(dir, `fsync-${policy}.log`), fsync: policy, fs: counting })] })
    log.info('one')
    log.info('two')
    await log.close()
    assert.equal(fsyncs, policy === 'always' ? 2 : 0, `fsync: ${policy}`)
  }
})

test('a record logged after close() is still written, not lost', async () => {
  const path = join(dir, 'late.log')
  const log = createLogger({ sinks: [fileSink({ path })] })
  log.info('before close')
  await log.close()
  log.info('after close')
  assert.equal(lines(path).length, 2)
})

test('live sinks are registered while open and leave the registry on close', async () => {
  const sink = fileSink({ path: join(dir, 'registry.log') })
  assert.ok(liveSinks().includes(sink))
  await createLogger({ sinks: [sink] }).close()
  assert.ok(!liveSinks().includes(sink))
})

test('bad options are refused at creation with the option named', () => {
  assert.throws(() => fileSink({ path: '' }), /Expected `path` to be a non-empty string/)
  assert.throws(() => fileSink({ path: join(dir, 'x.log'), durability: 'later' as 'sync' }), /Expected `durability` to be 'sync', 'batched' or 'ring' \(through fileSink\(\)\), got `later`/)
  for (const signal of ['SIGBOGUS', 'SIGKILL', 'SIGSTOP', 'SIGSEGV', 'hup']) {
    assert.throws(() => fileSink({ path: join(dir, 'x.log'), reopenOnSignal: signal as NodeJS.Signals }), new RegExp(`Expected \`reopenOnSignal\` to be a signal a listener can be given, such as 'SIGHUP' or 'SIGUSR2', got \`${signal}\` \\(string\\)`), signal)
  }
  assert.throws(() => fileSink({ path: join(dir, 'x.log'), fsync: -5 }), /Expected `fsync` to be 'never', 'always' or a positive number of ms, got `-5`/)
  assert.throws(() => fileSink({ path: join(dir, 'x.log'), batchSize: 0 }), /Expected `batchSize` to be a positive integer, got `0`/)
  assert.throws(() => fileSink({ path: join(dir, 'x.log'), format: 'yaml' }), /Expected `format` to be 'text', 'json'/)
  assert.equal(existsSync(join(dir, 'x.log')), false, 'a refused sink creates no file')
})

test('records lost while the file cannot be written are counted and told in the file once it works again', async () => {
  for (const durability of ['sync', 'batched'] as const) {
    const path = join(dir, `dropped-${durability}.log`)
    let full = false
    const faulty: WriterFs = {
      ...fs,
      writeSync: ((fd: number, data: string) => {
        if (full) throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' })
        return fs.writeSync(fd, data)
      }) as typeof fs.writeSync,
    }
    const sink = fileSink({ path, durability, fs: faulty, batchSize: 1, format: 'json' })
    const log = createLogger({ sinks: [sink] })
    log.info('before')
    full = true
    log.info('lost 1')
    log.info('lost 2')
    full = false
    // batched: the batch that failed was kept and is written now; sync: the two records were lost.
    log.info('after')
    await log.close()
    const messages = lines(path).map((line) => (JSON.parse(line) as { msg: string }).msg)
    if (durability === 'batched') assert.deepEqual(messages, ['before', 'lost 1', 'lost 2', 'after'], durability)
    else {
      assert.equal(messages.length, 3, durability)
      assert.match(messages[1] ?? '', /^blackbox: 2 records were dropped while .* could not be written \(Error: ENOSPC: injected\)$/)
      assert.equal(messages[2], 'after')
    }
  }
})

test('batchSize counts bytes, not characters', async () => {
  const path = join(dir, 'batch-bytes.log')
  const log = createLogger({ sinks: [fileSink({ path, durability: 'batched', batchSize: 150, format: '{message}' })] })
  // 60 two-byte characters and a newline: 121 bytes, 61 characters.
  log.info('é'.repeat(60))
  assert.equal(readFileSync(path).length, 0, 'under batchSize: held')
  log.info('é'.repeat(60))
  assert.equal(readFileSync(path).length, 242, 'over 150 bytes (though only 122 characters): written')
  await log.close()
})
