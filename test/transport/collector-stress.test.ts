// Multi-process stress tests of the collector, with real processes (STYLE.md): the collector
// runs in a fixture process of its own (so that it can be SIGKILLed, SIGSTOPped and
// restarted) and every client is a fixture process; the assertions are on the records found
// in <dir>/worker.log and its backups afterwards. The fixtures load the BUILT library
// (dist/): run `npm run build` first. The last test runs in this process, against src/.
//
// BLACKBOX_STRESS_CLIENTS and BLACKBOX_STRESS_RECORDS override the first test's 8 × 100,000.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { CollectorClient, createLogger, startCollector, type ClientInfo } from '../../src/index.ts'
import { exitedReason, fixturePath, killIfRunning, spawnNode, waitUntil, type NodeChild } from '../helpers/process.ts'
import { collectorPlace, type CollectorPlace } from '../helpers/collector-place.ts'

/** How long a fixture may take to start (connect, or listen). */
const STARTUP_TIMEOUT_MS = 15_000
/** The role every client here logs as: its records go to worker.log. */
const ROLE = 'worker'
/** The rotation of the role files, as the issue asks: 1 MB (10⁶ bytes), backups never deleted. */
const MAX_SIZE = '1 MB'
const MAX_SIZE_BYTES = 1_000_000
const MAX_FILES = 10_000

/** A positive integer from the environment, or `fallback`; the error names the variable. */
function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected \`${name}\` to be a positive integer, got \`${raw}\` (string)`)
  return value
}

type Place = CollectorPlace

function placeFor(t: TestContext): Promise<Place> {
  return collectorPlace(t, 'blackbox-collector-stress-', 'collector.sock')
}

/** Starts test/fixtures/collector-process.mjs and waits until it listens. */
async function startCollectorProcess(t: TestContext, place: Place): Promise<NodeChild> {
  const handle = spawnNode(fixturePath('collector-process.mjs'), [place.socket, place.logs, MAX_SIZE, String(MAX_FILES)])
  t.after(() => killIfRunning(handle))
  await waitUntil(() => handle.stdout().includes('ready\n'), {
    timeoutMs: STARTUP_TIMEOUT_MS,
    what: 'the collector process to print "ready"',
    abortIf: () => exitedReason(handle),
  })
  return handle
}

/** Stops the collector process with SIGTERM (a clean close) and returns what it knew about its clients. */
async function stopCollectorProcess(handle: NodeChild): Promise<ClientInfo[]> {
  handle.child.kill('SIGTERM')
  const result = await handle.exited()
  assert.equal(result.code, 0, `the collector did not close cleanly (code ${String(result.code)}, signal ${String(result.signal)}); stderr:\n${result.stderr}`)
  const line = result.stdout.split('\n').find((text) => text.startsWith('closed '))
  assert.ok(line !== undefined, `the collector printed no "closed" line; stdout:\n${result.stdout}`)
  return JSON.parse(line.slice('closed '.length)) as ClientInfo[]
}

type Durability = 'sync' | 'batched' | 'ring'

/** Starts test/fixtures/collector-client.mjs: `records` records `{ tag, i }`, in chunks, then close(). */
function startClient(t: TestContext, place: Place, tag: string, records: number, durability: Durability, chunk: number, pauseMs: number): NodeChild {
  const handle = spawnNode(fixturePath('collector-client.mjs'), [place.socket, tag, String(records), durability, String(chunk), String(pauseMs)])
  t.after(() => killIfRunning(handle))
  return handle
}

/** The last "progress <n>" a client printed: how many of its log calls had returned. */
function progressOf(handle: NodeChild): number {
  const match = /progress (\d+)\n(?:done\n)?$/.exec(handle.stdout().slice(-100))
  return match ? Number(match[1]) : 0
}

/** Waits for a client process to end well: code 0, and "done" printed (its close() resolved). */
async function clientFinished(handle: NodeChild, timeoutMs: number): Promise<void> {
  const result = await handle.exited(timeoutMs)
  assert.equal(result.code, 0, `${handle.label} failed (code ${String(result.code)}, signal ${String(result.signal)}); stderr:\n${result.stderr}`)
  assert.ok(result.stdout.endsWith('done\n'), `${handle.label} did not print "done"; stdout ends: ${JSON.stringify(result.stdout.slice(-200))}`)
}

