// Crash durability of the file sink, tested with real processes (STYLE.md): a fixture in
// test/fixtures/ logs through the BUILT library (dist/) and exits, throws or is killed;
// the assertions are on the bytes found on disk afterwards. Run `npm run build` first.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, it, test, type TestContext } from 'node:test'
import { BATCH_SIZE_BYTES, createLogger, fileSink, type Durability } from '../../src/index.ts'
import { firstGapInSequence, numbersOf, parseJsonLines, readLines, splitLines, type FileLines, type JsonRecord } from '../helpers/lines.ts'
import { exitedReason, fileSize, fixturePath, killIfRunning, runNode, spawnNode, waitUntil, type NodeChild } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Bytes per progress entry written by test/fixtures/log-until-killed.mjs. */
const PROGRESS_WIDTH = 11
/** The fixture stops (exit code 3) after this many records if nobody killed it. */
const MAX_RECORDS_BEFORE_GIVING_UP = 1_000_000
/** How long a fixture may take to show its first records. */
const STARTUP_TIMEOUT_MS = 15_000
/** The start of every JSON line the fixtures write at `info`. */
const INFO_LINE_START = '{"level":30,'

/** Asserts that every record has index 0, 1, 2, … in file order, naming the first that does not. */
function assertSequence(indices: readonly number[], source: string): void {
  const gap = firstGapInSequence(indices)
  assert.equal(gap, undefined, `${source}: line ${(gap ?? 0) + 1} holds i=${String(indices[gap ?? 0])}, expected i=${String(gap)} (records missing, repeated or out of order)`)
}

/** A cut write can leave only the beginning of a line: a prefix of an `info` record, or of its first bytes. */
function assertPrefixOfInfoLine(partial: string, source: string): void {
  assert.ok(
    partial.startsWith(INFO_LINE_START) || INFO_LINE_START.startsWith(partial),
    `${source}: the bytes after the last newline are not the start of a record: ${JSON.stringify(partial.slice(0, 200))}`,
  )
}

interface KilledRun {
  /** The index of the last record whose log call had returned before the kill (-1: none). */
  readonly lastReturned: number
  readonly lines: FileLines
  readonly logPath: string
}

/**
 * Starts log-until-killed.mjs, waits until it reports `minRecords` returned log calls,
 * waits `extraDelayMs` more (the random part of the kill moment), SIGKILLs it, and
 * returns what the progress side channel and the log file hold.
 */
async function killWhileLogging(t: TestContext, durability: Durability, minRecords: number, extraDelayMs: number): Promise<KilledRun> {
  const dir = await tempDir(t)
  const logPath = join(dir, 'app.log')
  const progressPath = join(dir, 'progress')
  const handle = spawnNode(fixturePath('log-until-killed.mjs'), [logPath, progressPath, durability, String(MAX_RECORDS_BEFORE_GIVING_UP)])
  t.after(() => killIfRunning(handle))
  await waitUntil(async () => (await fileSize(progressPath)) >= minRecords * PROGRESS_WIDTH, {
    timeoutMs: STARTUP_TIMEOUT_MS,
    what: `the child to report ${minRecords} returned log calls`,
    abortIf: () => exitedReason(handle),
  })
  await delay(extraDelayMs)
  handle.child.kill('SIGKILL')
  const result = await handle.exited()
  assert.equal(result.signal, 'SIGKILL', `the child was to be SIGKILLed while logging, but it exited with code ${String(result.code)}; stderr:\n${result.stderr}`)

  const progress = await readFile(progressPath, 'utf8')
  const reported = Math.floor(progress.length / PROGRESS_WIDTH)
  const lastEntry = progress.slice((reported - 1) * PROGRESS_WIDTH, reported * PROGRESS_WIDTH)
  assert.equal(Number(lastEntry.trim()), reported - 1, `progress file: entry ${reported} is ${JSON.stringify(lastEntry)}, expected ${reported - 1}`)
  return { lastReturned: reported - 1, lines: await readLines(logPath), logPath }
}

function randomDelayMs(maxMs: number): number {
  return Math.floor(Math.random() * maxMs)
}

const SYNC_KILL_RUNS = 20
const SYNC_KILL_CONCURRENCY = 4
const SYNC_MIN_RECORDS_BEFORE_KILL = 500
const SYNC_MAX_EXTRA_DELAY_MS = 300

