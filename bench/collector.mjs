// Measures many processes logging into one place: 1, 2 and 4 processes logging through
// blackbox's collector (sync and batched clients), beside the same number of processes
// logging with pino through its pino/file transport (a worker thread per process, all
// appending to one file). Every run is fresh processes; every record is counted afterwards.
// Prints a Markdown table and writes it to bench/COLLECTOR.md.
// Usage: npm run bench:collector, or BENCH_RECORDS=20000 npm run bench:collector for a quick run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { startWorker, withScratchDir, withTimeout, workerFailure } from './child-processes.mjs'
import { COLLECTOR_CONTENDERS, REFERENCE } from './collector-contenders.mjs'
import { fixed, integer, median, table } from './markdown.mjs'
import { tallyFiles } from './output-files.mjs'
import { commandLine, machineLine, progress, recordsFromEnv } from './settings.mjs'

const DEFAULT_RECORDS = 200_000
const PROCESS_COUNTS = [1, 2, 4]
const RUNS = 3
const READY_POLL_INTERVAL_MS = 5
const READY_TIMEOUT_MS = 20_000
const RUN_TIMEOUT_MS = 300_000
const COLLECTOR_STOP_TIMEOUT_MS = 30_000

const CLIENT_WORKER = fileURLToPath(new URL('./workers/collector-client.mjs', import.meta.url))
const COLLECTOR_WORKER = fileURLToPath(new URL('./workers/collector.mjs', import.meta.url))
const RESULTS_PATH = fileURLToPath(new URL('./COLLECTOR.md', import.meta.url))

/** startWorker(), plus what the worker has printed so far (for its "ready" line). */
function start(script, args, options) {
  const worker = startWorker(script, args, options)
  let printed = ''
  worker.child.stdout.on('data', (text) => { printed += text })
  let ended
  worker.exited.then((result) => { ended = result }, () => {})
  return { ...worker, printed: () => printed, ended: () => ended }
}

async function ready(worker, what) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!worker.printed().startsWith('ready\n')) {
    if (worker.ended() !== undefined) throw workerFailure(what, worker.ended())
    if (Date.now() > deadline) throw new Error(`The ${what} was not ready after READY_TIMEOUT_MS (${READY_TIMEOUT_MS} ms)`)
    await sleep(READY_POLL_INTERVAL_MS)
  }
}

/** The JSON line a worker printed after "ready". */
function report(result, what) {
  if (result.code !== 0) throw workerFailure(what, result)
  return JSON.parse(result.stdout.slice('ready\n'.length))
}

/** One run: `processes` processes of contender `id`, N records each, started together. */
async function measure(id, processes, records, runDir) {
  const contender = COLLECTOR_CONTENDERS.get(id)
  mkdirSync(runDir)
  const workers = []
  try {
    let target
    let output
    let collector
    if (contender.collector) {
      const logs = join(runDir, 'logs')
      target = join(runDir, 'run', 'collector.sock')
      output = join(logs, 'worker.log')
      collector = start(COLLECTOR_WORKER, [target, logs])
      workers.push(collector)
      await ready(collector, 'collector')
    } else {
      target = join(runDir, 'pino.log')
      output = target
    }
    const clients = []
    for (let n = 0; n < processes; n++) {
      // Process n logs i = n·N … n·N + N-1: every record of the run has its own number.
      const client = start(CLIENT_WORKER, [id, target, String(n * records), String(records)], { stdin: true })
      workers.push(client)
      clients.push(client)
    }
    for (const client of clients) await ready(client, `${id} client`)
    for (const client of clients) client.child.stdin.end('go\n')
    const results = await withTimeout(Promise.all(clients.map((client) => client.exited)), RUN_TIMEOUT_MS, `${processes} ${id} clients (RUN_TIMEOUT_MS)`)
    const timings = results.map((result) => report(result, `${id} client`))
    // Every finish() has resolved: the records must all be in the file now.
    const atFinish = tallyFiles([output], processes * records)
    let collectorRssKiB
    if (collector !== undefined) {
      collector.child.kill('SIGTERM')
      collectorRssKiB = report(await withTimeout(collector.exited, COLLECTOR_STOP_TIMEOUT_MS, 'the collector\'s close (COLLECTOR_STOP_TIMEOUT_MS)'), 'collector').maxRssKiB
    }
    const startMs = Math.min(...timings.map((timing) => timing.startMs))
    const endMs = Math.max(...timings.map((timing) => timing.endMs))
    return {
      wallMs: endMs - startMs,
      finishMs: endMs - Math.max(...timings.map((timing) => timing.loopEndMs)),
      clientRssKiB: Math.max(...timings.map((timing) => timing.maxRssKiB)),
      collectorRssKiB,
      atFinish,
    }
  } finally {
    for (const worker of workers) if (worker.ended() === undefined) worker.child.kill('SIGKILL')
  }
}