/** The role file and its numbered backups, oldest first (the highest number is the oldest). */
function roleFiles(dir: string, role: string): string[] {
  const backup = new RegExp(`^${role}\\.log\\.(\\d+)$`)
  const backups = readdirSync(dir)
    .map((name) => ({ name, match: backup.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ name: entry.name, n: Number(entry.match?.[1]) }))
    .sort((a, b) => b.n - a.n)
    .map((entry) => entry.name)
  return [...backups, `${role}.log`]
}

/** One line of a role file, with where it was found. */
interface Line {
  readonly text: string
  readonly where: string
}

/** Every complete line of the role file and its backups, oldest first (none when there is no file); a file that does not end with '\n' fails. */
function roleLines(dir: string, role: string): { lines: Line[]; files: { name: string; bytes: number }[] } {
  const lines: Line[] = []
  const files: { name: string; bytes: number }[] = []
  for (const name of roleFiles(dir, role)) {
    let text: string
    try {
      text = readFileSync(join(dir, name), 'utf8')
    } catch (error) {
      // Nothing was ever written for the role.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && name === `${role}.log`) continue
      throw error
    }
    files.push({ name, bytes: Buffer.byteLength(text) })
    const parts = text.split('\n')
    const partial = parts.pop() ?? ''
    assert.equal(partial, '', `${name} ends without a newline: ${JSON.stringify(partial.slice(0, 200))}`)
    parts.forEach((line, index) => lines.push({ text: line, where: `${name} line ${index + 1}` }))
  }
  return { lines, files }
}

/** What the tests read from a client's record; `resent` and `seq` are the collector's annotations. */
interface ClientRecord {
  readonly tag: string
  readonly i: number
  readonly resent: boolean
  readonly seq: number | undefined
}

/** A client record, or undefined for a line that is not one whole JSON record. */
function parseRecord(text: string): ClientRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const { tag, i, blackbox_resent: resent, blackbox_seq: seq } = value as Record<string, unknown>
  if (typeof tag !== 'string' || typeof i !== 'number') return undefined
  return { tag, i, resent: resent === true, seq: typeof seq === 'number' ? seq : undefined }
}

/** The last lines of the collector's own log, to show with a failure. */
function collectorLogTail(place: Place, count = 6): string {
  try {
    return readFileSync(join(place.logs, 'collector.log'), 'utf8').trimEnd().split('\n').slice(-count).join('\n')
  } catch (error) {
    return `(collector.log unreadable: ${(error as Error).message})`
  }
}

