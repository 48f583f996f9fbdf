import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** A backup this sink manages, found on disk. */
export interface Backup {
  path: string
  /** `3` for `app.log.3.gz`, undefined for date-stamped names. */
  index: number | undefined
  /** `2026-11-21` for `app.log.2026-11-21.1.gz`. */
  stamp: string | undefined
  compressed: boolean
  mtimeMs: number
  size: number
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The archive extensions of managed backups, longest first so `.tar.gz` is not read as `.gz`. */
const ARCHIVE_EXTENSIONS = ['.tar.gz', '.gz', '.zip', '.tar', '.br', '.zst'] as const
const ARCHIVE = new RegExp(`(${ARCHIVE_EXTENSIONS.map(escape).join('|')})$`)

/** `.tar.gz` of `app.log.1.tar.gz`; '' for an uncompressed backup. */
export function archiveExtension(path: string): string {
  return ARCHIVE.exec(path)?.[1] ?? ''
}

/** `app.log.1` of `app.log.1.tar.gz`. */
export function withoutArchiveExtension(path: string): string {
  return path.slice(0, path.length - archiveExtension(path).length)
}

/**
 * The names a rotating sink for `path` gives its files: `app.log.1`, `app.log.2.gz`
 * (size rotation), `app.log.2026-11-21`, `app.log.2026-11-21_14.2.zip` (time rotation), each
 * archive `.gz`, `.zip`, `.tar`, `.tar.gz`, `.br` or `.zst`,
 * and `app.log.compressing-<pid>-<n>.tmp` while a backup is compressed. Nothing else in
 * the folder is ever touched.
 */
export class BackupNames {
  readonly folder: string
  readonly base: string
  readonly #backup: RegExp
  readonly #temporary: RegExp

  constructor(readonly path: string) {
    this.folder = dirname(path)
    this.base = basename(path)
    const base = escape(this.base)
    this.#backup = new RegExp(`^${base}\\.(?:(\\d+)|(\\d{4}-\\d\\d-\\d\\d(?:_\\d\\d(?:-\\d\\d)?)?)(?:\\.(\\d+))?)(${ARCHIVE_EXTENSIONS.map(escape).join('|')})?$`)
    this.#temporary = new RegExp(`^${base}\\.compressing-\\d+-\\d+\\.tmp$`)
  }

  numbered(index: number, extension = ''): string {
    return join(this.folder, `${this.base}.${index}${extension}`)
  }

  stamped(stamp: string, counter: number, extension = ''): string {
    return join(this.folder, `${this.base}.${stamp}${counter > 0 ? `.${counter}` : ''}${extension}`)
  }

  temporary(sequence: number): string {
    return join(this.folder, `${this.base}.compressing-${process.pid}-${sequence}.tmp`)
  }

  isTemporary(name: string): boolean {
    return this.#temporary.test(name)
  }

  /** The managed backups in the folder, newest first (by index, then by modification time). */
  list(): Backup[] {
    let names: string[]
    try {
      names = readdirSync(this.folder)
    } catch {
      return []
    }
    const found: Backup[] = []
    for (const name of names) {
      const match = this.#backup.exec(name)
      if (!match) continue
      const path = join(this.folder, name)
      try {
        const stat = statSync(path)
        if (!stat.isFile()) continue
        found.push({
          path,
          index: match[1] === undefined ? undefined : Number(match[1]),
          stamp: match[2],
          compressed: match[4] !== undefined,
          mtimeMs: stat.mtimeMs,
          size: stat.size,
        })
      } catch {
        // Vanished between the listing and the stat: not ours to count.
      }
    }
    return found.sort((a, b) => (a.index !== undefined && b.index !== undefined ? a.index - b.index : b.mtimeMs - a.mtimeMs || (b.path < a.path ? -1 : 1)))
  }

  /** Leftover temporary archives in the folder (from a process that died compressing). */
  temporaries(): string[] {
    try {
      return readdirSync(this.folder).filter((name) => this.isTemporary(name)).map((name) => join(this.folder, name))
    } catch {
      return []
    }
  }
}
