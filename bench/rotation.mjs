// Measures what rotation costs: each logger with and without rotation every 1 MB, each run
// in a fresh child process writing to a folder of its own, then every record counted across
// the current file and all backups. Prints a Markdown table and writes it to bench/ROTATION.md.
// Usage: npm run bench:rotation, or BENCH_RECORDS=100000 npm run bench:rotation for a quick run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runWorker, withScratchDir } from './child-processes.mjs'
import { fixed, integer, median, table } from './markdown.mjs'
import { tallyRecords } from './output-files.mjs'
import { REFERENCE, ROTATION_CONTENDERS } from './rotation-contenders.mjs'
import { commandLine, machineLine, progress, recordsFromEnv } from './settings.mjs'

const DEFAULT_RECORDS = 500_000
const RUNS = 3
const CHILD_TIMEOUT_MS = 120_000

const WORKER = fileURLToPath(new URL('./workers/rotation.mjs', import.meta.url))
const RESULTS_PATH = fileURLToPath(new URL('./ROTATION.md', import.meta.url))

async function measure(id, dir, records) {
  mkdirSync(dir)
  const measured = await runWorker({
    id,
    script: WORKER,
    args: [id, dir, String(records)],
    timeoutMs: CHILD_TIMEOUT_MS,
    what: `The ${id} rotation worker (CHILD_TIMEOUT_MS)`,
  })
  return { ...measured, atExit: tallyRecords(dir, records) }
}

function filesCell(runs) {
  const cells = runs.map(({ atExit: { files, gzipped } }) => (gzipped > 0 ? `${integer(files)} (${integer(gzipped)} .gz)` : integer(files)))
  return new Set(cells).size === 1 ? cells[0] : cells.join(', ')
}

function faults({ missing, extra, strays }) {
  return [[missing, 'missing'], [extra, 'extra copies'], [strays, 'lines not a whole record']]
    .filter(([count]) => count > 0)
    .map(([count, what]) => `${integer(count)} ${what}`)
    .join(', ')
}

function recordsCell(runs) {
  const bad = []
  runs.forEach((run, index) => {
    const atFinish = faults(run.atFinish)
    const atExit = faults(run.atExit)
    if (atFinish === '' && atExit === '') return
    bad.push(atFinish === atExit ? `run ${index + 1}: ${atExit}` : `run ${index + 1}: ${atFinish || 'none'} at finish, ${atExit || 'none'} at exit`)
  })
  return bad.length === 0 ? '✓' : `✗ ${bad.join('; ')}`
}

function rotationTable(results, records) {
  const nsPerRecord = (id) => median(results.get(id).map((run) => run.totalNs / records))
  const rate = (id) => 1e9 / nsPerRecord(id)
  const rows = [...ROTATION_CONTENDERS].map(([id, { label, rotation, baseline }]) => {
    const runs = results.get(id)
    return [
      label,
      rotation,
      integer(nsPerRecord(id)),
      integer(rate(id)),
      fixed(median(runs.map((run) => run.finishNs / 1e6)), 1),
      filesCell(runs),
      fixed(median(runs.map((run) => run.atExit.largestBytes / 1e6)), 2),
      baseline === undefined ? '—' : `${fixed(rate(id) / rate(baseline), 2)}×`,
      `${fixed(rate(id) / rate(REFERENCE), 2)}×`,
      recordsCell(runs),
    ]
  })
  return table(
    ['logger', 'rotation', 'ns/record', 'records/s', 'finish ms', 'files', 'largest file MB', 'vs no rotation', `vs ${ROTATION_CONTENDERS.get(REFERENCE).label}`, `${integer(records)} records`],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'l'],
  )
}

async function main(dir) {
  const records = recordsFromEnv(DEFAULT_RECORDS)
  const ids = [...ROTATION_CONTENDERS.keys()]
  const machine = machineLine(commandLine('bench:rotation', 'rotation.mjs'))

  // Round-robin, so that a slow spell on a shared machine spreads over all contenders.
  const results = new Map(ids.map((id) => [id, []]))
  for (let round = 1; round <= RUNS; round++) {
    for (const id of ids) {
      const runDir = join(dir, `${id}-${round}`)
      const run = await measure(id, runDir, records)
      rmSync(runDir, { recursive: true, force: true })
      results.get(id).push(run)
      progress(`rotation ${round}/${RUNS} ${id}: ${integer(run.totalNs / records)} ns/record, ${integer(run.atExit.files)} files`)
    }
  }

  const markdown = [
    machine,
    '',
    `## Rotation every 1 MB: ${integer(records)} records, end to end (median of ${RUNS} runs)`,
    '',
    rotationTable(results, records),
    '',
    'From the first call until the logger has written everything and closed its file, and blackbox has compressed its backups. `finish ms` is the part after the last call returned.',
    'The loop never yields, so blackbox compresses every backup inside `close()`, after the last call; in a program that yields, compression overlaps the logging.',
    'pino-roll has no compression option: its backups stay plain text. It runs as a transport, in pino\'s worker thread, and rolls between the chunks thread-stream hands it,',
    'so its files grow past 1 MiB and a rotation can cut a record in two (one missing, one line not a whole record). `vs no rotation` compares it with pino sync.',
    'blackbox\'s `1 MB` is 10⁶ bytes, pino-roll\'s `1m` 2²⁰. `largest file MB` is uncompressed, in 10⁶ bytes.',
    '`records` ✓: every record is found exactly once, as a whole JSON line, across the current file and all backups (gunzipped), with no other line, when finish resolved and after the process exited, in every run.',
    '',
  ].join('\n')
  process.stdout.write(markdown)
  writeFileSync(RESULTS_PATH, markdown)
}

await withScratchDir('blackbox-bench-rotation-', main)