function assertNoSpoolLeft(place: Place): void {
  let left: string[]
  try {
    left = readdirSync(place.spool)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  assert.deepEqual(left, [], `spool files left in ${place.spool} after every client closed`)
}

/** `records` undefined: ring clients, whose records in the ring carry no sequence number. */
function assertAllFinished(clients: readonly ClientInfo[], tags: readonly string[], records: number | undefined): void {
  assert.deepEqual(clients.map((client) => client.name).sort(), [...tags].sort(), 'the clients the collector knows')
  for (const client of clients) {
    assert.equal(client.ended, 'finished', `${client.name} ended ${String(client.ended)}, not with a goodbye`)
    if (records !== undefined) assert.equal(client.written, records, `${client.name}: the highest sequence number written`)
  }
}

const STRESS_CLIENTS = countFromEnv('BLACKBOX_STRESS_CLIENTS', 8)
const STRESS_RECORDS = countFromEnv('BLACKBOX_STRESS_RECORDS', 100_000)
/** Records per chunk between yields to the event loop, in the clients of the first test. */
const STRESS_CHUNK = 1000
const STRESS_TIMEOUT_MS = 180_000

test(`${STRESS_CLIENTS} client processes × ${STRESS_RECORDS} records through one collector rotating at ${MAX_SIZE}: each record once, in order per client`, async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  const tags = Array.from({ length: STRESS_CLIENTS }, (_, n) => `c${n + 1}`)
  const started = Date.now()
  const clients = tags.map((tag) => startClient(t, place, tag, STRESS_RECORDS, 'sync', STRESS_CHUNK, 0))
  await Promise.all(clients.map((client) => clientFinished(client, STRESS_TIMEOUT_MS)))
  const loggedMs = Date.now() - started
  assertAllFinished(await stopCollectorProcess(collector), tags, STRESS_RECORDS)
  assertNoSpoolLeft(place)

  const { lines, files } = roleLines(place.logs, ROLE)
  const next = new Map<string, number>()
  let switches = 0
  let previous: string | undefined
  for (const line of lines) {
    const record = parseRecord(line.text)
    assert.ok(record !== undefined, `${line.where} is not a whole client record: ${JSON.stringify(line.text.slice(0, 300))}`)
    // Nothing reconnected: nothing may be marked as sent again.
    assert.equal(record.resent, false, `${line.where} is marked resent although no connection dropped: ${line.text.slice(0, 300)}`)
    const expected = next.get(record.tag) ?? 0
    assert.equal(record.i, expected, `${line.where}: ${record.tag} has i=${record.i} where its next record is i=${expected} (missing, repeated or out of order)`)
    next.set(record.tag, expected + 1)
    if (previous !== undefined && previous !== record.tag) switches++
    previous = record.tag
  }
  assert.deepEqual([...next.entries()].sort(), tags.map((tag) => [tag, STRESS_RECORDS]).sort(), 'every client has all its records')
  // The clients ran at once: otherwise the test would prove nothing about interleaving.
  assert.ok(switches >= STRESS_CLIENTS, `the clients' records interleave only ${switches} times`)
  assert.ok(files.length >= 10, `rotation at ${MAX_SIZE}: only ${files.length} files`)
  for (const file of files) assert.ok(file.bytes <= MAX_SIZE_BYTES, `${file.name} holds ${file.bytes} bytes, over ${MAX_SIZE}`)
  t.diagnostic(`${STRESS_CLIENTS} × ${STRESS_RECORDS} records logged and acknowledged in ${loggedMs} ms (${Math.round((STRESS_CLIENTS * STRESS_RECORDS) / (loggedMs / 1000))} records/s); ${files.length} files; ${switches} switches between clients`)
})

const KILL_CLIENTS = 3
const KILL_RECORDS = 60_000
/**
 * The clients log continuously, in bursts: a burst fills the socket (the records go to the
 * spool), the pause lets the spool drain (then records go straight to the socket again),
 * so the kill finds records in every state a client keeps them.
 */
const KILL_CHUNK = 2000
const KILL_PAUSE_MS = 50
/** The collector is killed at a random moment up to KILL_MAX_EXTRA_DELAY_MS after every client has had this many calls return. */
const KILL_AFTER_RECORDS = 10_000
const KILL_MAX_EXTRA_DELAY_MS = 300
/** How long the collector stays dead: the clients keep logging meanwhile, into their spools. */
const KILL_DOWNTIME_MS = 500
/** Clients finish a few seconds after the restart; a stuck resend shows within this. */
const KILL_TIMEOUT_MS = 30_000
const KILL_RUNS: readonly { durability: Durability; extraDelayMs: number }[] = [
  { durability: 'sync', extraDelayMs: Math.floor(Math.random() * KILL_MAX_EXTRA_DELAY_MS) },
  { durability: 'sync', extraDelayMs: Math.floor(Math.random() * KILL_MAX_EXTRA_DELAY_MS) },
  { durability: 'sync', extraDelayMs: Math.floor(Math.random() * KILL_MAX_EXTRA_DELAY_MS) },
  { durability: 'batched', extraDelayMs: Math.floor(Math.random() * KILL_MAX_EXTRA_DELAY_MS) },
  // Ring clients: the collector is killed while draining rings (a step it had under way is written again, marked).
  { durability: 'ring', extraDelayMs: Math.floor(Math.random() * KILL_MAX_EXTRA_DELAY_MS) },
]

