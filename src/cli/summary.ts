import { DEFAULT_LOG_DIR } from '../layout/catalog.js'
import { printLogSummary } from '../layout/print-summary.js'
import { EXIT_OK, parseCommandArgs, positiveIntegerOption, runCommand, type Command } from './command.js'

export const SUMMARY_USAGE = `Usage: blackbox summary [--dir DIR] [--days N] [--json]

For each run file under DIR/YYYY-MM-DD/, newest first: its day, name and size, records
per level, the first and last time, and how the run ended (completed, error with the exit
code, signal, uncaught error; or "no ending record: killed or still running").

Options:
  --dir DIR   the log folder (default ${DEFAULT_LOG_DIR})
  --days N    only the last N days, today counting as 1
  --json      a JSON array of summaries
`

/** `blackbox summary`: what each run file holds and how its run ended. */
export const summaryCommand: Command = (argv) =>
  runCommand('summary', SUMMARY_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, { dir: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' } })
    const daysBack = positiveIntegerOption(values.days, '--days')
    await printLogSummary({
      dir: values.dir ?? DEFAULT_LOG_DIR,
      json: values.json ?? false,
      stream: process.stdout,
      ...(daysBack === undefined ? {} : { daysBack }),
    })
    return EXIT_OK
  })