/** SIGKILLs one `sync` child at a random moment and checks that every returned call is on disk. */
async function checkSyncKill(t: TestContext, extraDelayMs: number): Promise<void> {
  const { lastReturned, lines, logPath } = await killWhileLogging(t, 'sync', SYNC_MIN_RECORDS_BEFORE_KILL, extraDelayMs)
  const records = parseJsonLines(lines.complete, logPath)
  const indices = numbersOf(records, 'i')
  assertSequence(indices, logPath)
  for (const [n, record] of records.entries()) {
    assert.equal(record['msg'], 'rec', `${logPath}: line ${n + 1} has msg ${JSON.stringify(record['msg'])}`)
  }
  // Every call that had returned is on disk; at most one more (written, then killed before it reported).
  assert.ok(indices.length >= lastReturned + 1, `records 0..${lastReturned} had been logged (their calls returned) but only ${indices.length} complete records are on disk`)
  assert.ok(indices.length <= lastReturned + 2, `${indices.length} records on disk, but only ${lastReturned + 1} calls had returned: at most one more may be in flight`)
  if (lines.partial !== '') {
    // A write(2) cut by SIGKILL may leave part of the record in flight, and only that one.
    assert.equal(indices.length, lastReturned + 1, `a cut last line may only be record ${lastReturned + 1} (in flight), but ${indices.length} complete records precede it`)
    assertPrefixOfInfoLine(lines.partial, logPath)
  }
  t.diagnostic(`killed ${extraDelayMs} ms after ${SYNC_MIN_RECORDS_BEFORE_KILL} records; ${lastReturned + 1} returned, ${indices.length} on disk, cut line: ${lines.partial !== ''}`)
}

describe('sync mode: SIGKILL at a random moment loses no returned record', { concurrency: SYNC_KILL_CONCURRENCY }, () => {
  for (let run = 1; run <= SYNC_KILL_RUNS; run++) {
    const extraDelayMs = randomDelayMs(SYNC_MAX_EXTRA_DELAY_MS)
    it(`sync run ${run}: SIGKILL ${extraDelayMs} ms after ${SYNC_MIN_RECORDS_BEFORE_KILL} records`, (t) => checkSyncKill(t, extraDelayMs))
  }
})

const RECORDS_BEFORE_ENDING = 10_000
const ENDINGS = {
  exit: { label: 'process.exit(1)', stderr: undefined },
  throw: { label: 'an uncaught throw', stderr: /fixture: uncaught throw/ },
  reject: { label: 'an unhandled rejection', stderr: /fixture: unhandled rejection/ },
} as const

for (const durability of ['sync', 'batched'] as const) {
  for (const ending of ['exit', 'throw', 'reject'] as const) {
    test(`${durability} mode: ${ENDINGS[ending].label} right after ${RECORDS_BEFORE_ENDING} records keeps them all`, async (t) => {
      const dir = await tempDir(t)
      const logPath = join(dir, 'app.log')
      const result = await runNode(fixturePath('log-then-end.mjs'), [logPath, durability, ending, String(RECORDS_BEFORE_ENDING)])
      assert.equal(result.signal, null, `the child was killed by ${String(result.signal)}; stderr:\n${result.stderr}`)
      assert.equal(result.code, 1, `exit code; stderr:\n${result.stderr}`)
      const expectedStderr = ENDINGS[ending].stderr
      if (expectedStderr) assert.match(result.stderr, expectedStderr)
      const lines = await readLines(logPath)
      assert.equal(lines.partial, '', `${logPath} ends without a newline: ${JSON.stringify(lines.partial.slice(0, 200))}`)
      const indices = numbersOf(parseJsonLines(lines.complete, logPath), 'i')
      assertSequence(indices, logPath)
      assert.equal(indices.length, RECORDS_BEFORE_ENDING, `records on disk`)
    })
  }
}

for (const count of [500, 5000]) {
  test(`batched mode: fatal() then SIGKILL of itself keeps the ${count} records before it and the fatal one`, async (t) => {
    const dir = await tempDir(t)
    const logPath = join(dir, 'app.log')
    const result = await runNode(fixturePath('fatal-then-sigkill.mjs'), [logPath, String(count)])
    assert.equal(result.signal, 'SIGKILL', `the child was to SIGKILL itself, but it exited with code ${String(result.code)}; stderr:\n${result.stderr}`)
    const lines = await readLines(logPath)
    assert.equal(lines.partial, '', `${logPath} ends without a newline: ${JSON.stringify(lines.partial.slice(0, 200))}`)
    const records = parseJsonLines(lines.complete, logPath)
    assert.equal(records.length, count + 1, `records on disk (${count} info + 1 fatal)`)
    assertSequence(numbersOf(records, 'i'), logPath)
    const fatal: JsonRecord | undefined = records.at(-1)
    assert.equal(fatal?.['level'], 60, 'the last record is the fatal one')
    assert.equal(fatal?.['msg'], 'going down')
    for (const record of records.slice(0, -1)) assert.equal(record['level'], 30)
  })
}