for (const [run, { durability, extraDelayMs }] of KILL_RUNS.entries()) {
  test(`collector SIGKILLed mid-stream (run ${run + 1}, ${extraDelayMs} ms after ${KILL_AFTER_RECORDS} records) and restarted: ${KILL_CLIENTS} ${durability} clients lose no returned record, and every duplicate is marked resent`, (t) =>
    killAndRestart(t, durability, extraDelayMs))
}

async function killAndRestart(t: TestContext, durability: Durability, extraDelayMs: number): Promise<void> {
  const place = await placeFor(t)
  const first = await startCollectorProcess(t, place)
  const tags = Array.from({ length: KILL_CLIENTS }, (_, n) => `k${n + 1}`)
  const clients = tags.map((tag) => startClient(t, place, tag, KILL_RECORDS, durability, KILL_CHUNK, KILL_PAUSE_MS))
  await waitUntil(() => clients.every((client) => progressOf(client) >= KILL_AFTER_RECORDS), {
    timeoutMs: KILL_TIMEOUT_MS,
    what: `every client to report ${KILL_AFTER_RECORDS} returned log calls`,
    abortIf: () => clients.map(exitedReason).find((reason) => reason !== undefined) ?? exitedReason(first),
  })
  await delay(extraDelayMs)
  first.child.kill('SIGKILL')
  const killed = await first.exited()
  assert.equal(killed.signal, 'SIGKILL', `the collector was to be SIGKILLed, but it exited with code ${String(killed.code)}; stderr:\n${killed.stderr}`)
  const atKill = clients.map(progressOf)
  await delay(KILL_DOWNTIME_MS)
  const atRestart = clients.map(progressOf)
  for (const [n, client] of clients.entries()) {
    assert.ok(exitedReason(client) === undefined, `${client.label} ended while the collector was down, before it could be restarted: raise KILL_RECORDS`)
    // Logging never waits for the collector: the calls go on returning while it is dead.
    assert.ok((atRestart[n] ?? 0) > (atKill[n] ?? 0), `${client.label} logged nothing while the collector was dead (${String(atKill[n])} calls before and after)`)
  }
  const second = await startCollectorProcess(t, place)
  try {
    await Promise.all(clients.map((client) => clientFinished(client, KILL_TIMEOUT_MS)))
  } catch (error) {
    throw new Error(`${(error as Error).message}\nthe last lines of collector.log:\n${collectorLogTail(place)}`, { cause: error })
  }
  assertAllFinished(await stopCollectorProcess(second), tags, durability === 'ring' ? undefined : KILL_RECORDS)
  assertNoSpoolLeft(place)

  const { lines } = roleLines(place.logs, ROLE)
  const copies = new Map(tags.map((tag) => [tag, new Uint32Array(KILL_RECORDS)]))
  const unmarked = new Map(tags.map((tag) => [tag, new Uint32Array(KILL_RECORDS)]))
  const firstSeen = new Map(tags.map((tag) => [tag, -1]))
  const reordered: string[] = []
  const torn: Line[] = []
  let marked = 0
  for (const line of lines) {
    const record = parseRecord(line.text)
    if (record === undefined) {
      // A batch write(2) cut by the SIGKILL leaves the head of a line, ended by the restarted collector.
      torn.push(line)
      continue
    }
    const counts = copies.get(record.tag)
    assert.ok(counts !== undefined && Number.isInteger(record.i) && record.i >= 0 && record.i < KILL_RECORDS, `${line.where} is no record of these clients: ${line.text.slice(0, 300)}`)
    counts[record.i] = (counts[record.i] ?? 0) + 1
    if (record.resent) {
      marked++
      // The client's sequence numbers count its records from 1; the annotation must name the right one.
      // (A ring client numbers only what it sends on the socket; what its ring held carries none.)
      if (durability !== 'ring') assert.equal(record.seq, record.i + 1, `${line.where}: a resent record of ${record.tag} i=${record.i} carries seq ${String(record.seq)}`)
    } else {
      const plain = unmarked.get(record.tag) as Uint32Array
      plain[record.i] = (plain[record.i] ?? 0) + 1
    }
    // The first copies of a client's records come in order: a resend may repeat, never reorder.
    const last = firstSeen.get(record.tag) ?? -1
    if ((counts[record.i] ?? 0) === 1) {
      if (record.i !== last + 1) reordered.push(`${line.where}: the first copy of ${record.tag} i=${record.i} follows that of i=${last}`)
      firstSeen.set(record.tag, record.i)
    }
  }
  assert.ok(torn.length <= 1, `${torn.length} lines are not whole records (one kill can cut one write): ${torn.map((line) => `${line.where}: ${JSON.stringify(line.text.slice(0, 120))}`).join('; ')}`)
  for (const line of torn) assert.ok(line.text.startsWith('{"'), `${line.where} is not the head of a record: ${JSON.stringify(line.text.slice(0, 200))}`)

  let duplicates = 0
  const lost: string[] = []
  const unmarkedDuplicates: string[] = []
  for (const tag of tags) {
    const counts = copies.get(tag) as Uint32Array
    const plain = unmarked.get(tag) as Uint32Array
    const missing: number[] = []
    for (let i = 0; i < KILL_RECORDS; i++) {
      const count = counts[i] ?? 0
      if (count === 0) missing.push(i)
      duplicates += Math.max(0, count - 1)
      // Of the copies of one record, at most one (the first send) may be unmarked.
      if ((plain[i] ?? 0) > 1) unmarkedDuplicates.push(`${tag} i=${i} appears ${plain[i]} times without "blackbox_resent":true`)
    }
    if (missing.length > 0) lost.push(`${tag}: ${missing.length} missing, i=${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`)
  }
  const summary =
    `killed after ${atKill.join('/')} returned calls, restarted after ${atRestart.join('/')}; ` +
    `${duplicates} duplicate lines, ${marked} lines marked resent (${marked - duplicates} of them first copies), ${torn.length} torn line(s)`
  // Every call returned before its client closed: nothing may be missing.
  assert.deepEqual(lost, [], `records lost (${summary}): ${lost.join('; ')}`)
  assert.deepEqual(unmarkedDuplicates.slice(0, 5), [], `${unmarkedDuplicates.length} duplicates not marked (${summary}); the first ones are shown`)
  assert.deepEqual(reordered.slice(0, 5), [], `${reordered.length} records out of order (${summary}); the first ones are shown`)
  t.diagnostic(summary)
}

