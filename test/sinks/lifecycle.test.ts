// The lifecycle every network sink keeps, whatever its peer does: close() settles within
// flushTimeout + closeTimeout, flushing once; a script that never calls close() ends by itself
// within exitTimeout; queues are bounded; what was not delivered is counted and said once on
// stderr; flush() on a stuck peer rejects with FlushTimeoutError.
// Tested with real processes (STYLE.md): test/fixtures/network-sink-lifecycle.mjs logs through
// the BUILT library (dist/) against the peers of test/helpers/unhappy-peers.ts, which run here,
// in another event loop than the sink's. Run `npm run build` first.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, test, type TestContext } from 'node:test'
import { fixturePath, killIfRunning, spawnNode, type ExitResult, type NodeChild } from '../helpers/process.ts'
import { makeTestCertificates, opensslUnavailable, type TestCertificates } from '../helpers/test-certificates.ts'
import { tempDir } from '../helpers/tmp.ts'
import {
  acceptsNeverReads, answers429, answers500, answersGarbage, readsNeverAnswers, refusedPort, refusedUdpPort, resetsConnections, udpReceiver, recordingHttps, untrustedTls,
  type ListenOn, type Peer, type Recording,
} from '../helpers/unhappy-peers.ts'

/** Small bounds, so that a stuck peer costs each cell well under a second of waiting. */
const BOUNDS = { flushTimeout: 400, closeTimeout: 300, exitTimeout: 400 } as const
/**
 * A healthy TLS peer: a TLS handshake (at exit, for https, in a worker thread that must start
 * first) has to fit in flushTimeout or exitTimeout, which a loaded machine can stretch past
 * 400 ms. A healthy peer ends the wait early, so the larger bounds cost nothing when idle.
 */
const HEALTHY_TLS_BOUNDS = { ...BOUNDS, flushTimeout: 5_000, exitTimeout: 5_000 } as const

function boundsFor(sink: SinkKind, behaviour: Behaviour): typeof BOUNDS | typeof HEALTHY_TLS_BOUNDS {
  const healthyTls = behaviour === 'trusted certificate' || (sink === 'syslog tls' && behaviour === 'reads, never answers')
  return healthyTls ? HEALTHY_TLS_BOUNDS : BOUNDS
}

/** Scheduling on a loaded 2-core machine, on top of a bound. */
const MARGIN_MS = 1_500
/** Retries and reconnects that fit several times in the bounds. */
const RECONNECT = { minReconnectDelay: 20, maxReconnectDelay: 100, connectTimeout: 300 } as const
const HTTP_DELIVERY = { batchInterval: 50, retryBaseDelay: 50, retryMaxDelay: 200, timeout: 300 } as const
/** Starting node, loading dist/ and logging: generous, as it is not what is tested. */
const LOGGED_TIMEOUT_MS = 20_000
/** How long a healthy peer may take to have every record, after the process has ended. */
const DELIVERY_TIMEOUT_MS = 5_000
const RSS_RECORDS = 200_000
/** Long records, so that a queue without a bound would hold far more than the allowed growth. */
const RSS_RECORD_CHARS = 1_000
const RSS_GROWTH_LIMIT_BYTES = 150 * 1024 * 1024
const RSS_TIMEOUT_MS = 90_000
const CONCURRENCY = 4
const RECORD_MARKER = 'lifecycle record '
/** Node's exit code for an unsettled top-level await (https://nodejs.org/api/process.html#exit-codes). */
const UNSETTLED_AWAIT_EXIT_CODE = 13
const LOSS_LINE = /blackbox: sink "([^"]+)": (\d+) records? not delivered/

/** How many records a cell logs, and how long each is. */
interface Volume {
  readonly count: number
  readonly size: number
}

const SMALL: Volume = { count: 20, size: 100 }
/** 8 MB: more than loopback TCP buffers on both sides hold (tcp_wmem allows 4 MiB), so a peer that never reads really stalls the sink. */
const LARGE: Volume = { count: 4_000, size: 2_000 }

type SinkKind = 'syslog tcp' | 'syslog tls' | 'syslog udp' | 'relp' | 'webhook' | 'discord' | 'slack' | 'telegram' | 'otlp protobuf' | 'otlp json' | 'collector client'

type Behaviour = 'refused' | 'accepts, never reads' | 'reads, never answers' | 'answers 500' | 'answers 429 Retry-After 100000' | 'resets' | 'answers garbage' | 'untrusted certificate' | 'trusted certificate'

