import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { CONTINUATION_PREFIX, JsonFormatter, PatternFormatter, PRESETS, resolveFormat } from '../../src/core/format/index.ts'
import { compileTimeFormat } from '../../src/core/format/time.ts'
import { LEVEL_NAMES, LEVEL_VALUES, type LevelName } from '../../src/core/levels.ts'
import { LoggerContext, type LogRecord } from '../../src/core/record.ts'
import { serializeError, type Plain } from '../../src/core/serialize.ts'
import { createLogger, type Logger } from '../../src/index.ts'
import { memorySink } from '../helpers/memory-sink.ts'
import { at, textAt } from '../helpers/plain.ts'

// A failing property shows the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true })

/** 2026-11-21 05:52:25.123 UTC */
const FIXED_MS = Date.UTC(2026, 10, 21, 5, 52, 25, 123)
const TIME = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}`
const PID = process.pid

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    level: LEVEL_VALUES.info,
    levelName: 'info',
    time: FIXED_MS,
    msg: 'message',
    context: new LoggerContext(undefined, {}),
    fields: undefined,
    err: undefined,
    callsite: undefined,
    ...overrides,
  }
}

/** The local-time rendering `YYYY-MM-DD HH:mm:ss.SSS` of epoch ms, written independently of the code under test. */
function localTime(ms: number): string {
  const date = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

/** The 1-based line of this file that contains `marker`, to check call sites without trusting stack parsing. */
function lineOf(marker: string): number {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')
  const index = lines.findIndex((line) => line.includes(marker) && !line.includes('lineOf('))
  assert.notEqual(index, -1, `marker ${marker} not found`)
  return index + 1
}

function withTimeZone<T>(zone: string, run: () => T): T {
  const previous = process.env['TZ']
  process.env['TZ'] = zone
  try {
    return run()
  } finally {
    if (previous === undefined) delete process.env['TZ']
    else process.env['TZ'] = previous
  }
}

describe('the default text preset', () => {
  test('a line is `time [pid] [LEVEL] message key=value`', () => {
    const out = memorySink({ format: 'text' })
    const log = createLogger({ sinks: [out.sink] })
    log.info({ key: 'value', count: 3 }, 'message')
    assert.equal(out.lines.length, 1)
    const line = out.lines[0] ?? ''
    assert.match(line, new RegExp(`^${TIME} \\[${PID}\\] \\[INFO\\] message key=value count=3\\n$`))
    assert.equal(line.slice(0, 23), localTime(out.records[0]?.time ?? 0))
  })

  test('"text" and "default" are the same preset', () => {
    assert.equal(resolveFormat('text', 'json').format(record()), resolveFormat('default', 'json').format(record()))
    assert.equal(PRESETS.default, '{time} [{pid}] [{level}] {message}{fields}')
  })

  test('bindings come before the call’s own fields', () => {
    const out = memorySink({ format: 'text' })
    createLogger({ sinks: [out.sink], bindings: { service: 'api' } }).child({ request: 7 }).info({ user: 'alice' }, 'hello')
    assert.match(out.lines[0] ?? '', / \[INFO\] hello service=api request=7 user=alice\n$/)
  })

  const cases: ReadonlyArray<readonly [string, Plain, string]> = [
    ['a bare word', 'alice', 'alice'],
    ['a string with a space', 'two words', '"two words"'],
    ['a string with an equals sign', 'a=b', '"a=b"'],
    ['a string with a quote', 'say "hi"', String.raw`"say \"hi\""`],
    ['an empty string', '', '""'],
    ['a number', 42, '42'],
    ['a boolean', false, 'false'],
    ['null', null, 'null'],
    ['an object', { a: [1, 'x'] }, '{"a":[1,"x"]}'],
  ]
  for (const [label, value, shown] of cases) {
    test(`a field that is ${label} is shown as ${shown}`, () => {
      const line = resolveFormat('text', 'text').format(record({ fields: { key: value } }))
      assert.ok(line.endsWith(` message key=${shown}\n`), line)
    })
  }

  test('a record without fields has no trailing space', () => {
    assert.match(resolveFormat('text', 'text').format(record({ msg: 'bare' })), /\[INFO\] bare\n$/)
  })
})

describe('the loguru preset', () => {
  test('`{time} | {level: <8} | {process}:{thread} | {file}:{line} | {message}` points at the log call', () => {
    const out = memorySink({ format: 'loguru' })
    const log = createLogger({ sinks: [out.sink] })
    log.warn({ attempt: 2 }, 'loguru call site marker')
    const line = out.lines[0] ?? ''
    const expectedLine = lineOf("log.warn({ attempt: 2 }, 'loguru call site marker')")
    assert.match(line, new RegExp(`^${TIME} \\| WARNING  \\| MainProcess:main \\| format\\.test\\.ts:${expectedLine} \\| loguru call site marker attempt=2\\n$`))
  })

  test('the call site is the caller’s, from a child logger and inside a named function', () => {
    const out = memorySink({ format: '{file}:{line} {function} {message}' })
    const child = createLogger({ sinks: [out.sink] }).child({ scope: 'inner' })
    function handleRequest(): void {
      child.info('inside a function marker')
    }
    handleRequest()
    assert.equal(out.lines[0], `format.test.ts:${lineOf("child.info('inside a function marker')")} handleRequest inside a function marker\n`)
  })

  test('levels are padded to eight characters', () => {
    const formatter = resolveFormat('loguru', 'text')
    for (const name of LEVEL_NAMES) {
      const line = formatter.format(record({ level: LEVEL_VALUES[name], levelName: name }))
      assert.match(line, / \| [A-Z]+ {0,8}\| /)
      assert.equal(line.split(' | ')[1]?.length, 8, line)
    }
  })

  test('the formatter asks for the call site only when a pattern uses it', () => {
    assert.equal(resolveFormat('loguru', 'text').needsCallsite, true)
    assert.equal(resolveFormat('text', 'text').needsCallsite, false)
    assert.equal(resolveFormat('{function}', 'text').needsCallsite, true)
    assert.equal(new JsonFormatter().needsCallsite, false)
  })

  test('without a call site, file and line show ? and 0', () => {
    assert.match(resolveFormat('loguru', 'text').format(record()), / \| \?:0 \| message\n$/)
  })
})

describe('the console preset', () => {
  test('a line is `[HH:mm:ss] [pid] [LEVEL] message key=value`', () => {
    const out = memorySink({ format: 'console' })
    createLogger({ sinks: [out.sink] }).error({ code: 'E1' }, 'failed')
    assert.match(out.lines[0] ?? '', new RegExp(`^\\[\\d{2}:\\d{2}:\\d{2}\\] \\[${PID}\\] \\[ERROR\\] failed code=E1\\n$`))
    assert.equal(out.lines[0]?.slice(1, 9), localTime(out.records[0]?.time ?? 0).slice(11, 19))
  })
})

describe('level labels', () => {
  const LABELS: Readonly<Record<LevelName, string>> = {
    trace: 'TRACE', debug: 'DEBUG', info: 'INFO', success: 'SUCCESS', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL',
  }
  for (const name of LEVEL_NAMES) {
    test(`log.${name}() is labelled ${LABELS[name]} and numbered ${LEVEL_VALUES[name]}`, () => {
      const out = memorySink({ format: '{level} {levelno} {message}' })
      const log = createLogger({ sinks: [out.sink], level: 'trace' })
      log[name]('hi')
      assert.deepEqual(out.lines, [`${LABELS[name]} ${LEVEL_VALUES[name]} hi\n`])
    })
  }

  test('warning and critical are aliases of warn and fatal', () => {
    const out = memorySink({ format: '{level}' })
    const log = createLogger({ sinks: [out.sink] })
    log.warning('w')
    log.critical('c')
    assert.deepEqual(out.lines, ['WARNING\n', 'CRITICAL\n'])
  })
})

describe('custom patterns', () => {
  const context = new LoggerContext('checkout', { region: 'eu' })
  for (const [pattern, expected] of [
    ['{message}', 'message'],
    ['{levelno}:{level}', '30:INFO'],
    ['{name}/{pid}', `checkout/${PID}`],
    ['{hostname}', hostname()],
    ['{process}:{thread}', 'MainProcess:main'],
    ['{{{level}}} {{literal}}', '{INFO} {literal}'],
    ['>> {message} <<', '>> message <<'],
    ['{message}{fields}', 'message region=eu'],
    ['{fields}', ' region=eu'],
    ['{time:epoch}', String(FIXED_MS)],
    ['{time:iso}', '2026-11-21T05:52:25.123Z'],
  ] as const) {
    test(`\`${pattern}\` renders as \`${expected}\``, () => {
      assert.equal(new PatternFormatter(pattern).format(record({ context })), `${expected}\n`)
    })
  }

  test('a pattern given as `format` to a sink', () => {
    const out = memorySink({ format: '<{level}> {message}' })
    createLogger({ sinks: [out.sink] }).info('custom')
    assert.deepEqual(out.lines, ['<INFO> custom\n'])
  })

  test('a formatter object is used as it is', () => {
    const formatter = { key: 'mine', needsCallsite: false, format: (r: LogRecord) => `mine:${r.msg}\n` }
    const out = memorySink({ format: formatter })
    createLogger({ sinks: [out.sink] }).info('x')
    assert.deepEqual(out.lines, ['mine:x\n'])
  })

  test('an unnamed logger renders `{name}` as empty', () => {
    assert.equal(new PatternFormatter('[{name}]').format(record()), '[]\n')
  })
})