const STALL_WARMUP_RECORDS = 10_000
const STALL_RECORDS = 200_000
const STALL_MAX_IN_FLIGHT = '1 MB'
const STALL_MAX_IN_FLIGHT_BYTES = 1_000_000
/** What the client's resident memory may grow by while the collector is stopped. */
const STALL_RSS_GROWTH_BOUND_BYTES = 64 * 1024 * 1024
const STALL_TIMEOUT_MS = 120_000

interface ClientStats {
  seq: number
  acked: number
  inFlightBytes: number
  spoolBytes: number
  spooling: boolean
  connected: boolean
  dropped: number
}

interface StallReport {
  phase: 'baseline' | 'stalled' | 'logged' | 'closed'
  rss?: number
  logged?: number
  peakRss?: number
  peakInFlightBytes?: number
  stats: ClientStats
}

/** The stall client's reports so far, one JSON line each. */
function stallReports(handle: NodeChild): StallReport[] {
  return handle.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as StallReport)
}

async function waitForPhase(handle: NodeChild, phase: StallReport['phase'], timeoutMs: number): Promise<StallReport> {
  await waitUntil(() => stallReports(handle).some((report) => report.phase === phase), {
    timeoutMs,
    what: `the stall client to report "${phase}"`,
    abortIf: () => exitedReason(handle),
  })
  return stallReports(handle).find((report) => report.phase === phase) as StallReport
}