/**
 * What a peer lets through. `none` lost: a healthy peer, no loss line, every record arrives.
 * `all`: the loss line counts every record logged. `some`: a TCP peer that took part into its
 * socket buffers, which the sink cannot tell from delivered: the line counts 1 to all. `either`:
 * the sink cannot know (UDP, or a garbage answer plain syslog never reads): at most one line.
 */
type Loss = 'none' | 'all' | 'some' | 'either'

/** What flush() must do within flushTimeout: resolve, reject with FlushTimeoutError, or either. */
type FlushOutcome = 'resolves' | 'rejects' | 'settles'

/** One peer behaviour for a sink; `volume` defaults to SMALL, `flush` follows from `loss`. */
interface CellSpec {
  readonly behaviour: Behaviour
  readonly loss: Loss
  readonly volume?: Volume
  readonly flush?: FlushOutcome
}

interface Cell {
  readonly sink: SinkKind
  readonly behaviour: Behaviour
  readonly loss: Loss
  readonly volume: Volume
  readonly flush: FlushOutcome
}

type Mode = 'close' | 'no-close' | 'flush' | 'rss'

const FLUSH_BY_LOSS: Readonly<Record<Loss, FlushOutcome>> = { none: 'resolves', all: 'rejects', some: 'rejects', either: 'settles' }

/**
 * The HTTP sinks' cells. Every one loses everything; with `finalOn500`, a 500 is a final
 * answer (OTLP/HTTP retries only 429, 502, 503 and 504), so the batch is dropped and counted
 * at once, and flush() may resolve: nothing is left to wait for.
 */
function httpCells(finalOn500: boolean): readonly CellSpec[] {
  return [
    // Healthy, over https: nothing is written before the certificate is verified, and then everything goes (the CA is trusted through NODE_EXTRA_CA_CERTS).
    { behaviour: 'trusted certificate', loss: 'none' },
    { behaviour: 'refused', loss: 'all' },
    { behaviour: 'accepts, never reads', loss: 'all' },
    { behaviour: 'reads, never answers', loss: 'all' },
    { behaviour: 'answers 500', loss: 'all', ...(finalOn500 ? { flush: 'settles' } : {}) },
    { behaviour: 'answers 429 Retry-After 100000', loss: 'all' },
    { behaviour: 'resets', loss: 'all' },
    { behaviour: 'answers garbage', loss: 'all' },
    { behaviour: 'untrusted certificate', loss: 'all' },
  ]
}

/** Each sink with the peer behaviours that apply to it. */
const MATRIX: Readonly<Record<SinkKind, readonly CellSpec[]>> = {
  'syslog tcp': [
    { behaviour: 'refused', loss: 'all' },
    { behaviour: 'accepts, never reads', loss: 'some', volume: LARGE },
    { behaviour: 'reads, never answers', loss: 'none' },
    // Plain TCP syslog has no acknowledgement: writes into a connection whose RST has not
    // arrived yet succeed, so flush() may see an empty queue although the peer took nothing.
    { behaviour: 'resets', loss: 'some', volume: LARGE, flush: 'settles' },
    // The sink never reads what the peer sends: to it, this peer may look healthy.
    { behaviour: 'answers garbage', loss: 'either' },
  ],
  // Nothing passes a TLS handshake that never completes or fails.
  'syslog tls': [
    { behaviour: 'refused', loss: 'all' },
    { behaviour: 'accepts, never reads', loss: 'all' },
    { behaviour: 'reads, never answers', loss: 'none' },
    { behaviour: 'resets', loss: 'all' },
    { behaviour: 'answers garbage', loss: 'all' },
    { behaviour: 'untrusted certificate', loss: 'all' },
  ],
  // Refused is an ICMP port unreachable, which a datagram sender learns only on a later send, if at all.
  'syslog udp': [
    { behaviour: 'refused', loss: 'either' },
    { behaviour: 'reads, never answers', loss: 'none' },
  ],
  relp: [
    { behaviour: 'refused', loss: 'all' },
    { behaviour: 'accepts, never reads', loss: 'all' },
    { behaviour: 'reads, never answers', loss: 'all' },
    { behaviour: 'resets', loss: 'all' },
    { behaviour: 'answers garbage', loss: 'all' },
  ],
  webhook: httpCells(false),
  discord: httpCells(false),
  slack: httpCells(false),
  telegram: httpCells(false),
  'otlp protobuf': httpCells(true),
  'otlp json': httpCells(true),
  'collector client': [
    { behaviour: 'refused', loss: 'all' },
    { behaviour: 'accepts, never reads', loss: 'all' },
    { behaviour: 'reads, never answers', loss: 'all' },
    { behaviour: 'resets', loss: 'all' },
    { behaviour: 'answers garbage', loss: 'all' },
  ],
}

