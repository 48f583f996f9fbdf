import { stat } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { escapeInline } from '../core/format/escape.js'
import { levelValue } from '../core/levels.js'
import { DEFAULT_LOG_DIR, findLatestLogFile } from '../layout/catalog.js'
import { compressionOf } from '../layout/decompress.js'
import { followRecords } from '../layout/follow.js'
import { FirstLineParser } from '../layout/parse-record.js'
import { readRecords, type ReadRecord, type TornTail } from '../layout/read-records.js'
import { RecordRenderer } from '../layout/render-record.js'
import { damageOf } from '../layout/summarize.js'
import { shouldColour } from '../sinks/console.js'
import { EXIT_FAILURE, EXIT_OK, runCommand, unreadableNotes, UsageError, type Command } from './command.js'

/** Records printed when `--lines` is not given. */
export const DEFAULT_TAIL_LINES = 10

export const TAIL_USAGE = `Usage: blackbox tail [-f] [--level LEVEL] [--grep TEXT] [--lines N] [--dir DIR] [FILE|latest]

Prints the last N records of a run file (or a collector's role file, or a rotated backup,
.gz and .zip too), the level coloured as the console sink colours it. Text records are
printed as they are in the file, continuation lines included; JSON records as text lines:
time, pid, level, message, fields, and an error's stack on continuation lines.

FILE is the path of the file; \`latest\` (the default) is the newest run file under DIR that
can be read (day folders and run files that cannot be read are passed over, with a note).

Options:
  -f, --follow      keep printing records as they are appended, across rotation (the
                    file renamed away and a new one made) and truncation; Ctrl+C stops
  --level LEVEL     only records at or above LEVEL: trace, debug, info, success, warn
                    (warning), error, fatal (critical), or a number
  --grep TEXT       only records whose text, as printed without colours, contains TEXT
                    (case-sensitive, no patterns)
  -n, --lines N     how many records to print first (default ${DEFAULT_TAIL_LINES}; 0 with -f: only new ones)
  --dir DIR         the log folder, for \`latest\` (default ${DEFAULT_LOG_DIR})

Colours: on when stdout is a terminal, off when NO_COLOR is set, on when FORCE_COLOR is.
Exit status: 0 done (with -f: stopped by SIGINT or SIGTERM), 1 no such file or no run
file, or a compressed file damaged (cut short, or failing its checks), 2 a wrong command line.
Control characters in what is printed are escaped (\\e, \\u0007): a file cannot drive the terminal.
`

/** The last `size` items pushed, oldest first. */
class LastItems<T> {
  readonly #items: T[] = []
  #next = 0

  constructor(readonly size: number) {}

  push(item: T): void {
    if (this.size === 0) return
    if (this.#items.length < this.size) this.#items.push(item)
    else this.#items[this.#next] = item
    this.#next = (this.#next + 1) % this.size
  }

  /** The items, oldest first, and forgets them. */
  take(): T[] {
    const items = this.#items.length < this.size ? this.#items.slice() : [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)]
    this.#items.length = 0
    this.#next = 0
    return items
  }
}

function linesOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TAIL_LINES
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`Expected \`--lines\` to be a non-negative integer, got \`${value}\` (string)`)
  }
  return Number(value)
}

function levelOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  try {
    return levelValue(/^\d+$/.test(value) ? Number(value) : value, '--level', { anyNumber: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function parseTailArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        follow: { type: 'boolean', short: 'f' },
        level: { type: 'string' },
        grep: { type: 'string' },
        lines: { type: 'string', short: 'n' },
        dir: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** The file FILE names: a path, or the newest run file for `latest`. */
async function fileOf(file: string | undefined, dir: string): Promise<string> {
  if (file === undefined || file === 'latest') {
    const latest = await findLatestLogFile({ dir, onUnreadable: unreadableNotes('tail').onUnreadable })
    if (latest === undefined) throw new Error(`no run files in ${dir}`)
    return latest.path
  }
  let info
  try {
    info = await stat(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no such file: ${file}`)
    throw error
  }
  if (info.isDirectory()) throw new Error(`${file} is a folder; give a file, or \`--dir ${file}\` for its newest run file`)
  return file
}

/**
 * Stops on SIGINT and SIGTERM: the abort ends the follow loop, which hands out the record
 * it held back, and the command exits 0 as `tail -f` users expect of Ctrl+C. A second
 * signal does not wait for that.
 */
function stopOnSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController()
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_OK)
    controller.abort()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    },
  }
}

/** `blackbox tail`: the last records of a run file, and with `-f` the ones appended after. */
export const tailCommand: Command = (argv) =>
  runCommand('tail', TAIL_USAGE, argv, async () => {
    const { values, positionals } = parseTailArgs(argv)
    if (positionals.length > 1) throw new UsageError(`Expected one FILE at most, got ${positionals.length}: ${positionals.map((name) => `\`${name}\``).join(', ')}`)
    const lines = linesOption(values.lines)
    const minimum = levelOption(values.level)
    const grep = values.grep
    const follow = values.follow ?? false
    const path = await fileOf(positionals[0], values.dir ?? DEFAULT_LOG_DIR)
    if (follow && compressionOf(path) !== undefined) throw new UsageError(`Cannot follow a compressed file: \`${path}\``)

    const colour = shouldColour(process.stdout)
    const plain = new RecordRenderer({ colour: false })
    // Rendering never throws; a record it could not render is printed as it is, and said.
    const shown = new RecordRenderer({ colour, onError: (record, error) => process.stderr.write(`blackbox tail: line ${record.line} could not be rendered (${escapeInline(error.message)}); printed as it is\n`) })
    const wanted = (record: ReadRecord): boolean =>
      (minimum === undefined || record.level >= minimum) && (grep === undefined || plain.render(record).includes(grep))
    // Records are rendered only when printed: of a large file, only the last N are.
    const last = new LastItems<ReadRecord>(lines)
    const printLast = (): void => {
      process.stdout.write(last.take().map((record) => shown.render(record)).join(''))
    }

    if (!follow) {
      const end: { torn?: TornTail } = {}
      for await (const record of readRecords(path, { onTorn: (tail) => (end.torn = tail) })) {
        if (wanted(record)) last.push(record)
      }
      // A file at rest that ends mid-line: the cut line is shown as it is, as the last record.
      const torn = end.torn
      if (torn !== undefined && torn.text !== '') {
        const record = new FirstLineParser().parse(torn.text, torn.line)
        if (wanted(record)) last.push(record)
      }
      printLast()
      if (torn?.reason === 'corrupt-archive') {
        process.stderr.write(`blackbox tail: ${escapeInline(path)}: ${escapeInline(damageOf(torn) ?? '')}\n`)
        return EXIT_FAILURE
      }
      return EXIT_OK
    }

    const { signal, release } = stopOnSignals()
    try {
      for await (const event of followRecords(path, { signal })) {
        if (event.type === 'record') {
          if (!wanted(event.record)) continue
          if (event.initial) last.push(event.record)
          else process.stdout.write(shown.render(event.record))
        } else if (event.type === 'caught-up') {
          printLast()
        } else if (event.type === 'rotated') {
          process.stderr.write(`blackbox tail: ${escapeInline(path)} was rotated; following the new file\n`)
        } else {
          process.stderr.write(`blackbox tail: ${escapeInline(path)} was truncated; reading it from the start\n`)
        }
      }
    } finally {
      release()
    }
    return EXIT_OK
  })
