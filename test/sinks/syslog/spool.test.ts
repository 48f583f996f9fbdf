import assert from 'node:assert/strict'
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Spool, SPOOL_COMPACT_BYTES, type SpoolEntry } from '../../../src/sinks/syslog/spool.ts'
import { tempDir } from '../../helpers/tmp.ts'

function messages(entries: readonly SpoolEntry[]): string[] {
  return entries.map((entry) => entry.data.toString())
}

test('records read back in order; acknowledged ones are not read again after a reopen', async (t) => {
  const path = join(await tempDir(t), 'a.spool')
  const spool = Spool.open(path)
  for (const text of ['one', 'two\nlines', 'three "quoted"', 'four ✓']) assert.equal(spool.append(text), true)
  assert.equal(spool.pending, 4)
  const first = spool.read(2)
  assert.deepEqual(messages(first), ['one', 'two\nlines'])
  spool.acknowledge((first[0] as SpoolEntry).token)
  assert.equal(spool.pending, 3)
  spool.close()
  assert.ok(existsSync(path), 'a spool with records left is kept')

  // The next run: 'two' was sent but not acknowledged, so it is sent again (a duplicate at worst).
  const next = Spool.open(path)
  assert.equal(next.pending, 3)
  assert.deepEqual(messages(next.read(10)), ['two\nlines', 'three "quoted"', 'four ✓'])
  next.close()
})

test('a drained spool is removed at close; a record cut by a crash is skipped, the others kept', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'b.spool')
  const spool = Spool.open(path)
  spool.append('kept 1')
  spool.close()
  // What a SIGKILL in the middle of a write(2) leaves: a line without its end.
  appendFileSync(path, '"torn rec')
  const reopened = Spool.open(path)
  assert.equal(reopened.pending, 1)
  reopened.append('kept 2')
  const entries = reopened.read(10)
  assert.deepEqual(messages(entries), ['kept 1', 'kept 2'])
  reopened.acknowledge((entries[1] as SpoolEntry).token)
  assert.equal(reopened.pending, 0)
  reopened.close()
  assert.equal(existsSync(path), false)
})

test('a full spool refuses new records (drop-newest) until acknowledgements make room', async (t) => {
  const path = join(await tempDir(t), 'c.spool')
  const spool = Spool.open(path, 100)
  let accepted = 0
  while (spool.append(`record ${accepted}`)) accepted++
  assert.ok(accepted >= 5 && accepted < 10, `accepted ${accepted}`)
  assert.ok(spool.pendingBytes <= 100)
  const entries = spool.read(2)
  spool.acknowledge((entries[1] as SpoolEntry).token)
  assert.equal(spool.append('after room'), true)
  assert.deepEqual(messages(spool.read(100)).at(-1), 'after room')
  spool.close()
})

test('compaction: a long acknowledged prefix is cut off, tokens in flight stay valid, nothing unacknowledged is lost', async (t) => {
  const path = join(await tempDir(t), 'd.spool')
  const spool = Spool.open(path)
  const big = 'x'.repeat(1000)
  const count = Math.ceil((SPOOL_COMPACT_BYTES * 3) / 1000)
  for (let i = 0; i < count; i++) spool.append(`${i} ${big}`)
  const all = spool.read(count)
  assert.equal(all.length, count)
  // Acknowledge the first two thirds: the prefix is over the threshold and longer than the rest.
  const cut = Math.floor((count * 2) / 3)
  spool.acknowledge((all[cut - 1] as SpoolEntry).token)
  assert.ok(statSync(path).size < SPOOL_COMPACT_BYTES * 1.2, `rewritten: ${statSync(path).size} bytes`)
  spool.append(`${count} after`)
  // Tokens handed out before the rewrite still acknowledge the right records.
  spool.acknowledge((all[cut] as SpoolEntry).token)
  assert.equal(spool.pending, count - cut)
  spool.close()
  const reopened = Spool.open(path)
  const rest = messages(reopened.read(count))
  assert.equal(rest.length, count - cut)
  assert.equal(rest[0]?.split(' ')[0], String(cut + 1))
  assert.equal(rest.at(-1), `${count} after`)
  reopened.close()
})

test('a drained spool over the threshold is truncated to its header', async (t) => {
  const path = join(await tempDir(t), 'e.spool')
  const spool = Spool.open(path)
  const big = 'y'.repeat(10_000)
  for (let i = 0; i < 120; i++) spool.append(big)
  const entries = spool.read(200)
  spool.acknowledge((entries.at(-1) as SpoolEntry).token)
  assert.ok(statSync(path).size < 100, `truncated: ${statSync(path).size} bytes`)
  spool.append('fresh')
  assert.deepEqual(messages(spool.read(5)), ['fresh'])
  spool.close()
})

test('a second owner gets the next slot; a file that is not a spool is refused and left untouched', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'f.spool')
  const first = Spool.open(path)
  const second = Spool.open(path)
  assert.equal(second.path, `${path}.1`)
  second.close()
  first.close()
  const other = join(dir, 'notes.txt')
  writeFileSync(other, 'my notes\n')
  assert.throws(() => Spool.open(other), /Expected `spool` to be a blackbox RELP spool or a new file, but .*notes\.txt begins with something else/)
  assert.equal(readFileSync(other, 'utf8'), 'my notes\n')
})

test('a header cut while the spool was being created is started afresh; a bad offset means resend everything', async (t) => {
  const dir = await tempDir(t)
  const cutPath = join(dir, 'g.spool')
  writeFileSync(cutPath, 'blackbox-relp-sp')
  const cut = Spool.open(cutPath)
  assert.equal(cut.pending, 0)
  cut.append('ok')
  cut.close()
  assert.deepEqual(readFileSync(cutPath, 'utf8').split('\n').slice(1), ['"ok"', ''])

  const text = readFileSync(cutPath, 'utf8')
  const headerBytes = text.indexOf('\n') + 1
  // Offsets that do not fall right after a record (inside one, before the header's end, past
  // the end): everything is resent rather than anything skipped.
  for (const offset of [headerBytes + 2, 5, text.length + 10]) {
    writeFileSync(cutPath, text.replace(/acked=\d+/, `acked=${String(offset).padStart(20, '0')}`))
    const reopened = Spool.open(cutPath)
    assert.deepEqual(messages(reopened.read(5)), ['ok'], `offset ${offset}`)
    reopened.close()
  }
})
