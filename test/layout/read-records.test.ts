import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { zipSync } from 'fflate'
import { escapeJsonUnsafe } from '../../src/core/format/escape.ts'
import { createLogger } from '../../src/index.ts'
import { RECORD_KEYS } from '../../src/core/field-names.ts'
import { MAX_FIELD_DEPTH } from '../../src/layout/parse-record.ts'
import { MAX_LINE_CHARS, readRecords, readRecordsFrom, type ReadRecord, type ReadRecordsOptions, type TornTail } from '../../src/layout/read-records.ts'
import { compressFile } from '../../src/sinks/compress.ts'
import { localMs } from '../helpers/log-tree.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { RUNS } from '../helpers/run-logs.ts'
import { tempDir, type CleanupHost } from '../helpers/tmp.ts'

fc.configureGlobal({ includeErrorInReport: true })

/** Every record of a file, and what `onTorn` said. */
async function readAll(path: string): Promise<{ records: ReadRecord[]; torn: TornTail[] }> {
  const torn: TornTail[] = []
  const records: ReadRecord[] = []
  for await (const record of readRecords(path, { onTorn: (tail) => torn.push(tail) })) records.push(record)
  return { records, torn }
}

async function readText(chunks: ReadonlyArray<string | Uint8Array>, options: ReadRecordsOptions = {}): Promise<ReadRecord[]> {
  const records: ReadRecord[] = []
  for await (const record of readRecordsFrom(chunks, options)) records.push(record)
  return records
}

/** The parts of records tests compare; `raw` and `line` are checked where they matter. */
function essentials(records: readonly ReadRecord[]): Array<Pick<ReadRecord, 'time' | 'level' | 'levelLabel' | 'msg' | 'fields' | 'format'>> {
  return records.map(({ time, level, levelLabel, msg, fields, format }) => ({ time, level, levelLabel, msg, fields, format }))
}

describe('the default text preset', () => {
  test('time, level, message and the trailing fields of each record', async (t) => {
    const path = join(await tempDir(t), 'run.log')
    writeFileSync(path, RUNS.exit3)
    const { records, torn } = await readAll(path)
    assert.deepEqual(essentials(records), [
      { time: localMs('2026-11-21 05:52:25.100'), level: 30, levelLabel: 'INFO', msg: 'system: Node v20.20.2 on linux x64', fields: { event: 'system' }, format: 'text' },
      { time: localMs('2026-11-21 05:52:25.200'), level: 30, levelLabel: 'INFO', msg: 'working', fields: { user: 'alice', note: 'two words' }, format: 'text' },
      {
        time: localMs('2026-11-21 05:52:25.600'),
        level: 50,
        levelLabel: 'ERROR',
        msg: 'exiting with code 3 after 0.5 s',
        fields: { event: 'exit', code: '3', durationMs: '500', ending: 'error' },
        format: 'text',
      },
    ])
    assert.deepEqual(records.map((record) => record.line), [1, 2, 3])
    assert.deepEqual(torn, [])
  })

  test('continuation lines join their record, in raw and in msg', async () => {
    const records = await readText([RUNS.uncaught])
    assert.equal(records.length, 4)
    const crash = records[2]
    assert.ok(crash)
    assert.equal(crash.levelLabel, 'CRITICAL')
    assert.equal(crash.level, 60)
    assert.equal(crash.msg, 'uncaught exception: boom\nError: boom\n    at main (file:///app/main.js:3:9)')
    assert.deepEqual(crash.fields, { event: 'uncaught', ending: 'uncaught' })
    assert.equal(
      crash.raw,
      '2026-11-21 05:52:25.700 [4321] [CRITICAL] uncaught exception: boom event=uncaught ending=uncaught\n  | Error: boom\n  |     at main (file:///app/main.js:3:9)',
    )
    assert.equal(records[3]?.line, 6, 'the line number counts the continuation lines')
  })

  test('values written as JSON are read back: quoted strings, objects, arrays, quoted keys', async () => {
    const line = '2026-11-21 05:52:25.123 [1] [WARNING] odd = "text" here note="say \\"hi\\"" tags=["a","b"] warning={"name":"W","message":"x = y"} "two words"=1 event=warning\n'
    const [record] = await readText([line])
    assert.equal(record?.msg, 'odd = "text" here')
    assert.deepEqual(record?.fields, { note: 'say "hi"', tags: ['a', 'b'], warning: { name: 'W', message: 'x = y' }, 'two words': '1', event: 'warning' })
  })

  test('a record with no message and no fields, and one with fields only', async () => {
    const records = await readText(['2026-11-21 05:52:25.123 [1] [INFO] \n2026-11-21 05:52:25.124 [1] [INFO]  event=start\n'])
    assert.deepEqual(
      records.map((record) => [record.msg, record.fields]),
      [['', {}], ['', { event: 'start' }]],
    )
  })
})

