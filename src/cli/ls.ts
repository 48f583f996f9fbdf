import { compileTimeFormat } from '../core/format/time.js'
import { DEFAULT_LOG_DIR, listLogFiles } from '../layout/catalog.js'
import { formatBytes } from '../layout/human.js'
import { EXIT_OK, parseCommandArgs, positiveIntegerOption, runCommand, type Command } from './command.js'

export const LS_USAGE = `Usage: blackbox ls [--dir DIR] [--days N] [--json]

Lists run files and their rotated backups under DIR/YYYY-MM-DD/, newest first:
path, size, last modified.

Options:
  --dir DIR   the log folder (default ${DEFAULT_LOG_DIR})
  --days N    only the last N days, today counting as 1
  --json      a JSON array of { path, date, name, size, mtime, run, backup, rotation?, stamp?, compression? }
`

/** `blackbox ls`: the run files, newest first. */
export const lsCommand: Command = (argv) =>
  runCommand('ls', LS_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, { dir: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' } })
    const daysBack = positiveIntegerOption(values.days, '--days')
    const dir = values.dir ?? DEFAULT_LOG_DIR
    const files = await listLogFiles({ dir, ...(daysBack === undefined ? {} : { daysBack }) })
    if (values.json) {
      process.stdout.write(`${JSON.stringify(files, null, 2)}\n`)
      return EXIT_OK
    }
    if (files.length === 0) {
      process.stderr.write(`blackbox ls: no run files in ${dir}\n`)
      return EXIT_OK
    }
    const time = compileTimeFormat('YYYY-MM-DD HH:mm:ss')
    const sizes = files.map((file) => formatBytes(file.size))
    const pathWidth = Math.max(...files.map((file) => file.path.length))
    const sizeWidth = Math.max(...sizes.map((size) => size.length))
    process.stdout.write(files.map((file, i) => `${file.path.padEnd(pathWidth)}  ${(sizes[i] ?? '').padStart(sizeWidth)}  ${time(file.mtime)}\n`).join(''))
    return EXIT_OK
  })
