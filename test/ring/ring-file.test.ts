// The ring format as a decoder (docs/ring.md), in memory: what a producer publishes comes
// back whole and in order across wraps and drains, with or without metadata; and a ring
// whose bytes or indices are damaged gives RingCorruptError, never another error, a hang or
// a read past the data area; recoverRing on damaged or foreign files refuses with a ring
// error. Properties with fast-check; no addon needed (plain ArrayBuffers and files).
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  FORMAT_JSON, PUBLISHED, RECORD_META_BYTES, RECORD_OVERSIZE, RING_FULL, RING_HEADER_BYTES, RingCorruptError, RingFormatError, RingView, RingWriter, SLOT,
  initHeader, readBatch, readMetaRecords,
} from '../../src/ring/ring-file.ts'
import { recoverRing } from '../../src/ring/recover.ts'
import { tempDir } from '../helpers/tmp.ts'

fc.configureGlobal({ includeErrorInReport: true })

function memoryRing(capacity: number, metaBytes = 0): RingView {
  const buffer = new ArrayBuffer(RING_HEADER_BYTES + capacity)
  initHeader(Buffer.from(buffer), capacity)
  const view = new RingView(buffer)
  view.claim(1, '/tmp/x.log', FORMAT_JSON, metaBytes)
  return view
}

const line = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 120 }).map((text) => `${text}\n`),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => `${text}\n`),
  fc.integer({ min: 1, max: 3000 }).map((size) => `${'x'.repeat(size)}\n`),
)
type Op = { publish: string; level: number; time: number } | { drain: number }
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ publish: line, level: fc.integer({ min: 0, max: 255 }), time: fc.integer({ min: 0, max: 2 ** 45 }) }) },
  { weight: 1, arbitrary: fc.record({ drain: fc.integer({ min: 1, max: 5000 }) }) },
)

/** Runs the ops against a ring and a model of it; checks every drain against the model. */
function run(view: RingView, ops: readonly Op[]): void {
  const writer = new RingWriter(view)
  const waiting: { text: string; level: number; time: number }[] = []
  const drain = (maxBytes: number): void => {
    const from = view.load(SLOT.DRAINED)
    const to = view.load(SLOT.WRITE)
    if (view.metaBytes === 0) {
      const batch = readBatch(view, from, to, maxBytes)
      const taken = waiting.splice(0, batch.records)
      assert.equal(batch.data.toString('utf8'), taken.map((entry) => Buffer.from(entry.text).toString('utf8')).join(''))
      if (from !== to) assert.ok(batch.records >= 1, 'a drain of a non-empty ring takes at least one record')
      view.store(SLOT.DRAINED, batch.end)
    } else {
      const step = readMetaRecords(view, from, to, maxBytes)
      const taken = waiting.splice(0, step.records.length)
      assert.deepEqual(step.records.map((record) => ({ text: record.text.toString('utf8'), level: record.level, time: record.time })), taken.map((entry) => ({ ...entry, text: Buffer.from(entry.text).toString('utf8') })))
      view.store(SLOT.DRAINED, step.end)
    }
  }
  for (const next of ops) {
    if ('drain' in next) {
      drain(next.drain)
      continue
    }
    const result = writer.publish(next.publish, next.level, next.time)
    if (result === PUBLISHED) waiting.push({ text: next.publish, level: next.level, time: next.time })
    else assert.ok(result === RING_FULL || result === RECORD_OVERSIZE)
    if (result === RECORD_OVERSIZE) assert.ok(Buffer.byteLength(next.publish) + view.metaBytes + 4 > view.capacity / 2, 'only a record over half the ring is oversize')
    assert.ok(writer.used <= view.capacity, `${writer.used} bytes in use in a ring of ${view.capacity}`)
  }
  while (view.load(SLOT.DRAINED) !== view.load(SLOT.WRITE)) drain(Number.POSITIVE_INFINITY)
  assert.deepEqual(waiting, [], 'every published record was drained, once')
}

test('property: published records come back whole, in order, once, across wraps and partial drains', () => {
  fc.assert(fc.property(fc.constantFrom(4096, 8192), fc.array(op, { maxLength: 300 }), (capacity, ops) => run(memoryRing(capacity), ops)), { numRuns: 300 })
})

test('property: the same with the metadata of a collector client (level and time per record)', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => run(memoryRing(4096, RECORD_META_BYTES), ops)), { numRuns: 300 })
})

test('property: the write index survives the wrap of the 2^32 counters', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const view = memoryRing(4096)
      // Start just below 2^32, as after 4 GiB logged into one ring.
      const start = 2 ** 32 - 1024
      view.store(SLOT.WRITE, start)
      view.store(SLOT.DRAINED, start)
      run(view, ops)
    }),
    { numRuns: 200 },
  )
})

test('property: damaged bytes or indices give RingCorruptError or records inside the data area, never another error or a hang', () => {
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 60 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
      fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
      fc.constantFrom(0, RECORD_META_BYTES),
      (lines, damage, write, meta) => {
        const capacity = 4096
        const view = memoryRing(capacity, meta)
        const writer = new RingWriter(view)
        for (const text of lines) writer.publish(text, 30, 1)
        for (const [at, byte] of damage) view.bytes[RING_HEADER_BYTES + (at % capacity)] = byte
        if (write !== null) view.store(SLOT.WRITE, write)
        const from = view.load(SLOT.DRAINED)
        const to = view.load(SLOT.WRITE)
        try {
          if (meta === 0) {
            const batch = readBatch(view, from, to)
            assert.ok(batch.data.length <= capacity)
          } else {
            for (const record of readMetaRecords(view, from, to).records) assert.ok(record.text.length <= capacity)
          }
        } catch (error) {
          assert.ok(error instanceof RingCorruptError, `expected RingCorruptError, got ${String(error)}`)
        }
      },
    ),
    { numRuns: 2000 },
  )
})

test('property: recoverRing on a damaged ring file, or on any file, recovers or refuses with a ring error, and never throws another', async (t) => {
  const dir = await tempDir(t)
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 30 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      fc.option(fc.uint8Array({ maxLength: 9000 })),
      (lines, damage, garbage) => {
        const ring = join(dir, 'r.ring')
        const out = join(dir, 'out.log')
        rmSync(out, { force: true })
        const view = memoryRing(4096)
        const writer = new RingWriter(view)
        for (const text of lines) writer.publish(text)
        // A dead owner: pid 0 is never a process.
        view.store(SLOT.OWNER_PID, 0)
        // A foreign file (random bytes), or the ring with some bytes damaged.
        const bytes = garbage !== null ? Buffer.from(garbage) : Buffer.from(view.bytes)
        for (const [at, byte] of damage) if (bytes.length > 0) bytes[at % bytes.length] = byte
        writeFileSync(ring, bytes)
        try {
          const result = recoverRing(ring, { target: out })
          assert.ok(result.records >= 0)
        } catch (error) {
          assert.ok(error instanceof RingFormatError || error instanceof RingCorruptError, `expected a ring error, got ${String(error)}`)
        }
      },
    ),
    { numRuns: 300 },
  )
})
