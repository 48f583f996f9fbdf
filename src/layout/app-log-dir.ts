import { homedir, tmpdir } from 'node:os'
import { join, posix, win32 } from 'node:path'

export interface AppLogDirOptions {
  platform?: NodeJS.Platform
  env?: NodeJS.ProcessEnv
  /** Home directory; default `os.homedir()`. */
  home?: string
  /** The program's path, for portable mode; default `process.execPath`. */
  execPath?: string
}

/**
 * The platform's application log directory, as desktop apps keep it:
 * `%APPDATA%\<app>\logs` (Windows), `~/Library/Application Support/<app>/logs` (macOS),
 * `$XDG_CONFIG_HOME/<app>/logs`, default `~/.config/<app>/logs` (Linux and others);
 * `logs/` beside the executable in portable mode (`BLACKBOX_PORTABLE=1`);
 * `<os.tmpdir()>/<app>/logs` when no app name is given (development).
 */
export function appLogDir(appName?: string, options: AppLogDirOptions = {}): string {
  const platform = options.platform ?? process.platform
  const env = options.env ?? process.env
  const path = platform === 'win32' ? win32 : posix
  if (env['BLACKBOX_PORTABLE'] === '1') return path.join((platform === 'win32' ? win32 : posix).dirname(options.execPath ?? process.execPath), 'logs')
  if (appName === undefined || appName === '') return join(tmpdir(), 'blackbox', 'logs')
  if (/[/\\\u0000-\u001f]/.test(appName) || appName.includes('..')) {
    throw new TypeError(`Expected \`appName\` to be a plain name, got \`${JSON.stringify(appName)}\` (string)`)
  }
  const home = options.home ?? homedir()
  if (platform === 'win32') return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), appName, 'logs')
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', appName, 'logs')
  const config = env['XDG_CONFIG_HOME'] && path.isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : path.join(home, '.config')
  return path.join(config, appName, 'logs')
}

