/**
 * Running a child that file modes apply to. Root ignores mode 000 and folders it cannot
 * write to (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a permission test run by root proves
 * nothing: as root, the child runs without those capabilities (util-linux's `setpriv
 * --bounding-set`), still as root, so it can read the repository wherever it is checked out
 * (a clone under a 0700 folder is out of reach of any other user) while the test's mode-000
 * files, which root owns, are refused to it by their owner bits. As anyone else it runs as
 * itself. When neither works, the test is skipped with the reason.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The command line that runs `node <args>` unprivileged, as `uid`; or why there is none. */
export type Unprivileged = { readonly command: string; readonly prefix: readonly string[]; readonly uid: number } | { readonly skip: string }

/** The capabilities that let root past file modes, and change modes of files it does not own. */
const DROPPED_CAPABILITIES = '-dac_override,-dac_read_search,-fowner'

export function unprivilegedNode(): Unprivileged {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  if (uid === undefined) return { skip: 'file modes are not POSIX here (no process.getuid)' }
  if (uid !== 0) return { command: process.execPath, prefix: [], uid }
  const prefix = ['--bounding-set', DROPPED_CAPABILITIES, process.execPath]
  // Proved, not assumed: a file of mode 000 must be refused to the child.
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-unprivileged-'))
  try {
    const probe = join(dir, 'mode-000')
    writeFileSync(probe, 'x')
    chmodSync(probe, 0o000)
    const result = spawnSync('setpriv', [...prefix, '-e', `try { require('node:fs').readFileSync(${JSON.stringify(probe)}); process.exit(1) } catch { process.exit(0) }`], { encoding: 'utf8' })
    if (result.error !== undefined || result.status !== 0) {
      return { skip: `running as root, and setpriv (util-linux) could not drop CAP_DAC_OVERRIDE: ${result.error?.message ?? (result.stderr.trim() || 'the child could still read a mode-000 file')}; root ignores file modes, so the permission case cannot be shown` }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { command: 'setpriv', prefix, uid: 0 }
}