const CELLS: readonly Cell[] = Object.entries(MATRIX).flatMap(([sink, specs]) =>
  specs.map((spec) => ({ sink: sink as SinkKind, behaviour: spec.behaviour, loss: spec.loss, volume: spec.volume ?? SMALL, flush: spec.flush ?? FLUSH_BY_LOSS[spec.loss] })),
)

/** The peer each sink is stuck behind for the memory run. */
function stuckBehaviour(sink: SinkKind): Behaviour {
  return sink === 'syslog udp' ? 'refused' : 'accepts, never reads'
}

const HTTP_SINKS: ReadonlySet<SinkKind> = new Set(['webhook', 'discord', 'slack', 'telegram', 'otlp protobuf', 'otlp json'])
/** Sinks whose undelivered records stay in a spool for the next run, which the loss line says. */
const SPOOLING_SINKS: ReadonlySet<SinkKind> = new Set(['relp', 'collector client'])

/** Set up once for the file: the TLS material, or why there is none. */
let certificates: TestCertificates | undefined
let noCertificates: string | undefined

function needsCertificates(cell: Pick<Cell, 'sink' | 'behaviour'>): boolean {
  return cell.sink === 'syslog tls' || cell.behaviour === 'untrusted certificate' || cell.behaviour === 'trusted certificate'
}

/** Where the sink is pointed, and what the peer recorded when it records. */
interface Target {
  readonly peer: Peer
  readonly recording: Recording | undefined
}

async function startPeer(t: TestContext, sink: SinkKind, behaviour: Behaviour, dir: string): Promise<Target> {
  const on: ListenOn = sink === 'collector client' ? { path: join(dir, 'collector.sock') } : 'tcp'
  const keys = certificates
  const started = async (): Promise<Target> => {
    switch (behaviour) {
      case 'refused': {
        if (sink === 'collector client') return { peer: { path: join(dir, 'nobody-listens.sock'), close: async () => {} }, recording: undefined }
        const port = sink === 'syslog udp' ? await refusedUdpPort() : await refusedPort()
        return { peer: { port, close: async () => {} }, recording: undefined }
      }
      case 'accepts, never reads':
        return { peer: await acceptsNeverReads(on), recording: undefined }
      case 'reads, never answers': {
        const peer = sink === 'syslog udp' ? await udpReceiver() : await readsNeverAnswers(on, sink === 'syslog tls' ? keys?.trusted : undefined)
        return { peer, recording: peer }
      }
      case 'answers 500':
        return { peer: await answers500(), recording: undefined }
      case 'answers 429 Retry-After 100000':
        return { peer: await answers429(100_000), recording: undefined }
      case 'resets':
        return { peer: await resetsConnections(on), recording: undefined }
      case 'answers garbage':
        return { peer: await answersGarbage(on), recording: undefined }
      case 'trusted certificate': {
        assert.ok(keys, 'certificates are made before any TLS cell runs')
        // The same recording server, with the certificate the test CA signed.
        const peer = await recordingHttps(keys.trusted)
        return { peer, recording: peer }
      }
      case 'untrusted certificate': {
        assert.ok(keys, 'certificates are made before any TLS cell runs')
        const peer = HTTP_SINKS.has(sink) ? await recordingHttps(keys.selfSigned) : await untrustedTls(keys.selfSigned)
        return { peer, recording: peer }
      }
    }
  }
  const target = await started()
  t.after(() => target.peer.close())
  return target
}

