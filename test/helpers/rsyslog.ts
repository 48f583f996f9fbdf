/**
 * A real rsyslog for the syslog and RELP tests: started with a configuration of our own
 * in a temporary directory, on free ports of 127.0.0.1, writing everything it receives
 * to one file through a template that shows each part of the message.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseStructuredData, type SdElement } from './rfc5424-parser.ts'
import { waitUntil } from './process.ts'
import { tempDir, type CleanupHost } from './tmp.ts'

/** How long rsyslogd may take to listen on every port. */
export const RSYSLOG_START_TIMEOUT_MS = 10_000
/** How long a killed rsyslogd may take to be gone. */
export const RSYSLOG_EXIT_TIMEOUT_MS = 5_000

// rsyslog's message when an input module could not start (runtime/rsconf.c), e.g. imtcp
// when the gtls driver is missing.
const ACTIVATION_FAILED = /activation of module (\S+) failed/

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

type InputName = keyof RsyslogInputs

/** A file in rsyslogd's module directory that an input needs, and the Debian package that ships it. */
interface ModuleFile {
  readonly file: string
  readonly debianPackage: string
  readonly what: string
}

const IMTCP: ModuleFile = { file: 'imtcp.so', debianPackage: 'rsyslog', what: 'the TCP input' }

// The gtls driver is loaded only when the listener is created, so `rsyslogd -N1` does not
// notice it is missing: rsyslogd then runs without ever listening on the TLS port.
const INPUT_MODULES: Readonly<Record<InputName, readonly ModuleFile[]>> = {
  tcp: [IMTCP],
  udp: [{ file: 'imudp.so', debianPackage: 'rsyslog', what: 'the UDP input' }],
  relp: [{ file: 'imrelp.so', debianPackage: 'rsyslog-relp', what: 'the RELP input' }],
  tls: [IMTCP, { file: 'lmnsd_gtls.so', debianPackage: 'rsyslog-gnutls', what: 'the GnuTLS network stream driver (gtls) that imtcp needs for TLS' }],
}

/** How each input shows in errors. */
const INPUT_LABELS: Readonly<Record<InputName, string>> = {
  tcp: 'imtcp',
  udp: 'imudp',
  relp: 'imrelp',
  tls: 'imtcp with TLS (gtls)',
}

/** Where rsyslogd loads its modules from, and how that was found. */
export interface ModuleDir {
  readonly dir: string
  readonly source: string
}

/** How `rsyslogUnavailable()` and `startRsyslog()` find rsyslogd's modules. */
export interface RsyslogModuleOptions {
  /**
   * The module directory to check and to start rsyslogd with (`-M`); default the one
   * `findRsyslogModuleDir()` finds. Tests point it at a copy that lacks a module.
   */
  moduleDir?: string
}

// A module no rsyslog has: asked to load it, rsyslogd names the file it tried.
const PROBE_MODULE = 'blackbox_probe_missing'

/**
 * The directory this machine's rsyslogd loads modules from: asked of rsyslogd itself (a
 * config check that loads a module that does not exist, so the error names the path it
 * tried; this honours `RSYSLOG_MODDIR` and any architecture's directory), else the one
 * that holds imtcp.so in Debian's `rsyslog` package. Undefined when neither says.
 */
export function findRsyslogModuleDir(): ModuleDir | undefined {
  // A file, not /dev/stdin: node gives a child's stdin as a socket, which open(2) refuses.
  const probeDir = mkdtempSync(join(tmpdir(), 'blackbox-rsyslog-probe-'))
  let probe: SpawnSyncReturns<string>
  try {
    writeFileSync(join(probeDir, 'probe.conf'), `module(load="${PROBE_MODULE}")\n`)
    probe = spawnSync('rsyslogd', ['-N1', '-f', join(probeDir, 'probe.conf')], { encoding: 'utf8' })
  } finally {
    rmSync(probeDir, { recursive: true, force: true })
  }
  const tried = new RegExp(`trying to load module (/\\S*/)${PROBE_MODULE}\\.so`).exec(`${probe.stdout ?? ''}${probe.stderr ?? ''}`)
  if (tried?.[1] !== undefined) return { dir: tried[1].replace(/\/+$/, ''), source: 'rsyslogd -N1' }
  const listing = spawnSync('dpkg', ['-L', 'rsyslog'], { encoding: 'utf8' })
  const imtcp = (listing.stdout ?? '').split('\n').find((path) => path.endsWith(`/rsyslog/${IMTCP.file}`))
  if (imtcp !== undefined) return { dir: dirname(imtcp), source: 'dpkg -L rsyslog' }
  return undefined
}

/** The module directory to use: the one given, or the one rsyslogd reports. */
function resolveModuleDir(options: RsyslogModuleOptions): ModuleDir | undefined {
  return options.moduleDir === undefined ? findRsyslogModuleDir() : { dir: options.moduleDir, source: 'moduleDir' }
}