describe('the loguru preset', () => {
  test('time, padded level, process, file:line, message and fields', async () => {
    const text = [
      '2026-11-21 05:52:25.123 | INFO     | MainProcess:main | app.ts:42 | hello | world k=v',
      '2026-11-21 05:52:25.124 | SUCCESS  | Worker-2:worker-1 | /srv/my app/a | b.ts:7 | done event=cleanup ending=completed',
      '2026-11-21 05:52:25.125 | CRITICAL | MainProcess:main | ?:0 | uncaught exception: boom event=uncaught ending=uncaught',
      '  | Error: boom',
      '',
    ].join('\n')
    const records = await readText([text])
    assert.deepEqual(essentials(records), [
      { time: localMs('2026-11-21 05:52:25.123'), level: 30, levelLabel: 'INFO', msg: 'hello | world', fields: { k: 'v' }, format: 'loguru' },
      { time: localMs('2026-11-21 05:52:25.124'), level: 35, levelLabel: 'SUCCESS', msg: 'done', fields: { event: 'cleanup', ending: 'completed' }, format: 'loguru' },
      { time: localMs('2026-11-21 05:52:25.125'), level: 60, levelLabel: 'CRITICAL', msg: 'uncaught exception: boom\nError: boom', fields: { event: 'uncaught', ending: 'uncaught' }, format: 'loguru' },
    ])
  })
})

describe('JSON lines', () => {
  test('level numbers, epoch ms, msg; every other member is a field, as written', async () => {
    const text = [
      '{"level":30,"time":1795290669983,"pid":1234,"hostname":"vm","name":"app","user":"alice","msg":"hello"}',
      '{"level":35,"time":1795290669984,"pid":1234,"hostname":"vm","name":"app","msg":"done"}',
      '{"level":50,"time":1795290669985,"pid":1234,"hostname":"vm","event":"exit","code":3,"ending":"error","msg":"exiting with code 3"}',
      '{"level":45,"time":"2026-11-21T05:52:25.123Z","msg":"a custom level and an ISO time"}',
      '{"level":"warn","msg":"a level name, no time"}',
      '{"msg":"no level"}',
      '',
    ].join('\n')
    const records = await readText([text])
    assert.deepEqual(essentials(records), [
      { time: 1795290669983, level: 30, levelLabel: 'INFO', msg: 'hello', fields: { pid: 1234, hostname: 'vm', name: 'app', user: 'alice' }, format: 'json' },
      { time: 1795290669984, level: 35, levelLabel: 'SUCCESS', msg: 'done', fields: { pid: 1234, hostname: 'vm', name: 'app' }, format: 'json' },
      { time: 1795290669985, level: 50, levelLabel: 'ERROR', msg: 'exiting with code 3', fields: { pid: 1234, hostname: 'vm', event: 'exit', code: 3, ending: 'error' }, format: 'json' },
      { time: Date.UTC(2026, 10, 21, 5, 52, 25, 123), level: 45, levelLabel: 'WARNING', msg: 'a custom level and an ISO time', fields: {}, format: 'json' },
      { time: undefined, level: 40, levelLabel: 'WARNING', msg: 'a level name, no time', fields: {}, format: 'json' },
      { time: undefined, level: 0, levelLabel: 'UNKNOWN', msg: 'no level', fields: {}, format: 'json' },
    ])
  })

  test('formats are decided per line: a file may mix JSON and text', async () => {
    const records = await readText(['{"level":30,"time":1,"msg":"json"}\n2026-11-21 05:52:25.123 [1] [ERROR] text\n'])
    assert.deepEqual(records.map((record) => [record.format, record.levelLabel, record.msg]), [['json', 'INFO', 'json'], ['text', 'ERROR', 'text']])
  })
})

