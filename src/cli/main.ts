#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Command } from './command.js'

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

// Each subcommand parses its own options: everything after its name is its. Each is loaded
// when it is called (issue #18): `blackbox --version` or `blackbox ls` does not pay for the
// collector, the postmortem renderer or the supervisor.
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  ls: async () => (await import('./ls.js')).lsCommand,
  latest: async () => (await import('./latest.js')).latestCommand,
  summary: async () => (await import('./summary.js')).summaryCommand,
  clean: async () => (await import('./clean.js')).cleanCommand,
  collector: async () => (await import('./collector.js')).collectorCommand,
  recover: async () => (await import('./recover.js')).recoverCommand,
  run: async () => (await import('./run.js')).runCommand,
  progress: async () => (await import('./progress.js')).progressCommand,
  postmortem: async () => (await import('./postmortem.js')).postmortemCommand,
  tail: async () => (await import('./tail.js')).tailCommand,
  pretty: async () => (await import('./pretty.js')).prettyCommand,
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first = '', ...rest] = argv
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
  if (load !== undefined) return (await load())(rest)
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
