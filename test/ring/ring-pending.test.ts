import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { recoverRing } from '../../src/ring/recover.ts'
import { readBatch, RingView, SLOT, PENDING_SET } from '../../src/ring/ring-file.ts'
import { fixturePath, runNode } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

// The window between a drain's write(2) and the store of the drained index is too narrow
// for a kill to hit on purpose, so each state a kill there can leave is made by hand: a
// ring with 50 undrained records, its header saying a drain of all of them was under way,
// and the target holding none, part, or all of that batch.
for (const written of ['none', 'part', 'all'] as const) {
  test(`a drain cut by a kill with ${written} of its batch written: recovery leaves every record exactly once`, async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'app.log')
    const made = await runNode(fixturePath('ring-undrained.mjs'), [path, '50'])
    if (made.stdout.includes('sync')) {
      t.skip('the ring addon is not built here: nothing to recover')
      return
    }
    assert.equal(made.signal, 'SIGKILL')
    const ringPath = `${path}.ring`
    const file = readFileSync(ringPath)
    const view = new RingView(file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer)
    const end = view.load(SLOT.WRITE)
    const batch = readBatch(view, view.load(SLOT.DRAINED), end).data
    assert.equal(batch.toString('utf8').split('\n').filter(Boolean).length, 50)
    // The kill came after the drain noted its batch (the file was empty before it), and after
    // none, part or all of its write(2).
    const before = Buffer.from('an earlier line\n')
    const landed = written === 'none' ? Buffer.alloc(0) : written === 'part' ? batch.subarray(0, Math.floor(batch.length / 3)) : batch
    writeFileSync(path, Buffer.concat([before, landed]))
    view.store(SLOT.PENDING_END, end)
    view.store(SLOT.PENDING_BYTES, batch.length)
    view.store(SLOT.PENDING_SIZE_LOW, before.length)
    view.store(SLOT.PENDING_SIZE_HIGH, 0)
    view.store(SLOT.PENDING, PENDING_SET)
    writeFileSync(ringPath, view.bytes)
    const result = recoverRing(ringPath)
    const expected = { none: 'not-written', part: 'torn-write-removed', all: 'already-written' }[written]
    assert.equal(result.pending, expected)
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean)
    assert.equal(lines[0], 'an earlier line')
    assert.deepEqual(lines.slice(1).map((line) => (JSON.parse(line) as { i: number }).i), Array.from({ length: 50 }, (_, i) => i))
  })
}
