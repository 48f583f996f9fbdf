import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { FdWriter, MAX_EAGAIN_RETRIES, WriteStalledError, type WriterFs } from '../../src/sinks/fd-writer.ts'

const dir = mkdtempSync(join(tmpdir(), 'blackbox-fd-writer-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code })
}

/** The real fs, with writeSync replaced: faults are injected through the writer's `fs` option. */
function faultyFs(writeSync: (fd: number, data: string | Buffer, real: typeof fs.writeSync) => number): WriterFs {
  return {
    ...fs,
    writeSync: ((fd: number, data: string | Buffer) => writeSync(fd, data, fs.writeSync)) as typeof fs.writeSync,
  }
}

test('a short write is continued from the first byte not written', () => {
  const path = join(dir, 'short.log')
  const calls: number[] = []
  const writer = new FdWriter(path, {
    fs: faultyFs((fd, data, real) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      // Write at most 3 bytes per call, like a pipe or a disk that is nearly full.
      const piece = bytes.subarray(0, 3)
      calls.push(piece.length)
      return real(fd, piece)
    }),
  })
  writer.write('héllo wörld\n')
  writer.close()
  assert.equal(readFileSync(path, 'utf8'), 'héllo wörld\n')
  assert.equal(calls.length, Math.ceil(Buffer.byteLength('héllo wörld\n') / 3))
})

test('EAGAIN is retried, and the second and third writes after it still work', () => {
  const path = join(dir, 'eagain.log')
  let failures = 0
  const writer = new FdWriter(path, {
    fs: faultyFs((fd, data, real) => {
      if (failures < 5) {
        failures++
        throw errno('EAGAIN')
      }
      return real(fd, data as string)
    }),
  })
  writer.write('one\n')
  writer.write('two\n')
  writer.write('three\n')
  writer.close()
  assert.equal(failures, 5)
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n')
})

test('EAGAIN forever stops at MAX_EAGAIN_RETRIES with an error that names the bound', () => {
  const path = join(dir, 'stalled.log')
  let tries = 0
  const writer = new FdWriter(path, {
    fs: faultyFs(() => {
      tries++
      throw errno('EAGAIN')
    }),
  })
  assert.throws(() => writer.write('x\n'), (error: unknown) => {
    assert.ok(error instanceof WriteStalledError)
    assert.match(error.message, /MAX_EAGAIN_RETRIES/)
    return true
  })
  assert.equal(tries, MAX_EAGAIN_RETRIES + 1)
  writer.close()
})

test('other errors (ENOSPC) are thrown to the caller at once, and the next write tries again', () => {
  const path = join(dir, 'enospc.log')
  let fail = true
  const writer = new FdWriter(path, {
    fs: faultyFs((fd, data, real) => {
      if (fail) throw errno('ENOSPC')
      return real(fd, data as string)
    }),
  })
  assert.throws(() => writer.write('lost\n'), { code: 'ENOSPC' })
  fail = false
  writer.write('kept\n')
  writer.close()
  assert.equal(readFileSync(path, 'utf8'), 'kept\n')
})

test('opening a file whose last byte is not a newline writes one first', () => {
  const path = join(dir, 'torn.log')
  writeFileSync(path, 'complete\n{"level":30,"cut')
  const writer = new FdWriter(path)
  writer.write('next\n')
  writer.close()
  assert.equal(readFileSync(path, 'utf8'), 'complete\n{"level":30,"cut\nnext\n')
})

test('endTornLine: false leaves a short last line alone (it may be another thread\'s write under way)', () => {
  const path = join(dir, 'second-writer.log')
  writeFileSync(path, 'complete\n{"level":30,"being wri')
  const writer = new FdWriter(path, { endTornLine: false })
  writer.open()
  writer.close()
  assert.equal(readFileSync(path, 'utf8'), 'complete\n{"level":30,"being wri')
})

test('opening an empty or newline-terminated file adds nothing', () => {
  for (const content of ['', 'line\n']) {
    const path = join(dir, `clean-${content.length}.log`)
    writeFileSync(path, content)
    const writer = new FdWriter(path)
    writer.write('next\n')
    writer.close()
    assert.equal(readFileSync(path, 'utf8'), `${content}next\n`)
  }
})

test('append: false truncates, mkdir creates parent directories', () => {
  const path = join(dir, 'deep', 'er', 'file.log')
  const first = new FdWriter(path)
  first.write('old\n')
  first.close()
  const second = new FdWriter(path, { append: false })
  second.write('new\n')
  second.close()
  assert.equal(readFileSync(path, 'utf8'), 'new\n')
})
