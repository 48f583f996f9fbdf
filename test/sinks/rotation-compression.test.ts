// `compress` (and loguru's name for it, `compression`): every format Node can write, each
// archive checked by the system's own tools; the ones it cannot, refused at creation.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as zlib from 'node:zlib'
import { rotatingFileSink } from '../../src/index.ts'
import { compressFile } from '../../src/sinks/compress.ts'
import { tempDir } from '../helpers/tmp.ts'
import { rotatingSinkIn } from '../helpers/rotating-sink.ts'

const RECORD = 'x'.repeat(49) // 50 bytes with the newline
const ZSTD_AVAILABLE = typeof (zlib as unknown as Record<string, unknown>)['createZstdCompress'] === 'function'

function listing(dir: string): string[] {
  return readdirSync(dir).sort()
}

function run(command: string, args: readonly string[], cwd?: string): string {
  const result = spawnSync(command, args, { encoding: 'latin1', maxBuffer: 1 << 28, ...(cwd ? { cwd } : {}) })
  assert.equal(result.status, 0, `${command} ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

const sinkIn = rotatingSinkIn

/** What each archive holds, read by the system's tools (brotli by zlib: the machine has no brotli command). */
const READERS: Readonly<Record<string, (path: string, dir: string) => string>> = {
  '.gz': (path) => run('gunzip', ['-c', path]),
  '.zip': (path) => run('unzip', ['-p', path]),
  '.tar': (path, dir) => {
    assert.equal(run('tar', ['-tf', path]), 'worker.log.1\n')
    const out = join(dir, 'extracted')
    mkdirSync(out, { recursive: true })
    run('tar', ['-xf', path, '-C', out])
    return readFileSync(join(out, 'worker.log.1'), 'latin1')
  },
  '.tar.gz': (path, dir) => {
    assert.equal(run('tar', ['-tzf', path]), 'worker.log.1\n')
    const out = join(dir, 'extracted')
    mkdirSync(out, { recursive: true })
    run('tar', ['-xzf', path, '-C', out])
    return readFileSync(join(out, 'worker.log.1'), 'latin1')
  },
  '.br': (path) => zlib.brotliDecompressSync(readFileSync(path)).toString('latin1'),
  '.zst': (path) => run('zstd', ['-dc', path]),
}

for (const [compression, extension] of [
  ['gz', '.gz'],
  ['gzip', '.gz'],
  ['.gz', '.gz'],
  [' GZ ', '.gz'],
  ['zip', '.zip'],
  ['.zip', '.zip'],
  ['tar', '.tar'],
  ['tar.gz', '.tar.gz'],
  ['.tar.gz', '.tar.gz'],
  ['TAR.GZ', '.tar.gz'],
  ['br', '.br'],
  ['zst', '.zst'],
] as const) {
  for (const option of ['compress', 'compression'] as const) {
    test(`${option}: ${JSON.stringify(compression)} → worker.log.1${extension}, readable by its tool, the exact listing after each rotation`, { skip: compression === 'zst' && !ZSTD_AVAILABLE ? 'this Node has no zlib zstd' : false }, async (t) => {
      const { dir, sink, log } = await sinkIn(t, { maxSize: 100, maxFiles: 3, [option]: compression })
      const steps: string[][] = []
      for (let i = 0; i < 8; i++) {
        log.info(`${i}${RECORD.slice(1)}`)
        await sink.settled()
        if (i % 2 === 1) steps.push(listing(dir))
      }
      assert.deepEqual(steps, [
        ['worker.log', 'worker.log.lock'],
        ['worker.log', `worker.log.1${extension}`, 'worker.log.lock'],
        ['worker.log', `worker.log.1${extension}`, `worker.log.2${extension}`, 'worker.log.lock'],
        ['worker.log', `worker.log.1${extension}`, `worker.log.2${extension}`, `worker.log.3${extension}`, 'worker.log.lock'],
      ])
      const read = READERS[extension] as (path: string, dir: string) => string
      assert.equal(read(join(dir, `worker.log.1${extension}`), dir), `4${RECORD.slice(1)}\n5${RECORD.slice(1)}\n`)
    })
  }
}

test('zst on a Node without zlib zstd is refused, naming the Node versions that have it', { skip: ZSTD_AVAILABLE ? 'this Node has zlib zstd' : false }, async (t) => {
  const path = join(await tempDir(t), 'w.log')
  assert.throws(() => rotatingFileSink({ path, compress: 'zst' }), {
    name: 'TypeError',
    message: new RegExp(`got \`zst\` \\(string\\): zstd needs Node 22\\.15 or 23\\.8 and later \\(zlib\\.createZstdCompress\\); this is Node ${process.versions.node.replace(/\./g, '\\.')}`),
  })
})

