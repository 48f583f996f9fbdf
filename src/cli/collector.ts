import { spawn } from 'node:child_process'
import { openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { checkSocketPath, isListening, SocketPathError } from '../transport/endpoint.js'
import { startCollector } from '../transport/collector.js'
import { EXIT_OK, parseCommandArgs, positiveIntegerOption, runCommand, UsageError, type Command } from './command.js'

export const COLLECTOR_USAGE = `Usage: blackbox collector --socket PATH [--dir DIR] [--spool-dir DIR]… [--heartbeat-timeout MS] [--max-size SIZE] [--max-files N] [--detach]

Runs a collector: clients (connectLogger, getLogger with BLACKBOX_SOCKET) send their
records over PATH; each role is written to DIR/<role>.log, and DIR/collector.log says
who connected, went late, finished or died.

Options:
  --socket PATH              the Unix socket or a Windows named pipe. A missing folder is made (mode 0700);
                             an existing one must be the user's and private (0700): a shared /tmp is
                             refused, use a folder of its own, such as /tmp/blackbox-$UID/app.sock
  --dir DIR                  where the files go (default logs)
  --spool-dir DIR            a folder where clients keep their spools (their spoolDir), besides spool/
                             beside the socket: the spools of dead clients are delivered only from
                             these folders (may be given several times)
  --heartbeat-timeout MS     a worker is late this long past its announced heartbeat (default 5000)
  --max-size SIZE            rotate role files past this size (default 10 MB)
  --max-files N              backups kept per role (default 5)
  --forward URL              also send everything upstream, through a disk queue: relp://host:2514,
                             syslog+tcp://host:514, syslog+tls://host:6514, otlp+http://host:4318/v1/logs
                             (may be given several times)
  --detach                   run in the background; writes PATH.pid; refuses to start twice on one socket
`

/** `blackbox collector`: a collector in the foreground (until SIGINT/SIGTERM), or detached. */
export const collectorCommand: Command = (argv) =>
  runCommand('collector', COLLECTOR_USAGE, argv, async () => {
    const { values } = parseCommandArgs(argv, {
      socket: { type: 'string' },
      dir: { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      'max-size': { type: 'string' },
      'max-files': { type: 'string' },
      detach: { type: 'boolean' },
      forward: { type: 'string', multiple: true },
      'spool-dir': { type: 'string', multiple: true },
    })
    const socket = values.socket
    if (!socket) throw new UsageError('Expected `--socket PATH`')
    // Before anything is made beside it (PATH.out, PATH.pid), and before a detached child is started.
    try {
      checkSocketPath(socket)
    } catch (error) {
      throw error instanceof SocketPathError ? new UsageError(error.message) : error
    }
    const pidFile = `${socket}.pid`
    if (values.detach) {
      if (await isListening(socket)) throw new Error(`a collector already listens on ${socket} (pid ${readPid(pidFile) ?? 'unknown'})`)
      const args = argv.filter((arg) => arg !== '--detach')
      const log = openSync(`${socket}.out`, 'a')
      const child = spawn(process.execPath, [process.argv[1] as string, 'collector', ...args], { detached: true, stdio: ['ignore', log, log] })
      child.unref()
      // Wait until it listens, so a script can connect right after this returns.
      const deadline = Date.now() + 5000
      while (!(await isListening(socket))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the detached collector did not start; see ${socket}.out`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      process.stdout.write(`collector started in the background: pid ${child.pid}, socket ${socket}, pid file ${pidFile}\n`)
      return EXIT_OK
    }
    const heartbeatTimeout = positiveIntegerOption(values['heartbeat-timeout'], '--heartbeat-timeout')
    const maxFiles = positiveIntegerOption(values['max-files'], '--max-files')
    const collector = await startCollector({
      socket,
      dir: values.dir ?? 'logs',
      ...(heartbeatTimeout === undefined ? {} : { heartbeatTimeout }),
      files: { ...(values['max-size'] === undefined ? {} : { maxSize: values['max-size'] }), ...(maxFiles === undefined ? {} : { maxFiles }) },
      ...(values.forward === undefined ? {} : { forward: values.forward }),
      ...(values['spool-dir'] === undefined ? {} : { spoolDirs: values['spool-dir'] }),
    }).catch((error: unknown) => {
      throw error instanceof SocketPathError ? new UsageError(error.message) : error
    })
    writeFileSync(pidFile, `${process.pid}\n`)
    process.stdout.write(`collector listening on ${socket}, writing to ${collector.dir} (pid ${process.pid})\n`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await collector.close()
    rmSync(pidFile, { force: true })
    return EXIT_OK
  })

function readPid(path: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10)
  } catch {
    return undefined
  }
}

