import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { currentUid } from './endpoint.js'

/** The largest spool description (`<clientId>.hello.json`) read: a HELLO is well under it. */
export const MAX_DESCRIPTION_BYTES = 64 * 1024

/** A path a client named, once checked: the entry it names in one of the folders, or why it is refused. */
export type CheckedPath = { readonly path: string; readonly reason?: never } | { readonly path?: never; readonly reason: string }

// O_NOFOLLOW: an entry swapped for a symlink after it was checked is not followed (open(2)).
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/** Why an entry that exists may not be acted on, or undefined when it may. */
function entryProblem(stat: Stats): string | undefined {
  if (stat.isSymbolicLink()) return 'is a symbolic link'
  if (!stat.isFile()) return 'is not a regular file'
  // Another name for the same file could be anywhere: removing this one is harmless, but reading or mapping it is not.
  if (stat.nlink !== 1) return `has ${stat.nlink} hard links`
  const me = currentUid()
  if (me !== undefined && stat.uid !== me) return `belongs to uid ${stat.uid}, not to this user (${me})`
  return undefined
}

/**
 * The folders where a collector's clients keep their spools, rings and goodbyes: the only
 * places where the collector reads, writes or removes a file that a client names (in its
 * HELLO, or in a spool description). A client's file is `<clientId>.spool`,
 * `<clientId>.ring`, `<clientId>.bye` or `<clientId>.hello.json`, directly in one of the
 * folders; the folder is compared by its real path (symlinks resolved), the entry itself
 * must not be a symlink, nor have other hard links, nor belong to another user.
 */
export class SpoolFolders {
  readonly #folders: readonly string[]

  /** `folders`: the collector's own configuration (resolved against its working directory). */
  constructor(folders: readonly string[]) {
    this.#folders = [...new Set(folders.map((folder) => resolve(folder)))]
  }

  /** The folders, as configured. */
  get folders(): readonly string[] {
    return this.#folders
  }

  /** The real paths of the folders that exist now (a client makes its spool folder when it starts). */
  #real(folders: readonly string[] = this.#folders): Set<string> {
    const real = new Set<string>()
    for (const folder of folders) {
      try {
        real.add(realpathSync(folder))
      } catch {
        // Not there yet: nothing in it to deliver.
      }
    }
    return real
  }

  /**
   * Checks a path named for client `clientId`, whose file is `<clientId><suffix>`. The path
   * must be absolute (the collector cannot know a client's working directory). An entry
   * that does not exist yet is accepted (a client's spool appears with its first spilled
   * record); one that exists must be a regular file of this user with no other link.
   */
  check(named: string, clientId: string, suffix: '.spool' | '.ring' | '.bye' | '.hello.json'): CheckedPath {
    if (named === '' || named.includes('\u0000')) return { reason: 'is not a path' }
    if (!isAbsolute(named)) return { reason: 'is a relative path (the collector cannot know the client’s working directory)' }
    const name = basename(named)
    if (name !== `${clientId}${suffix}`) return { reason: `is not named after the client id (${JSON.stringify(`${clientId}${suffix}`)})` }
    let folder: string
    try {
      folder = realpathSync(dirname(named))
    } catch (error) {
      return { reason: `is in a folder that cannot be resolved (${errorCode(error) ?? 'error'})` }
    }
    if (!this.#real().has(folder)) return { reason: `is not in a spool folder of this collector (${this.#folders.join(', ')})` }
    const path = join(folder, name)
    try {
      const folderStat = statSync(folder)
      const me = currentUid()
      if (me !== undefined && folderStat.uid !== me) return { reason: `is in a folder of uid ${folderStat.uid}` }
      if (process.platform !== 'win32' && (folderStat.mode & 0o022) !== 0) return { reason: 'is in a folder others can write to' }
      const problem = entryProblem(lstatSync(path))
      if (problem !== undefined) return { reason: problem }
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') return { reason: `cannot be examined (${errorCode(error) ?? String(error)})` }
    }
    return { path }
  }

  /**
   * Whether a checked entry is there now, checked again as it is used: 'missing', 'file', or
   * the reason it may not be acted on (it became a symlink, or its folder moved, meanwhile).
   */
  state(path: string, clientId: string, suffix: '.spool' | '.ring' | '.bye' | '.hello.json'): 'missing' | 'file' | { reason: string } {
    const checked = this.check(path, clientId, suffix)
    if (checked.reason !== undefined) return { reason: checked.reason }
    try {
      lstatSync(checked.path)
      return 'file'
    } catch {
      return 'missing'
    }
  }

  /** Removes a checked entry; one refused (a symlink, a file with other links) stays where it is. */
  remove(path: string, clientId: string, suffix: '.spool' | '.ring' | '.bye' | '.hello.json'): void {
    const checked = this.check(path, clientId, suffix)
    if (checked.path !== undefined) rmSync(checked.path, { force: true })
  }

  /**
   * The spool descriptions (`*.hello.json`) in the folders (or those of them given), each read (at most
   * MAX_DESCRIPTION_BYTES, without following a symlink), or the reason it was not.
   */
  *descriptions(folders: readonly string[] = this.#folders): Generator<{ file: string; text: Buffer; reason?: never } | { file: string; text?: never; reason: string }> {
    const searched = new Set(folders.map((folder) => resolve(folder)))
    for (const folder of this.#real(this.#folders.filter((folder) => searched.has(folder)))) {
      let names: string[]
      try {
        names = readdirSync(folder).filter((name) => name.endsWith('.hello.json'))
      } catch {
        continue
      }
      for (const name of names) {
        const file = join(folder, name)
        let stat: Stats
        try {
          stat = lstatSync(file)
        } catch {
          continue
        }
        const problem = entryProblem(stat)
        if (problem !== undefined) {
          yield { file, reason: problem }
          continue
        }
        if (stat.size > MAX_DESCRIPTION_BYTES) {
          yield { file, reason: `is ${stat.size} bytes, more than a description holds (${MAX_DESCRIPTION_BYTES})` }
          continue
        }
        try {
          yield { file, text: readSmallFile(file) }
        } catch (error) {
          yield { file, reason: `cannot be read (${errorCode(error) ?? String(error)})` }
        }
      }
    }
  }
}

/** Reads a file of at most MAX_DESCRIPTION_BYTES, refusing to follow a symlink. */
function readSmallFile(path: string): Buffer {
  const fd = openSync(path, READ_NO_FOLLOW)
  try {
    const size = Math.min(fstatSync(fd).size, MAX_DESCRIPTION_BYTES)
    const buffer = Buffer.alloc(size)
    let done = 0
    while (done < size) {
      const read = readSync(fd, buffer, done, size - done, done)
      if (read === 0) break
      done += read
    }
    return buffer.subarray(0, done)
  } finally {
    closeSync(fd)
  }
}

/** Opens a checked file for reading without following a symlink put in its place since. */
export function openNoFollow(path: string): number {
  return openSync(path, READ_NO_FOLLOW)
}