for (const [compression, name] of [
  ['bz2', 'bzip2'],
  ['tar.bz2', 'bzip2'],
  ['xz', 'xz'],
  ['tar.xz', 'xz'],
  ['lzma', 'lzma'],
  ['.xz', 'xz'],
] as const) {
  test(`loguru's ${JSON.stringify(compression)} is refused: Node has no ${name}`, async (t) => {
    const path = join(await tempDir(t), 'w.log')
    assert.throws(() => rotatingFileSink({ path, compress: compression as 'gz' }), (error: unknown) => {
      assert.ok(error instanceof TypeError)
      assert.match(error.message, /^Expected `compress` to be 'gz', 'zip', 'tar', 'tar\.gz', 'br', 'zst', a function of the backup's path or false, got /)
      assert.ok(error.message.includes(`got \`${compression}\` (string): Node has no ${name} of its own and blackbox adds no library for it; 'gz', 'br' or 'zst' compress as well, or pass a function`), error.message)
      return true
    })
  })
}

for (const compression of ['rar', '.7z', 'tar.zip', '__dict__', 'tgz', '', 0, true, {}, ['zip']]) {
  test(`compress ${JSON.stringify(compression)} is refused, quoting it`, async (t) => {
    const path = join(await tempDir(t), 'w.log')
    for (const option of ['compress', 'compression'] as const) {
      assert.throws(() => rotatingFileSink({ path, [option]: compression as 'gz' }), (error: unknown) => {
        assert.ok(error instanceof TypeError)
        assert.match(error.message, new RegExp(`^Expected \`${option}\` to be 'gz', 'zip', 'tar', 'tar\\.gz', 'br', 'zst', a function of the backup's path or false, got \``))
        assert.ok(error.message.endsWith(`got \`${String(compression)}\` (${typeof compression})`), error.message)
        return true
      })
    }
  })
}

test('`compress` and `compression` together must agree', async (t) => {
  const path = join(await tempDir(t), 'w.log')
  assert.throws(() => rotatingFileSink({ path, compress: 'gzip', compression: 'zip' }), {
    name: 'TypeError',
    message: "Expected one of `compress` and `compression` (the same option, blackbox's name and loguru's), got `gzip` and `zip`",
  })
  const sink = rotatingFileSink({ path, compress: 'gzip', compression: '.gz' })
  assert.equal(sink.compression, 'gzip')
  await sink.close()
})

test('tar: a name past ustar\'s 100 bytes goes in a pax header; sizes around 512-byte blocks and an empty file extract exactly', async (t) => {
  const dir = await tempDir(t)
  const long = `${'n'.repeat(150)}.log`
  for (const [name, size] of [[long, 1000], ['empty.log', 0], ['block.log', 512], ['blocks.log', 10 * 512 + 1], ['chunks.log', 5 * 65_536 + 7]] as const) {
    const bytes = Buffer.alloc(size)
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 13) & 0xff
    writeFileSync(join(dir, name), bytes)
    for (const format of ['tar', 'tar.gz'] as const) {
      const archive = join(dir, `${name}.${format}`)
      await compressFile(join(dir, name), archive, format)
      const flag = format === 'tar' ? '' : 'z'
      assert.equal(run('tar', [`-t${flag}f`, archive]), `${name}\n`, `${name} ${format}`)
      const out = join(dir, `out-${format}`)
      mkdirSync(out, { recursive: true })
      run('tar', [`-x${flag}f`, archive, '-C', out])
      assert.ok(readFileSync(join(out, name)).equals(bytes), `${name} ${format}: the same bytes`)
      const verbose = run('tar', [`-tv${flag}f`, archive])
      assert.match(verbose, /^-rw-r--r-- /, 'a regular file, mode 0644')
    }
  }
})

