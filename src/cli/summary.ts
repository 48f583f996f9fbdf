import { escapeInline } from '../core/format/escape.js'
import { DEFAULT_LOG_DIR } from '../layout/catalog.js'
import { printLogSummary } from '../layout/print-summary.js'
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, positiveIntegerOption, runCommand, unreadableNotes, type Command } from './command.js'

export const SUMMARY_USAGE = `Usage: blackbox summary [--dir DIR] [--days N] [--json]

For each run file under DIR/YYYY-MM-DD/, newest first: its day, name and size, records
per level, the first and last time, and how the run ended (completed, error with the exit
code, signal, uncaught error; or "no ending record: killed or still running"); for a
file of several processes (\`blackbox run\` with workers), how many, and the worst ending.

Options:
  --dir DIR   the log folder (default ${DEFAULT_LOG_DIR})
  --days N    only the last N days, today counting as 1
  --json      a JSON array of summaries

A day folder or file that cannot be read is left out, and a compressed backup that is
damaged is summarized as far as it could be read; either is said on stderr, and the exit
status is 1.
`

/** `blackbox summary`: what each run file holds and how its run ended. */
export const summaryCommand: Command = (argv) =>
  runCommand('summary', SUMMARY_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, { dir: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' } })
    const daysBack = positiveIntegerOption(values.days, '--days')
    const notes = unreadableNotes('summary')
    const summaries = await printLogSummary({
      dir: values.dir ?? DEFAULT_LOG_DIR,
      json: values.json ?? false,
      stream: process.stdout,
      onUnreadable: notes.onUnreadable,
      ...(daysBack === undefined ? {} : { daysBack }),
    })
    const damaged = summaries.filter((summary) => summary.damaged !== undefined)
    for (const summary of damaged) process.stderr.write(`blackbox summary: ${escapeInline(summary.path)}: ${escapeInline(summary.damaged ?? '')}\n`)
    return notes.skipped() === 0 && damaged.length === 0 ? EXIT_OK : EXIT_FAILURE
  })
