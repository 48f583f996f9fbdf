// Collector clients with durability 'ring' (issue 10): the client copies each record into a
// memory-mapped ring file and the collector drains it. Real processes for the clients that
// die (fixtures under test/fixtures load the BUILT library: run `npm run build` first), a
// collector in this process or in a fixture process, assertions on worker.log afterwards.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { CollectorClient, createLogger, startCollector, type Collector } from '../../src/index.ts'
import { NO_ADDON_ENV, RING_FALLBACK_WARNING_CODE, loadRingAddon } from '../../src/ring/addon.ts'
import { readRingCopy } from '../../src/ring/map-ring.ts'
import { PENDING_SET, SLOT, readMetaRecords, type RingView } from '../../src/ring/ring-file.ts'
import { exitedReason, fixturePath, killIfRunning, runNode, spawnNode, waitUntil } from '../helpers/process.ts'
import { collectorPlace, type CollectorPlace } from '../helpers/collector-place.ts'

const addon = loadRingAddon()
const NO_ADDON = addon.addon === undefined ? `native addon not available: ${addon.reason}` : false
const STARTUP_TIMEOUT_MS = 15_000
const DELIVERY_TIMEOUT_MS = 10_000
const TORTURE_RUNS = 6
/** Ring sizes the torture cycles through: the small one fills, so records also take the socket. */
const TORTURE_RING_BYTES = [16 * 1024, 4 * 1024 * 1024] as const

interface Place extends CollectorPlace {
  /** The collector's log folder (`logs`). */
  readonly dir: string
}

async function placeFor(t: TestContext): Promise<Place> {
  const place = await collectorPlace(t, 'blackbox-collector-ring-')
  return { ...place, dir: place.logs }
}

async function collectorAt(t: TestContext, place: Place): Promise<Collector> {
  // No rotation: every record stays in worker.log for the assertions.
  const collector = await startCollector({ socket: place.socket, dir: place.dir, heartbeatTimeout: 60_000, files: { maxSize: false } })
  t.after(() => collector.close())
  return collector
}

interface Found {
  readonly i: number
  readonly resent: boolean
}

/** The records of one tag in worker.log, in file order. */
function recordsOf(place: Place, tag: string): Found[] {
  const path = join(place.dir, 'worker.log')
  if (!existsSync(path)) return []
  const found: Found[] = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.includes(`"tag":"${tag}"`)) continue
    const record = JSON.parse(line) as { i: number; blackbox_resent?: boolean }
    found.push({ i: record.i, resent: record.blackbox_resent === true })
  }
  return found
}

/** Each of 0 … count-1 exactly once and in order, and nothing marked as sent twice. */
function assertExactly(found: readonly Found[], count: number, what: string): void {
  for (let k = 0; k < found.length; k++) {
    if (found[k]?.i !== k) assert.fail(`${what}: record ${k} in worker.log holds i=${String(found[k]?.i)} (lost, repeated or out of order)`)
  }
  assert.equal(found.length, count, `${what}: ${found.length} records in worker.log, expected ${count}`)
  assert.ok(found.every((record) => !record.resent), `${what}: no record is marked resent`)
}

function sideReport(path: string): { mode: string; returned: number } {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []
  let returned = 0
  for (const line of lines.slice(1)) if (/^\d+$/.test(line)) returned = Number(line)
  return { mode: lines[0] ?? '', returned }
}

/** Starts a ring client that logs until killed, waits for `atLeast` returned calls, and SIGKILLs it. */
async function killRingClient(place: Place, tag: string, mode: 'connect' | 'offline', atLeast: number, ringBytes?: number): Promise<{ returned: number; mode: string }> {
  const side = join(place.base, `${tag}.side`)
  const child = spawnNode(fixturePath('ring-client-until-killed.mjs'), [place.socket, side, tag, mode, ...(ringBytes ? [String(ringBytes)] : [])])
  try {
    await waitUntil(() => sideReport(side).returned >= atLeast, { timeoutMs: STARTUP_TIMEOUT_MS, what: `${tag} to report ${atLeast} records`, abortIf: () => exitedReason(child) })
    child.child.kill('SIGKILL')
    const end = await child.exited()
    assert.equal(end.signal, 'SIGKILL', `${tag} ended by ${String(end.signal)}, code ${String(end.code)}:\n${end.stderr}`)
  } finally {
    killIfRunning(child)
  }
  return sideReport(side)
}