test('a field named __proto__ is a field, in text and in JSON, not a prototype', async () => {
  const records = await readText(['2026-11-21 05:52:25.123 [1] [INFO] m __proto__=x\n{"level":30,"__proto__":{"polluted":true},"msg":"m"}\n'])
  for (const record of records) {
    assert.equal(Object.getPrototypeOf(record.fields), Object.prototype)
    assert.ok(Object.hasOwn(record.fields, '__proto__'), record.raw)
  }
  assert.deepEqual(records.map((record) => Object.getOwnPropertyDescriptor(record.fields, '__proto__')?.value), ['x', { polluted: true }])
})

describe('what matches no format', () => {
  test('a foreign line is kept as an UNKNOWN record, and a file that starts with continuation lines too', async () => {
    const records = await readText(['  | at the start of a rotated file\n  | second\nplain words\n{"not":"closed"\n\n2026-02-31 00:00:00.000 [1] [INFO] no such day\n'])
    assert.deepEqual(
      records.map((record) => [record.format, record.levelLabel, record.level, record.msg, record.line]),
      [
        ['unknown', 'UNKNOWN', 0, 'at the start of a rotated file\nsecond', 1],
        ['unknown', 'UNKNOWN', 0, 'plain words', 3],
        ['unknown', 'UNKNOWN', 0, '{"not":"closed"', 4],
        ['text', 'INFO', 30, 'no such day', 6],
      ],
    )
    assert.equal(records[3]?.time, undefined, 'a date that does not exist gives no time')
  })

  test('a label no preset writes makes the line UNKNOWN', async () => {
    const [record] = await readText(['2026-11-21 05:52:25.123 [1] [NOTICE] hm\n'])
    assert.equal(record?.format, 'unknown')
    assert.equal(record?.msg, '2026-11-21 05:52:25.123 [1] [NOTICE] hm')
  })
})

describe('a torn last line', () => {
  for (const [format, text, fragment] of [
    ['text', RUNS.torn, '2026-11-21 05:52:25.400 [4321] [INFO] cut off mid-wr'],
    ['json', '{"level":30,"time":1,"msg":"a"}\n{"level":30,"ti', '{"level":30,"ti'],
    ['continuation', `${RUNS.uncaught.split('\n').slice(0, 4).join('\n')}\n  |     at ma`, '  |     at ma'],
  ] as const) {
    test(`${format}: not a record, reported through onTorn with its line number`, async (t) => {
      const path = join(await tempDir(t), 'torn.log')
      writeFileSync(path, text)
      const { records, torn } = await readAll(path)
      const complete = text.split('\n').length - 1
      assert.deepEqual(torn, [{ line: complete + 1, text: fragment, reason: 'unterminated' }])
      assert.ok(records.length > 0)
      assert.deepEqual(records, await readText([text.slice(0, -fragment.length)]), 'the records are those of the file without its torn line')
    })
  }

  test('a file that is only a torn line has no records', async () => {
    const torn: TornTail[] = []
    assert.deepEqual(await readText(['{"lev'], { onTorn: (tail) => torn.push(tail) }), [])
    assert.deepEqual(torn, [{ line: 1, text: '{"lev', reason: 'unterminated' }])
  })
})

describe('chunks and encodings', () => {
  test('lines and multi-byte characters split across chunks are joined', async () => {
    const bytes = Buffer.from('2026-11-21 05:52:25.123 [1] [INFO] caf\u00e9 \u{1f600} k=\u00e9\r\n  | more\n')
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte))
    const records = await readText(chunks)
    assert.deepEqual(
      records.map((record) => [record.msg, record.fields]),
      [['caf\u00e9 \u{1f600}\nmore', { k: '\u00e9' }]],
    )
  })

  test(`a line longer than MAX_LINE_CHARS (${MAX_LINE_CHARS}) is cut to that length, and the next line is read`, async () => {
    const long = `2026-11-21 05:52:25.123 [1] [INFO] ${'x'.repeat(MAX_LINE_CHARS)}`
    const records = await readText([long.slice(0, 1000), long.slice(1000), '\n2026-11-21 05:52:25.124 [1] [INFO] next\n'])
    assert.equal(records.length, 2)
    assert.equal(records[0]?.raw.length, MAX_LINE_CHARS)
    assert.equal(records[1]?.msg, 'next')
  })
})

