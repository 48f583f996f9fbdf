/**
 * A real rsyslog for the syslog and RELP tests: started with a configuration of our own
 * in a temporary directory, on free ports of 127.0.0.1, writing everything it receives
 * to one file through a template that shows each part of the message.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { parseStructuredData, type SdElement } from './rfc5424-parser.ts'
import { waitUntil } from './process.ts'
import { tempDir, type CleanupHost } from './tmp.ts'

/** How long rsyslogd may take to listen on every port. */
export const RSYSLOG_START_TIMEOUT_MS = 10_000
/** How long a killed rsyslogd may take to be gone. */
export const RSYSLOG_EXIT_TIMEOUT_MS = 5_000

// PRI, severity, then each header field, the received timestamp as RFC 3339, the
// structured data exactly as sent, and MSG; '|' separates them (no test value holds one
// before the structured data).
const TEMPLATE = '%pri%|%syslogseverity%|%hostname%|%app-name%|%procid%|%msgid%|%timereported:::date-rfc3339%|%structured-data%|%msg%\\n'

export interface RsyslogInputs {
  tcp?: boolean
  udp?: boolean
  relp?: boolean
  /** imtcp with TLS (gtls, anonymous clients), a throwaway CA and server certificate made with openssl. */
  tls?: boolean
}

/** One line of rsyslog's output, taken apart. */
export interface Received {
  pri: number
  severity: number
  hostname: string
  appName: string
  procId: string
  msgId: string
  timestamp: string
  sd: SdElement[]
  /** MSG as rsyslog wrote it: control characters escaped (`#012`), the BOM kept. */
  msg: string
  line: string
}

export interface Rsyslog {
  readonly dir: string
  readonly output: string
  /** 0 for inputs not configured. */
  readonly ports: { readonly tcp: number; readonly udp: number; readonly relp: number; readonly tls: number }
  /** The CA certificate (PEM) that signed the server's, with `tls`. */
  readonly ca: string | undefined
  /** Whether rsyslogd runs now. */
  readonly running: boolean
  /** Starts rsyslogd again, on the same ports, appending to the same output. */
  start(): Promise<void>
  /** Sends a signal and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** The output, parsed, of messages whose APP-NAME is `appName`. */
  received(appName: string): Received[]
}

/** Why rsyslog cannot run here (missing programs), or undefined when it can. */
export function rsyslogUnavailable(inputs: RsyslogInputs = {}): string | undefined {
  const probe = spawnSync('rsyslogd', ['-v'], { encoding: 'utf8' })
  if (probe.error) return `rsyslogd is not installed (${probe.error.message}); .ci/run installs rsyslog, rsyslog-relp and rsyslog-gnutls`
  if (inputs.tls) {
    const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' })
    if (openssl.error) return `openssl is not installed (${openssl.error.message})`
  }
  return undefined
}

/** A port free on 127.0.0.1 for TCP (and, with `udp`, for UDP too) right now. */
async function freePort(udp: boolean): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
      })
    })
    if (!udp) return port
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4')
      socket.once('error', () => resolve(false))
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)))
    })
    if (free) return port
  }
}

