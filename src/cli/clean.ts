import { escapeInline } from '../core/format/escape.js'
import { parseDuration } from '../core/units.js'
import { cleanLogs, type CleanLogsResult } from '../layout/clean.js'
import { DEFAULT_LOG_DIR } from '../layout/catalog.js'
import { formatBytes } from '../layout/human.js'
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, runCommand, UsageError, type Command } from './command.js'

export const CLEAN_USAGE = `Usage: blackbox clean [--dir DIR] --older-than DURATION [--dry-run] [--json]

Removes run files and their rotated backups under DIR/YYYY-MM-DD/ last modified more than
DURATION ago ("30 days", "1 week", "12 h"), then the day folders that left empty. Files
whose names are not run-file names are never touched.

Options:
  --dir DIR               the log folder (default ${DEFAULT_LOG_DIR})
  --older-than DURATION   required
  --dry-run               only print what would be removed
  --json                  { removed: [{ path, size }], removedDirs, freedBytes, dryRun, failed }

A file that cannot be removed, or a day folder that cannot be read, is named on stderr,
the rest goes on, and the exit status is 1.
`

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

function report(result: CleanLogsResult, olderThan: string, dir: string): string {
  const verb = result.dryRun ? 'would remove' : 'removed'
  const lines = result.removed.map((file) => `${verb} ${file.path} (${formatBytes(file.size)})`)
  lines.push(...result.removedDirs.map((folder) => `${verb} ${folder} (left empty)`))
  if (result.removed.length === 0) lines.push(`nothing older than ${olderThan} in ${dir}`)
  else lines.push(`${result.dryRun ? 'would free' : 'freed'} ${formatBytes(result.freedBytes)} in ${plural(result.removed.length, 'file')}${result.dryRun ? ' (dry run: nothing was removed)' : ''}`)
  return `${lines.join('\n')}\n`
}

/** `blackbox clean`: removes old run files, and says how much that freed. */
export const cleanCommand: Command = (argv) =>
  runCommand('clean', CLEAN_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, {
      dir: { type: 'string' },
      'older-than': { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    })
    const olderThan = values['older-than']
    if (olderThan === undefined) throw new UsageError('Expected `--older-than` to be a duration like "30 days", got nothing')
    try {
      parseDuration(olderThan, '--older-than')
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const dir = values.dir ?? DEFAULT_LOG_DIR
    const result = await cleanLogs({ dir, olderThan, dryRun: values['dry-run'] ?? false })
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : report(result, olderThan, dir))
    for (const failure of result.failed) process.stderr.write(`blackbox clean: ${escapeInline(failure.path)}: ${failure.message}\n`)
    return result.failed.length === 0 ? EXIT_OK : EXIT_FAILURE
  })
