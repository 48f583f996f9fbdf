// Hostile input to the collector (issue #15): HELLOs that name files outside its folders, a
// socket in a shared folder or behind too long a path, connections that hold unfinished
// frames, records without their newline, and fuzzing of all of it. The collector runs in a
// process of its own (test/fixtures/collector-options-process.mjs loads the BUILT library:
// run `npm run build` first), so that its memory can be read from /proc and its death seen.
// The bounds asserted are the documented ones (docs/protocol.md, "Limits"), not read from src/.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join, relative } from 'node:path'
import { test, type TestContext } from 'node:test'
import fc from 'fast-check'
import { CollectorClient, connectLogger, createLogger, startCollector, type Logger } from '../../src/index.ts'
import { loadRingAddon } from '../../src/ring/addon.ts'
import { createMappedRing } from '../../src/ring/map-ring.ts'
import { FORMAT_TEXT, RECORD_META_BYTES, RingWriter } from '../../src/ring/ring-file.ts'
import { encodeFrame, FrameDecoder, FrameType, HEADER_BYTES, type Frame } from '../../src/transport/frame.ts'
import { decodeRingAnswer, encodeBye, encodeHeartbeat, encodeHello, encodeLogs, type Hello } from '../../src/transport/messages.ts'
import { exitedReason, fixturePath, killIfRunning, spawnNode, waitUntil, type ExitResult, type NodeChild } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'
import { splitBytes } from '../helpers/split-bytes.ts'
import { collectorPlace, type CollectorPlace } from '../helpers/collector-place.ts'

fc.configureGlobal({ includeErrorInReport: true })

/** The documented bounds (docs/protocol.md, "Limits"). */
const MiB = 1024 * 1024
const MAX_PAYLOAD_BYTES = 8 * MiB
const FIRST_FRAME_MAX_PAYLOAD_BYTES = 64 * 1024
const MAX_UNFINISHED_BYTES = 32 * MiB
/** A Unix socket address holds 108 bytes on Linux, 104 on macOS and the BSDs, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = (['darwin', 'freebsd', 'openbsd'].includes(process.platform) ? 104 : 108) - 1

/** The collector's `frameTimeout` in these tests: short, so that the tests that wait for it are fast. */
const FRAME_TIMEOUT_MS = 400
const READY_TIMEOUT_MS = 15_000
const EVENT_TIMEOUT_MS = 10_000
const CLI_TIMEOUT_MS = 15_000
/** Slack over a memory bound for the rest of a Node process's life (GC timing, socket buffers, code). */
const RSS_SLACK_BYTES = 48 * MiB
const NO_PROC = existsSync('/proc/self/status') ? false : 'needs /proc to read the collector’s memory'
const addon = loadRingAddon().addon
const bin = fixturePath('../../dist/cli/main.js')

interface Place extends CollectorPlace {
  /** Files that are not the collector's: canaries. */
  readonly outside: string
}

async function placeFor(t: TestContext): Promise<Place> {
  const place = await collectorPlace(t, 'blackbox-hostile-')
  return { ...place, outside: join(place.base, 'outside') }
}

interface CollectorProcess {
  readonly handle: NodeChild
  readonly pid: number
  /** collector.log so far. */
  log(): string
  /** `<role>.log` so far. */
  role(name: string): string
  rssBytes(): number
  /** SIGTERM: the collector closes (delivering the spools of clients that are gone) and exits. */
  stop(): Promise<ExitResult>
}

function readOr(path: string, otherwise = ''): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : otherwise
}

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

async function startCollectorProcess(t: TestContext, place: Place, options: Record<string, unknown> = {}): Promise<CollectorProcess> {
  const handle = spawnNode(fixturePath('collector-options-process.mjs'), [
    JSON.stringify({ socket: place.socket, dir: place.logs, heartbeatTimeout: 60_000, files: { maxSize: false }, frameTimeout: FRAME_TIMEOUT_MS, ...options }),
  ])
  t.after(() => killIfRunning(handle))
  await waitUntil(() => handle.stdout().includes('ready\n'), { timeoutMs: READY_TIMEOUT_MS, what: 'the collector to listen', abortIf: () => exitedReason(handle) })
  const pid = handle.child.pid as number
  return {
    handle,
    pid,
    log: () => readOr(join(place.logs, 'collector.log')),
    role: (name) => readOr(join(place.logs, `${name}.log`)),
    rssBytes: () => rssOf(pid),
    stop: async () => {
      handle.child.kill('SIGTERM')
      const end = await handle.exited()
      assert.equal(end.code, 0, `the collector closes cleanly: ${end.stderr}`)
      return end
    },
  }
}

/** A connection that speaks raw bytes, and keeps the frames the collector sends back. */
interface Raw {
  readonly socket: Socket
  readonly frames: Frame[]
  readonly closed: Promise<void>
  isClosed(): boolean
  /** Resolves once the bytes are handed to the kernel, or the connection is gone. */
  send(bytes: Buffer): Promise<void>
}

function rawConnect(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    const decoder = new FrameDecoder()
    const frames: Frame[] = []
    let isClosed = false
    const closed = new Promise<void>((done) => socket.once('close', () => {
      isClosed = true
      done()
    }))
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(...decoder.push(chunk))
      } catch {
        // The tests look only at whole frames from the collector.
      }
    })
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.removeListener('error', reject)
      socket.on('error', () => {})
      const send = (bytes: Buffer): Promise<void> => {
        if (isClosed || socket.destroyed) return Promise.resolve()
        return Promise.race([new Promise<void>((done) => socket.write(bytes, () => done())), closed])
      }
      resolve({ socket, frames, closed, isClosed: () => isClosed, send })
    })
  })
}

