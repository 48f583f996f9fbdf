// What one progress.complete() costs as the checkpoint grows: 10k, 100k and 1M items.
// Each size is a fresh run in a temporary folder, completing `sym0`, `sym1`, … in one loop.
//   npm run build && node bench/progress-checkpoint.mjs           # 10k, 100k, 1M
//   BENCH_SIZES=10000,100000 node bench/progress-checkpoint.mjs   # other sizes
// Each size runs BENCH_RUNS times (default 3). Prints a Markdown table of medians on stdout:
//   µs/complete, all      the whole loop ÷ N: every JSON rewrite included, amortized
//   µs/complete, last 10k the last 10,000 calls only: the cost at that size, flat if the
//                         update cost does not grow with the checkpoint
//   slowest call          the longest single complete(): one that rewrote the JSON file
//   rewrites              how many times the JSON file was rewritten during the loop
//   finish ms             finish(): the last rewrite of N items, and the status
//   resume ms             createProgress() of the same run id: loading N items
//   JSON MB               the size of <runId>_completed.json
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createProgress } from '../dist/progress/index.js'

const WINDOW = 10_000
/** Each size is measured this many times; the table shows the median of each column. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number)

function countRewrites(path, state) {
  // The JSON file's `count` changes only when it is rewritten; looking at it costs a stat.
  const mtime = statSync(path).mtimeMs
  if (mtime !== state.mtime) {
    state.mtime = mtime
    state.rewrites++
  }
}

function measure(size) {
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-bench-progress-'))
  try {
    const progress = createProgress({ dir, runId: 'bench', total: size, statusInterval: 1000 })
    const json = join(dir, 'checkpoints', 'bench_completed.json')
    const items = Array.from({ length: size }, (_, i) => `sym${i}`)
    const rewrites = { mtime: statSync(json).mtimeMs, rewrites: 0 }
    let slowest = 0
    const start = process.hrtime.bigint()
    let windowStart = start
    for (let i = 0; i < size; i++) {
      if (i === size - WINDOW) windowStart = process.hrtime.bigint()
      const before = process.hrtime.bigint()
      progress.complete(items[i])
      const took = Number(process.hrtime.bigint() - before)
      if (took > slowest) {
        slowest = took
        countRewrites(json, rewrites)
      } else if (took > 1_000_000) {
        countRewrites(json, rewrites)
      }
    }
    const end = process.hrtime.bigint()
    const finishStart = process.hrtime.bigint()
    progress.finish()
    const finishMs = Number(process.hrtime.bigint() - finishStart) / 1e6
    const jsonMb = statSync(json).size / 1e6
    const resumeStart = process.hrtime.bigint()
    const resumed = createProgress({ dir, runId: 'bench', total: size })
    const resumeMs = Number(process.hrtime.bigint() - resumeStart) / 1e6
    if (resumed.completed !== size) throw new Error(`resumed with ${resumed.completed} items, expected ${size}`)
    resumed.finish()
    const parsed = JSON.parse(readFileSync(json, 'utf8'))
    if (parsed.items.length !== size) throw new Error(`the JSON file holds ${parsed.items.length} items, expected ${size}`)
    return {
      size,
      allUs: Number(end - start) / 1e3 / size,
      windowUs: Number(end - windowStart) / 1e3 / Math.min(WINDOW, size),
      slowestMs: slowest / 1e6,
      rewrites: rewrites.rewrites,
      finishMs,
      resumeMs,
      jsonMb,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Each column's median over the runs. */
function median(runs) {
  const middle = (key) => runs.map((run) => run[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
  return Object.fromEntries(Object.keys(runs[0]).map((key) => [key, middle(key)]))
}

// A first, unreported run, so that the first size is not the one that pays for the JIT.
measure(20_000)
const rows = []
for (const size of sizes) {
  const runs = []
  for (let run = 1; run <= RUNS; run++) {
    process.stderr.write(`complete() × ${size.toLocaleString('en-US')}, run ${run} of ${RUNS}…\n`)
    runs.push(measure(size))
  }
  rows.push(median(runs))
}
const fixed = (value, digits) => value.toFixed(digits)
process.stdout.write(
  [
    `Node ${process.version} · ${process.platform} · \`node bench/progress-checkpoint.mjs\` · median of ${RUNS} runs per size`,
    '',
    '| items | µs/complete, all | µs/complete, last 10k | slowest call ms | rewrites | finish ms | resume ms | JSON MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((row) =>
      `| ${row.size.toLocaleString('en-US')} | ${fixed(row.allUs, 2)} | ${fixed(row.windowUs, 2)} | ${fixed(row.slowestMs, 1)} | ${row.rewrites} | ${fixed(row.finishMs, 1)} | ${fixed(row.resumeMs, 1)} | ${fixed(row.jsonMb, 1)} |`,
    ),
    '',
  ].join('\n'),
)