describe('gzip', () => {
  test('a .gz backup reads as the plain file does', async (t) => {
    const dir = await tempDir(t)
    writeFileSync(join(dir, 'run.log'), RUNS.uncaught)
    writeFileSync(join(dir, 'run.log.1.gz'), gzipSync(RUNS.uncaught))
    const plain = await readAll(join(dir, 'run.log'))
    const gz = await readAll(join(dir, 'run.log.1.gz'))
    assert.equal(gz.records.length, 4)
    assert.deepEqual(gz, plain)
  })

  test('a .gz cut short yields the records before the cut and reports the torn end', async (t) => {
    const dir = await tempDir(t)
    const text = RUNS.completed.repeat(50)
    const full = gzipSync(text)
    const path = join(dir, 'cut.log.2.gz')
    writeFileSync(path, full.subarray(0, Math.floor(full.length / 2)))
    const { records, torn } = await readAll(path)
    const all = (await readText([text])).map((record) => record.raw)
    assert.ok(records.length > 0 && records.length < all.length, `some records, not all: ${records.length} of ${all.length}`)
    assert.deepEqual(records.map((record) => record.raw), all.slice(0, records.length), 'the records read are the first ones, unchanged')
    assert.equal(torn.length, 1)
  })

  test('a .gz that is not gzip at all: no records, a corrupt-archive report, no throw', async (t) => {
    const path = join(await tempDir(t), 'bad.log.1.gz')
    writeFileSync(path, RUNS.completed)
    const { records, torn } = await readAll(path)
    assert.deepEqual(records, [])
    assert.equal(torn.length, 1)
    assert.equal(torn[0]?.reason, 'corrupt-archive')
    assert.match(torn[0]?.detail ?? '', /header/)
  })

  test('a .zip backup (the rotating sink\'s compress: \'zip\') reads as the plain file does', async (t) => {
    const dir = await tempDir(t)
    writeFileSync(join(dir, 'run.log'), RUNS.uncaught)
    writeFileSync(join(dir, 'run.log.2026-11-21.zip'), zipSync({ 'run.log': Buffer.from(RUNS.uncaught) }))
    const zip = await readAll(join(dir, 'run.log.2026-11-21.zip'))
    assert.equal(zip.records.length, 4)
    assert.deepEqual(zip, await readAll(join(dir, 'run.log')))
  })

  test('a .zip cut short or not a zip: the records before the cut, a corrupt-archive report, no throw', async (t) => {
    const dir = await tempDir(t)
    const text = RUNS.completed.repeat(50)
    const full = zipSync({ 'run.log': Buffer.from(text) })
    writeFileSync(join(dir, 'cut.log.1.zip'), full.subarray(0, Math.floor(full.length / 2)))
    const cut = await readAll(join(dir, 'cut.log.1.zip'))
    const all = (await readText([text])).map((record) => record.raw)
    assert.ok(cut.records.length > 0 && cut.records.length < all.length, `some records, not all: ${cut.records.length} of ${all.length}`)
    assert.deepEqual(cut.records.map((record) => record.raw), all.slice(0, cut.records.length))
    assert.deepEqual(cut.torn.map((tail) => tail.reason), ['corrupt-archive'])
    writeFileSync(join(dir, 'bad.log.1.zip'), RUNS.completed)
    assert.deepEqual(await readAll(join(dir, 'bad.log.1.zip')), { records: [], torn: [{ line: 1, text: '', reason: 'corrupt-archive', detail: 'no file in the zip archive' }] })
  })

  test('a missing file is an error, not a torn file', async (t) => {
    const path = join(await tempDir(t), 'missing.log')
    await assert.rejects(readAll(path), { code: 'ENOENT' })
  })
})

