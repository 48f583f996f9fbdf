#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cleanCommand } from './clean.js'
import { recoverCommand } from './recover.js'
import { runCommand as runSupervisedCommand } from './run.js'
import { collectorCommand } from './collector.js'
import { prettyCommand } from './pretty.js'
import { postmortemCommand } from './postmortem.js'
import { progressCommand } from './progress.js'
import type { Command } from './command.js'
import { latestCommand } from './latest.js'
import { lsCommand } from './ls.js'
import { summaryCommand } from './summary.js'
import { tailCommand } from './tail.js'

/** Each command's usage and what it does; the help aligns them (a long usage puts its description on the next line). */
const COMMAND_HELP: readonly (readonly [usage: string, description: string])[] = [
  ['ls       [--dir DIR] [--days N] [--json]', 'list run files, newest first'],
  ['latest   [--dir DIR] [--json]', "print the newest run file's path"],
  ['summary  [--dir DIR] [--days N] [--json]', 'records per level and how each run ended'],
  ["clean    [--dir DIR] --older-than '30 days' [--dry-run] [--json]", 'remove old run files (never other files)'],
  ['tail     [-f] [--level L] [--grep T] [--lines N] [--dir DIR] [FILE|latest]', 'the last records of a run file, coloured; -f follows it'],
  ['pretty   < JSON lines', "JSON lines (blackbox's, pino's) as coloured text lines"],
  ['run      [options] -- <command> [args...]', 'run a command under the flight recorder'],
  ['progress [RUN] [--dir DIR] [--once]', "live view of a run's progress: bar, rate, ETA, memory"],
  ['postmortem [FILE|latest] [--dir DIR] [--json] [--html REPORT.html]', 'how a run ended: verdict, errors, last records, hangs, memory'],
  ['recover  [--to FILE] [--force] [--json] RING', "move a dead process's ring records into its log file"],
  ['collector --socket PATH [--dir DIR] [--forward URL] [--detach]', "collect many processes' records into per-role files; --forward them upstream"],
]

/** Where every description starts. */
const DESCRIPTION_COLUMN = 46

function commandList(): string {
  return COMMAND_HELP.map(([usage, description]) => {
    const line = `  ${usage}`
    return line.length + 2 <= DESCRIPTION_COLUMN ? `${line.padEnd(DESCRIPTION_COLUMN)}${description}` : `${line}\n${' '.repeat(DESCRIPTION_COLUMN)}${description}`
  }).join('\n')
}

const HELP = `blackbox — a flight recorder for Node.js programs

Usage:
  blackbox [--help] [--version]
  blackbox <command> [options]

Options:
  -h, --help       show this help
  -v, --version    print the version

Commands (blackbox <command> --help for more):
${commandList()}

Library: import { createLogger, fileSink, consoleSink } from 'blackbox-log'
`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

// Each subcommand parses its own options: everything after its name is its.
const COMMANDS: Readonly<Record<string, Command>> = {
  ls: lsCommand,
  latest: latestCommand,
  summary: summaryCommand,
  clean: cleanCommand,
  collector: collectorCommand,
  recover: recoverCommand,
  run: runSupervisedCommand,
  progress: progressCommand,
  postmortem: postmortemCommand,
  tail: tailCommand,
  pretty: prettyCommand,
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first = '', ...rest] = argv
  if (Object.hasOwn(COMMANDS, first)) return (COMMANDS[first] as Command)(rest)
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      allowPositionals: true,
    })
  } catch (error) {
    process.stderr.write(`blackbox: ${(error as Error).message}\n\n${HELP}`)
    return 2
  }
  if (parsed.values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  const [command] = parsed.positionals
  if (parsed.values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  process.stderr.write(`blackbox: unknown command \`${command}\`\n\n${HELP}`)
  return 2
}

process.exitCode = await main(process.argv.slice(2))
