#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const HELP = `blackbox — a flight recorder for Node.js programs

Usage:
  blackbox [--help] [--version]
  blackbox <command> [options]

Options:
  -h, --help       show this help
  -v, --version    print the version

Commands arrive in later releases: run, tail, pretty, postmortem, collector.
Library: import { createLogger, fileSink, consoleSink } from 'blackbox-log'
`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** Runs the command line; returns the exit code. */
export function main(argv: readonly string[]): number {
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

process.exitCode = main(process.argv.slice(2))