/** Waits for a promise, failing with a named bound. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

function hello(fields: Partial<Omit<Hello, 'protocol'>> & { clientId: string }): Buffer {
  return encodeHello({ pid: process.pid, name: fields.clientId, role: 'worker', startTime: Date.now(), lastSeq: 0, heartbeatInterval: 0, ...fields })
}

function logs(texts: readonly string[], firstSeq = 1, resent = false): Buffer {
  return encodeLogs(texts.map((text, i) => ({ seq: firstSeq + i, timeMs: Date.now(), level: 30, text })), resent)
}

/** The pid of a process that has ended: a client the collector finds gone at once. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid
}

/** A ring file as a collector client makes it, holding `texts` (needs the addon). */
function makeRing(path: string, texts: readonly string[]): void {
  if (!addon) throw new Error('makeRing needs the native addon')
  const view = createMappedRing(addon, path, 64 * 1024)
  view.claim(process.pid, '', FORMAT_TEXT, RECORD_META_BYTES)
  const writer = new RingWriter(view)
  for (const text of texts) writer.publish(text, 30, Date.now())
}

/** What a path is now, to the byte: a canary's fingerprint. */
function fingerprint(path: string): string {
  let stat
  try {
    stat = lstatSync(path)
  } catch {
    return 'missing'
  }
  if (stat.isSymbolicLink()) return `symlink -> ${readlinkSync(path)}`
  if (stat.isDirectory()) return `directory [${readdirSync(path).sort().join(', ')}]`
  return `file ino ${stat.ino} mode ${(stat.mode & 0o7777).toString(8)} mtime ${stat.mtimeMs} sha256 ${createHash('sha256').update(readFileSync(path)).digest('hex')}`
}

function fingerprints(paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(paths.map((path) => [path, fingerprint(path)]))
}

/** Every path under `dir`, depth first, without following symlinks. */
function tree(dir: string): string[] {
  const found: string[] = []
  const stack = [dir]
  while (stack.length > 0) {
    const at = stack.pop() as string
    found.push(at)
    if (lstatSync(at).isDirectory()) for (const name of readdirSync(at)) stack.push(join(at, name))
  }
  return found.sort()
}

/** The bytes of a spool file holding one LOGS frame: what a client leaves behind. */
function spoolBytes(texts: readonly string[]): Buffer {
  return logs(texts)
}