/** The inputs asked for, in a fixed order. */
function inputsWanted(inputs: RsyslogInputs): InputName[] {
  return (['tcp', 'udp', 'relp', 'tls'] as const).filter((name) => inputs[name] === true)
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

/**
 * Why rsyslog cannot run the inputs asked for here, or undefined when it can: rsyslogd
 * missing, a module an input needs missing from its module directory (the reason starts
 * with the Debian package to install: `rsyslog-gnutls is not installed: …`), openssl
 * missing for `tls`.
 */
export function rsyslogUnavailable(inputs: RsyslogInputs = {}, options: RsyslogModuleOptions = {}): string | undefined {
  const probe = spawnSync('rsyslogd', ['-v'], { encoding: 'utf8' })
  if (probe.error) return `rsyslogd is not installed (${probe.error.message}); .ci/run installs rsyslog, rsyslog-relp and rsyslog-gnutls`
  const moduleDir = resolveModuleDir(options)
  // Not found: nothing to check against; startRsyslog() says what rsyslogd reports if an input fails.
  if (moduleDir !== undefined) {
    for (const input of inputsWanted(inputs)) {
      for (const module of INPUT_MODULES[input]) {
        if (existsSync(join(moduleDir.dir, module.file))) continue
        return `${module.debianPackage} is not installed: rsyslogd's module directory ${moduleDir.dir} (from ${moduleDir.source}) has no ${module.file}, ${module.what}; the ${input} input cannot work (.ci/run installs ${module.debianPackage})`
      }
    }
  }
  return inputs.tls ? opensslUnavailable() : undefined
}

/** Why the throwaway certificates of `tls` cannot be made here (no openssl), or undefined. */
export function opensslUnavailable(): string | undefined {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' })
  return openssl.error ? `openssl is not installed (${openssl.error.message})` : undefined
}

/** What `rsyslogOrSkip()` needs of a test context. */
export interface SkipHost extends CleanupHost {
  skip(message?: string): void
  diagnostic(message: string): void
}

/** Starts rsyslog with the inputs asked for, or skips the test saying why it cannot run here. */
export async function rsyslogOrSkip(t: SkipHost, inputs: RsyslogInputs, options: RsyslogModuleOptions = {}): Promise<Rsyslog | undefined> {
  // Found once, so the directory checked is the one rsyslogd is started with.
  const moduleDir = options.moduleDir ?? findRsyslogModuleDir()?.dir
  const resolved: RsyslogModuleOptions = moduleDir === undefined ? {} : { moduleDir }
  const why = rsyslogUnavailable(inputs, resolved)
  if (why !== undefined) {
    t.diagnostic(why)
    t.skip(why)
    return undefined
  }
  return startRsyslog(t, inputs, resolved)
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
 * `rsyslogUnavailable()` first and skip the test (saying why) when it returns a reason,
 * or use `rsyslogOrSkip()`. Rejects, naming the inputs and with rsyslogd's output, when
 * an input does not listen.
 */
export async function startRsyslog(t: CleanupHost, inputs: RsyslogInputs, options: RsyslogModuleOptions = {}): Promise<Rsyslog> {
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

  // With -M, rsyslogd loads from the directory rsyslogUnavailable() checked.
  const moduleDir = options.moduleDir ?? findRsyslogModuleDir()?.dir
  const args = ['-n', '-f', configPath, '-i', join(dir, 'rsyslogd.pid'), ...(moduleDir === undefined ? [] : ['-M', moduleDir])]
  const wanted = inputsWanted(inputs).map((input) => ({ input, port: ports[input], protocol: input === 'udp' ? 'udp' as const : 'tcp' as const }))
  const describe = ({ input, port, protocol }: (typeof wanted)[number]): string => `${input} (${INPUT_LABELS[input]} on ${protocol}/${port})`

  const start = async (): Promise<void> => {
    stderr = ''
    const started = spawn('rsyslogd', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()))
    const silent = (): typeof wanted => wanted.filter(({ port, protocol }) => !listening(port, protocol))
    try {
      await waitUntil(() => silent().length === 0, {
        timeoutMs: RSYSLOG_START_TIMEOUT_MS,
        what: 'rsyslogd to listen on every input',
        abortIf: () => {
          if (started.exitCode !== null || started.signalCode !== null) return `rsyslogd exited (${started.exitCode ?? started.signalCode})`
          // rsyslogd goes on without an input whose activation failed: no use waiting for it.
          const failed = ACTIVATION_FAILED.exec(stderr)
          return failed === null ? undefined : `rsyslogd said "${failed[0]}"`
        },
      })
    } catch (error) {
      throw new Error(
        `rsyslogd did not listen for ${silent().map(describe).join(', ')}: ${(error as Error).message}\n` +
          `rsyslogd's output:\n${stderr === '' ? '(nothing)\n' : stderr}config (${configPath}, modules from ${moduleDir ?? "rsyslogd's default directory"}):\n${config}`,
        { cause: error },
      )
    }
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
