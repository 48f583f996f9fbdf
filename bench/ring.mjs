// durability 'ring' against pino, in one run (issue 10). Two tables:
//   1. cost per record, end to end (JSON formatting included, from the first call until the
//      file is complete and closed), and the cost of the calls alone;
//   2. SIGKILL torture: a tight loop killed at a random moment, the ring recovered as the
//      next run would, then every record whose call had returned checked: lost, torn, twice.
// Usage: npm run build && node bench/ring.mjs        (BENCH_RECORDS, BENCH_KILLS to change N)
// Each measurement is a fresh child process (this file with `child …` arguments).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, existsSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openPino } from './contenders.mjs'

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000)
const RUNS = 3
const KILLS = Number(process.env.BENCH_KILLS ?? 50)
/** A yielding loop gives the event loop (and the drain) a turn every this many records. */
const YIELD_EVERY_RECORDS = 50
const LOOPS = ['tight', 'yield']
const REPORT_EVERY_RECORDS = 100
/** The pause before each measured run, after sync(1). */
const SETTLE_MS = 300
const MESSAGE = 'request handled'
const SELF = fileURLToPath(import.meta.url)

async function openRing(path) {
  const { createLogger } = await import('../dist/index.js')
  const { ringFileSink, RingFileSink } = await import('../dist/ring/ring-sink.js')
  const sink = ringFileSink({ path, format: 'json' })
  if (!(sink instanceof RingFileSink)) throw new Error('the ring addon is not built: run `node scripts/build-addon.mjs`')
  await sink.ready
  const log = createLogger({ sinks: [sink] })
  return { log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE), finish: () => log.close() }
}

async function openSync_(path) {
  const { createLogger, fileSink } = await import('../dist/index.js')
  const log = createLogger({ sinks: [fileSink({ path, format: 'json', durability: 'sync' })] })
  return { log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE), finish: () => log.close() }
}

const CONTENDERS = new Map([
  ['ring', { label: 'blackbox ring (json)', open: openRing }],
  ['sync', { label: 'blackbox sync (json)', open: openSync_ }],
  ['pino-sync', { label: 'pino sync', open: (path) => openPino(path, true) }],
  ['pino-async', { label: 'pino async', open: (path) => openPino(path, false) }],
])

/** sync(1): the page cache's dirty pages go to disk now, not during the next measured run. */
function settle() {
  spawnSync('sync', { stdio: 'ignore' })
}

function countLines(path) {
  const text = readFileSync(path)
  let lines = 0
  for (let at = text.indexOf(10); at !== -1; at = text.indexOf(10, at + 1)) lines++
  return lines
}

async function childThroughput(id, path) {
  const { log, finish } = await CONTENDERS.get(id).open(path)
  const start = performance.now()
  for (let i = 0; i < RECORDS; i++) log(i)
  const called = performance.now()
  await finish()
  const end = performance.now()
  process.stdout.write(JSON.stringify({ callMs: called - start, totalMs: end - start, lines: countLines(path) }))
}

async function childKill(path, sidePath, loop) {
  const { log } = await CONTENDERS.get('ring').open(path)
  const side = openSync(sidePath, 'w')
  writeSync(side, 'ready\n')
  for (let i = 0; ; ) {
    log(i)
    i++
    if (i % REPORT_EVERY_RECORDS === 0) writeSync(side, `${i}\n`)
    if (loop === 'yield' && i % YIELD_EVERY_RECORDS === 0) await new Promise((resolve) => setImmediate(resolve))
  }
}

function start(args) {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => { out += chunk })
  const done = new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, out }))
  })
  return { child, done }
}

