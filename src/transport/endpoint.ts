import { lstatSync, mkdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { basename, dirname, join } from 'node:path'

/** Windows named pipes (`\\.\pipe\name`) have no directory or file mode of their own. */
export function isNamedPipe(socket: string): boolean {
  return socket.startsWith('\\\\.\\pipe\\') || socket.startsWith('\\\\?\\pipe\\')
}

/** Where clients of this socket keep their spools: beside the socket, in the same private directory. */
export function spoolDirFor(socket: string): string {
  return isNamedPipe(socket) ? join(process.env['TEMP'] ?? process.env['TMP'] ?? '.', 'blackbox-spool') : join(dirname(socket), 'spool')
}

/**
 * The longest socket path, in bytes: `sun_path` in a Unix socket address holds 108 bytes on
 * Linux and 104 on macOS and the BSDs, its terminating NUL included (unix(7)). A longer
 * path is not refused by every libuv: it is cut short, and the socket appears elsewhere.
 */
export const MAX_SOCKET_PATH_BYTES = (['darwin', 'freebsd', 'openbsd', 'netbsd'].includes(process.platform) ? 104 : 108) - 1

/** A socket path the collector will not use, and why; the command line reports it as a usage error. */
export class SocketPathError extends Error {
  override readonly name = 'SocketPathError'
}

/** This process's uid, where there are uids. */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined
}

/** What to suggest instead of a socket in `dir`: a folder of the user's own inside it. */
function suggestion(socket: string): string {
  return join(dirname(socket), `blackbox-${currentUid() ?? 'user'}`, basename(socket))
}

/**
 * Checks a socket path without touching anything: not longer than a socket address holds,
 * and, when its folder exists already, a folder of this user that nobody else can enter.
 * Throws `SocketPathError`.
 */
export function checkSocketPath(socket: string): void {
  if (isNamedPipe(socket)) return
  const bytes = Buffer.byteLength(socket)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SocketPathError(
      `Expected \`socket\` to be a path of at most ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket address holds ${MAX_SOCKET_PATH_BYTES + 1} on ${process.platform}, its final NUL included), got ${bytes} bytes: \`${socket}\`; choose a shorter path, such as one under $XDG_RUNTIME_DIR or /tmp`,
    )
  }
  let stat
  try {
    stat = statSync(dirname(socket))
  } catch {
    return
  }
  checkSocketFolder(socket, stat)
}

function checkSocketFolder(socket: string, stat: { uid: number; mode: number; isDirectory(): boolean }): void {
  const dir = dirname(socket)
  if (!stat.isDirectory()) throw new SocketPathError(`The socket's folder ${dir} is not a folder`)
  const uid = currentUid()
  if (uid !== undefined && stat.uid !== uid) {
    throw new SocketPathError(`The socket's folder ${dir} belongs to uid ${stat.uid}, not to this user (${uid}): it could swap the socket. Give a socket in a folder of your own, such as ${suggestion(socket)} (a folder that does not exist yet is made, mode 0700)`)
  }
  // Mode bits mean nothing to Windows. A folder others can write to lets them replace the
  // socket (issue #15); one they can only enter is accepted: on Linux connecting needs write
  // permission on the socket itself, which is 0600. A folder the collector makes is 0700.
  const mode = stat.mode & 0o7777
  if (process.platform !== 'win32' && (mode & 0o022) !== 0) {
    throw new SocketPathError(
      `The socket's folder ${dir} can be written by others (mode ${mode.toString(8).padStart(4, '0')}): they could replace the socket. ` +
        `Give a socket in a folder of its own, such as ${suggestion(socket)} (a folder that does not exist yet is made, mode 0700); the collector does not change the mode of a folder it did not make`,
    )
  }
}

/**
 * Makes the socket's folder when it is missing, entered by this user only (0700, whatever
 * the umask). An existing folder is used as it is, never changed: it must belong to this
 * user, and others may not write to it (a shared /tmp would let them replace the socket). Throws
 * `SocketPathError`.
 */
export function prepareSocketDir(socket: string): void {
  checkSocketPath(socket)
  const dir = dirname(socket)
  // mkdir(2) applies the umask, which only takes bits away from 0700.
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  checkSocketFolder(socket, statSync(dir))
}

/** Whether an existing socket path holds a socket (left by a collector), as opposed to a file of the user's. */
export function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket()
  } catch {
    return false
  }
}

/** Names that become file names (roles, client names): no path, no `..`, no control characters. */
export function checkFileName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value) || value.includes('..')) {
    throw new TypeError(`Expected \`${what}\` to be a name of letters, digits, '.', '_' or '-' (no path, no '..'), got \`${JSON.stringify(value) ?? String(value)}\` (${typeof value})`)
  }
  return value
}

/** Whether something accepts connections on the socket now. */
export function isListening(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket)
    const done = (answer: boolean): void => {
      clearTimeout(timer)
      probe.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    probe.once('connect', () => done(true))
    probe.once('error', () => done(false))
  })
}