test('HELLOs naming files outside the spool folders (absolute, "..", relative, symlink, symlinked folder, hard link; and in spool descriptions): nothing outside is read, written or removed, and the records still flow', async (t) => {
  const place = await placeFor(t)
  mkdirSync(place.spool, { recursive: true, mode: 0o700 })
  mkdirSync(place.outside)
  const dead = deadPid()
  const cases = ['abs', 'dots', 'rel', 'link', 'linkdir', 'hard'] as const
  const canaries: string[] = []
  for (const id of cases) {
    writeFileSync(join(place.outside, `${id}.spool`), spoolBytes([`victim spool of ${id}\n`]))
    if (addon) makeRing(join(place.outside, `${id}.ring`), [`victim ring of ${id}\n`])
    else writeFileSync(join(place.outside, `${id}.ring`), `canary ring of ${id}`)
    writeFileSync(join(place.outside, `${id}.bye`), 'canary goodbye')
    writeFileSync(join(place.outside, `${id}.hello.json`), 'canary description')
    canaries.push(...['spool', 'ring', 'bye', 'hello.json'].map((ext) => join(place.outside, `${id}.${ext}`)))
  }
  symlinkSync(join(place.outside, 'link.spool'), join(place.spool, 'link.spool'))
  symlinkSync(join(place.outside, 'link.ring'), join(place.spool, 'link.ring'))
  symlinkSync(join(place.outside, 'link.bye'), join(place.spool, 'link.bye'))
  symlinkSync(place.outside, join(place.spool, 'sub'))
  linkSync(join(place.outside, 'hard.spool'), join(place.spool, 'hard.spool'))
  linkSync(join(place.outside, 'hard.ring'), join(place.spool, 'hard.ring'))
  const paths: Record<(typeof cases)[number], { spool: string; ring: string }> = {
    abs: { spool: join(place.outside, 'abs.spool'), ring: join(place.outside, 'abs.ring') },
    dots: { spool: join(place.spool, '..', '..', 'outside', 'dots.spool'), ring: join(place.spool, '..', '..', 'outside', 'dots.ring') },
    // The collector runs in this process's working directory.
    rel: { spool: relative(process.cwd(), join(place.outside, 'rel.spool')), ring: relative(process.cwd(), join(place.outside, 'rel.ring')) },
    link: { spool: join(place.spool, 'link.spool'), ring: join(place.spool, 'link.ring') },
    linkdir: { spool: join(place.spool, 'sub', 'linkdir.spool'), ring: join(place.spool, 'sub', 'linkdir.ring') },
    hard: { spool: join(place.spool, 'hard.spool'), ring: join(place.spool, 'hard.ring') },
  }
  // Descriptions of dead clients, read when the collector starts and when it closes: one names
  // a spool outside; one is a symlink to a description outside that names a spool inside.
  writeFileSync(join(place.outside, 'orphan.spool'), spoolBytes(['victim spool of an orphan\n']))
  canaries.push(join(place.outside, 'orphan.spool'))
  writeFileSync(join(place.spool, 'orphan.hello.json'), JSON.stringify({ clientId: 'orphan', pid: dead, name: 'orphan', role: 'worker', protocol: 1, startTime: 0, lastSeq: 0, spool: join(place.outside, 'orphan.spool') }))
  writeFileSync(join(place.outside, 'lured.hello.json'), JSON.stringify({ clientId: 'lured', pid: dead, name: 'lured', role: 'worker', protocol: 1, startTime: 0, lastSeq: 0, spool: join(place.spool, 'lured.spool') }))
  canaries.push(join(place.outside, 'lured.hello.json'))
  symlinkSync(join(place.outside, 'lured.hello.json'), join(place.spool, 'lured.hello.json'))
  writeFileSync(join(place.spool, 'lured.spool'), spoolBytes(['read through a symlinked description\n']))
  const before = fingerprints(canaries)
  const outsideBefore = tree(place.outside)

  const collector = await startCollectorProcess(t, place)
  for (const id of cases) {
    const raw = await rawConnect(place.socket)
    await raw.send(Buffer.concat([hello({ clientId: id, pid: dead, ...paths[id] }), logs([`${id} through the socket\n`])]))
    await waitUntil(() => raw.frames.some((frame) => frame.type === FrameType.RING), { timeoutMs: EVENT_TIMEOUT_MS, what: `the collector's answer about the ring of ${id}` })
    const answer = decodeRingAnswer((raw.frames.find((frame) => frame.type === FrameType.RING) as Frame).payload)
    assert.equal(answer.accepted, false, `the ring ${paths[id].ring} is refused`)
    await waitUntil(() => collector.role('worker').includes(`${id} through the socket\n`), { timeoutMs: EVENT_TIMEOUT_MS, what: `the record of ${id} in worker.log` })
    raw.socket.destroy()
    // Its process is gone: the collector delivers what it may deliver right after saying so.
    await waitUntil(() => collector.log().includes(`dead: ${id} (pid ${dead})`), { timeoutMs: EVENT_TIMEOUT_MS, what: `the death of ${id} in collector.log` })
  }
  await collector.stop()

  assert.deepEqual(fingerprints(canaries), before, 'every file outside the collector’s folders is as it was')
  assert.deepEqual(tree(place.outside), outsideBefore, 'nothing was added to or removed from the folder outside')
  const worker = collector.role('worker')
  assert.doesNotMatch(worker, /victim/, 'no record was read from a file outside')
  assert.doesNotMatch(worker, /read through a symlinked description/, 'a symlinked spool description is not read')
  const log = collector.log()
  for (const id of cases) assert.match(log, new RegExp(`spool-refused.*\\b${id}\\b|\\b${id}\\b.*spool-refused|not delivering the spool of ${id}`), `collector.log says why the spool of ${id} is refused:\n${log}`)
  assert.match(log, /lured\.hello\.json/, 'collector.log names the symlinked description it refused')
})

test('a client whose spoolDir the collector was given (spoolDirs) has its spool delivered; one whose folder it was not given still logs through the socket', async (t) => {
  const place = await placeFor(t)
  const given = join(place.base, 'given-spool')
  const other = join(place.base, 'other-spool')
  // No collector yet: the records stay in the client's spool, in the folder the collector will be told of.
  const offline = spawnNode(fixturePath('collector-spool-dir-client.mjs'), [place.socket, given, 'Offline', '50', 'offline'])
  const offlineEnd = await offline.exited()
  assert.equal(offlineEnd.code, 0, offlineEnd.stderr)
  assert.ok(readdirSync(given).some((name) => name.endsWith('.spool')), 'the client left its spool')
  const collector = await startCollectorProcess(t, place, { spoolDirs: [given] })
  assert.match(collector.log(), /delivered 50 records that Offline \(pid \d+\) left in its spool/)
  assert.deepEqual(readdirSync(given), [], 'the delivered spool and its description are gone')
  const elsewhere = await spawnNode(fixturePath('collector-spool-dir-client.mjs'), [place.socket, other, 'Elsewhere', '20', 'close']).exited()
  assert.equal(elsewhere.code, 0, elsewhere.stderr)
  await collector.stop()
  const worker = collector.role('worker')
  for (const [name, count] of [['Offline', 50], ['Elsewhere', 20]] as const) {
    assert.deepEqual(worker.split('\n').filter((line) => line.startsWith(`${name} `)), Array.from({ length: count }, (_, i) => `${name} ${i}`), `${name}: every record, in order`)
  }
  assert.match(collector.log(), /spool-refused/, 'collector.log says the spool of Elsewhere is not one it delivers')
})

