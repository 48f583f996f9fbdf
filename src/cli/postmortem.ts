import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { escapeInline } from '../core/format/escape.js'
import { DEFAULT_LOG_DIR, findLatestLogFile } from '../layout/catalog.js'
import { analyzeRunFile, LAST_RECORDS, logDirOf } from '../layout/postmortem.js'
import { renderPostmortemHtml } from '../layout/postmortem-html.js'
import { formatPostmortem } from '../layout/postmortem-text.js'
import { recoverRing } from '../ring/recover.js'
import { shouldColour } from '../sinks/console.js'
import { EXIT_FAILURE, EXIT_OK, positiveIntegerOption, runCommand, unreadableNotes, UsageError, type Command } from './command.js'

export const POSTMORTEM_USAGE = `Usage: blackbox postmortem [FILE|latest] [--dir DIR] [--json] [--html REPORT.html] [--progress RUN] [--last N]

Tells what happened to a run: how it ended (the verdict, exit code or signal, when, after
how long), every error and fatal record with its stack, the last records, the last
heartbeat and the longest silence between heartbeats (a hang), the worst event-loop delay,
memory over time with a warning when it rose across the run (possible leak), and the
progress runs of the same run, unfinished first. A \`blackbox run\` file holds every
process that logged through it (a host and its workers): each one's story is told, worst
ending first, and the worst of them heads the report.

FILE is a run file (text, loguru or JSON lines, plain or .gz), written by the program's
own setupLogging() or by \`blackbox run\`; \`latest\` (the default) is the newest run file
under DIR that can be read (others are passed over, with a note). A ring left beside FILE
(FILE.ring: durability 'ring', a process killed while logging) is recovered into FILE
first, so the report has its last records.

Options:
  --dir DIR        the log folder (default ${DEFAULT_LOG_DIR}): where \`latest\` looks and where the
                   progress files are; for a FILE in a day folder, default the folder above it
  --json           the analysis as one JSON object (see docs/postmortem.md for its keys)
  --html FILE      also write a self-contained HTML report with charts to FILE
  --progress RUN   the progress run id (or status file) of this run, instead of looking for it
  --last N         how many records before the end to show (default ${LAST_RECORDS})

Exit status: 0 when the report was made, whatever the run's verdict; 1 when there is no
run file or it cannot be read, or it is a compressed file that is damaged (the report is
made of what could be read, and stderr says what is wrong); 2 for a wrong command line.
`

/**
 * A file written with durability 'ring' by a process that was killed has its last records
 * in `<file>.ring`: they go into the file first (as the next run of the program would do),
 * so the report shows them. Said on stderr; a ring still in use is only mentioned.
 */
function recoverLeftRing(path: string): void {
  const ring = `${path}.ring`
  if (!existsSync(ring)) return
  try {
    const result = recoverRing(ring, { target: path })
    if (result.records > 0 || result.dropped > 0) process.stderr.write(`blackbox postmortem: recovered ${result.records} records from ${escapeInline(ring)}, left by a process that ended while logging\n`)
  } catch (error) {
    process.stderr.write(`blackbox postmortem: ${escapeInline(ring)} was not recovered: ${escapeInline((error as Error).message)}\n`)
  }
}

/** `blackbox postmortem`: after a failure, what happened. */
export const postmortemCommand: Command = (argv) =>
  runCommand('postmortem', POSTMORTEM_USAGE, argv, async () => {
    let parsed
    try {
      parsed = parseArgs({
        args: [...argv],
        options: { dir: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' }, progress: { type: 'string' }, last: { type: 'string' } },
        strict: true,
        allowPositionals: true,
      })
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const { values, positionals } = parsed
    if (positionals.length > 1) throw new UsageError(`Expected at most one FILE, got ${positionals.length}: ${positionals.map((text) => `\`${text}\``).join(' ')}`)
    const last = positiveIntegerOption(values.last, '--last')
    if (values.html === '') throw new UsageError('Expected `--html` to name a file, got `` (string)')
    const target = positionals[0] ?? 'latest'
    let path: string
    if (target === 'latest') {
      const dir = values.dir ?? DEFAULT_LOG_DIR
      const latest = await findLatestLogFile({ dir, onUnreadable: unreadableNotes('postmortem').onUnreadable })
      if (!latest) {
        process.stderr.write(`blackbox postmortem: no run files in ${escapeInline(dir)}\n`)
        return EXIT_FAILURE
      }
      path = latest.path
    } else {
      path = target
    }
    recoverLeftRing(path)
    const report = await analyzeRunFile(path, {
      dir: values.dir ?? logDirOf(path),
      ...(values.progress === undefined ? {} : { progress: values.progress }),
      ...(last === undefined ? {} : { lastRecords: last }),
    })
    if (values.html !== undefined) {
      await writeFile(values.html, renderPostmortemHtml(report))
      process.stderr.write(`blackbox postmortem: wrote ${escapeInline(values.html)}\n`)
    }
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else process.stdout.write(formatPostmortem(report, { colour: shouldColour(process.stdout) }))
    if (report.file.damaged === null) return EXIT_OK
    // The report is what could be read; the end of the run may be in what could not.
    process.stderr.write(`blackbox postmortem: ${escapeInline(path)}: ${escapeInline(report.file.damaged)}\n`)
    return EXIT_FAILURE
  })
