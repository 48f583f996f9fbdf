/**
 * The errors of the machine, not of the options: a folder that cannot be made or written
 * (permissions, a read-only or full disk), a path that is gone. A sink or a setup meeting one
 * reports it and goes on (issue #15); only option errors throw.
 */
export const ENVIRONMENTAL_ERROR_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOENT', 'ENOTDIR', 'EIO', 'EMFILE', 'ENFILE'])

export function isEnvironmental(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && ENVIRONMENTAL_ERROR_CODES.has(code)
}