test('a socket in a folder others can write to is refused (startCollector and the command line, exit 2) and the folder keeps its mode; a folder of the user others cannot write to is used as it is', async (t) => {
  const base = await tempDir(t, 'blackbox-hostile-')
  const dir = join(base, 'logs')
  for (const [mode, what] of [[0o1777, 'can be written by others'], [0o770, 'can be written by others'], [0o757, 'can be written by others']] as const) {
    const shared = join(base, `shared-${mode.toString(8)}`)
    mkdirSync(shared)
    chmodSync(shared, mode)
    const socket = join(shared, 'app.sock')
    await assert.rejects(startCollector({ socket, dir }), new RegExp(what))
    assert.equal(statSync(shared).mode & 0o7777, mode, 'startCollector leaves the folder’s mode alone')
    const cli = spawnSync(process.execPath, [bin, 'collector', '--socket', socket, '--dir', dir], { encoding: 'utf8', timeout: CLI_TIMEOUT_MS })
    assert.equal(cli.status, 2, `exit 2 for mode ${mode.toString(8)}: ${cli.stderr}`)
    assert.match(cli.stderr, new RegExp(what))
    assert.match(cli.stderr, /a folder of its own/, 'the message says what to do')
    assert.equal(statSync(shared).mode & 0o7777, mode, 'the command leaves the folder’s mode alone')
    assert.ok(!existsSync(socket), 'no socket was made there')
  }
  // A folder of the user's that others may enter but not write (a project folder, 0755): used as it is.
  const own = join(base, 'own')
  mkdirSync(own)
  chmodSync(own, 0o755)
  const socket = join(own, 'app.sock')
  const foreground = spawnNode(bin, ['collector', '--socket', socket, '--dir', dir])
  t.after(() => killIfRunning(foreground))
  await waitUntil(() => foreground.stdout().includes('collector listening on'), { timeoutMs: READY_TIMEOUT_MS, what: 'the collector to listen', abortIf: () => exitedReason(foreground) })
  assert.equal(statSync(own).mode & 0o7777, 0o755, 'the collector leaves its mode alone')
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'the socket is the user’s only')
  const log = await connectLogger({ socket, name: 'Own', role: 'own', heartbeatInterval: 0, format: '{message}' })
  log.info('from a socket in an existing folder')
  await log.close()
  foreground.child.kill('SIGTERM')
  const end = await foreground.exited()
  assert.equal(end.code, 0, end.stderr)
  assert.equal(readFileSync(join(dir, 'own.log'), 'utf8'), 'from a socket in an existing folder\n')
  // A file of the user's where the socket would go is not a collector's leftover: it stays.
  const taken = join(own, 'taken.sock')
  writeFileSync(taken, 'not a socket')
  await assert.rejects(startCollector({ socket: taken, dir }), /exists and is not a socket/)
  assert.equal(readFileSync(taken, 'utf8'), 'not a socket')
})

test(`a socket path longer than a Unix socket address allows (${MAX_SOCKET_PATH_BYTES} bytes here) is refused at once: startCollector rejects, the command exits 2; one of exactly ${MAX_SOCKET_PATH_BYTES} bytes works`, async (t) => {
  const base = await tempDir(t, 'blackbox-hostile-')
  const dir = join(base, 'logs')
  // <base>/ddd…d/app.sock, `total` bytes long.
  const folderFor = (total: number): string => join(base, 'd'.repeat(total - Buffer.byteLength(base) - '/'.length - '/app.sock'.length))
  const long = join(folderFor(MAX_SOCKET_PATH_BYTES + 1), 'app.sock')
  assert.equal(Buffer.byteLength(long), MAX_SOCKET_PATH_BYTES + 1)
  await assert.rejects(startCollector({ socket: long, dir }), new RegExp(`at most ${MAX_SOCKET_PATH_BYTES} bytes`))
  for (const detach of [[], ['--detach']]) {
    const started = Date.now()
    const cli = spawnSync(process.execPath, [bin, 'collector', '--socket', long, '--dir', dir, ...detach], { encoding: 'utf8', timeout: CLI_TIMEOUT_MS })
    assert.equal(cli.status, 2, `exit 2 ${detach.join(' ')}: status ${String(cli.status)}, signal ${String(cli.signal)}, ${cli.stderr}`)
    assert.match(cli.stderr, new RegExp(`at most ${MAX_SOCKET_PATH_BYTES} bytes`))
    assert.match(cli.stderr, /Unix socket address/)
    assert.ok(Date.now() - started < CLI_TIMEOUT_MS, 'at once')
  }
  assert.ok(!existsSync(folderFor(MAX_SOCKET_PATH_BYTES + 1)), 'nothing was made for it')
  const exact = join(folderFor(MAX_SOCKET_PATH_BYTES), 'app.sock')
  assert.equal(Buffer.byteLength(exact), MAX_SOCKET_PATH_BYTES)
  const collector = await startCollector({ socket: exact, dir })
  t.after(() => collector.close())
  const log = await connectLogger({ socket: exact, name: 'Exact', role: 'exact', heartbeatInterval: 0, format: '{message}' })
  log.info('through the longest socket path')
  await log.close()
  await collector.close()
  assert.equal(readFileSync(join(dir, 'exact.log'), 'utf8'), 'through the longest socket path\n')
})

/** The highest RSS seen while `during` runs, sampled as often as the event loop allows. */
async function peakRss(pid: number, during: () => Promise<void>): Promise<number> {
  let peak = rssOf(pid)
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rssOf(pid))
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  try {
    await during()
  } finally {
    running = false
    await sampler
  }
  return Math.max(peak, rssOf(pid))
}

/** A frame header announcing `length` payload bytes that will never all come. */
function announce(type: FrameType, length: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt16BE(0x4242, 0)
  header.writeUInt8(1, 2)
  header.writeUInt8(type, 3)
  header.writeUInt32BE(length, 4)
  return header
}