describe('records written by the real formatters read back', () => {
  for (const format of ['text', 'loguru', 'json'] as const) {
    test(`format ${format}`, async () => {
      const out = memorySink({ format })
      const log = createLogger({ name: 'app', sinks: [out.sink] })
      log.info({ event: 'start', note: 'two words' }, 'starting')
      log.warn('first line\nsecond line')
      log.error({ event: 'exit', code: 3, ending: 'error' }, 'exiting with code 3')
      log.fatal(new Error('boom'), 'uncaught exception: boom')
      const records = await readText([out.text()])
      assert.deepEqual(
        records.map((record) => [record.levelLabel, record.msg.split('\n')[0], record.time]),
        out.records.map((record) => [({ 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' } as Record<number, string>)[record.level], record.msg.split('\n')[0], record.time]),
      )
      assert.deepEqual(records[0]?.fields['note'], 'two words')
      assert.deepEqual([records[2]?.fields['event'], String(records[2]?.fields['code']), records[2]?.fields['ending']], ['exit', '3', 'error'])
      if (format !== 'json') {
        assert.equal(records[1]?.msg, 'first line\nsecond line')
        assert.match(records[3]?.msg ?? '', /^uncaught exception: boom\nError: boom\n {4}at /)
      }
    })
  }

  test('property: any field written in text reads back as written', async () => {
    const awkward = ['"', '\\', '=', ' ', '{}', '[1,2]', '[1.0]', '{"a":"b c"}', ' k=v', '"x"', '\n', '\u2028', '\u0085', '\ud800', '  | ', '}']
    const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom(...awkward)), { maxLength: 5 }).map((parts) => parts.join(''))
    await fc.assert(
      // Keys named like the record's own are written renamed (key_): other tests cover that.
      fc.asyncProperty(fc.dictionary(text.filter((key) => !RECORD_KEYS.has(key)), text, { maxKeys: 5 }), async (fields) => {
        const out = memorySink({ format: 'text' })
        createLogger({ sinks: [out.sink] }).info(fields, 'done')
        const [record] = await readText([out.text()])
        assert.equal(record?.msg, 'done')
        // A bare `[1,2]` or `{}` reads as JSON: the text form must still be what was written.
        const read = Object.entries(record?.fields ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : escapeJsonUnsafe(JSON.stringify(value))])
        assert.deepEqual(read, Object.entries(fields))
      }),
    )
  })
})

describe('the reader never throws on arbitrary bytes', () => {
  const bytes = fc.uint8Array({ maxLength: 400 })
  const pieces = fc.array(fc.oneof(fc.constantFrom('\n', '  | ', '{', '"', '=', ' ', '2026-11-21 05:52:25.123 [1] [INFO] ', '2026-11-21 05:52:25.123 | INFO     | a:b | c:1 | '), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 30 })

  test('property: plain bytes, in any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, fc.integer({ min: 1, max: 64 }), async (data, size) => {
        const chunks: Uint8Array[] = []
        for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size))
        let tornCalls = 0
        const records = await readText(chunks, { onTorn: () => tornCalls++ })
        assert.ok(tornCalls <= 1)
        for (const record of records) assert.equal(typeof record.raw, 'string')
      }),
    )
  })

  test('property: text near the formats (prefixes, quotes, =, continuation marks)', async () => {
    await fc.assert(
      fc.asyncProperty(pieces, async (parts) => {
        const text = parts.join('')
        const records = await readText([text])
        const lines = text.split('\n').slice(0, -1).map((line) => line.replace(/\r$/, '')).filter((line) => line !== '')
        const firstLines = lines.filter((line, i) => !line.startsWith('  | ') || i === 0)
        assert.equal(records.length, firstLines.length, 'one record per line that is not a continuation')
      }),
    )
  })

  test('property: bytes in a .gz file', async (t) => {
    const dir = await tempDir(t)
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytes, bytes.map((data) => gzipSync(data)), fc.tuple(bytes, fc.nat()).map(([data, cut]) => gzipSync(data).subarray(0, cut))), async (data) => {
        const path = join(dir, `f${n++}.log.1.gz`)
        writeFileSync(path, data)
        const { torn } = await readAll(path)
        assert.ok(torn.length <= 1)
      }),
      { numRuns: 60 },
    )
  })
})