test(`a stalled collector (SIGSTOP): ${STALL_RECORDS} records with maxInFlight ${STALL_MAX_IN_FLIGHT} keep the client's memory bounded, and nothing is lost after SIGCONT`, async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  const tag = 's1'
  const client = spawnNode(fixturePath('collector-stall-client.mjs'), [place.socket, tag, String(STALL_WARMUP_RECORDS), String(STALL_RECORDS), STALL_MAX_IN_FLIGHT], { stdin: true })
  t.after(() => killIfRunning(client))
  // Whatever happens, the collector must not stay stopped: killIfRunning's SIGKILL would not end it.
  t.after(() => void collector.child.kill('SIGCONT'))
  const baseline = await waitForPhase(client, 'baseline', STARTUP_TIMEOUT_MS)
  assert.equal(baseline.stats.acked, STALL_WARMUP_RECORDS, 'the warm-up records are acknowledged before the stall')

  collector.child.kill('SIGSTOP')
  client.child.stdin?.write('go\n')
  const logged = await waitForPhase(client, 'logged', STALL_TIMEOUT_MS)
  const stalled = stallReports(client).filter((report) => report.phase === 'stalled')
  collector.child.kill('SIGCONT')
  client.child.stdin?.end('close\n')
  const closed = await waitForPhase(client, 'closed', STALL_TIMEOUT_MS)
  await clientExit(client)

  const growth = (logged.peakRss ?? 0) - (baseline.rss ?? 0)
  t.diagnostic(
    `rss ${mb(baseline.rss ?? 0)} MB before the stall, peak ${mb(logged.peakRss ?? 0)} MB during it (+${mb(growth)} MB); ` +
      `peak in flight ${logged.peakInFlightBytes} bytes; spool ${logged.stats.spoolBytes} bytes when the burst ended; ` +
      `rss by 20,000 records: ${stalled.map((report) => mb(report.rss ?? 0)).join(', ')} MB`,
  )
  // The stall was real: nothing was acknowledged during it, and the records went to the spool.
  assert.equal(logged.stats.acked, STALL_WARMUP_RECORDS, 'no acknowledgement came while the collector was stopped')
  assert.ok(logged.stats.spoolBytes > 0, 'the records logged during the stall are in the spool')
  assert.equal(logged.stats.dropped, 0, 'whenFull spill drops nothing')
  assert.ok((logged.peakInFlightBytes ?? Number.POSITIVE_INFINITY) <= STALL_MAX_IN_FLIGHT_BYTES, `in-flight memory reached ${logged.peakInFlightBytes} bytes, over maxInFlight ${STALL_MAX_IN_FLIGHT}`)
  assert.ok(growth < STALL_RSS_GROWTH_BOUND_BYTES, `the client's rss grew by ${mb(growth)} MB during the stall, over the bound of ${mb(STALL_RSS_GROWTH_BOUND_BYTES)} MB`)
  const total = STALL_WARMUP_RECORDS + STALL_RECORDS
  assert.deepEqual({ seq: closed.stats.seq, acked: closed.stats.acked, spoolBytes: closed.stats.spoolBytes, dropped: closed.stats.dropped }, { seq: total, acked: total, spoolBytes: 0, dropped: 0 }, 'after close: everything acknowledged, the spool empty')

  assertAllFinished(await stopCollectorProcess(collector), [tag], total)
  assertNoSpoolLeft(place)
  const { lines } = roleLines(place.logs, ROLE)
  assert.equal(lines.length, total, 'lines in worker.log and its backups')
  for (const [n, line] of lines.entries()) {
    const record = parseRecord(line.text)
    assert.ok(record !== undefined && record.tag === tag, `${line.where} is not a record of ${tag}: ${JSON.stringify(line.text.slice(0, 300))}`)
    assert.equal(record.i, n, `${line.where}: i=${record.i}, expected i=${n} (missing, repeated or out of order)`)
    assert.equal(record.resent, false, `${line.where} is marked resent although the connection never dropped`)
  }
})

async function clientExit(handle: NodeChild): Promise<void> {
  const result = await handle.exited(STALL_TIMEOUT_MS)
  assert.equal(result.code, 0, `${handle.label} failed (code ${String(result.code)}, signal ${String(result.signal)}); stderr:\n${result.stderr}`)
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1)
}

