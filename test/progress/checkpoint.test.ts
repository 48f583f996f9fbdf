import assert from 'node:assert/strict'
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { COMPACT_MIN_ENTRIES, createProgress, readCheckpoint } from '../../src/progress/index.ts'
import { tempDir } from '../helpers/tmp.ts'

const ITEMS = 200_000

interface CheckpointFile {
  run_id: string
  count: number
  journal: string
  items: string[]
}

function readJson(path: string): CheckpointFile {
  return JSON.parse(readFileSync(path, 'utf8')) as CheckpointFile
}

function journalLines(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  return text === '' ? [] : text.slice(0, -1).split('\n')
}

test(`${ITEMS.toLocaleString('en-US')} completed items: the JSON file stays valid and small to update, and a resumed run sees every item`, async (t) => {
  const dir = await tempDir(t)
  const items = Array.from({ length: ITEMS }, (_, i) => `sym${i}`)
  const progress = createProgress({ dir, runId: 'big', total: ITEMS + 5 })
  const json = join(dir, 'checkpoints', 'big_completed.json')
  const journal = join(dir, 'checkpoints', 'big_completed.journal')
  let largestJournal = 0
  for (const [index, item] of items.entries()) {
    progress.complete(item)
    if (index % 20_000 === 19_999) {
      // Readable as JSON at any moment; with the journal, it holds exactly what was completed.
      const file = readJson(json)
      const pending = journalLines(journal)
      largestJournal = Math.max(largestJournal, pending.length)
      assert.equal(file.count, file.items.length)
      assert.equal(file.items.length + pending.length, index + 1, `after ${index + 1} items`)
      // The rewrite comes when the journal is as large as the JSON file: amortized O(1) per item.
      assert.ok(pending.length <= Math.max(COMPACT_MIN_ENTRIES, file.count), `after ${index + 1} items the journal holds ${pending.length}, the JSON ${file.count}`)
      assert.deepEqual(readCheckpoint(json), items.slice(0, index + 1))
    }
  }
  assert.ok(largestJournal > 0, 'the journal was in use between rewrites')
  assert.equal(progress.failures, 0)
  await progress.finish()
  const file = readJson(json)
  assert.deepEqual(file.items, items, 'after finish() the JSON file holds every item, in order')
  assert.equal(file.run_id, 'big')
  assert.equal(file.journal, 'big_completed.journal')
  assert.equal(readFileSync(journal, 'utf8'), '')

  const resumed = createProgress({ dir, runId: 'big', total: ITEMS + 5 })
  const extra = ['new1', 'new2', 'new3', 'new4', 'new5']
  assert.equal(resumed.completed, ITEMS)
  assert.deepEqual(resumed.remaining([...items, ...extra]), extra)
  assert.equal(resumed.isComplete('sym12345'), true)
  assert.equal(resumed.isComplete('new1'), false)
  for (const item of extra) resumed.complete(item)
  await resumed.finish()
  assert.equal(readJson(json).count, ITEMS + 5)
})

test('completing an item twice records it once; any string is an item', async (t) => {
  const dir = await tempDir(t)
  const odd = ['', 'tab\there', 'new\nline', 'quote"back\\slash', '\u2028separator', '日本語', 'a'.repeat(10_000)]
  const progress = createProgress({ dir, runId: 'odd' })
  for (const item of [...odd, ...odd]) progress.complete(item)
  assert.equal(progress.completed, odd.length)
  const checkpoint = join(dir, 'checkpoints', 'odd_completed.json')
  assert.deepEqual(readCheckpoint(checkpoint), odd)
  const journal = readFileSync(join(dir, 'checkpoints', 'odd_completed.journal'), 'utf8')
  assert.equal(journal.split('\n').length, odd.length + 1, 'one journal line per item: no raw line break inside one')
  assert.doesNotMatch(journal, /\u2028/)
  await progress.finish()
  assert.deepEqual(readJson(checkpoint).items, odd)
})

test('a journal line cut by a kill is not an item', async (t) => {
  const dir = await tempDir(t)
  const first = createProgress({ dir, runId: 'torn' })
  first.complete('a')
  first.complete('b')
  const checkpoint = join(dir, 'checkpoints', 'torn_completed.json')
  // What a write(2) cut by SIGKILL leaves: the start of the line for "c".
  appendFileSync(join(dir, 'checkpoints', 'torn_completed.journal'), '"c')
  assert.deepEqual(readCheckpoint(checkpoint), ['a', 'b'])
  first.fail('stands for the kill')
  const second = createProgress({ dir, runId: 'torn' })
  assert.deepEqual(second.remaining(['a', 'b', 'c', 'd']), ['c', 'd'])
  second.complete('c')
  assert.deepEqual(readCheckpoint(checkpoint), ['a', 'b', 'c'])
  await second.finish()
  assert.deepEqual(readJson(checkpoint).items, ['a', 'b', 'c'])
})

test('a kill between the JSON rewrite and emptying the journal leaves items in both: each counts once', async (t) => {
  const dir = await tempDir(t)
  const progress = createProgress({ dir, runId: 'both' })
  for (const item of ['a', 'b', 'c']) progress.complete(item)
  await progress.finish()
  appendFileSync(join(dir, 'checkpoints', 'both_completed.journal'), '"b"\n"c"\n"d"\n')
  const resumed = createProgress({ dir, runId: 'both' })
  assert.equal(resumed.completed, 4)
  assert.deepEqual(readCheckpoint(join(dir, 'checkpoints', 'both_completed.json')), ['a', 'b', 'c', 'd'])
  await resumed.finish()
})

test('a checkpoint that is not one stops createProgress with the file named; `resume: false` starts over', async (t) => {
  const dir = await tempDir(t)
  const progress = createProgress({ dir, runId: 'bad' })
  progress.complete('a')
  await progress.finish()
  const checkpoint = join(dir, 'checkpoints', 'bad_completed.json')
  writeFileSync(checkpoint, '{"items": [')
  assert.throws(() => createProgress({ dir, runId: 'bad' }), (error: Error) => error.message.startsWith(`Checkpoint ${checkpoint} is not valid JSON`))
  writeFileSync(checkpoint, '{"items": [1]}')
  assert.throws(() => createProgress({ dir, runId: 'bad' }), /has no `items` array of strings/)
  const fresh = createProgress({ dir, runId: 'bad', resume: false })
  assert.equal(fresh.completed, 0)
  assert.deepEqual(readJson(checkpoint).items, [])
  await fresh.finish()
})

test('temporary files left by a process killed mid-rewrite are removed by the next run; nothing else is', async (t) => {
  const dir = await tempDir(t)
  const first = createProgress({ dir, runId: 'tidy' })
  await first.finish()
  const folder = join(dir, 'checkpoints')
  writeFileSync(join(folder, '.tidy_completed.json.99999999.tmp'), '{"items": [')
  writeFileSync(join(folder, 'notes.txt'), 'mine')
  writeFileSync(join(dir, 'heartbeats', '.tidy_heartbeat.json.99999999.tmp'), '{')
  const second = createProgress({ dir, runId: 'tidy' })
  await second.finish()
  assert.deepEqual(readdirSync(folder).sort(), ['notes.txt', 'tidy_completed.journal', 'tidy_completed.json'])
  assert.deepEqual(readdirSync(join(dir, 'heartbeats')), ['tidy_heartbeat.json'])
  assert.equal(existsSync(join(folder, 'notes.txt')), true)
})