// Issue #15, "Hostile input": what a reader meets in a damaged or foreign file.
describe('hostile input: values a line may hold (#15)', () => {
  /** `{"level":30,…,"a":[[[…]]]}` nested `depth` arrays deep. */
  const deepLine = (depth: number): string => `{"level":30,"time":1795240345100,"msg":"deep","a":${'['.repeat(depth)}${']'.repeat(depth)}}`

  test(`a line nested 5,000 deep reads; what lies deeper than MAX_FIELD_DEPTH (${MAX_FIELD_DEPTH}) is the logger's marker; the next line reads too`, async () => {
    const records = await readText([`${deepLine(5000)}\n{"level":30,"time":1795240345101,"msg":"after"}\n`])
    assert.deepEqual(records.map((record) => record.msg), ['deep', 'after'])
    let value = records[0]?.fields['a']
    let depth = 1
    while (Array.isArray(value)) {
      value = value[0]
      depth++
    }
    assert.equal(value, '[Array: max depth]')
    assert.equal(depth, MAX_FIELD_DEPTH, 'the marker stands where the value went deeper than the bound')
    // Anything may now walk the value recursively: it is as deep as the bound at most.
    assert.ok(JSON.stringify(records[0]?.fields).length < 4 * MAX_FIELD_DEPTH)
  })

  test('a value within MAX_FIELD_DEPTH is kept as written, objects as well as arrays', async () => {
    const nested = `${'{"k":'.repeat(MAX_FIELD_DEPTH - 1)}1${'}'.repeat(MAX_FIELD_DEPTH - 1)}`
    const [record] = await readText([`{"level":30,"v":${nested}}\n`])
    assert.equal(JSON.stringify(record?.fields['v']), nested)
    const [deeper] = await readText([`{"level":30,"v":{"k":${nested}}}\n`])
    assert.match(JSON.stringify(deeper?.fields['v']), /"\[Object: max depth\]"/)
  })

  test('a text line whose field is nested 5,000 deep reads: the value is kept as the text it is', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
    const records = await readText([`2026-11-21 05:52:25.123 [1] [INFO] deep x=${deep} code=3\n`, `2026-11-21 05:52:25.123 | INFO     | a:b | c:1 | deep x=${deep}\n`])
    assert.deepEqual(records.map((record) => [record.format, record.msg, record.fields]), [['text', 'deep', { x: deep, code: '3' }], ['loguru', 'deep', { x: deep }]])
    const within = `${'['.repeat(MAX_FIELD_DEPTH - 1)}${']'.repeat(MAX_FIELD_DEPTH - 1)}`
    const [read] = await readText([`2026-11-21 05:52:25.123 [1] [INFO] deep x=${within}\n`])
    assert.ok(Array.isArray(read?.fields['x']), 'a value within the bound is read as JSON')
  })

  test('a `msg` that is not a string is read as its JSON text; a missing or null one as empty', async () => {
    const lines = ['{"level":30,"msg":123}', '{"level":30,"msg":{"a":[1,"x"]}}', '{"level":30,"msg":true}', '{"level":30,"msg":null}', '{"level":30}', '{"level":30,"message":7}']
    const records = await readText([`${lines.join('\n')}\n`])
    assert.deepEqual(records.map((record) => record.msg), ['123', '{"a":[1,"x"]}', 'true', '', '', ''])
    assert.deepEqual(records[5]?.fields, { message: 7 }, 'a `message` that is not a string stays a field')
  })

  test('a `time` that is no moment (1e300, text, null) is no time, and stays in `fields` as written', async () => {
    const lines = ['{"level":30,"time":1e300}', '{"level":30,"time":"yesterday"}', '{"level":30,"time":null}', '{"level":30,"time":-1}', '{"level":30,"time":8640000000000001}']
    const records = await readText([`${lines.join('\n')}\n`])
    assert.deepEqual(records.map((record) => [record.time, record.fields['time']]), [[undefined, 1e300], [undefined, 'yesterday'], [undefined, null], [-1, undefined], [undefined, 8640000000000001]])
  })
})