describe('padding specs', () => {
  for (const [pattern, expected] of [
    ['{level: <8}|', 'INFO    |'],
    ['{level:<8}|', 'INFO    |'],
    ['{level:8}|', 'INFO    |'],
    ['{level:>8}|', '    INFO|'],
    ['{level: >8}|', '    INFO|'],
    ['{level:^8}|', '  INFO  |'],
    ['{level:*^9}|', '**INFO***|'],
    ['{level:.>6}|', '..INFO|'],
    ['{level:<2}|', 'INFO|'],
    ['{levelno:0>4}', '0030'],
    ['{message:-<10}|', 'message---|'],
    ['{name:_>3}|', '___|'],
  ] as const) {
    test(`\`${pattern}\` renders as \`${expected}\``, () => {
      assert.equal(new PatternFormatter(pattern).format(record()), `${expected}\n`)
    })
  }

  test('a painted level is padded before it is painted', () => {
    const formatter = new PatternFormatter('{level: <8}|', { paint: (_level, label) => `<${label}>` })
    assert.equal(formatter.format(record()), '<INFO    >|\n')
  })
})

describe('time formats', () => {
  for (const [spec, expected] of [
    ['YYYY-MM-DD HH:mm:ss.SSS!UTC', '2026-11-21 05:52:25.123'],
    ['HH:mm:ss!UTC', '05:52:25'],
    ['YYYY/MM/DD!UTC', '2026/11/21'],
    ['SSS!UTC', '123'],
    ['HH:mm:ss.SSS Z!UTC', '05:52:25.123 Z'],
    ['[at] HH[h]mm!UTC', 'at 05h52'],
    ['[date:] YYYY [millis SSS]!UTC', 'date: 2026 millis SSS'],
  ] as const) {
    test(`{time:${spec}} renders as \`${expected}\``, () => {
      assert.equal(new PatternFormatter(`{time:${spec}}`).format(record()), `${expected}\n`)
    })
  }

  test('{time:HH:mm:ss} is local time', () => {
    assert.equal(new PatternFormatter('{time:HH:mm:ss}').format(record()), `${localTime(FIXED_MS).slice(11, 19)}\n`)
  })

  for (const [zone, expected] of [
    ['UTC', '2026-11-21 05:52:25.123 Z +0000'],
    ['Asia/Kathmandu', '2026-11-21 11:37:25.123 +05:45 +0545'],
    ['America/St_Johns', '2026-11-21 02:22:25.123 -03:30 -0330'],
  ] as const) {
    test(`local time and offsets in TZ=${zone}`, () => {
      const rendered = withTimeZone(zone, () => compileTimeFormat('YYYY-MM-DD HH:mm:ss.SSS Z ZZ')(FIXED_MS))
      assert.equal(rendered, expected)
    })
  }

  test('!UTC ignores the local zone', () => {
    const rendered = withTimeZone('Asia/Kathmandu', () => compileTimeFormat('HH:mm!UTC')(FIXED_MS))
    assert.equal(rendered, '05:52')
  })

  test('the per-second cache never shows a stale second or millisecond', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 253402300799999 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2500 }), (starts, step) => {
        const render = compileTimeFormat('YYYY-MM-DD HH:mm:ss.SSS!UTC')
        for (const start of starts) {
          for (const ms of [start, start + step, start + step + 1, start]) {
            if (ms > 253402300799999) continue
            assert.equal(render(ms), new Date(ms).toISOString().replace('T', ' ').slice(0, 23))
          }
        }
      }),
    )
  })
})