/** The fixture's `kind` and the options handed to the factory, bounds included. */
function fixtureSink(sink: SinkKind, behaviour: Behaviour, peer: Peer, dir: string): { kind: string; options: Record<string, unknown> } {
  const port = 'port' in peer ? peer.port : 0
  const origin = `${behaviour === 'untrusted certificate' || behaviour === 'trusted certificate' ? 'https' : 'http'}://127.0.0.1:${port}`
  const http = { ...boundsFor(sink, behaviour), ...HTTP_DELIVERY }
  switch (sink) {
    case 'syslog tcp':
      return { kind: 'syslog', options: { host: '127.0.0.1', port, protocol: 'tcp', appName: 'lifecycle', ...RECONNECT, ...BOUNDS } }
    case 'syslog tls':
      return { kind: 'syslog', options: { host: '127.0.0.1', port, protocol: 'tls', tls: { ca: certificates?.ca }, appName: 'lifecycle', ...RECONNECT, ...boundsFor(sink, behaviour) } }
    case 'syslog udp':
      return { kind: 'syslog', options: { host: '127.0.0.1', port, protocol: 'udp', appName: 'lifecycle', ...BOUNDS } }
    case 'relp':
      return { kind: 'relp', options: { host: '127.0.0.1', port, spool: join(dir, 'relp.spool'), appName: 'lifecycle', ackTimeout: 300, ...RECONNECT, ...BOUNDS } }
    case 'webhook':
      return { kind: 'webhook', options: { url: `${origin}/hook`, ...http } }
    case 'discord':
      return { kind: 'discord', options: { url: `${origin}/api/webhooks/4242/lifecycle-token`, ...http } }
    case 'slack':
      return { kind: 'slack', options: { url: `${origin}/services/T1/B2/lifecycle`, ...http } }
    case 'telegram':
      return { kind: 'telegram', options: { token: '5550123:lifecycle-token', chatId: 99, apiUrl: origin, ...http } }
    case 'otlp protobuf':
      return { kind: 'otlp', options: { url: `${origin}/v1/logs`, encoding: 'protobuf', ...http } }
    case 'otlp json':
      return { kind: 'otlp', options: { url: `${origin}/v1/logs`, encoding: 'json', ...http } }
    case 'collector client':
      return { kind: 'collector', options: { socket: 'path' in peer ? peer.path : '', role: 'worker', heartbeatInterval: 0, spoolDir: join(dir, 'spool'), ...BOUNDS } }
  }
}

interface Run {
  readonly handle: NodeChild
  readonly target: Target
  /** The sink's name, as the fixture printed it. */
  readonly sinkName: string
}

/** Starts the peer and the fixture, and waits until every record is logged. The child is killed when the test ends. */
async function startCell(t: TestContext, sink: SinkKind, behaviour: Behaviour, mode: Mode, volume: Volume, loggedTimeoutMs = LOGGED_TIMEOUT_MS): Promise<Run> {
  let handle: NodeChild | undefined
  // Registered first, as node:test runs after() hooks in order: the child is gone before its peer and its directory.
  t.after(() => {
    if (handle) killIfRunning(handle)
  })
  const dir = await tempDir(t, 'blackbox-lifecycle-')
  const target = await startPeer(t, sink, behaviour, dir)
  const spec = { ...fixtureSink(sink, behaviour, target.peer, dir), mode, ...volume }
  // The HTTP sinks take no CA option: the test CA is trusted the way a user would, for the whole process.
  const env: Record<string, string> = {}
  if (behaviour === 'trusted certificate' && certificates !== undefined) {
    env['NODE_EXTRA_CA_CERTS'] = join(dir, 'ca.pem')
    writeFileSync(env['NODE_EXTRA_CA_CERTS'], certificates.ca)
  }
  handle = spawnNode(fixturePath('network-sink-lifecycle.mjs'), [JSON.stringify(spec)], { env })
  const [, sinkName = ''] = await waitForLine(handle, /^sink (.+)$/, LOGGED_TIMEOUT_MS)
  await waitForLine(handle, /^logged$/, loggedTimeoutMs)
  return { handle, target, sinkName }
}

/**
 * Resolves with the first complete stdout line that matches `pattern`, as soon as it arrives;
 * rejects when the child ends without printing one, or when `timeoutMs` passes first. Both
 * errors show the child's stderr.
 */