const CLOSE_RECORDS = 50_000
/** What the client gives close(): far less than the stall below. */
const CLOSE_TIMEOUT_MS = 1000
/** close() may take closeTimeout, plus this for the BYE and the socket's end. */
const CLOSE_SLACK_MS = 2000
/** How long the collector stays stopped: long enough that an unbounded close() shows. */
const CLOSE_STALL_MS = 8000
/** How long the client process lives on after close() returned. */
const CLOSE_LINGER_MS = 2000
/** How long the collector may take, once running again, to deliver what the client left behind. */
const DELIVERY_TIMEOUT_MS = 5000

test(`a client that closes while the collector is stalled: close() keeps to closeTimeout, and the records left in its spool reach ${ROLE}.log`, async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  t.after(() => void collector.child.kill('SIGCONT'))
  const tag = 'q1'
  const client = spawnNode(fixturePath('collector-close-client.mjs'), [place.socket, tag, String(CLOSE_RECORDS), String(CLOSE_TIMEOUT_MS), String(CLOSE_LINGER_MS)], { stdin: true })
  t.after(() => killIfRunning(client))
  await waitUntil(() => client.stdout().includes('connected\n'), { timeoutMs: STARTUP_TIMEOUT_MS, what: 'the client to connect', abortIf: () => exitedReason(client) })

  collector.child.kill('SIGSTOP')
  const stopped = Date.now()
  client.child.stdin?.end('go\n')
  const closedLine = (): string | undefined => /closed (\d+)\n/.exec(client.stdout())?.[1]
  await waitUntil(() => closedLine() !== undefined || Date.now() - stopped >= CLOSE_STALL_MS, {
    timeoutMs: CLOSE_STALL_MS + STARTUP_TIMEOUT_MS,
    what: 'the client to close, or the stall to end',
    abortIf: () => exitedReason(client),
  })
  const closedDuringStall = closedLine() !== undefined
  collector.child.kill('SIGCONT')
  const result = await client.exited(STALL_TIMEOUT_MS)
  assert.equal(result.code, 0, `${client.label} failed (code ${String(result.code)}, signal ${String(result.signal)}); stderr:\n${result.stderr}`)
  const closeMs = Number(closedLine())

  // The client is gone; what it left in its spool is the collector's to deliver.
  const count = (): number => roleLines(place.logs, ROLE).lines.length
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS
  while (count() < CLOSE_RECORDS && Date.now() < deadline) await delay(100)
  const clients = await stopCollectorProcess(collector)
  const { lines } = roleLines(place.logs, ROLE)
  const found = new Uint8Array(CLOSE_RECORDS)
  for (const line of lines) {
    const record = parseRecord(line.text)
    if (record?.tag === tag && record.i >= 0 && record.i < CLOSE_RECORDS) found[record.i] = 1
  }
  const present = found.reduce((sum, one) => sum + one, 0)
  let spoolLeft: string[] = []
  try {
    spoolLeft = readdirSync(place.spool)
  } catch {
    // No spool directory: nothing left.
  }
  t.diagnostic(`close() took ${closeMs} ms (closeTimeout ${CLOSE_TIMEOUT_MS} ms, collector stopped for ${CLOSE_STALL_MS} ms); ${present} of ${CLOSE_RECORDS} records in ${ROLE}.log; the collector says ${JSON.stringify(clients.map(({ ended, written }) => ({ ended, written })))}; spool left: ${spoolLeft.join(', ') || 'none'}`)

  const problems: string[] = []
  if (!closedDuringStall || closeMs > CLOSE_TIMEOUT_MS + CLOSE_SLACK_MS) {
    problems.push(`close() took ${closeMs} ms with closeTimeout ${CLOSE_TIMEOUT_MS} ms${closedDuringStall ? '' : ': it returned only after the collector was continued'}`)
  }
  if (present < CLOSE_RECORDS) problems.push(`${CLOSE_RECORDS - present} of ${CLOSE_RECORDS} records are not in ${ROLE}.log ${DELIVERY_TIMEOUT_MS} ms after the client exited (spool left: ${spoolLeft.join(', ') || 'none'})`)
  if (clients[0]?.ended !== 'finished') problems.push(`the collector says the client ended ${String(clients[0]?.ended)}, although it closed with a goodbye`)
  assert.deepEqual(problems, [], problems.join('; '))
})