const TORN_FRAGMENT = '{"level":30,"i":1'

for (const durability of ['sync', 'batched'] as const) {
  test(`${durability} mode: a torn last line is ended with a newline before the first new record`, async (t) => {
    const dir = await tempDir(t)
    const logPath = join(dir, 'app.log')
    await writeFile(logPath, TORN_FRAGMENT)
    const log = createLogger({ name: 'crash', level: 'info', sinks: [fileSink({ path: logPath, format: 'json', durability })] })
    log.info({ i: 2 }, 'after repair')
    await log.close()
    const text = await readFile(logPath, 'utf8')
    assert.ok(text.startsWith(`${TORN_FRAGMENT}\n{`), `the fragment must be followed by '\\n' and the new record, got ${JSON.stringify(text.slice(0, 80))}`)
    const lines = splitLines(text)
    assert.equal(lines.partial, '', 'the file ends with a newline')
    assert.equal(lines.complete.length, 2, `two lines: the fragment and the new record, got ${JSON.stringify(lines.complete)}`)
    assert.equal(lines.complete[0], TORN_FRAGMENT)
    const [record] = parseJsonLines(lines.complete.slice(1), logPath)
    assert.equal(record?.['i'], 2)
    assert.equal(record?.['msg'], 'after repair')
  })

  test(`${durability} mode: an intact file gets no extra newline on reopening`, async (t) => {
    const dir = await tempDir(t)
    const logPath = join(dir, 'app.log')
    const intact = '{"level":30,"i":1,"msg":"before"}\n'
    await writeFile(logPath, intact)
    const log = createLogger({ name: 'crash', level: 'info', sinks: [fileSink({ path: logPath, format: 'json', durability })] })
    log.info({ i: 2 }, 'after')
    await log.close()
    const lines = splitLines(await readFile(logPath, 'utf8'))
    assert.equal(lines.partial, '')
    assert.deepEqual(numbersOf(parseJsonLines(lines.complete, logPath), 'i'), [1, 2], 'the old record, then the new one, no blank line')
  })
}

const APPENDERS = 4
const RECORDS_PER_APPENDER = 5000
/** A text line from append-concurrently.mjs: `2026-11-21 05:52:25.123 [1234] [INFO] rec child=c1 i=7 pad=xxxxxxxx`. */
const TEXT_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[\d+\] \[INFO\] rec child=(c\d+) i=(\d+) pad=(x+)$/

interface AppendedRecord {
  readonly child: string
  readonly i: number
  readonly pad: string
}

function parseAppended(line: string, format: 'json' | 'text', where: string): AppendedRecord {
  if (format === 'text') {
    const match = TEXT_LINE.exec(line)
    assert.ok(match, `${where} is not a whole text record: ${JSON.stringify(line.slice(0, 300))}`)
    return { child: match[1] ?? '', i: Number(match[2]), pad: match[3] ?? '' }
  }
  const [record] = parseJsonLines([line], where)
  const { child, i, pad } = record ?? {}
  assert.ok(typeof child === 'string' && typeof i === 'number' && typeof pad === 'string', `${where} lacks child, i or pad: ${line.slice(0, 300)}`)
  return { child, i, pad }
}

