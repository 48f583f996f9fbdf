import { parseArgs } from 'node:util'
import { escapeInline } from '../core/format/escape.js'
import { runSupervised, type RunOptions } from '../crash/supervisor.js'
import { EXIT_USAGE, positiveIntegerOption, UsageError, type Command } from './command.js'

export const RUN_USAGE = `Usage: blackbox run [options] -- <command> [args…]

Runs the command under supervision and records how it ends in DIR/YYYY-MM-DD/<name>_HH-MM-SS.log:
its stdout and stderr line by line, its own records (through BLACKBOX_SOCKET /
BLACKBOX_ROLE: getLoggerFromEnv() in the child just works), its memory and heartbeats,
and a verdict: clean exit, error exit, uncaught exception, killed by a signal, killed by
the OOM killer, SIGKILL from outside (possibly OOM), or hung. Exits with the child's
exit code, or 128 + the signal's number; as shells do, 127 when the command is not found
and 126 when it cannot be run (verdict not-started).

Options:
  --dir DIR                      where the run file goes (default logs)
  --name NAME                    the run file's prefix (default: the command's name)
  --heartbeat-interval MS        how often a blackbox child checks in (default 10000)
  --hang-after MS                no heartbeat for this long is a hang (default 3 × the interval)
  --on-hang report|kill|restart  a Node diagnostic report (default), kill, or restart
  --restart no|on-failure|always restart policy (default no)
  --max-restarts N               (default 3)
  --backoff MS                   before the first restart, doubled after (default 1000)
  --sample-interval MS           how often the child's memory is sampled (default 1000)
  --quiet                        do not echo the child's output
`

function choice<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`Expected \`${option}\` to be one of ${allowed.join(', ')}, got \`${value}\``)
  return value as T
}

/** `blackbox run`: the flight recorder around any command. */
export const runCommand: Command = async (argv) => {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(RUN_USAGE)
    return 0
  }
  const split = argv.indexOf('--')
  try {
    const own = split === -1 ? [] : argv.slice(0, split)
    const [command, ...args] = split === -1 ? argv : argv.slice(split + 1)
    if (!command) throw new UsageError('Expected a command after `--`')
    const { values } = parseArgs({
      args: own,
      strict: true,
      options: {
        dir: { type: 'string' }, name: { type: 'string' }, 'heartbeat-interval': { type: 'string' }, 'hang-after': { type: 'string' },
        'on-hang': { type: 'string' }, restart: { type: 'string' }, 'max-restarts': { type: 'string' }, backoff: { type: 'string' }, quiet: { type: 'boolean' },
        'sample-interval': { type: 'string' },
      },
    })
    const heartbeatInterval = positiveIntegerOption(values['heartbeat-interval'], '--heartbeat-interval')
    const hangAfter = positiveIntegerOption(values['hang-after'], '--hang-after')
    const maxRestarts = values['max-restarts'] === '0' ? 0 : positiveIntegerOption(values['max-restarts'], '--max-restarts')
    const backoff = positiveIntegerOption(values.backoff, '--backoff')
    const sampleInterval = positiveIntegerOption(values['sample-interval'], '--sample-interval')
    const onHang = choice(values['on-hang'], ['report', 'kill', 'restart'] as const, '--on-hang')
    const restart = choice(values.restart, ['no', 'on-failure', 'always'] as const, '--restart')
    const options: RunOptions = {
      command,
      args,
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values.name === undefined ? {} : { name: values.name }),
      ...(heartbeatInterval === undefined ? {} : { heartbeatInterval }),
      ...(hangAfter === undefined ? {} : { hangAfter }),
      ...(onHang === undefined ? {} : { onHang }),
      ...(restart === undefined ? {} : { restart }),
      ...(maxRestarts === undefined ? {} : { maxRestarts }),
      ...(backoff === undefined ? {} : { backoff }),
      ...(sampleInterval === undefined ? {} : { sampleInterval }),
      echo: values.quiet !== true,
    }
    const result = await runSupervised(options)
    if (result.startError !== undefined) {
      // As a shell says it: `command not found`, exit status 127.
      process.stderr.write(`blackbox run: ${escapeInline(result.startError)}\nblackbox run: not started (exit status ${result.exitStatus}); run file ${escapeInline(result.runFile)}\n`)
    } else {
      process.stderr.write(`blackbox run: ${result.verdict} (${result.signal ? `signal ${result.signal}` : `exit code ${result.code}`}); run file ${escapeInline(result.runFile)}\n`)
    }
    return result.exitStatus
  } catch (error) {
    process.stderr.write(`blackbox run: ${escapeInline((error as Error).message)}\n\n${RUN_USAGE}`)
    return EXIT_USAGE
  }
}