describe('bad patterns throw a TypeError at construction', () => {
  for (const [pattern, message] of [
    ['{foo}', /Expected `format` tokens to be one of \{time\}, .*\{fields\}, got `\{foo\}` in `\{foo\}`/],
    ['{Message}', /Expected `format` tokens to be one of .*got `\{Message\}`/],
    ['{user_id}', /Expected `format` tokens to be one of .*got `\{user_id\}`/],
    ['{time} {levle}', /got `\{levle\}` in `\{time\} \{levle\}`/],
    ['{', /Expected `format` braces to be paired or doubled \(`\{\{`\), got a lone `\{` in `\{`/],
    ['}', /got a lone `\}` in `\}`/],
    ['{message', /got a lone `\{` in `\{message`/],
    ['message}', /got a lone `\}` in `message\}`/],
    ['{level:xx}', /Expected `format` token `\{level:…\}` to have a width like `: <8` or `>5`, got `xx` in `\{level:xx\}`/],
  ] as const) {
    test(`\`${pattern}\``, () => {
      assert.throws(() => new PatternFormatter(pattern), (error: unknown) => {
        assert.ok(error instanceof TypeError)
        assert.match(error.message, message)
        return true
      })
      assert.throws(() => memorySink({ format: pattern }), TypeError, 'a sink given the pattern throws when it is created')
    })
  }

  for (const option of ['', 'nonsense', 'xml']) {
    test(`format \`${option}\` names the choices`, () => {
      assert.throws(() => resolveFormat(option, 'text'), {
        name: 'TypeError',
        message: `Expected \`format\` to be 'text', 'json', 'default', 'loguru', 'console', a pattern with {tokens} or a formatter, got \`${option}\` (string)`,
      })
    })
  }
})