for (const format of ['json', 'text'] as const) {
  test(`sync mode, ${format}: ${APPENDERS} processes appending ${RECORDS_PER_APPENDER} records each to one file never mix lines`, async (t) => {
    const dir = await tempDir(t)
    const logPath = join(dir, 'app.log')
    const handles: NodeChild[] = []
    for (let n = 1; n <= APPENDERS; n++) {
      const handle = spawnNode(fixturePath('append-concurrently.mjs'), [logPath, `c${n}`, String(RECORDS_PER_APPENDER), format], { stdin: true })
      t.after(() => killIfRunning(handle))
      handles.push(handle)
    }
    // A start barrier on real events: every writer has its file open before any writes.
    for (const handle of handles) {
      await waitUntil(() => handle.stdout().includes('ready\n'), {
        timeoutMs: STARTUP_TIMEOUT_MS,
        what: `${handle.label} to print "ready"`,
        abortIf: () => exitedReason(handle),
      })
    }
    for (const handle of handles) handle.child.stdin?.end('go\n')
    for (const result of await Promise.all(handles.map((handle) => handle.exited()))) {
      assert.equal(result.code, 0, `an appender failed; stderr:\n${result.stderr}`)
    }

    const lines = await readLines(logPath)
    assert.equal(lines.partial, '', `${logPath} ends without a newline`)
    assert.equal(lines.complete.length, APPENDERS * RECORDS_PER_APPENDER, 'lines on disk')
    const nextIndex = new Map<string, number>()
    let switches = 0
    let previousChild: string | undefined
    for (const [n, line] of lines.complete.entries()) {
      const where = `${logPath} line ${n + 1}`
      const record = parseAppended(line, format, where)
      const expected = nextIndex.get(record.child) ?? 0
      assert.equal(record.i, expected, `${where}: ${record.child} wrote i=${record.i} where its next record is i=${expected}`)
      assert.equal(record.pad, 'x'.repeat(1 + (record.i % 300)), `${where}: the padding is cut or extended`)
      nextIndex.set(record.child, expected + 1)
      if (previousChild !== undefined && previousChild !== record.child) switches++
      previousChild = record.child
    }
    assert.deepEqual(
      [...nextIndex.entries()].sort(),
      Array.from({ length: APPENDERS }, (_, n) => [`c${n + 1}`, RECORDS_PER_APPENDER]),
      'every appender has all its records',
    )
    // Without overlap the test would prove nothing about concurrent appends.
    assert.ok(switches >= APPENDERS, `the appenders' lines interleave only ${switches} times: they did not run at the same time`)
    t.diagnostic(`${switches} switches between writers`)
  })
}

const BATCHED_KILL_RUNS = 6
const BATCHED_KILL_CONCURRENCY = 3
/** Several batches' worth (≈ 95 bytes a record), so some batches are on disk before the kill. */
const BATCHED_MIN_RECORDS_BEFORE_KILL = 2000
const BATCHED_MAX_EXTRA_DELAY_MS = 300

async function checkBatchedKill(t: TestContext, extraDelayMs: number): Promise<void> {
  const { lastReturned, lines, logPath } = await killWhileLogging(t, 'batched', BATCHED_MIN_RECORDS_BEFORE_KILL, extraDelayMs)
  const indices = numbersOf(parseJsonLines(lines.complete, logPath), 'i')
  assertSequence(indices, logPath)
  // A batch write(2) cut by SIGKILL may end mid-line; that line counts as lost.
  if (lines.partial !== '') assertPrefixOfInfoLine(lines.partial, logPath)
  const lastLine = lines.complete.at(-1)
  assert.ok(lastLine !== undefined, `nothing complete on disk although ${lastReturned + 1} calls had returned (more than a batch holds)`)
  // The call after the last reported one may have flushed a batch holding itself before the kill.
  assert.ok(indices.length <= lastReturned + 2, `${indices.length} records on disk, but only ${lastReturned + 1} calls had returned`)
  const lost = Math.max(0, lastReturned + 1 - indices.length)
  // Lost records have at least as many digits as the last one on disk, so this underestimates no line.
  const lineBytes = Buffer.byteLength(lastLine) + 1
  assert.ok(
    lost * lineBytes <= BATCH_SIZE_BYTES + lineBytes,
    `${lost} records (≈ ${lost * lineBytes} bytes) lost, more than one batch (${BATCH_SIZE_BYTES} bytes) and one line (${lineBytes} bytes)`,
  )
  t.diagnostic(`killed ${extraDelayMs} ms after ${BATCHED_MIN_RECORDS_BEFORE_KILL} records; ${lastReturned + 1} returned, ${indices.length} on disk, ${lost} lost, cut line: ${lines.partial !== ''}`)
}

describe('batched mode: SIGKILL loses at most one batch', { concurrency: BATCHED_KILL_CONCURRENCY }, () => {
  for (let run = 1; run <= BATCHED_KILL_RUNS; run++) {
    const extraDelayMs = randomDelayMs(BATCHED_MAX_EXTRA_DELAY_MS)
    it(`batched run ${run}: SIGKILL ${extraDelayMs} ms after ${BATCHED_MIN_RECORDS_BEFORE_KILL} records`, (t) => checkBatchedKill(t, extraDelayMs))
  }
})