describe('hostile input: damaged archives (#15)', () => {
  const text = RUNS.completed.repeat(40)

  async function readBytes(t: CleanupHost, name: string, bytes: Uint8Array): Promise<{ records: ReadRecord[]; torn: TornTail[] }> {
    const path = join(await tempDir(t), name)
    writeFileSync(path, bytes)
    return readAll(path)
  }

  const corrupt = (torn: readonly TornTail[]): string => {
    assert.deepEqual(torn.map((tail) => tail.reason), ['corrupt-archive'], `one corrupt-archive report: ${JSON.stringify(torn)}`)
    return torn[0]?.detail ?? ''
  }

  test('a .gz without its 8-byte trailer: every record, then a report that names the trailer', async (t) => {
    const full = gzipSync(text)
    const { records, torn } = await readBytes(t, 'run.log.1.gz', full.subarray(0, full.length - 8))
    assert.equal(records.length, (await readText([text])).length)
    assert.match(corrupt(torn), /trailer/)
  })

  for (const cut of [1, 4, 7, 9, 64]) {
    test(`a .gz missing its last ${cut} bytes is reported, never read as a short whole file`, async (t) => {
      const full = gzipSync(text)
      const { torn } = await readBytes(t, 'run.log.1.gz', full.subarray(0, full.length - cut))
      assert.match(corrupt(torn), /cut short|trailer/)
    })
  }

  test('a .gz whose CRC-32 or length does not match its data is reported (RFC 1952 trailer)', async (t) => {
    const full = gzipSync(text)
    const badCrc = Buffer.from(full)
    badCrc.writeUInt32LE((badCrc.readUInt32LE(full.length - 8) ^ 1) >>> 0, full.length - 8)
    assert.match(corrupt((await readBytes(t, 'crc.log.1.gz', badCrc)).torn), /CRC-32/)
    const badSize = Buffer.from(full)
    badSize.writeUInt32LE(badSize.readUInt32LE(full.length - 4) + 1, full.length - 4)
    assert.match(corrupt((await readBytes(t, 'size.log.1.gz', badSize)).torn), /size|length/)
  })

  test('two gzip members one after the other (cat a.gz b.gz) read as one file, whole, no report', async (t) => {
    const { records, torn } = await readBytes(t, 'two.log.1.gz', Buffer.concat([gzipSync(RUNS.exit3), gzipSync(RUNS.completed)]))
    assert.deepEqual(torn, [])
    assert.deepEqual(records.map((record) => record.raw), (await readText([RUNS.exit3 + RUNS.completed])).map((record) => record.raw))
  })

  test('bytes after the last member, and an empty .gz, are reported', async (t) => {
    assert.match(corrupt((await readBytes(t, 'tail.log.1.gz', Buffer.concat([gzipSync(RUNS.exit3), Buffer.from('not gzip')]))).torn), /header/)
    assert.match(corrupt((await readBytes(t, 'empty.log.1.gz', new Uint8Array(0))).torn), /empty/)
  })

  test('a .gz written by the rotating sink (compressFile) reads whole, with no report', async (t) => {
    const dir = await tempDir(t)
    writeFileSync(join(dir, 'run.log'), text)
    for (const compression of ['gzip', 'zip'] as const) {
      const path = join(dir, `run.log.1.${compression === 'gzip' ? 'gz' : 'zip'}`)
      await compressFile(join(dir, 'run.log'), path, compression)
      const read = await readAll(path)
      assert.deepEqual(read, await readAll(join(dir, 'run.log')), compression)
    }
  })

  test('a .zip without its central directory (cut after the entry\'s data) is reported', async (t) => {
    const full = zipSync({ 'run.log': Buffer.from(text) })
    const eocd = full.length - 22
    const cdSize = Buffer.from(full).readUInt32LE(eocd + 12)
    const { records, torn } = await readBytes(t, 'run.log.1.zip', full.subarray(0, eocd - cdSize))
    assert.equal(records.length, (await readText([text])).length)
    assert.match(corrupt(torn), /central directory/)
    assert.match(corrupt((await readBytes(t, 'eocd.log.1.zip', full.subarray(0, full.length - 1))).torn), /central directory/)
  })

  test('a .zip whose entry does not match the CRC-32 or size its central directory gives is reported', async (t) => {
    const full = Buffer.from(zipSync({ 'run.log': Buffer.from(text) }))
    const eocd = full.length - 22
    const cd = eocd - full.readUInt32LE(eocd + 12)
    const badCrc = Buffer.from(full)
    badCrc.writeUInt32LE((badCrc.readUInt32LE(cd + 16) ^ 1) >>> 0, cd + 16)
    assert.match(corrupt((await readBytes(t, 'crc.log.1.zip', badCrc)).torn), /CRC-32/)
    const badSize = Buffer.from(full)
    badSize.writeUInt32LE(badSize.readUInt32LE(cd + 24) + 1, cd + 24)
    assert.match(corrupt((await readBytes(t, 'size.log.1.zip', badSize)).torn), /size/)
  })

  test('a zip64 archive (zip64 end records, the size in the zip64 extra field) is checked the same way', async (t) => {
    const data = Buffer.from(text)
    /** The fflate archive rewritten as zip64, with `size` as the size its directory gives. */
    const zip64 = (size: number): Buffer => {
      const full = Buffer.from(zipSync({ 'run.log': data }))
      const eocd = full.length - 22
      const cdSize = full.readUInt32LE(eocd + 12)
      const cdStart = eocd - cdSize
      const entry = full.subarray(cdStart, eocd)
      const nameLength = entry.readUInt16LE(28)
      const extra = Buffer.alloc(12)
      extra.writeUInt16LE(0x0001, 0)
      extra.writeUInt16LE(8, 2)
      extra.writeBigUInt64LE(BigInt(size), 4)
      const header = Buffer.from(entry.subarray(0, 46))
      header.writeUInt32LE(0xffffffff, 24)
      header.writeUInt16LE(entry.readUInt16LE(30) + extra.length, 30)
      const directory = Buffer.concat([header, entry.subarray(46, 46 + nameLength), extra, entry.subarray(46 + nameLength)])
      const record = Buffer.alloc(56)
      record.writeUInt32LE(0x06064b50, 0)
      record.writeBigUInt64LE(44n, 4)
      record.writeBigUInt64LE(1n, 24)
      record.writeBigUInt64LE(1n, 32)
      record.writeBigUInt64LE(BigInt(directory.length), 40)
      record.writeBigUInt64LE(BigInt(cdStart), 48)
      const locator = Buffer.alloc(20)
      locator.writeUInt32LE(0x07064b50, 0)
      locator.writeBigUInt64LE(BigInt(cdStart + directory.length), 8)
      locator.writeUInt32LE(1, 16)
      const end = Buffer.from(full.subarray(eocd))
      end.writeUInt16LE(0xffff, 8)
      end.writeUInt16LE(0xffff, 10)
      end.writeUInt32LE(0xffffffff, 12)
      end.writeUInt32LE(0xffffffff, 16)
      return Buffer.concat([full.subarray(0, cdStart), directory, record, locator, end])
    }
    const whole = await readBytes(t, 'run.log.1.zip', zip64(data.length))
    assert.deepEqual(whole.torn, [])
    assert.equal(whole.records.length, (await readText([text])).length)
    assert.match(corrupt((await readBytes(t, 'size.log.1.zip', zip64(data.length + 1))).torn), /size/)
  })

  test('a .zip with an archive comment reads whole, with no report', async (t) => {
    const full = Buffer.from(zipSync({ 'run.log': Buffer.from(text) }))
    const comment = Buffer.from('made by hand')
    const withComment = Buffer.concat([full, comment])
    withComment.writeUInt16LE(comment.length, full.length - 2)
    const { records, torn } = await readBytes(t, 'run.log.1.zip', withComment)
    assert.deepEqual(torn, [])
    assert.equal(records.length, (await readText([text])).length)
  })
})