const run = (args) => start(args).done

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function throughputTable(dir) {
  const results = new Map([...CONTENDERS.keys()].map((id) => [id, []]))
  const ids = [...CONTENDERS.keys()]
  for (let round = 0; round < RUNS; round++) {
    // Each round starts with another contender, and before each run the dirty pages of the
    // last one are written out and the machine gets a moment: no run pays for another's writeback.
    for (const id of [...ids.slice(round % ids.length), ...ids.slice(0, round % ids.length)]) {
      const path = join(dir, `${id}-${round}.log`)
      settle()
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
      const { code, out } = await run(['child-throughput', id, path])
      if (code !== 0) throw new Error(`${id} run ${round} exited with ${code}`)
      results.get(id).push(JSON.parse(out))
      process.stderr.write(`throughput ${id} round ${round + 1}/${RUNS} done\n`)
    }
  }
  const row = (id) => {
    const runs = results.get(id)
    return { total: (median(runs.map((r) => r.totalMs)) * 1e6) / RECORDS, call: (median(runs.map((r) => r.callMs)) * 1e6) / RECORDS, lines: runs.every((r) => r.lines === RECORDS) }
  }
  const pinoSync = row('pino-sync').total
  const pinoAsync = row('pino-async').total
  const lines = [
    `## Cost per record: ${fmt(RECORDS)} records to a file (median of ${RUNS} runs)`,
    '',
    '| logger | ns/record end to end | ns/record in the calls | ÷ pino sync | ÷ pino async | lines |',
    '| :--- | ---: | ---: | ---: | ---: | :--- |',
  ]
  for (const [id, { label }] of CONTENDERS) {
    const r = row(id)
    lines.push(`| ${label} | ${fmt(r.total)} | ${fmt(r.call)} | ${fmt(r.total / pinoSync, 2)} | ${fmt(r.total / pinoAsync, 2)} | ${r.lines ? '✓' : '✗'} |`)
  }
  const ring = row('ring').total
  lines.push('', `Targets: ring ≤ 0.4 × pino sync (${fmt(0.4 * pinoSync)} ns): ${ring <= 0.4 * pinoSync ? 'met' : 'MISSED'} (${fmt(ring / pinoSync, 2)}×); ring < pino async (${fmt(pinoAsync)} ns): ${ring < pinoAsync ? 'met' : 'MISSED'}.`)
  return lines.join('\n')
}

async function killRows(dir, loop) {
  const { recoverRing } = await import('../dist/ring/recover.js')
  const rows = []
  for (let k = 0; k < KILLS; k++) {
    const path = join(dir, `kill-${loop}-${k}.log`)
    const side = join(dir, `kill-${loop}-${k}.side`)
    const delay = 300 + Math.floor(Math.random() * 500)
    const { child, done } = start(['child-kill', path, side, loop])
    const started = Date.now()
    while (!(existsSync(side) && readFileSync(side, 'utf8').startsWith('ready'))) {
      if (Date.now() - started > 15_000) throw new Error('the kill child did not start')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    child.kill('SIGKILL')
    const end = await done
    if (end.signal !== 'SIGKILL') throw new Error(`kill child ended with ${end.code}/${end.signal}`)
    const returned = Math.max(0, ...readFileSync(side, 'utf8').split('\n').filter((l) => /^\d+$/.test(l)).map(Number))
    const recovered = recoverRing(`${path}.ring`)
    const text = readFileSync(path, 'utf8')
    const parts = text.split('\n')
    const tail = parts.pop()
    let torn = tail === '' ? 0 : 1
    const seen = new Map()
    for (const line of parts) {
      let record
      try {
        record = JSON.parse(line)
      } catch {
        torn++
        continue
      }
      seen.set(record.i, (seen.get(record.i) ?? 0) + 1)
    }
    let lost = 0
    let twice = 0
    for (let i = 0; i < returned; i++) if (!seen.has(i)) lost++
    for (const count of seen.values()) if (count > 1) twice += count - 1
    let order = true
    const indices = parts.map((line) => { try { return JSON.parse(line).i } catch { return -1 } })
    for (let i = 0; i < indices.length; i++) if (indices[i] !== i) { order = false; break }
    rows.push({ returned, recovered: recovered.records, lost, torn, twice, order })
    process.stderr.write(`kill ${loop} ${k + 1}/${KILLS}: ${returned} returned, ${recovered.records} recovered from the ring, lost ${lost}, torn ${torn}, twice ${twice}\n`)
  }
  return rows
}

async function killTable(dir) {
  const lines = [
    `## SIGKILL torture: ${KILLS} runs of each loop killed 300–800 ms in, recovered as the next run does`,
    '',
    '| loop | runs | calls returned (median) | recovered from the ring (median) | lost | torn | written twice | in order |',
    '| :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- |',
  ]
  for (const loop of LOOPS) {
    const rows = await killRows(dir, loop)
    const sum = (key) => rows.reduce((total, row) => total + row[key], 0)
    lines.push(`| ${loop === 'tight' ? 'tight (never yields)' : `yielding every ${YIELD_EVERY_RECORDS} records`} | ${KILLS} | ${fmt(median(rows.map((r) => r.returned)))} | ${fmt(median(rows.map((r) => r.recovered)))} | ${sum('lost')} | ${sum('torn')} | ${sum('twice')} | ${rows.every((r) => r.order) ? '✓' : '✗'} |`)
  }
  return lines.join('\n')
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'child-throughput') await childThroughput(rest[0], rest[1])
else if (mode === 'child-kill') await childKill(rest[0], rest[1], rest[2])
else {
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-bench-ring-'))
  try {
    const header = `Node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} · ${cpus().length} cores · \`node bench/ring.mjs\``
    const first = await throughputTable(dir)
    const second = await killTable(dir)
    process.stdout.write(`${header}\n\n${first}\n\n${second}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