describe('JSON format', () => {
  test('keys come in pino’s order: level, time, pid, hostname, name, bindings, fields, err, msg', () => {
    const out = memorySink({ format: 'json' })
    const log = createLogger({ name: 'app', sinks: [out.sink], bindings: { service: 'api' } }).child({ request: 7 })
    const before = Date.now()
    log.error({ user: 'alice', count: 2, err: new Error('broken') }, 'failed')
    const after = Date.now()
    const line = out.lines[0] ?? ''
    assert.ok(line.endsWith('}\n'))
    assert.equal(line.indexOf('\n'), line.length - 1)
    const parsed = JSON.parse(line) as Record<string, unknown>
    assert.deepEqual(Object.keys(parsed), ['level', 'time', 'pid', 'hostname', 'name', 'service', 'request', 'user', 'count', 'err', 'msg'])
    assert.equal(parsed['level'], 50)
    assert.equal(typeof parsed['time'], 'number')
    assert.ok((parsed['time'] as number) >= before && (parsed['time'] as number) <= after)
    assert.equal(parsed['pid'], PID)
    assert.equal(parsed['hostname'], hostname())
    assert.equal(parsed['name'], 'app')
    assert.equal(parsed['msg'], 'failed')
  })

  test('an unnamed logger without fields writes only level, time, pid, hostname and msg', () => {
    const out = memorySink({ format: 'json' })
    createLogger({ sinks: [out.sink] }).info('plain')
    assert.deepEqual(Object.keys(JSON.parse(out.lines[0] ?? '') as object), ['level', 'time', 'pid', 'hostname', 'msg'])
  })

  for (const [label, call] of [
    ['log.error(err)', (log: Logger, err: Error) => log.error(err)],
    ['log.error(err, message)', (log: Logger, err: Error) => log.error(err, 'while saving')],
    ['log.error({ err }, message)', (log: Logger, err: Error) => log.error({ err }, 'while saving')],
  ] as const) {
    test(`err has the shape of pino's err serializer after ${label}`, () => {
      const out = memorySink({ format: 'json' })
      const cause = new TypeError('socket closed')
      const err = Object.assign(new Error('save failed', { cause }), { code: 'E_SAVE', attempt: 3 })
      call(createLogger({ sinks: [out.sink] }), err)
      const parsed = JSON.parse(out.lines[0] ?? '') as unknown
      assert.deepEqual(Object.keys(at(parsed, 'err') as object), ['type', 'message', 'stack', 'code', 'attempt', 'cause'])
      assert.equal(at(parsed, 'err', 'type'), 'Error')
      assert.equal(at(parsed, 'err', 'message'), 'save failed')
      assert.equal(at(parsed, 'err', 'stack'), err.stack)
      assert.equal(at(parsed, 'err', 'code'), 'E_SAVE')
      assert.equal(at(parsed, 'err', 'attempt'), 3)
      assert.equal(at(parsed, 'err', 'cause', 'type'), 'TypeError')
      assert.equal(at(parsed, 'err', 'cause', 'stack'), cause.stack)
      assert.equal(at(parsed, 'msg'), label === 'log.error(err)' ? 'save failed' : 'while saving')
    })
  }

  test('a field named err that is not an Error stays a field', () => {
    const out = memorySink({ format: 'json' })
    createLogger({ sinks: [out.sink] }).warn({ err: 'just text' }, 'odd')
    const parsed = JSON.parse(out.lines[0] ?? '') as unknown
    assert.equal(at(parsed, 'err'), 'just text')
    assert.equal(at(parsed, 'level'), 40)
  })

  test('the JSON formatter works on a record built by hand', () => {
    const line = new JsonFormatter().format(record({ context: new LoggerContext('n', { b: 1 }), fields: { f: [1] } }))
    assert.equal(line, `{"level":30,"time":${FIXED_MS},"pid":${PID},"hostname":${JSON.stringify(hostname())},"name":"n","b":1,"f":[1],"msg":"message"}\n`)
  })
})