function faults({ missing, extra, strays }) {
  return [[missing, 'missing'], [extra, 'extra copies'], [strays, 'lines not a whole record']]
    .filter(([count]) => count > 0)
    .map(([count, what]) => `${integer(count)} ${what}`)
    .join(', ')
}

function recordsCell(runs) {
  const bad = runs.flatMap((run, index) => {
    const found = faults(run.atFinish)
    return found === '' ? [] : [`run ${index + 1}: ${found}`]
  })
  return bad.length === 0 ? '✓' : `✗ ${bad.join('; ')}`
}

function mb(kib) {
  return fixed((kib * 1024) / 1e6, 1)
}

function collectorTable(results, records) {
  const rate = (processes, id) => median(results.get(`${processes} ${id}`).map((run) => (processes * records) / (run.wallMs / 1000)))
  const rows = PROCESS_COUNTS.flatMap((processes) =>
    [...COLLECTOR_CONTENDERS].map(([id, { label, collector }]) => {
      const runs = results.get(`${processes} ${id}`)
      return [
        String(processes),
        label,
        integer(rate(processes, id)),
        integer(rate(processes, id) / processes),
        integer(median(runs.map((run) => run.wallMs))),
        integer(median(runs.map((run) => run.finishMs))),
        mb(median(runs.map((run) => run.clientRssKiB))),
        collector ? mb(median(runs.map((run) => run.collectorRssKiB))) : '—',
        `${fixed(rate(processes, id) / rate(processes, REFERENCE), 2)}×`,
        recordsCell(runs),
      ]
    }),
  )
  return table(
    ['processes', 'logger', 'records/s (all)', 'records/s per process', 'wall ms', 'finish ms', 'client peak RSS MB', 'collector peak RSS MB', `vs ${COLLECTOR_CONTENDERS.get(REFERENCE).label.split(',')[0]}`, `${integer(records)} records per process`],
    rows,
    ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  )
}

async function main(dir) {
  const records = recordsFromEnv(DEFAULT_RECORDS)
  const ids = [...COLLECTOR_CONTENDERS.keys()]
  const machine = machineLine(commandLine('bench:collector', 'collector.mjs'))

  // Round-robin, so that a slow spell on a shared machine spreads over all of them.
  const results = new Map()
  for (let round = 1; round <= RUNS; round++) {
    for (const processes of PROCESS_COUNTS) {
      for (const id of ids) {
        const runDir = join(dir, `${id}-${processes}-${round}`)
        const run = await measure(id, processes, records, runDir)
        rmSync(runDir, { recursive: true, force: true })
        const key = `${processes} ${id}`
        if (!results.has(key)) results.set(key, [])
        results.get(key).push(run)
        progress(`collector ${round}/${RUNS} ${processes} × ${id}: ${integer((processes * records) / (run.wallMs / 1000))} records/s${faults(run.atFinish) === '' ? '' : ` (${faults(run.atFinish)})`}`)
      }
    }
  }

  const markdown = [
    machine,
    '',
    `## Many processes, one log: ${integer(records)} records per process, end to end (median of ${RUNS} runs)`,
    '',
    collectorTable(results, records),
    '',
    'Every process logs the same record in a plain loop, all processes starting together; the time runs from the first call of the first process until the last process\'s finish resolved:',
    'for blackbox, `close()` of the collector client, which waits until the collector has acknowledged every record, that is, written it to `worker.log`; for pino, the transport\'s `close` (its worker thread has written everything, closed the file and exited).',
    '`records/s (all)` is every process\'s records over that time. `finish ms` is the part after the last loop ended. The collector runs in a process of its own, writing one `worker.log` without rotation; each pino process writes the one shared file itself, appending.',
    '`records` ✓: when the last finish resolved, the output file held every record of every process exactly once, as a whole JSON line, and no other line, in every run.',
    '',
  ].join('\n')
  process.stdout.write(markdown)
  writeFileSync(RESULTS_PATH, markdown)
}

await withScratchDir('blackbox-bench-collector-', main)