/** A logger through the collector, its first records acknowledged: the collector's memory after it is the baseline. */
async function warmedUp(place: Place, name: string): Promise<{ logger: Logger; client: CollectorClient }> {
  const client = new CollectorClient({ socket: place.socket, name, role: 'steady', heartbeatInterval: 0, format: '{message}' })
  const logger = createLogger({ sinks: [client] })
  await client.connected()
  for (let i = 0; i < 2000; i++) logger.info(`warm-up ${i} ${'x'.repeat(100)}`)
  await logger.flush()
  return { logger, client }
}

const ATTACK_CONNECTIONS = 40
const ATTACK_BYTES_EACH = 6 * MiB

for (const phase of ['before HELLO', 'after HELLO'] as const) {
  test(`${ATTACK_CONNECTIONS} connections ${phase} that each announce a maximum-size frame and send ${ATTACK_BYTES_EACH / MiB} MiB of it: the collector's memory stays bounded, the connections are closed, and a client logs afterwards`, { skip: NO_PROC }, async (t) => {
    const place = await placeFor(t)
    const collector = await startCollectorProcess(t, place)
    const steady = await warmedUp(place, 'Steady')
    const baseline = collector.rssBytes()
    const dead = deadPid()
    const body = Buffer.alloc(ATTACK_BYTES_EACH, 0x61)
    const connections: Raw[] = []
    const peak = await peakRss(collector.pid, async () => {
      for (let i = 0; i < ATTACK_CONNECTIONS; i++) connections.push(await rawConnect(place.socket))
      await Promise.all(connections.map(async (raw, i) => {
        const opening = phase === 'before HELLO' ? announce(FrameType.HELLO, MAX_PAYLOAD_BYTES) : Buffer.concat([hello({ clientId: `hog-${i}`, pid: dead }), announce(FrameType.LOGS, MAX_PAYLOAD_BYTES)])
        await raw.send(opening)
        for (let at = 0; at < body.length && !raw.isClosed(); at += MiB) await raw.send(body.subarray(at, at + MiB))
      }))
      await within(Promise.all(connections.map((raw) => raw.closed)), FRAME_TIMEOUT_MS + EVENT_TIMEOUT_MS, `the collector to close all ${ATTACK_CONNECTIONS} connections`)
    })
    const after = collector.rssBytes()
    // What the collector may hold, twice: the bytes of the connections it closes are garbage
    // until the next collection, and the allocator keeps what it had (RSS does not go down).
    const held = phase === 'before HELLO' ? ATTACK_CONNECTIONS * (HEADER_BYTES + FIRST_FRAME_MAX_PAYLOAD_BYTES) : MAX_UNFINISHED_BYTES
    const bound = 2 * held + RSS_SLACK_BYTES
    t.diagnostic(`RSS ${(baseline / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB, ${(after / MiB).toFixed(0)} MiB after; bound +${(bound / MiB).toFixed(0)} MiB`)
    assert.ok(peak - baseline <= bound, `the collector grew by ${((peak - baseline) / MiB).toFixed(0)} MiB, more than ${(bound / MiB).toFixed(0)} MiB`)
    assert.ok(after - baseline <= bound, `after the connections went, the collector holds ${((after - baseline) / MiB).toFixed(0)} MiB more than before`)
    steady.logger.info('after the hogs')
    await steady.logger.flush()
    assert.match(collector.role('steady'), /after the hogs\n/)
    const fresh = await connectLogger({ socket: place.socket, name: 'Fresh', role: 'steady', heartbeatInterval: 0, format: '{message}' })
    fresh.info('a new client after the hogs')
    await fresh.close()
    assert.match(collector.role('steady'), /a new client after the hogs\n/)
    const reasons = phase === 'before HELLO' ? /over the limit of 65536/ : /unfinished frames|unfinished frame/
    assert.match(collector.log(), reasons, 'collector.log says why the connections were closed')
    await steady.logger.close()
    await collector.stop()
  })
}

test('a connection that sends nothing, half a HELLO, or half a frame after its HELLO is closed after frameTimeout, with the reason; an idle client that has said HELLO is not', async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  const idle = new CollectorClient({ socket: place.socket, name: 'Idle', role: 'idle', heartbeatInterval: 0, format: '{message}' })
  const idleLog = createLogger({ sinks: [idle] })
  await idle.connected()
  const started = Date.now()
  const silent = await rawConnect(place.socket)
  const halfHello = await rawConnect(place.socket)
  await halfHello.send(hello({ clientId: 'half' }).subarray(0, 20))
  const halfFrame = await rawConnect(place.socket)
  await halfFrame.send(Buffer.concat([hello({ clientId: 'half-frame', name: 'HalfFrame' }), logs(['never finished\n']).subarray(0, 30)]))
  await within(Promise.all([silent.closed, halfHello.closed, halfFrame.closed]), FRAME_TIMEOUT_MS + EVENT_TIMEOUT_MS, 'the three connections to be closed')
  const elapsed = Date.now() - started
  assert.ok(elapsed >= FRAME_TIMEOUT_MS - 50, `not before frameTimeout (${elapsed} ms)`)
  const log = collector.log()
  const unidentified = log.split('\n').filter((line) => line.includes(`closing the connection of an unidentified client: no HELLO within ${FRAME_TIMEOUT_MS} ms`))
  assert.equal(unidentified.length, 2, `two connections without a HELLO:\n${log}`)
  assert.match(log, new RegExp(`closing the connection of HalfFrame \\(pid \\d+\\): a frame unfinished for ${FRAME_TIMEOUT_MS} ms`))
  assert.ok(idle.stats.connected, 'the idle client is still connected')
  idleLog.info('still here after the others were closed')
  await idleLog.close()
  assert.equal(collector.role('idle'), 'still here after the others were closed\n')
  assert.doesNotMatch(collector.log(), /dead: Idle/)
  await collector.stop()
})

