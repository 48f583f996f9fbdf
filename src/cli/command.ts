import { parseArgs, type ParseArgsConfig } from 'node:util'
import { escapeInline } from '../core/format/escape.js'
import type { OnUnreadable } from '../layout/catalog.js'

type OptionsConfig = NonNullable<ParseArgsConfig['options']>
type Strict<O extends OptionsConfig> = { args: string[]; options: O; strict: true; allowPositionals: false }

/** The command ran and did what was asked. */
export const EXIT_OK = 0
/** The command ran but found nothing, or could not do all it was asked (`latest` with no run file). */
export const EXIT_FAILURE = 1
/** The command line was wrong; the reason is on stderr. */
export const EXIT_USAGE = 2

/** A subcommand: gets the arguments after its name, returns the exit code. */
export type Command = (argv: readonly string[]) => Promise<number>

/** A mistake on the command line: reported with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Strict `parseArgs` for a subcommand (no positionals); its complaints become `UsageError`s. */
export function parseCommandArgs<const O extends OptionsConfig>(argv: readonly string[], options: O): ReturnType<typeof parseArgs<Strict<O>>> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** `--days 3` as a number; undefined when the option was not given. */
export function positiveIntegerOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`Expected \`${option}\` to be a positive integer, got \`${value}\` (string)`)
  }
  return Number(value)
}

/** A note on stderr for each entry a command skipped because it could not be read, and how many there were. */
export function unreadableNotes(name: string): { onUnreadable: OnUnreadable; skipped: () => number } {
  let skipped = 0
  return {
    onUnreadable: ({ path, reason }) => {
      skipped++
      process.stderr.write(`blackbox ${name}: cannot read ${escapeInline(path)}: ${reason}; skipped\n`)
    },
    skipped: () => skipped,
  }
}

/**
 * Runs a subcommand's body: `--help` prints its usage; a `UsageError` goes to stderr with
 * the usage (exit 2); any other error to stderr as one line (exit 1), not as a stack.
 */
export async function runCommand(name: string, usage: string, argv: readonly string[], body: () => Promise<number>): Promise<number> {
  // `blackbox summary | head`: when the reader goes away there is no one left to tell; stop
  // quietly, as a program killed by SIGPIPE would, instead of an unhandled EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(process.exitCode ?? EXIT_OK)
  })
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage)
    return EXIT_OK
  }
  try {
    return await body()
  } catch (error) {
    if (error instanceof UsageError) {
      // A message may quote a file's name or content: its controls are escaped.
      process.stderr.write(`blackbox ${name}: ${escapeInline(error.message)}\n\n${usage}`)
      return EXIT_USAGE
    }
    process.stderr.write(`blackbox ${name}: ${escapeInline(error instanceof Error ? error.message : String(error))}\n`)
    return EXIT_FAILURE
  }
}
