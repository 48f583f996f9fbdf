import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { blockMessage, StderrBlocks, type StderrPiece } from '../../src/crash/stderr-blocks.ts'
import { waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

fc.configureGlobal({ includeErrorInReport: true })

/** What the grouper makes of `lines` fed one by one, then flushed as at the stream's end. */
function group(lines: readonly string[]): StderrPiece[] {
  const pieces: StderrPiece[] = []
  const blocks = new StderrBlocks((piece) => pieces.push(piece))
  for (const line of lines) blocks.push(line)
  blocks.flush()
  return pieces
}

function linesOf(pieces: readonly StderrPiece[]): string[] {
  return pieces.flatMap((piece) => (piece.kind === 'line' ? [piece.line] : piece.lines))
}

/** Node's stderr for a script that throws, as lines (the last newline ends the last line). */
function nodeStderr(args: readonly string[]): string[] {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  assert.notEqual(result.status, 0, 'the script failed as it should')
  return result.stderr.replace(/\n$/, '').split('\n')
}

const CASES: [string, (dir: string) => string[], RegExp][] = [
  ['node -e throw', () => ['-e', "throw new Error('boom')"], /^Error: boom$/],
  ['an ES module that throws in a timer', (dir) => {
    const script = join(dir, 'throws.mjs')
    writeFileSync(script, "setTimeout(() => {\n  throw new Error('boom')\n}, 1)\n")
    return [script]
  }, /^Error: boom$/],
  ['an unhandled rejection in an ES module', (dir) => {
    const script = join(dir, 'rejects.mjs')
    writeFileSync(script, "Promise.reject(new Error('nope'))\n")
    return [script]
  }, /^Error: nope$/],
  ['a rejection with a string', () => ['-e', "Promise.reject('x')"], /^UnhandledPromiseRejection: .*"x"/],
  ['a thrown string', () => ['-e', "throw 'str'"], /^str$/],
  ['an error with a code and a cause', () => ['-e', "const e = new Error('boom', { cause: new TypeError('root') }); e.code = 'X'; throw e"], /^Error: boom$/],
  ['an error event nobody listens to', () => ['-e', "new (require('node:events'))().emit('error', new Error('evt'))"], /^Error: evt$/],
]

for (const [name, argsIn, errorLine] of CASES) {
  test(`Node's own report of ${name} is one fatal block, every line in it`, async (t) => {
    const lines = nodeStderr(argsIn(await tempDir(t)))
    const pieces = group(lines)
    assert.equal(pieces.length, 1, JSON.stringify(pieces, null, 2))
    const [block] = pieces
    assert.ok(block?.kind === 'block' && block.fatal)
    assert.deepEqual(block.lines, lines)
    const message = blockMessage(block.lines).split('\n')
    assert.match(message[0] ?? '', errorLine)
    assert.match(message.at(-1) ?? '', /^Node\.js v\d+/)
    assert.equal(message.length, lines.filter((line, i) => line !== '' || (i > 0 && i < lines.length - 1)).length, 'only blank lines at either end are left out')
  })
}

test('lines around a report pass through one by one, in order', () => {
  const report = nodeStderr(['-e', "throw new Error('boom')"])
  const lines = ['starting', 'listening on localhost:8080', ...report, 'after']
  const pieces = group(lines)
  assert.deepEqual(pieces.map((piece) => piece.kind), ['line', 'line', 'block', 'line'])
  assert.deepEqual(linesOf(pieces), lines)
})

test('a stack printed by the program (no header, no Node.js line) is one block, not fatal, ended by the next plain line', () => {
  const lines = ['Error: retrying', '    at fetch (file:///app/a.mjs:3:9)', '    at main (file:///app/a.mjs:9:3) {', "  code: 'ECONNRESET'", '}', 'retry 2 of 5']
  const pieces = group(lines)
  assert.deepEqual(pieces, [{ kind: 'block', lines: lines.slice(0, 5), fatal: false }, { kind: 'line', line: 'retry 2 of 5' }])
})

test('a headerless stack that ends with the Node.js line is fatal', () => {
  const lines = ['Error: x', '    at fake (a.js:1:1)', '', 'Node.js v20.20.2']
  assert.deepEqual(group(lines), [{ kind: 'block', lines, fatal: true }])
})

test('a header that is not followed by source and caret is a plain line', () => {
  const lines = ['listening on localhost:8080', 'ready', 'Error: not a stack', 'done']
  assert.deepEqual(group(lines), lines.map((line) => ({ kind: 'line', line })))
})

test('a held line is handed back after the idle time, without a further line', async () => {
  const pieces: StderrPiece[] = []
  const blocks = new StderrBlocks((piece) => pieces.push(piece), 10)
  blocks.push('/app/main.js:3')
  assert.deepEqual(pieces, [], 'held: it might begin a report')
  await waitUntil(() => pieces.length === 1, { what: 'the held line after the idle time', timeoutMs: 2000 })
  assert.deepEqual(pieces, [{ kind: 'line', line: '/app/main.js:3' }])
})

test('a report cut short (no Node.js line) is handed back after the idle time', async () => {
  const pieces: StderrPiece[] = []
  const blocks = new StderrBlocks((piece) => pieces.push(piece), 10)
  const lines = ['/app/main.js:3', "  throw new Error('boom')", '  ^', '', 'Error: boom', '    at main (/app/main.js:3:9)']
  for (const line of lines) blocks.push(line)
  await waitUntil(() => pieces.length === 1, { what: 'the block after the idle time', timeoutMs: 2000 })
  assert.deepEqual(pieces, [{ kind: 'block', lines, fatal: true }])
})

test('idleMs must be a positive number', () => {
  assert.throws(() => new StderrBlocks(() => {}, 0), { message: 'Expected `idleMs` to be a positive number of ms, got `0` (number)' })
})

// Lines that make and break reports, and lines of any text.
const line = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '', '/app/main.js:3', 'file:///app/main.mjs:12', '[eval]:1', "  throw new Error('boom')", '  ^', '^^^',
      'Error: boom', 'TypeError [ERR_X]: bad', '[Error: boom] {', 'Error', '    at main (/app/main.js:3:9)', '    at async run (node:internal/x:1:1)',
      "  code: 'X'", '}', "Emitted 'error' event at:", 'Node.js v20.20.2', 'listening on localhost:8080', 'plain text',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
)
// A step: a line, or the idle timer going off.
const step = fc.oneof({ weight: 8, arbitrary: line }, { weight: 1, arbitrary: fc.constant(null) })

test('property: every line comes out once, in order, as a line or in a block; no block is empty', () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const pieces: StderrPiece[] = []
      const blocks = new StderrBlocks((piece) => pieces.push(piece))
      for (const item of steps) {
        if (item === null) blocks.flush()
        else blocks.push(item)
      }
      blocks.flush()
      assert.deepEqual(linesOf(pieces), steps.filter((item) => item !== null))
      for (const piece of pieces) if (piece.kind === 'block') assert.ok(piece.lines.length > 0)
    }),
  )
})

test('property: a block message holds every line of the block but the blank ones at either end', () => {
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (lines) => {
      const message = blockMessage(lines)
      const kept = message === '' ? [] : message.split('\n')
      const nonBlank = (list: readonly string[]) => list.filter((text) => text.trim() !== '').sort()
      assert.deepEqual(nonBlank(kept), nonBlank(lines.flatMap((text) => text.split('\n'))))
    }),
  )
})