test('a frame of 6 MiB, which arrives in many reads, still goes through and is acknowledged', async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  const raw = await rawConnect(place.socket)
  // The logger cuts a message at 64 KiB; a frame this large is many records, or one from a client of its own.
  const record = `${'b'.repeat(6 * MiB)}\n`
  const frame = Buffer.concat([hello({ clientId: 'big', role: 'big' }), logs([record, 'after the big one\n'])])
  for (let at = 0; at < frame.length; at += 64 * 1024) await raw.send(frame.subarray(at, at + 64 * 1024))
  await waitUntil(() => raw.frames.some((reply) => reply.type === FrameType.ACK && reply.payload.readBigUInt64BE(0) === 2n), { timeoutMs: EVENT_TIMEOUT_MS, what: 'the acknowledgement of both records' })
  assert.ok(!raw.isClosed(), 'the connection is still open')
  raw.socket.end(encodeBye({ reason: 'close' }))
  await within(raw.closed, EVENT_TIMEOUT_MS, 'the connection to close')
  await collector.stop()
  const written = collector.role('big')
  assert.equal(written.length, record.length + 'after the big one\n'.length)
  assert.ok(written === `${record}after the big one\n`, 'both records, whole')
})

test('every record the collector writes ends with exactly one newline: from the socket (resent too), from a spool, from a ring', async (t) => {
  const place = await placeFor(t)
  mkdirSync(place.spool, { recursive: true, mode: 0o700 })
  const dead = deadPid()
  writeFileSync(join(place.spool, 'nl-spool.spool'), spoolBytes(['spooled without a newline', 'spooled with two\n\n']))
  const collector = await startCollectorProcess(t, place)
  const raw = await rawConnect(place.socket)
  await raw.send(Buffer.concat([
    hello({ clientId: 'nl', role: 'nl' }),
    logs(['one', 'two\n\n\n', 'three\n', '']),
    logs(['four'], 5, true),
    encodeBye({ reason: 'close' }),
  ]))
  raw.socket.end()
  await within(raw.closed, EVENT_TIMEOUT_MS, 'the connection to close')
  const spooler = await rawConnect(place.socket)
  await spooler.send(hello({ clientId: 'nl-spool', role: 'nlspool', pid: dead, spool: join(place.spool, 'nl-spool.spool') }))
  spooler.socket.destroy()
  await waitUntil(() => collector.log().includes('left in its spool'), { timeoutMs: EVENT_TIMEOUT_MS, what: 'the spool to be delivered' })
  if (addon) {
    makeRing(join(place.spool, 'nl-ring.ring'), ['ringed without a newline', 'ringed with two\n\n', 'ringed\n'])
    const ringer = await rawConnect(place.socket)
    await ringer.send(hello({ clientId: 'nl-ring', role: 'nlring', ring: join(place.spool, 'nl-ring.ring') }))
    await waitUntil(() => collector.role('nlring').includes('ringed\n'), { timeoutMs: EVENT_TIMEOUT_MS, what: 'the ring to be drained' })
    assert.equal(collector.role('nlring'), 'ringed without a newline\nringed with two\nringed\n')
    ringer.socket.destroy()
  }
  await collector.stop()
  assert.equal(collector.role('nl'), 'one\ntwo\nthree\n\nfour blackbox_resent=true blackbox_client=nl blackbox_seq=5\n')
  assert.equal(collector.role('nlspool'), 'spooled without a newline\nspooled with two\n')
})

test('a client id with a control character is refused (it goes into the marks of resent records, where a newline would forge a line)', async (t) => {
  const place = await placeFor(t)
  const collector = await startCollectorProcess(t, place)
  const raw = await rawConnect(place.socket)
  await raw.send(Buffer.concat([hello({ clientId: 'x\n2026-01-01 00:00:00.000 [1] [ERROR] forged', name: 'Forger', role: 'forged' }), logs(['a text record\n'], 1, true)]))
  await within(raw.closed, EVENT_TIMEOUT_MS, 'the collector to close the connection')
  await collector.stop()
  assert.equal(collector.role('forged'), '', 'nothing written for it')
  assert.match(collector.log(), /closing the connection of an unidentified client: the client id has control characters/)
})

test('close() settles within a bound while connections never say HELLO or never end their side', async (t) => {
  const place = await placeFor(t)
  const collector = await startCollector({ socket: place.socket, dir: place.logs, frameTimeout: 60_000 })
  const silent = await rawConnect(place.socket)
  const stubborn = await rawConnect(place.socket)
  await stubborn.send(hello({ clientId: 'stubborn', pid: deadPid() }))
  // This end never answers the collector's goodbye with its own: allowHalfOpen keeps it open.
  stubborn.socket.allowHalfOpen = true
  await waitUntil(() => collector.clients().some((client) => client.clientId === 'stubborn'), { timeoutMs: EVENT_TIMEOUT_MS, what: 'the HELLO to be read' })
  await within(collector.close(), EVENT_TIMEOUT_MS, 'close() to settle')
  await within(silent.closed, EVENT_TIMEOUT_MS, 'the silent connection to be closed')
  // The collector's end is gone: a write from this end fails, and closes it.
  stubborn.socket.write(Buffer.from('x'))
  await within(stubborn.closed, EVENT_TIMEOUT_MS, 'the stubborn connection to find the collector gone')
})