/** Whether something listens on 127.0.0.1:port, read from /proc/net (no connection is made, so rsyslog logs nothing). */
function listening(port: number, protocol: 'tcp' | 'udp'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    let table: string
    try {
      table = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const row of table.split('\n').slice(1)) {
      const columns = row.trim().split(/\s+/)
      const local = columns[1]
      // TCP: state 0A is LISTEN; UDP: 07 is a bound socket.
      if (local?.endsWith(`:${hexPort}`) && columns[3] === (protocol === 'tcp' ? '0A' : '07')) return true
    }
  }
  return false
}

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]): void => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  run(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=blackbox test CA'])
  run(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost'])
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf'])
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') }
}

/** Splits one output line into its parts; throws if it does not follow the template. */
export function parseOutputLine(line: string): Received {
  const parts: string[] = []
  let at = 0
  for (let i = 0; i < 7; i++) {
    const bar = line.indexOf('|', at)
    if (bar === -1) throw new SyntaxError(`not a template line: ${JSON.stringify(line)}`)
    parts.push(line.slice(at, bar))
    at = bar + 1
  }
  const { sd, end } = parseStructuredData(line, at)
  if (line[end] !== '|') throw new SyntaxError(`expected '|' after the structured data: ${JSON.stringify(line)}`)
  const [pri, severity, hostname, appName, procId, msgId, timestamp] = parts as [string, string, string, string, string, string, string]
  return { pri: Number(pri), severity: Number(severity), hostname, appName, procId, msgId, timestamp, sd, msg: line.slice(end + 1), line }
}

/**
 * Starts rsyslogd with the inputs asked for; it is killed when the test ends. Call
 * `rsyslogUnavailable()` first and skip the test (saying why) when it returns a reason.
 */
export async function startRsyslog(t: CleanupHost, inputs: RsyslogInputs): Promise<Rsyslog> {
  let child: ChildProcess | undefined
  let stderr = ''
  let exited: Promise<void> = Promise.resolve()

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = child
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return
    current.kill(signal)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`rsyslogd did not exit within ${RSYSLOG_EXIT_TIMEOUT_MS} ms of ${signal}`)), RSYSLOG_EXIT_TIMEOUT_MS)
      }),
    ]).finally(() => clearTimeout(timer))
  }
  // Registered before the temporary directory, so rsyslogd is gone before its directory is.
  t.after(() => kill('SIGKILL'))

  const dir = await tempDir(t, 'blackbox-rsyslog-')
  const output = join(dir, 'out.log')
  const ports = {
    tcp: inputs.tcp ? await freePort(false) : 0,
    udp: inputs.udp ? await freePort(true) : 0,
    relp: inputs.relp ? await freePort(false) : 0,
    tls: inputs.tls ? await freePort(false) : 0,
  }
  const certificates = inputs.tls ? makeCertificates(dir) : undefined
  const tlsGlobals = certificates
    ? ` defaultNetstreamDriverCAFile="${certificates.ca}" defaultNetstreamDriverCertFile="${certificates.cert}" defaultNetstreamDriverKeyFile="${certificates.key}"`
    : ''
  const config = [
    `global(workDirectory="${dir}"${tlsGlobals})`,
    // Direct: a message is written by the input's own thread before imrelp acknowledges
    // it, so a SIGKILLed rsyslog cannot have acknowledged what it had not written.
    'main_queue(queue.type="Direct")',
    inputs.tcp || inputs.tls ? 'module(load="imtcp")' : '',
    inputs.tcp ? `input(type="imtcp" address="127.0.0.1" port="${ports.tcp}")` : '',
    inputs.tls ? `input(type="imtcp" address="127.0.0.1" port="${ports.tls}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")` : '',
    inputs.udp ? 'module(load="imudp")' : '',
    inputs.udp ? `input(type="imudp" address="127.0.0.1" port="${ports.udp}")` : '',
    inputs.relp ? 'module(load="imrelp")' : '',
    inputs.relp ? `input(type="imrelp" address="127.0.0.1" port="${ports.relp}")` : '',
    `template(name="parts" type="string" string="${TEMPLATE}")`,
    `action(type="omfile" file="${output}" template="parts")`,
    '',
  ].join('\n')
  const configPath = join(dir, 'rsyslog.conf')
  writeFileSync(configPath, config)

  const start = async (): Promise<void> => {
    stderr = ''
    const started = spawn('rsyslogd', ['-n', '-f', configPath, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()))
    const wanted: Array<[number, 'tcp' | 'udp']> = []
    if (ports.tcp) wanted.push([ports.tcp, 'tcp'])
    if (ports.tls) wanted.push([ports.tls, 'tcp'])
    if (ports.relp) wanted.push([ports.relp, 'tcp'])
    if (ports.udp) wanted.push([ports.udp, 'udp'])
    await waitUntil(() => wanted.every(([port, protocol]) => listening(port, protocol)), {
      timeoutMs: RSYSLOG_START_TIMEOUT_MS,
      what: `rsyslogd to listen on ${wanted.map(([port, protocol]) => `${protocol}/${port}`).join(', ')}`,
      abortIf: () => (started.exitCode !== null || started.signalCode !== null ? `rsyslogd exited (${started.exitCode ?? started.signalCode}): ${stderr}\nconfig:\n${config}` : undefined),
    })
  }

  await start()

  return {
    dir,
    output,
    ports,
    ca: certificates ? readFileSync(certificates.ca, 'utf8') : undefined,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
    },
    start,
    kill,
    received(appName: string): Received[] {
      if (!existsSync(output)) return []
      return readFileSync(output, 'utf8')
        .split('\n')
        .filter((line) => line.includes(`|${appName}|`))
        .map(parseOutputLine)
        .filter((received) => received.appName === appName)
    },
  }
}
