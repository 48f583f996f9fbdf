import { escapeInline } from '../core/format/escape.js'
import { DEFAULT_LOG_DIR, findLatestLogFile } from '../layout/catalog.js'
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, runCommand, unreadableNotes, type Command } from './command.js'

export const LATEST_USAGE = `Usage: blackbox latest [--dir DIR] [--json]

Prints the path of the newest run file under DIR/YYYY-MM-DD/ (not a rotated backup) that
can be read; day folders and run files that cannot be read are passed over, each with a
note on stderr. Exits 1 when there is none.

Options:
  --dir DIR   the log folder (default ${DEFAULT_LOG_DIR})
  --json      the file as JSON { path, date, name, size, mtime, run, backup, rotation?, stamp?, compression? }, or null
`

/** `blackbox latest`: the newest run file's path. */
export const latestCommand: Command = (argv) =>
  runCommand('latest', LATEST_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, { dir: { type: 'string' }, json: { type: 'boolean' } })
    const dir = values.dir ?? DEFAULT_LOG_DIR
    // The same choice as getLatestLogFile(), with the whole entry at hand for --json.
    const latest = await findLatestLogFile({ dir, onUnreadable: unreadableNotes('latest').onUnreadable })
    if (values.json) process.stdout.write(`${JSON.stringify(latest ?? null, null, 2)}\n`)
    else if (latest) process.stdout.write(`${latest.path}\n`)
    if (latest) return EXIT_OK
    process.stderr.write(`blackbox latest: no run files in ${escapeInline(dir)}\n`)
    return EXIT_FAILURE
  })