test(`SIGKILL torture of ring clients: ${TORTURE_RUNS} runs, every record whose call returned reaches worker.log once, in order`, { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  await collectorAt(t, place)
  const seeds = [2_000, 30_000, 9_000, 60_000, 500, 15_000]
  for (let run = 0; run < TORTURE_RUNS; run++) {
    const tag = `t${run}`
    const ringBytes = TORTURE_RING_BYTES[run % TORTURE_RING_BYTES.length] as number
    const { returned, mode } = await killRingClient(place, tag, 'connect', seeds[run] as number, ringBytes)
    assert.equal(mode, 'ring', 'the client ran in ring mode')
    // The collector saw the connection drop: it drains what the ring holds, then removes it.
    await waitUntil(() => recordsOf(place, tag).length >= returned && !readdirSync(place.spool).some((name) => name.endsWith('.ring')), {
      timeoutMs: DELIVERY_TIMEOUT_MS, what: `${returned} records of ${tag} in worker.log and its ring removed`,
    })
    const found = recordsOf(place, tag)
    assertExactly(found, found.length, `run ${run} (ring ${ringBytes} B, ${returned} calls returned)`)
    assert.ok(found.length >= returned, `run ${run}: ${returned} calls had returned, worker.log holds ${found.length}`)
  }
})

test('a ring client killed while no collector listens: the next collector delivers its ring, then its spool; blackbox recover --to reads the ring too', { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  // 16 KiB fills at once: most records go to the spool, after the ring's.
  const { returned } = await killRingClient(place, 'offline', 'offline', 5_000, 16 * 1024)
  const rings = readdirSync(place.spool).filter((name) => name.endsWith('.ring'))
  assert.equal(rings.length, 1, `one ring left in ${place.spool}: ${rings.join(', ')}`)
  // A copy for blackbox recover, which needs --to: a client's ring names no file of its own.
  const copy = join(place.base, 'copy.ring')
  copyFileSync(join(place.spool, rings[0] as string), copy)
  const refused = await runNode(fixturePath('ring-recover-cli.mjs'), [copy])
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /names no file for its records; give one with --to FILE/)
  const out = join(place.base, 'recovered.log')
  const recovered = await runNode(fixturePath('ring-recover-cli.mjs'), ['--to', out, copy])
  assert.equal(recovered.code, 0, recovered.stderr)
  const fromRing = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { i: number }).i)
  assert.ok(fromRing.length > 0, 'the ring held records')
  assert.deepEqual(fromRing, [...Array(fromRing.length).keys()], 'the ring holds the first records, in order, without their metadata')

  const collector = await collectorAt(t, place)
  const found = recordsOf(place, 'offline')
  assertExactly(found, found.length, 'delivered at start')
  assert.ok(found.length >= returned, `${returned} calls had returned, worker.log holds ${found.length}`)
  assert.ok(found.length > fromRing.length, 'the spool held the records after the ring’s')
  assert.deepEqual(readdirSync(place.spool), [], 'ring, spool and description are gone')
  assert.match(readFileSync(join(collector.dir, 'collector.log'), 'utf8'), /delivered \d+ records that offline \(pid \d+\) left in its ring/)
})

test('a step a killed collector had under way is written again, marked resent; the records after it are not marked', { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  await killRingClient(place, 'pending', 'offline', 1_000)
  const ringPath = join(place.spool, readdirSync(place.spool).find((name) => name.endsWith('.ring')) as string)
  // As a collector killed between writing a step and moving the drained index leaves it.
  const copy = readRingCopy(ringPath)
  let step = 0
  try {
    const view = copy.view as RingView
    const first = readMetaRecords(view, view.load(SLOT.DRAINED), view.load(SLOT.WRITE), 10_000)
    step = first.records.length
    view.store(SLOT.PENDING_END, first.end)
    view.store(SLOT.PENDING, PENDING_SET)
  } finally {
    copy.close()
  }
  assert.ok(step > 0, 'the pending step holds records')
  await collectorAt(t, place)
  const found = recordsOf(place, 'pending')
  assert.ok(found.length >= 1_000)
  assert.deepEqual(found.map((record) => record.i), [...Array(found.length).keys()], 'every record once, in order')
  assert.ok(found.slice(0, step).every((record) => record.resent), `the ${step} records of the pending step are marked resent`)
  assert.ok(found.slice(step).every((record) => !record.resent), 'the records after it are not')
})

test('four ring client processes through one collector: every record once, in order per client, the rings removed', { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  await collectorAt(t, place)
  const RECORDS = 20_000
  const tags = ['r1', 'r2', 'r3', 'r4']
  const ends = await Promise.all(tags.map((tag) => runNode(fixturePath('collector-client.mjs'), [place.socket, tag, String(RECORDS), 'ring', '1000', '0'], { timeoutMs: 60_000 })))
  for (const [n, end] of ends.entries()) assert.equal(end.code, 0, `${tags[n]}: ${end.stderr}`)
  for (const tag of tags) assertExactly(recordsOf(place, tag), RECORDS, tag)
  await waitUntil(() => !readdirSync(place.spool).some((name) => name.endsWith('.ring')), { timeoutMs: DELIVERY_TIMEOUT_MS, what: 'the rings to be removed' })
})