// ---------------------------------------------------------------------------------------
// Fuzzing

const FUZZ_RUNS = 40
const FUZZ_IDS = ['f0', 'f1', 'f2', 'f3'] as const
/** Client ids whose spool-folder entries the test may write (f0 and f1 are links to canaries outside). */
const WRITABLE_IDS = ['f2', 'f3'] as const

type Step =
  | { kind: 'hello'; hello: Omit<Hello, 'protocol'> }
  | { kind: 'logs'; texts: string[]; firstSeq: number; resent: boolean }
  | { kind: 'heartbeat' }
  | { kind: 'bye' }
  | { kind: 'frame'; type: number; payload: Uint8Array }
  | { kind: 'bytes'; bytes: Uint8Array }

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'truncate'; at: number } | { kind: 'repeat'; at: number; length: number }

interface FuzzConnection {
  steps: Step[]
  mutation: Mutation | null
  cuts: number[]
  ending: 'end' | 'destroy'
  /** Written into the spool folder before connecting: a spool of f2/f3 (random bytes, or frames), or a description for the close-time scan. */
  prepare: { id: (typeof WRITABLE_IDS)[number]; spool: Uint8Array | null; description: Omit<Hello, 'protocol'> | null } | null
}

function encodeStep(step: Step): Buffer {
  switch (step.kind) {
    case 'hello':
      return encodeHello(step.hello)
    case 'logs':
      return logs(step.texts, step.firstSeq, step.resent)
    case 'heartbeat':
      return encodeHeartbeat({ next: Date.now() + 60_000, uptimeS: 1, rssBytes: 1, heapUsedBytes: 1, loopDelayMs: 0 })
    case 'bye':
      return encodeBye({ reason: 'fuzz' })
    case 'frame':
      return encodeFrame(step.type as FrameType, Buffer.from(step.payload))
    case 'bytes':
      return Buffer.from(step.bytes)
  }
}

function mutate(bytes: Buffer, mutation: Mutation | null): Buffer {
  if (!mutation || bytes.length === 0) return bytes
  const at = mutation.at % bytes.length
  switch (mutation.kind) {
    case 'flip': {
      const copy = Buffer.from(bytes)
      copy[at] = (copy[at] as number) ^ (1 << mutation.bit)
      return copy
    }
    case 'truncate':
      return bytes.subarray(0, at)
    case 'repeat':
      return Buffer.concat([bytes.subarray(0, at + mutation.length), bytes.subarray(at)])
  }
}