test('a function takes the backup over, off the write path: loguru\'s test_compression_function', async (t) => {
  const calls: string[] = []
  const { dir, path, sink, log } = await sinkIn(t, {
    maxSize: 100,
    compression: (backup) => {
      calls.push(backup)
      renameSync(backup, `${backup}.custom_compression`)
    },
  })
  log.info(RECORD)
  log.info(RECORD)
  log.info('d'.repeat(10))
  assert.deepEqual(calls, [], 'not called during the log call')
  await sink.settled()
  assert.deepEqual(calls, [`${path}.1`])
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1.custom_compression', 'worker.log.lock'])
  assert.equal(readFileSync(`${path}.1.custom_compression`, 'utf8'), `${RECORD}\n${RECORD}\n`)
  assert.equal(readFileSync(path, 'utf8'), `${'d'.repeat(10)}\n`)
})

test('an async function is awaited before retention; one that fails is reported once, the backup kept, the sink goes on', async (t) => {
  let first = true
  const { dir, sink, log } = await sinkIn(t, {
    maxSize: 60,
    compress: async (backup) => {
      await new Promise((resolve) => setImmediate(resolve))
      if (first) {
        first = false
        throw new Error('compression error')
      }
      renameSync(backup, `${backup}.done`)
    },
  })
  log.info(RECORD)
  log.info(RECORD)
  await sink.settled()
  assert.equal(sink.failures.count, 1)
  assert.match(String(sink.failures.lastError), /compression error/)
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1', 'worker.log.lock'])
  log.info(RECORD)
  await sink.settled()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1.done', 'worker.log.2', 'worker.log.lock'])
})

test('a function is not handed the backups an earlier run left: it is called once per rotation', async (t) => {
  const dir = await tempDir(t)
  writeFileSync(join(dir, 'worker.log.1'), 'old\n')
  const calls: string[] = []
  const sink = rotatingFileSink({ path: join(dir, 'worker.log'), compress: (backup) => void calls.push(backup) })
  await sink.settled()
  await sink.close()
  assert.deepEqual(calls, [])
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1'])
})

test('tar.gz after a crash: a leftover backup is compressed at the next start, a complete archive\'s duplicate removed', async (t) => {
  const dir = await tempDir(t)
  writeFileSync(join(dir, 'worker.log.1'), 'cut short\n')
  writeFileSync(join(dir, 'worker.log.2'), 'duplicate\n')
  await compressFile(join(dir, 'worker.log.2'), join(dir, 'worker.log.2.tar.gz'), 'tar.gz')
  writeFileSync(join(dir, 'worker.log.compressing-1-1.tmp'), 'half an archive')
  const sink = rotatingFileSink({ path: join(dir, 'worker.log'), compress: 'tar.gz' })
  await sink.settled()
  await sink.close()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1.tar.gz', 'worker.log.2.tar.gz'])
  assert.equal(run('tar', ['-xzOf', join(dir, 'worker.log.1.tar.gz')]), 'cut short\n')
})

test('retention counts every archive kind as a managed backup, and nothing else', async (t) => {
  const dir = await tempDir(t)
  const managed = ['worker.log.1.tar.gz', 'worker.log.2.br', 'worker.log.3.zst', 'worker.log.4.tar', 'worker.log.5.zip', 'worker.log.6.gz']
  const foreign = ['worker.log.1.tar.bz2', 'worker.log.1.xz', 'worker.log.tar.gz', 'worker.log.1.gz.tmp', 'worker.log.2026-11-21.br.txt']
  for (const name of [...managed, ...foreign]) writeFileSync(join(dir, name), 'old\n')
  const sink = rotatingFileSink({ path: join(dir, 'worker.log'), maxFiles: 2 })
  await sink.settled()
  await sink.close()
  assert.deepEqual(listing(dir), ['worker.log', 'worker.log.1.tar.gz', 'worker.log.2.br', ...foreign].sort())
})