describe('errors in text formats', () => {
  test('the stack and each `Caused by:` follow on continuation lines', () => {
    const out = memorySink({ format: 'text' })
    const root = new RangeError('disk full')
    const middle = new TypeError('write failed', { cause: root })
    const top = Object.assign(new Error('save failed', { cause: middle }), { code: 'E_SAVE' })
    createLogger({ sinks: [out.sink] }).error(top, 'could not save')
    const lines = (out.lines[0] ?? '').split('\n')
    assert.equal(lines.pop(), '', 'the record ends with a newline')
    assert.match(lines[0] ?? '', new RegExp(`^${TIME} \\[${PID}\\] \\[ERROR\\] could not save$`))
    const rest = lines.slice(1)
    for (const line of rest) assert.ok(line.startsWith(CONTINUATION_PREFIX), `continuation line: ${line}`)
    const body = rest.map((line) => line.slice(CONTINUATION_PREFIX.length))
    const expected = [
      ...(top.stack ?? '').split('\n'),
      '    code=E_SAVE',
      ...`Caused by: ${middle.stack ?? ''}`.split('\n'),
      ...`Caused by: ${root.stack ?? ''}`.split('\n'),
    ]
    assert.deepEqual(body, expected)
  })

  test('a cause that is not an Error is shown as its value', () => {
    const out = memorySink({ format: '{message}' })
    createLogger({ sinks: [out.sink] }).error(new Error('outer', { cause: 'socket hang up' }))
    const lines = (out.lines[0] ?? '').trimEnd().split('\n')
    assert.equal(lines.at(-1), `${CONTINUATION_PREFIX}Caused by: "socket hang up"`)
  })

  test('AggregateError lists its errors on continuation lines', () => {
    const out = memorySink({ format: '{message}' })
    createLogger({ sinks: [out.sink] }).error(new AggregateError([new Error('a'), 'b'], 'both failed'))
    const lines = (out.lines[0] ?? '').trimEnd().split('\n')
    assert.equal(lines[0], 'both failed')
    assert.ok(lines.some((line) => line.startsWith(`${CONTINUATION_PREFIX}  [0] {"type":"Error","message":"a"`)), lines.join('\n'))
    assert.ok(lines.includes(`${CONTINUATION_PREFIX}  [1] b`), lines.join('\n'))
  })

  test('an error without a stack shows `type: message`', () => {
    const err = serializeError(new Error('x'))
    const formatted = new PatternFormatter('{message}').format(record({ msg: 'm', err: { ...err, stack: '', type: 'CustomError', message: 'no stack here' } }))
    assert.equal(formatted, `m\n${CONTINUATION_PREFIX}CustomError: no stack here\n`)
  })

  test('a multi-line message continues on continuation lines before the stack', () => {
    const out = memorySink({ format: '{level} {message}' })
    createLogger({ sinks: [out.sink] }).error(new Error('boom'), 'first line\nsecond line')
    const lines = (out.lines[0] ?? '').split('\n')
    assert.equal(lines[0], 'ERROR first line')
    assert.equal(lines[1], `${CONTINUATION_PREFIX}second line`)
    assert.equal(lines[2], `${CONTINUATION_PREFIX}Error: boom`)
  })

  test('the JSON err of the same call carries the same stack', () => {
    const text = memorySink({ format: 'text' })
    const json = memorySink({ format: 'json' })
    const err = new Error('shared')
    createLogger({ sinks: [text.sink, json.sink] }).error(err)
    assert.equal(textAt(JSON.parse(json.lines[0] ?? ''), 'err', 'stack'), err.stack)
    assert.ok((text.lines[0] ?? '').includes((err.stack ?? '').split('\n').join(`\n${CONTINUATION_PREFIX}`)))
  })
})