test(`fuzz (${FUZZ_RUNS} runs): random and mutated frames, HELLOs with random paths: the collector stays up, touches nothing outside its folders, and its memory stays bounded`, { skip: NO_PROC }, async (t) => {
  const place = await placeFor(t)
  mkdirSync(place.spool, { recursive: true, mode: 0o700 })
  mkdirSync(place.outside)
  mkdirSync(place.logs)
  const dead = deadPid()
  const canaries: string[] = [join(place.outside, 'canary.txt'), join(place.outside, 'canary-link'), join(place.logs, 'keep.spool')]
  writeFileSync(join(place.outside, 'canary.txt'), 'a file of the user')
  symlinkSync(join(place.outside, 'canary.txt'), join(place.outside, 'canary-link'))
  writeFileSync(join(place.logs, 'keep.spool'), spoolBytes(['victim in the log folder\n']))
  for (const id of FUZZ_IDS) {
    writeFileSync(join(place.outside, `${id}.spool`), spoolBytes([`victim spool of ${id}\n`]))
    if (addon) makeRing(join(place.outside, `${id}.ring`), [`victim ring of ${id}\n`])
    else writeFileSync(join(place.outside, `${id}.ring`), 'canary ring')
    writeFileSync(join(place.outside, `${id}.bye`), 'canary goodbye')
    writeFileSync(join(place.outside, `${id}.hello.json`), JSON.stringify({ clientId: id, pid: dead, name: id, role: 'worker', protocol: 1, startTime: 0, lastSeq: 0, spool: join(place.outside, `${id}.spool`) }))
    canaries.push(...['spool', 'ring', 'bye', 'hello.json'].map((ext) => join(place.outside, `${id}.${ext}`)))
  }
  for (const ext of ['spool', 'ring', 'bye', 'hello.json']) symlinkSync(join(place.outside, `f0.${ext}`), join(place.spool, `f0.${ext}`))
  for (const ext of ['spool', 'ring']) linkSync(join(place.outside, `f1.${ext}`), join(place.spool, `f1.${ext}`))
  symlinkSync(place.outside, join(place.spool, 'out'))
  const before = fingerprints(canaries)
  const outsideBefore = tree(place.outside)

  const collector = await startCollectorProcess(t, place)
  const steady = await warmedUp(place, 'Steady')
  const baseline = collector.rssBytes()
  let peak = baseline

  const pathFor = (id: string): fc.Arbitrary<string> =>
    fc.oneof(
      fc.constantFrom(
        join(place.outside, `${id}.spool`),
        join(place.outside, `${id}.ring`),
        join(place.spool, `${id}.spool`),
        join(place.spool, `${id}.ring`),
        join(place.spool, 'out', `${id}.spool`),
        join(place.spool, '..', '..', 'outside', `${id}.spool`),
        relative(process.cwd(), join(place.outside, `${id}.spool`)),
        `${id}.spool`,
        join(place.outside, 'canary.txt'),
        join(place.outside, 'canary-link'),
        join(place.logs, 'keep.spool'),
        place.spool,
        place.outside,
        '',
      ),
      fc.string({ unit: 'binary', maxLength: 30 }),
    )
  const helloArb: fc.Arbitrary<Omit<Hello, 'protocol'>> = fc.oneof(fc.constantFrom<string>(...FUZZ_IDS), fc.string({ unit: 'binary', maxLength: 12 })).chain((clientId) =>
    fc.record(
      {
        clientId: fc.constant(clientId),
        pid: fc.constantFrom(dead, process.pid, 0, -1, 2 ** 31 + 5),
        name: fc.oneof(fc.constant(clientId), fc.string({ unit: 'binary', maxLength: 12 })),
        role: fc.constantFrom('worker', 'fuzz', '../escape', 'a/b', ''),
        startTime: fc.integer(),
        lastSeq: fc.nat(),
        heartbeatInterval: fc.nat({ max: 100_000 }),
        spool: pathFor(clientId),
        ring: pathFor(clientId),
      },
      { requiredKeys: ['clientId', 'pid', 'name', 'role', 'startTime', 'lastSeq'] },
    ),
  )
  const anyString = (maxLength: number): fc.Arbitrary<string> => fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }))
  const text = fc.oneof(anyString(40), anyString(40).map((s) => `${s}\n`), fc.constantFrom('', '\n', '\n\n', 'no newline'))
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: helloArb.map((h) => ({ kind: 'hello' as const, hello: h })) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('logs' as const), texts: fc.array(text, { maxLength: 4 }), firstSeq: fc.nat({ max: 1000 }), resent: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'heartbeat' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'bye' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('frame' as const), type: fc.integer({ min: 0, max: 8 }), payload: fc.uint8Array({ maxLength: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
  )
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  )
  const connectionArb: fc.Arbitrary<FuzzConnection> = fc.record({
    steps: fc.tuple(helloArb, fc.array(stepArb, { maxLength: 5 }), fc.boolean()).map(([first, rest, withHello]) => (withHello ? [{ kind: 'hello' as const, hello: first }, ...rest] : rest)),
    mutation: fc.option(mutationArb, { freq: 3 }),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    ending: fc.constantFrom('end' as const, 'destroy' as const),
    prepare: fc.option(fc.record({ id: fc.constantFrom(...WRITABLE_IDS), spool: fc.option(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.array(text, { maxLength: 3 }).map((texts) => new Uint8Array(spoolBytes(texts))))), description: fc.option(helloArb) }), { freq: 3 }),
  })

  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.array(connectionArb, { minLength: 1, maxLength: 3 }), async (connections) => {
      run++
      for (const connection of connections) {
        const prepare = connection.prepare
        if (prepare?.spool) writeFileSync(join(place.spool, `${prepare.id}.spool`), prepare.spool)
        if (prepare?.description) writeFileSync(join(place.spool, `${prepare.id}.hello.json`), JSON.stringify({ ...prepare.description, protocol: 1 }))
        const raw = await rawConnect(place.socket)
        for (const chunk of splitBytes(mutate(Buffer.concat(connection.steps.map(encodeStep)), connection.mutation), connection.cuts).filter((piece) => piece.length > 0)) await raw.send(chunk)
        if (connection.ending === 'end') raw.socket.end()
        else raw.socket.destroy()
        await within(raw.closed, FRAME_TIMEOUT_MS + EVENT_TIMEOUT_MS, 'a fuzzed connection to close')
      }
      const down = exitedReason(collector.handle)
      assert.equal(down, undefined, 'the collector is still running')
      steady.logger.info(`after fuzz run ${run}`)
      await steady.logger.flush()
      assert.ok(collector.role('steady').includes(`after fuzz run ${run}\n`), 'a well-behaved client still logs through it')
      const rss = collector.rssBytes()
      peak = Math.max(peak, rss)
      assert.ok(rss - baseline <= MAX_UNFINISHED_BYTES + RSS_SLACK_BYTES, `the collector grew by ${((rss - baseline) / MiB).toFixed(0)} MiB`)
      assert.deepEqual(fingerprints(canaries), before, 'every file outside the collector’s folders is as it was')
    }),
    { numRuns: FUZZ_RUNS },
  )
  await steady.logger.close()
  // Closing reads every spool description left in the spool folder (the fuzz wrote some).
  await collector.stop()
  t.diagnostic(`RSS ${(baseline / MiB).toFixed(0)} MiB after warm-up, ${(peak / MiB).toFixed(0)} MiB at most during the fuzz`)
  assert.deepEqual(fingerprints(canaries), before, 'every file outside the collector’s folders is as it was, after its close')
  assert.deepEqual(tree(place.outside), outsideBefore, 'nothing was added to or removed from the folder outside')
  assert.deepEqual(readdirSync(place.base).sort(), ['logs', 'outside', 'run'], 'nothing was made beside the collector’s folders')
  for (const name of readdirSync(place.logs)) {
    if (!name.endsWith('.log') || name === 'collector.log') continue
    const content = readFileSync(join(place.logs, name), 'utf8')
    assert.ok(content === '' || content.endsWith('\n'), `${name} ends with a newline`)
  }
})
