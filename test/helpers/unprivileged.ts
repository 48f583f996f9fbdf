/**
 * Running a child as a user that file modes apply to. Root ignores mode 000 and folders it
 * cannot write to (CAP_DAC_OVERRIDE), so a permission test run by root proves nothing: as
 * root, the child runs as nobody (65534) through util-linux's `setpriv`; as anyone else, as
 * itself. When neither works, the test is skipped with the reason.
 */
import { spawnSync } from 'node:child_process'

/** The command line that runs `node <args>` unprivileged, or why there is none. */
export type Unprivileged = { readonly command: string; readonly prefix: readonly string[]; readonly uid: number } | { readonly skip: string }

export const NOBODY_UID = 65534

export function unprivilegedNode(): Unprivileged {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  if (uid === undefined) return { skip: 'file modes are not POSIX here (no process.getuid)' }
  if (uid !== 0) return { command: process.execPath, prefix: [], uid }
  const probe = spawnSync('setpriv', [`--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, '--clear-groups', process.execPath, '-e', 'process.exit(process.getuid() === 65534 ? 0 : 1)'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    return { skip: `running as root, and setpriv (util-linux) could not drop to nobody: ${probe.error?.message ?? probe.stderr.trim()}; root ignores file modes, so the permission case cannot be shown` }
  }
  return { command: 'setpriv', prefix: [`--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, '--clear-groups', process.execPath], uid: NOBODY_UID }
}