/** A record of ~250 bytes, so a few hundred fill a socket's buffer. */
const FILLER = 'x'.repeat(200)
const ORDER_WAIT_MS = 10_000
/** The restarted collector takes the few hundred records at once: close() needs far less. */
const ORDER_CLOSE_TIMEOUT_MS = 3000

// The in-process version of a race the SIGKILL runs above can only hit by luck: frames that
// went to the spool (the socket was full), were then sent from it, and were not yet
// acknowledged, when newer frames were sent straight into the socket; then the collector dies.
test('a collector that dies holding unacknowledged frames sent from the spool and, after them, straight: the restarted one gets every record', async (t) => {
  const place = await placeFor(t)
  await mkdir(join(place.socket, '..'), { recursive: true, mode: 0o700 })
  // A stand-in for a collector that reads nothing at first and never acknowledges.
  let peer: Socket | undefined
  const standIn = createServer((socket) => {
    peer = socket
    socket.pause()
  })
  standIn.listen(place.socket)
  await once(standIn, 'listening')
  const client = new CollectorClient({ socket: place.socket, name: 'order', format: 'json', heartbeatInterval: 0, closeTimeout: ORDER_CLOSE_TIMEOUT_MS })
  const log = createLogger({ name: 'order', sinks: [client] })
  t.after(() => log.close())
  await client.connected()
  await waitUntil(() => peer !== undefined, { timeoutMs: STARTUP_TIMEOUT_MS, what: 'the stand-in to accept the client' })

  let i = 0
  const logOne = (): void => log.info({ tag: 'order', i: i++ }, FILLER)
  // 1. The socket's buffer fills: the records from here on go to the spool.
  while (!client.stats.spooling) {
    logOne()
    assert.ok(i < 100_000, 'the socket never filled')
  }
  const firstSpooled = i - 1
  for (let n = 0; n < 100; n++) logOne()
  // 2. The stand-in reads again (and still acknowledges nothing): the spool is sent, and
  //    records go straight into the socket again.
  peer?.on('data', () => {})
  peer?.resume()
  await waitUntil(() => !client.stats.spooling, { timeoutMs: ORDER_WAIT_MS, what: 'the client to send its spool and leave spooling' })
  const inFlightBefore = client.stats.inFlightBytes
  const firstStraight = i
  for (let n = 0; n < 100 && client.stats.inFlightBytes === inFlightBefore; n++) logOne()
  assert.ok(client.stats.inFlightBytes > inFlightBefore, 'a record went straight into the socket after the spool was sent')
  // 3. The collector dies without having acknowledged anything; a real one takes over.
  peer?.destroy()
  await new Promise<void>((resolve) => standIn.close(() => resolve()))
  await waitUntil(() => !client.stats.connected, { timeoutMs: ORDER_WAIT_MS, what: 'the client to see the connection drop' })
  const collector = await startCollector({ socket: place.socket, dir: place.logs, heartbeatTimeout: ORDER_WAIT_MS })
  t.after(() => collector.close())
  await log.close()
  await collector.close()

  const found = new Uint8Array(i)
  for (const line of roleLines(place.logs, ROLE).lines) {
    const record = parseRecord(line.text)
    if (record !== undefined && record.i < i) found[record.i] = 1
  }
  const missing: number[] = []
  found.forEach((one, n) => void (one === 0 && missing.push(n)))
  assert.deepEqual(
    missing.length === 0 ? [] : [`${missing.length} of ${i} records missing, i=${missing[0]}…${missing.at(-1)}`],
    [],
    `records ${firstSpooled}… went through the spool, ${firstStraight}… straight into the socket; none was acknowledged when the collector died`,
  )
})