function waitForLine(handle: NodeChild, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const stdout = handle.child.stdout
    const find = (): RegExpExecArray | undefined => {
      // The last piece is a line still being written (or '').
      for (const line of handle.stdout().split('\n').slice(0, -1)) {
        const match = pattern.exec(line)
        if (match) return match
      }
      return undefined
    }
    const finish = (): void => {
      clearTimeout(timer)
      stdout?.off('data', check)
      handle.child.off('close', onClose)
    }
    function check(): void {
      const match = find()
      if (match === undefined) return
      finish()
      resolve(match)
    }
    function onClose(): void {
      finish()
      const match = find()
      if (match) {
        resolve(match)
        return
      }
      const { exitCode, signalCode } = handle.child
      const why = exitCode === UNSETTLED_AWAIT_EXIT_CODE ? ': the event loop emptied while an await (close() or flush()) was still pending' : ''
      reject(new Error(`The fixture ended (code ${String(exitCode)}, signal ${String(signalCode)})${why} without printing a line like ${pattern}; stdout:\n${handle.stdout()}\nstderr:\n${handle.stderr()}`))
    }
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for a line like ${pattern}; stdout:\n${handle.stdout()}\nstderr:\n${handle.stderr()}`))
    }, timeoutMs)
    stdout?.on('data', check)
    handle.child.once('close', onClose)
    check()
  })
}

/** Waits for the child's end; `what` says which bound it broke if it does not end within `timeoutMs` (it is then killed). */
async function ended(handle: NodeChild, timeoutMs: number, what: string): Promise<ExitResult> {
  try {
    return await handle.exited(timeoutMs)
  } catch {
    return assert.fail(`${what}: the process did not end within ${timeoutMs} ms and was killed; stderr:\n${handle.stderr()}`)
  }
}

/** Exactly one loss line naming the sink, with the count the peer allows; none when the peer is healthy. */
function assertLossLine(cell: Cell, run: Run, stderr: string, when: string): void {
  const lines = stderr.split('\n').filter((line) => LOSS_LINE.test(line))
  const context = ` (${cell.sink}, peer ${cell.behaviour}, ${when})\nstderr:\n${stderr}`
  if (cell.loss === 'none') {
    assert.equal(lines.length, 0, `the peer takes every record: no loss line expected${context}`)
    return
  }
  if (cell.loss === 'either') assert.ok(lines.length <= 1, `at most one loss line expected, got ${lines.length}${context}`)
  else assert.equal(lines.length, 1, `exactly one loss line expected, got ${lines.length}${context}`)
  const [line] = lines
  if (line === undefined) return
  const [, name, counted] = LOSS_LINE.exec(line) ?? []
  assert.equal(name, run.sinkName, `the loss line names the sink${context}`)
  const lost = Number(counted)
  if (cell.loss === 'all') assert.equal(lost, cell.volume.count, `every record logged is counted as not delivered${context}`)
  else {
    const least = cell.loss === 'some' ? 1 : 0
    assert.ok(lost >= least && lost <= cell.volume.count, `between ${least} and ${cell.volume.count} records counted, got ${lost}${context}`)
  }
  if (SPOOLING_SINKS.has(cell.sink)) assert.match(line, /spool/, `the loss line says the records stay in the spool${context}`)
}

/** A healthy peer has every record; a peer with a certificate nobody vouches for has nothing. */
async function assertDelivery(cell: Cell, run: Run): Promise<void> {
  const recording = run.target.recording
  if (recording === undefined) return
  if (cell.loss === 'none') await recording.waitForOccurrences(RECORD_MARKER, cell.volume.count, DELIVERY_TIMEOUT_MS)
  if (cell.behaviour === 'untrusted certificate') assert.equal(recording.received(), '', 'a peer whose certificate the sink cannot verify gets nothing')
}

function skipWithoutCertificates(t: TestContext, cell: Pick<Cell, 'sink' | 'behaviour'>): boolean {
  if (!needsCertificates(cell) || noCertificates === undefined) return false
  t.diagnostic(noCertificates)
  t.skip(noCertificates)
  return true
}

describe('network sinks against unhappy peers', { concurrency: CONCURRENCY }, () => {
  before(async () => {
    noCertificates = await opensslUnavailable()
    if (noCertificates === undefined) certificates = await makeTestCertificates()
  })

  // First: the longest runs, so the short cells fill the pool around them rather than after them.
  for (const sink of Object.keys(MATRIX) as SinkKind[]) {
    const behaviour = stuckBehaviour(sink)
    test(`${sink}, peer ${behaviour}: RSS grows by less than ${RSS_GROWTH_LIMIT_BYTES / 2 ** 20} MB over ${RSS_RECORDS} records of ${RSS_RECORD_CHARS} characters`, async (t) => {
      if (skipWithoutCertificates(t, { sink, behaviour })) return
      const run = await startCell(t, sink, behaviour, 'rss', { count: RSS_RECORDS, size: RSS_RECORD_CHARS }, RSS_TIMEOUT_MS)
      const [, peak] = await waitForLine(run.handle, /^rss (\d+)$/, MARGIN_MS)
      const [, baseline] = await waitForLine(run.handle, /^rss-baseline (\d+)$/, MARGIN_MS)
      const growth = Number(peak) - Number(baseline)
      const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
      t.diagnostic(`rss ${mb(Number(baseline))} MB before logging, peak ${mb(Number(peak))} MB (+${mb(growth)} MB)`)
      assert.ok(growth < RSS_GROWTH_LIMIT_BYTES, `RSS grew by ${mb(growth)} MB (from ${mb(Number(baseline))} MB to ${mb(Number(peak))} MB); the bound is ${mb(RSS_GROWTH_LIMIT_BYTES)} MB; stderr:\n${run.handle.stderr()}`)
    })
  }

  for (const cell of CELLS) {
    const label = `${cell.sink}, peer ${cell.behaviour}`
    const { flushTimeout, closeTimeout, exitTimeout } = boundsFor(cell.sink, cell.behaviour)

    test(`${label}: close() settles within flushTimeout + closeTimeout, flushing once; then the process ends`, async (t) => {
      if (skipWithoutCertificates(t, cell)) return
      const run = await startCell(t, cell.sink, cell.behaviour, 'close', cell.volume)
      const bound = flushTimeout + closeTimeout
      const [, closedMs] = await waitForLine(run.handle, /^closed (\d+)$/, bound + MARGIN_MS)
      const stderr = (): string => `\nstderr:\n${run.handle.stderr()}`
      assert.ok(Number(closedMs) <= bound + MARGIN_MS, `close() took ${closedMs} ms; flushTimeout + closeTimeout is ${bound} ms${stderr()}`)
      const [, flushCalls] = await waitForLine(run.handle, /^flush-calls (\d+)$/, MARGIN_MS)
      assert.ok(Number(flushCalls) <= 1, `close() flushed the sink ${flushCalls} times; once is the most${stderr()}`)
      const result = await ended(run.handle, exitTimeout + MARGIN_MS, 'after close(), nothing may keep the process alive')
      assert.equal(result.code, 0, result.stderr)
      assertLossLine(cell, run, result.stderr, 'after close()')
      await assertDelivery(cell, run)
    })

    test(`${label}: a script that never calls close() ends by itself within exitTimeout`, async (t) => {
      if (skipWithoutCertificates(t, cell)) return
      const run = await startCell(t, cell.sink, cell.behaviour, 'no-close', cell.volume)
      const result = await ended(run.handle, exitTimeout + MARGIN_MS, `without close(), the process must end within exitTimeout (${exitTimeout} ms) + ${MARGIN_MS} ms`)
      assert.equal(result.code, 0, result.stderr)
      assertLossLine(cell, run, result.stderr, 'at exit')
      await assertDelivery(cell, run)
    })

    const flushTitle = { resolves: 'resolves', rejects: 'rejects with FlushTimeoutError', settles: 'resolves or rejects with FlushTimeoutError' }[cell.flush]
    test(`${label}: flush() ${flushTitle} within flushTimeout`, async (t) => {
      if (skipWithoutCertificates(t, cell)) return
      const run = await startCell(t, cell.sink, cell.behaviour, 'flush', cell.volume)
      const [outcome = '', name, message] = await waitForLine(run.handle, /^flush-resolved$|^flush-rejected (\S+) (.*)$/, flushTimeout + MARGIN_MS)
      const [, settledMs] = await waitForLine(run.handle, /^flush-settled (\d+)$/, MARGIN_MS)
      const stderr = `\nstderr:\n${run.handle.stderr()}`
      assert.ok(Number(settledMs) <= flushTimeout + MARGIN_MS, `flush() took ${settledMs} ms; flushTimeout is ${flushTimeout} ms${stderr}`)
      const rejected = outcome.startsWith('flush-rejected')
      if (cell.flush === 'resolves') assert.ok(!rejected, `flush() rejected on a healthy peer: ${outcome}${stderr}`)
      if (cell.flush === 'rejects') assert.ok(rejected, `flush() resolved although the peer cannot have taken every record${stderr}`)
      if (rejected) {
        assert.equal(name, 'FlushTimeoutError', `${outcome}${stderr}`)
        assert.match(JSON.parse(message ?? '""') as string, /flushTimeout/, `the message names the bound${stderr}`)
      }
    })
  }
})
