import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The first chromium on PATH, or why there is none. */
export function findChromium(): { path: string } | { reason: string } {
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
  for (const folder of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const name of names) {
      const path = join(folder, name)
      try {
        accessSync(path, constants.X_OK)
        return { path }
      } catch {
        // Not here.
      }
    }
  }
  return { reason: `none of ${names.join(', ')} is on PATH (Debian: apt-get install chromium; .ci/run installs it)` }
}

/** Headless chromium on `url` with `args` (`--dump-dom`, `--screenshot=…`), in a profile of its own. */
export function chromium(path: string, profile: string, args: readonly string[], url: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(path, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args, url,
  ], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The chromium to use, or undefined after skipping the test with the reason (printed too). */
export function chromiumOrSkip(t: { diagnostic(message: string): void; skip(message: string): void }): string | undefined {
  const found = findChromium()
  if ('path' in found) return found.path
  t.diagnostic(`skipped: ${found.reason}`)
  t.skip(`chromium not found: ${found.reason}`)
  return undefined
}