// The collector runs in this process: while the loop below runs it cannot drain, so a
// small ring fills and each policy shows.
for (const whenFull of ['spill', 'block', 'drop'] as const) {
  test(`a full ring with whenFull '${whenFull}': ${whenFull === 'drop' ? 'records dropped are counted and told, the rest in order' : whenFull === 'block' ? 'waits at most blockTimeout, then goes through the socket; nothing lost, in order' : 'records go through the socket until acknowledged; nothing lost, in order'}`, { skip: NO_ADDON }, async (t) => {
    const place = await placeFor(t)
    await collectorAt(t, place)
    const RECORDS = 3_000
    const BLOCK_MS = 30
    const client = new CollectorClient({ socket: place.socket, name: 'full', format: 'json', durability: 'ring', ringSize: 4096, whenFull, blockTimeout: BLOCK_MS, heartbeatInterval: 0 })
    await client.connected()
    const log = createLogger({ sinks: [client] })
    const started = performance.now()
    for (let i = 0; i < RECORDS; i++) log.info({ tag: 'full', i }, 'rec')
    const took = performance.now() - started
    await log.close()
    const found = recordsOf(place, 'full')
    if (whenFull === 'drop') {
      const kept = found.map((record) => record.i)
      assert.ok(kept.length < RECORDS, `some records were dropped (${kept.length} kept)`)
      assert.ok(kept.every((value, k) => k === 0 || value > (kept[k - 1] as number)), 'the kept records are in order')
      const notices = readFileSync(join(place.dir, 'worker.log'), 'utf8').split('\n').filter((line) => line.includes('"event":"dropped"')).map((line) => (JSON.parse(line) as { dropped: number }).dropped)
      assert.equal(notices.reduce((sum, count) => sum + count, 0), RECORDS - kept.length, 'the notices count every dropped record')
    } else {
      assertExactly(found, RECORDS, whenFull)
      // One block ran out of time; later calls go through the socket at once until an acknowledgement.
      if (whenFull === 'block') assert.ok(took < 20 * BLOCK_MS + 5000, `blocking stayed bounded (${Math.round(took)} ms)`)
    }
    assert.equal(existsSync(client.ringPath as string), false, 'close() removed the drained ring')
  })
}

test('records larger than half the ring go through the socket at once, in order with the rest', { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  await collectorAt(t, place)
  const client = new CollectorClient({ socket: place.socket, name: 'big', format: 'json', durability: 'ring', ringSize: 4096, heartbeatInterval: 0 })
  await client.connected()
  const log = createLogger({ sinks: [client] })
  for (let i = 0; i < 40; i++) log.info({ tag: 'big', i, pad: i % 4 === 0 ? 'x'.repeat(3000) : '' }, 'rec')
  assert.equal(client.stats.ringFull, 0, 'no call waited for room that could never come')
  await log.close()
  assertExactly(recordsOf(place, 'big'), 40, 'big records')
})

test('a collector that cannot drain rings (no addon) says so; the client sends through the socket and nothing is lost', { skip: NO_ADDON }, async (t) => {
  const place = await placeFor(t)
  const collector = spawnNode(fixturePath('collector-process.mjs'), [place.socket, place.dir, '100 MB', '5'], { env: { [NO_ADDON_ENV]: '1' } })
  t.after(() => killIfRunning(collector))
  await waitUntil(() => collector.stdout().includes('ready\n'), { timeoutMs: STARTUP_TIMEOUT_MS, what: 'the collector to listen', abortIf: () => exitedReason(collector) })
  const client = new CollectorClient({ socket: place.socket, name: 'refused', format: 'json', durability: 'ring', heartbeatInterval: 0 })
  await client.connected()
  const log = createLogger({ sinks: [client] })
  for (let i = 0; i < 2_000; i++) log.info({ tag: 'refused', i }, 'rec')
  await log.close()
  assertExactly(recordsOf(place, 'refused'), 2_000, 'refused ring')
  assert.ok((client.failures.count ?? 0) >= 1, 'the client reported that its ring is not drained')
  assert.equal(existsSync(client.ringPath as string), false, 'the client removed the ring it drained itself')
  assert.match(readFileSync(join(place.dir, 'collector.log'), 'utf8'), /cannot drain the ring of refused/)
})

test(`a client without the addon (${NO_ADDON_ENV}=1) falls back to sync with one warning, and delivers everything`, async (t) => {
  const place = await placeFor(t)
  await collectorAt(t, place)
  const end = await runNode(fixturePath('collector-client.mjs'), [place.socket, 'fallback', '500', 'ring', '100', '0'], { env: { [NO_ADDON_ENV]: '1' } })
  assert.equal(end.code, 0, end.stderr)
  assert.equal(end.stderr.split(RING_FALLBACK_WARNING_CODE).length - 1, 1, `one warning: ${end.stderr}`)
  assertExactly(recordsOf(place, 'fallback'), 500, 'fallback')
  t.diagnostic('durability that ran: sync (the fallback, forced)')
})