describe('hostile input: the readers never throw (#15)', () => {
  // Lines nested deep (past the bound, and past what a recursive walk survives), cut or whole.
  // The depth drawn outright: fast-check's arrays stay short, and the point is past 5,000.
  const deepJson = fc
    .tuple(fc.integer({ min: 0, max: 6000 }), fc.array(fc.constantFrom('[', '{"k":', '{"level":30,"msg":"m","a":'), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.nat())
    .map(([depth, pattern, whole, cut]) => {
      const openers = Array.from({ length: depth }, (_, i) => pattern[i % pattern.length] as string)
      const closers = openers.map((opener) => (opener === '[' ? ']' : '}')).reverse().join('')
      const line = `{"level":30,"time":1,"v":${openers.join('')}0${closers}}`
      return whole ? line : line.slice(0, cut % (line.length + 1))
    })
  const oddRecord = fc
    .record({ level: fc.oneof(fc.constantFrom(30, 50, 'info', 'nope'), fc.jsonValue()), time: fc.oneof(fc.double(), fc.string(), fc.jsonValue()), msg: fc.jsonValue(), err: fc.jsonValue() }, { requiredKeys: [] })
    .map((record) => JSON.stringify(record))
  const deepText = deepJson.map((json) => `2026-11-21 05:52:25.123 [1] [INFO] m v=${json.slice(json.indexOf('"v":') + 4, -1)} k=1`)
  const line = fc.oneof(deepJson, deepText, oddRecord, fc.string({ unit: 'binary', maxLength: 40 }))

  test('property: random lines, deep nesting, odd values: one record per line, never a throw, fields safe to walk', async () => {
    await fc.assert(
      // Chunks of 1 byte are the business of the property above; these lines are long.
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), fc.integer({ min: 256, max: 8192 }), async (lines, size) => {
        const text = lines.map((entry) => entry.replace(/[\r\n]/g, ' ')).join('\n') + '\n'
        const chunks: string[] = []
        for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
        const records = await readText(chunks)
        const expected = text.split('\n').slice(0, -1).filter((entry, i) => entry !== '' && (i === 0 || !entry.startsWith('  | ')))
        assert.equal(records.length, expected.length)
        for (const record of records) {
          assert.equal(typeof record.msg, 'string')
          assert.ok(record.time === undefined || (Number.isFinite(record.time) && Math.abs(record.time) <= 8.64e15), `a time that is a moment: ${record.time}`)
          JSON.stringify(record.fields)
        }
      }),
      { numRuns: 100 },
    )
  })
})
