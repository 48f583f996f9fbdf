import { existsSync, readdirSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import picocolors from 'picocolors'
import { escapeInline } from '../core/format/escape.js'
import { DEFAULT_PROGRESS_DIR, STATUS_FILE_SUFFIX, STATUS_FOLDER, statusPathOf } from '../progress/names.js'
import { formatStatusLine, type LinePainter } from '../progress/status-line.js'
import { readStatus, type ProgressStatus } from '../progress/status.js'
import { shouldColour } from '../sinks/console.js'

/** How often the live view reads the status file again when `--interval` is not given. */
export const DEFAULT_REFRESH_MS = 1000

/** What `blackbox progress --help` prints. */
export const PROGRESS_USAGE = `Usage: blackbox progress [RUN] [--dir DIR] [--once] [--interval MS]

Shows a run's progress from its status file: a bar, items done of the total, rate, ETA,
the current item and batch, memory, and how long ago the file was written. Refreshes
until the run ends (completed or failed), or its process is found gone.

RUN is a run id (DIR/heartbeats/<RUN>_heartbeat.json) or the path of a status file;
default the most recently written status file under DIR/heartbeats/.

Options:
  --dir DIR        the log folder (default ${DEFAULT_PROGRESS_DIR})
  --once           print one line and exit
  --interval MS    how often the live view looks again (default ${DEFAULT_REFRESH_MS})

Exit status: 0 when the run completed (with --once: when the line was printed), 1 when it
failed, its process is gone or there is no status file, 2 for a wrong command line.
`

const EXIT_OK = 0
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The newest `*_heartbeat.json` under `<dir>/heartbeats/`, by modification time. */
function newestStatusFile(dir: string): string | undefined {
  const folder = join(dir, STATUS_FOLDER)
  let newest: { path: string; mtime: number } | undefined
  let names: string[]
  try {
    names = readdirSync(folder)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  for (const name of names) {
    if (!name.endsWith(STATUS_FILE_SUFFIX) || name.startsWith('.')) continue
    const path = join(folder, name)
    try {
      const mtime = statSync(path).mtimeMs
      if (newest === undefined || mtime > newest.mtime) newest = { path, mtime }
    } catch {
      // Gone between the listing and the look: not a candidate.
    }
  }
  return newest?.path
}

/** The status file RUN names: a run id under `<dir>/heartbeats/`, or a path. */
function statusFileOf(run: string | undefined, dir: string): string {
  if (run === undefined) {
    const newest = newestStatusFile(dir)
    if (newest === undefined) throw new Error(`no status files in ${join(dir, STATUS_FOLDER)}`)
    return newest
  }
  const looksLikePath = run.endsWith('.json') || run.includes('/') || run.includes('\\')
  const byRunId = statusPathOf(dir, run)
  if (!looksLikePath && existsSync(byRunId)) return byRunId
  if (existsSync(run)) return run
  throw new Error(`no status file for \`${run}\`: neither ${byRunId} nor a file of that name`)
}

/** False when the status names a process on this host that is not running; true when it is, or cannot be told. */
export function isProcessAlive(status: ProgressStatus): boolean {
  if (status.hostname !== hostname() || !Number.isInteger(status.pid) || status.pid <= 0) return true
  try {
    process.kill(status.pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

function painterFor(stream: NodeJS.WriteStream): LinePainter | undefined {
  if (!shouldColour(stream)) return undefined
  const c = picocolors.createColors(true)
  return { good: c.green, bad: c.red, dim: c.dim }
}

function parse(argv: readonly string[]): { run: string | undefined; dir: string; once: boolean; intervalMs: number } {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { dir: { type: 'string' }, once: { type: 'boolean' }, interval: { type: 'string' } },
      strict: true,
      allowPositionals: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) throw new UsageError(`Expected at most one RUN, got ${positionals.length}: ${positionals.join(' ')}`)
  let intervalMs = DEFAULT_REFRESH_MS
  if (values.interval !== undefined) {
    if (!/^\d+$/.test(values.interval) || Number(values.interval) < 1) throw new UsageError(`Expected \`--interval\` to be a positive integer of ms, got \`${values.interval}\` (string)`)
    intervalMs = Number(values.interval)
  }
  return { run: positionals[0], dir: values.dir ?? DEFAULT_PROGRESS_DIR, once: values.once ?? false, intervalMs }
}

const ANSI = /\u001b\[[0-9;]*m/g

/** A line redrawn in place must not wrap, or `\r` no longer goes back to its start. */
function fitTo(line: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2) return line
  const plain = line.replace(ANSI, '')
  return plain.length < columns ? line : `${plain.slice(0, columns - 2)}…`
}

/** Follows the status file until the run ends; the exit code says how it ended. */
async function follow(path: string, intervalMs: number, painter: LinePainter | undefined): Promise<number> {
  const out = process.stdout
  // On a terminal the line is redrawn in place; elsewhere (a pipe, a file) a line is
  // printed only when the status changed, so the output stays a readable log.
  const inPlace = out.isTTY === true
  let lastPrinted = ''
  for (;;) {
    const status = readStatus(path)
    const alive = isProcessAlive(status)
    const line = formatStatusLine(status, { alive, ...(painter === undefined ? {} : { painter }) })
    const ended = status.status !== 'running' || !alive
    if (inPlace) out.write(`\r\u001b[2K${fitTo(line, out.columns)}${ended ? '\n' : ''}`)
    else if (ended || status.updated_at !== lastPrinted) out.write(`${line}\n`)
    lastPrinted = status.updated_at
    if (ended) return status.status === 'completed' ? EXIT_OK : EXIT_FAILURE
    await sleep(intervalMs)
  }
}

/**
 * `blackbox progress [RUN] [--dir DIR] [--once] [--interval MS]`: a live view of a run's
 * status file, or one line with `--once`. Resolves to the exit code; never throws.
 */
export async function progressCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(PROGRESS_USAGE)
    return EXIT_OK
  }
  try {
    const options = parse(argv)
    const path = statusFileOf(options.run, options.dir)
    const painter = painterFor(process.stdout)
    if (!options.once) return await follow(path, options.intervalMs, painter)
    const status = readStatus(path)
    process.stdout.write(`${formatStatusLine(status, { alive: isProcessAlive(status), ...(painter === undefined ? {} : { painter }) })}\n`)
    return EXIT_OK
  } catch (error) {
    // A message may quote the status file's name or content (JSON.parse quotes what it
    // could not read): its controls are escaped, as in the status line itself.
    if (error instanceof UsageError) {
      process.stderr.write(`blackbox progress: ${escapeInline(error.message)}\n\n${PROGRESS_USAGE}`)
      return EXIT_USAGE
    }
    process.stderr.write(`blackbox progress: ${escapeInline(error instanceof Error ? error.message : String(error))}\n`)
    return EXIT_FAILURE
  }
}
