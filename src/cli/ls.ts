import { escapeInline } from '../core/format/escape.js'
import { compileTimeFormat } from '../core/format/time.js'
import { DEFAULT_LOG_DIR, listLogFiles } from '../layout/catalog.js'
import { formatBytes } from '../layout/human.js'
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, positiveIntegerOption, runCommand, unreadableNotes, type Command } from './command.js'

export const LS_USAGE = `Usage: blackbox ls [--dir DIR] [--days N] [--json]

Lists run files and their rotated backups under DIR/YYYY-MM-DD/, newest first:
path, size, last modified.

Options:
  --dir DIR   the log folder (default ${DEFAULT_LOG_DIR})
  --days N    only the last N days, today counting as 1
  --json      a JSON array of { path, date, name, size, mtime, run, backup, rotation?, stamp?, compression? }

A day folder or file that cannot be read is left out, with a note on stderr, and the exit
status is 1.
`

/** `blackbox ls`: the run files, newest first. */
export const lsCommand: Command = (argv) =>
  runCommand('ls', LS_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, { dir: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' } })
    const daysBack = positiveIntegerOption(values.days, '--days')
    const dir = values.dir ?? DEFAULT_LOG_DIR
    const notes = unreadableNotes('ls')
    const files = await listLogFiles({ dir, onUnreadable: notes.onUnreadable, ...(daysBack === undefined ? {} : { daysBack }) })
    // Not everything could be listed: a script must not take the list for the whole.
    const status = notes.skipped() === 0 ? EXIT_OK : EXIT_FAILURE
    if (values.json) {
      process.stdout.write(`${JSON.stringify(files, null, 2)}\n`)
      return status
    }
    if (files.length === 0) {
      process.stderr.write(`blackbox ls: no run files in ${escapeInline(dir)}\n`)
      return status
    }
    const time = compileTimeFormat('YYYY-MM-DD HH:mm:ss')
    const sizes = files.map((file) => formatBytes(file.size))
    const pathWidth = Math.max(...files.map((file) => file.path.length))
    const sizeWidth = Math.max(...sizes.map((size) => size.length))
    process.stdout.write(files.map((file, i) => `${file.path.padEnd(pathWidth)}  ${(sizes[i] ?? '').padStart(sizeWidth)}  ${time(file.mtime)}\n`).join(''))
    return status
  })
