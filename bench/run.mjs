// Runs every contender in fresh child processes, twice over: a throughput run of N records
// measured end to end, and a burst killed with SIGKILL to count the records it loses.
// Prints both tables as Markdown and writes them to bench/RESULTS.md.
// Usage: npm run bench, or BENCH_RECORDS=20000 npm run bench for a quick run.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { runWorker, startWorker, withScratchDir, withTimeout, workerFailure } from './child-processes.mjs'
import { CONTENDERS } from './contenders.mjs'
import { fixed, integer, median, table } from './markdown.mjs'
import { countLines, countRecordsBelow, lastReportedCount } from './output-files.mjs'
import { commandLine, machineLine, progress, recordsFromEnv } from './settings.mjs'

const DEFAULT_RECORDS = 200_000
const THROUGHPUT_RUNS = 3
const KILL_RUNS = 5
const KILL_DELAY_MIN_MS = 300
const KILL_DELAY_MAX_MS = 800
const READY_POLL_INTERVAL_MS = 5
const READY_TIMEOUT_MS = 20_000
const THROUGHPUT_CHILD_TIMEOUT_MS = 180_000
const KILLED_CHILD_EXIT_TIMEOUT_MS = 10_000

const THROUGHPUT_WORKER = fileURLToPath(new URL('./workers/throughput.mjs', import.meta.url))
const KILL_WORKER = fileURLToPath(new URL('./workers/kill.mjs', import.meta.url))
const RESULTS_PATH = fileURLToPath(new URL('./RESULTS.md', import.meta.url))

async function measureThroughput(id, path, records) {
  const measured = await runWorker({
    id,
    script: THROUGHPUT_WORKER,
    args: [id, path, String(records)],
    timeoutMs: THROUGHPUT_CHILD_TIMEOUT_MS,
    what: `The ${id} throughput worker (THROUGHPUT_CHILD_TIMEOUT_MS)`,
  })
  return { ...measured, linesAtExit: countLines(path) }
}

async function waitUntilReady(sidePath, exited, id) {
  let ended
  exited.then((result) => { ended = result }, () => {})
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (existsSync(sidePath) && readFileSync(sidePath, 'utf8').startsWith('ready\n')) return
    if (ended !== undefined) throw workerFailure(id, ended)
    if (Date.now() > deadline) throw new Error(`The ${id} kill worker was not ready after READY_TIMEOUT_MS (${READY_TIMEOUT_MS} ms)`)
    await sleep(READY_POLL_INTERVAL_MS)
  }
}

async function measureLoss(id, path, sidePath) {
  const { child, exited } = startWorker(KILL_WORKER, [id, path, sidePath])
  try {
    await waitUntilReady(sidePath, exited, id)
    await sleep(KILL_DELAY_MIN_MS + Math.random() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS))
  } finally {
    child.kill('SIGKILL')
  }
  const result = await withTimeout(exited, KILLED_CHILD_EXIT_TIMEOUT_MS, `The killed ${id} worker's exit (KILLED_CHILD_EXIT_TIMEOUT_MS)`)
  if (result.signal !== 'SIGKILL') throw workerFailure(id, result)
  const returned = lastReportedCount(sidePath)
  const found = existsSync(path) ? countRecordsBelow(path, returned) : 0
  return { returned, lost: returned - found }
}

function throughputTable(results, records) {
  const rate = (id) => 1e9 / median(results.get(id).map((run) => run.totalNs / records))
  const pinoSync = rate('pino-sync')
  const pinoAsync = rate('pino-async')
  const rows = [...CONTENDERS].map(([id, { label }]) => {
    const runs = results.get(id)
    const nsPerRecord = median(runs.map((run) => run.totalNs / records))
    const bad = runs.filter((run) => run.linesAtFinish !== records || run.linesAtExit !== records)
    const lines = bad.length === 0
      ? '✓'
      : `✗ ${bad.map((run) => `${integer(run.linesAtFinish)} at finish, ${integer(run.linesAtExit)} at exit`).join('; ')}`
    return [
      label,
      integer(nsPerRecord),
      integer(1e9 / nsPerRecord),
      fixed(median(runs.map((run) => run.finishNs / 1e6)), 1),
      fixed(median(runs.map((run) => run.maxRssKiB / 1024)), 1),
      `${fixed(1e9 / nsPerRecord / pinoSync, 2)}×`,
      `${fixed(1e9 / nsPerRecord / pinoAsync, 2)}×`,
      lines,
    ]
  })
  return table(
    ['logger', 'ns/record', 'records/s', 'finish ms', 'peak RSS MB', 'vs pino sync', 'vs pino async', `${integer(records)} lines`],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  )
}

function lossTable(results) {
  const rows = [...CONTENDERS].map(([id, { label }]) => {
    const runs = results.get(id)
    const percents = runs.filter((run) => run.returned > 0).map((run) => (100 * run.lost) / run.returned)
    return [
      label,
      integer(median(runs.map((run) => run.returned))),
      integer(median(runs.map((run) => run.lost))),
      percents.length === 0 ? '—' : `${fixed(median(percents), 1)} %`,
      runs.map((run) => integer(run.lost)).join(', '),
    ]
  })
  return table(
    ['logger', 'calls returned', 'lost', 'lost %', 'lost, each run'],
    rows,
    ['l', 'r', 'r', 'r', 'l'],
  )
}

async function main(dir) {
  const records = recordsFromEnv(DEFAULT_RECORDS)
  const ids = [...CONTENDERS.keys()]
  const machine = machineLine(commandLine('bench', 'run.mjs'))

  // Round-robin, so that a slow spell on a shared machine spreads over all contenders.
  const throughput = new Map(ids.map((id) => [id, []]))
  for (let round = 1; round <= THROUGHPUT_RUNS; round++) {
    for (const id of ids) {
      const path = join(dir, `throughput-${id}-${round}.log`)
      const run = await measureThroughput(id, path, records)
      rmSync(path, { force: true })
      throughput.get(id).push(run)
      progress(`throughput ${round}/${THROUGHPUT_RUNS} ${id}: ${integer(run.totalNs / records)} ns/record`)
    }
  }

  const loss = new Map(ids.map((id) => [id, []]))
  for (let round = 1; round <= KILL_RUNS; round++) {
    for (const id of ids) {
      const path = join(dir, `kill-${id}-${round}.log`)
      const sidePath = join(dir, `kill-${id}-${round}.side`)
      const run = await measureLoss(id, path, sidePath)
      rmSync(path, { force: true })
      rmSync(sidePath, { force: true })
      loss.get(id).push(run)
      progress(`SIGKILL ${round}/${KILL_RUNS} ${id}: ${integer(run.lost)} of ${integer(run.returned)} lost`)
    }
  }

  const markdown = [
    machine,
    '',
    `## Throughput: ${integer(records)} records to a file, end to end (median of ${THROUGHPUT_RUNS} runs)`,
    '',
    throughputTable(throughput, records),
    '',
    'From the first call until the logger has written everything and closed its file. `finish ms` is the part after the last call returned.',
    'Ratios are records/s ÷ pino\'s records/s: above 1× is faster than pino.',
    '',
    `## Records lost on SIGKILL mid-stream (median of ${KILL_RUNS} runs)`,
    '',
    lossTable(loss),
    '',
    `A loop that never yields is killed ${KILL_DELAY_MIN_MS}–${KILL_DELAY_MAX_MS} ms after it starts. Lost: calls that had returned whose record is not complete in the file.`,
    '',
  ].join('\n')
  process.stdout.write(markdown)
  writeFileSync(RESULTS_PATH, markdown)
}

await withScratchDir('blackbox-bench-', main)
