import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'

/** Windows named pipes (`\\.\pipe\name`) have no directory or file mode of their own. */
export function isNamedPipe(socket: string): boolean {
  return socket.startsWith('\\\\.\\pipe\\') || socket.startsWith('\\\\?\\pipe\\')
}

/** Where clients of this socket keep their spools: beside the socket, in the same private directory. */
export function spoolDirFor(socket: string): string {
  return isNamedPipe(socket) ? join(process.env['TEMP'] ?? process.env['TMP'] ?? '.', 'blackbox-spool') : join(dirname(socket), 'spool')
}

/**
 * Makes the socket's directory, entered by this user only (0700). An existing directory
 * of another owner is refused: someone else could swap the socket under us.
 */
export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = statSync(dir)
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new Error(`The socket directory ${dir} belongs to uid ${stat.uid}, not to this user (${process.getuid()}): refusing to use it`)
  }
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700)
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
