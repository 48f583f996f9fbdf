// Start-up cost (issue #18): importing each logger over bare `node`, and the `blackbox`
// command's start against `node -e 0`. Every contender runs in fresh processes, taken in
// turns so that none pays for the machine's state more than another; the table shows the
// median wall time of STARTUP_RUNS runs and the ratio to the baseline of its group.
// Usage: npm run bench:startup (after npm run build), or STARTUP_RUNS=11 for a steadier run.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fixed, median, table } from './markdown.mjs'
import { machineLine, progress } from './settings.mjs'

const RUNS = Number(process.env['STARTUP_RUNS'] ?? 7)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'dist/cli/main.js')
const emptyDir = mkdtempSync(join(tmpdir(), 'blackbox-startup-'))

/** Each group: a baseline and what is compared with it, as node arguments run in the repository. */
const GROUPS = [
  {
    title: 'import of the package',
    baseline: ['bare node', ['-e', '0']],
    contenders: [
      ['blackbox-log', ['--input-type=module', '-e', "await import('./dist/index.js')"]],
      ['pino', ['-e', "require('pino')"]],
      ['winston', ['-e', "require('winston')"]],
      ['bunyan', ['-e', "require('bunyan')"]],
    ],
  },
  {
    title: 'the command line',
    baseline: ['node -e 0', ['-e', '0']],
    contenders: [
      ['blackbox --version', [CLI, '--version']],
      ['blackbox ls (no runs)', [CLI, 'ls', '--dir', emptyDir]],
    ],
  },
]

function wallMs(args) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' })
  if (result.error) throw result.error
  return Number(process.hrtime.bigint() - started) / 1e6
}

try {
  const lines = [machineLine(process.env['npm_lifecycle_event'] === 'bench:startup' ? 'npm run bench:startup' : 'node bench/startup.mjs'), '']
  for (const group of GROUPS) {
    const all = [group.baseline, ...group.contenders]
    const times = all.map(() => [])
    for (let run = 0; run < RUNS; run++) {
      progress(`${group.title}: run ${run + 1} of ${RUNS}`)
      // A different order each run: no contender always follows the same one.
      const order = all.map((_, index) => (index + run) % all.length)
      for (const index of order) times[index].push(wallMs(all[index][1]))
    }
    const base = median(times[0])
    // For imports, the cost over bare node; for the command line, the whole start against node -e 0.
    const over = group.title.startsWith('import')
    const rows = all.map(([name], index) => {
      const ms = median(times[index])
      const cost = over ? ms - base : ms
      const ratio = index === 0 ? '' : over ? fixed(cost / Math.max(1, median(times[2]) - base), 2) : fixed(ms / base, 2)
      return [name, fixed(ms, 0), over && index > 0 ? fixed(cost, 0) : '', ratio]
    })
    const headers = over ? ['', 'ms', 'ms over bare node', 'ratio to pino'] : ['', 'ms', '', 'ratio to node -e 0']
    lines.push(`### ${group.title} (median of ${RUNS})`, '', table(headers, rows, ['l', 'r', 'r', 'r']), '')
  }
  process.stdout.write(`${lines.join('\n')}\n`)
} finally {
  rmSync(emptyDir, { recursive: true, force: true })
}
