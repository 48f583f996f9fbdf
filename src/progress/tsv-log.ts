import * as nodeFs from 'node:fs'
import { join } from 'node:path'
import { FdWriter } from '../sinks/fd-writer.js'
import { temporaryPathOf } from './atomic-file.js'
import { dayStamp } from './names.js'
import { tsvLine } from './tsv.js'

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '')
}

/**
 * Makes `path` exist with `header` as its first line, unless it exists already. The file
 * appears with its header or not at all: the header goes into a temporary file that is
 * then hard-linked to the name, and link(2) fails with EEXIST rather than replace a file
 * another process made meanwhile. So two processes never both write a header, and a kill
 * between creating the file and writing the header cannot leave a file without one.
 */
export function createWithHeader(path: string, header: string): void {
  if (nodeFs.existsSync(path)) return
  const temporary = temporaryPathOf(path)
  nodeFs.writeFileSync(temporary, header)
  try {
    nodeFs.linkSync(temporary, path)
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) {
      // A file system without hard links (some network and FAT mounts): create it exclusively.
      try {
        nodeFs.writeFileSync(path, header, { flag: 'wx' })
      } catch (fallbackError) {
        if (!isErrno(fallbackError, 'EEXIST')) throw fallbackError
      }
    }
  } finally {
    nodeFs.rmSync(temporary, { force: true })
  }
}

/**
 * One kind of TSV file of a job (`heartbeat`, `batches`), one file per local day:
 * `<jobDir>/<stem>_YYYYMMDD.log`, named by the day each line is written. Each line is one
 * synchronous O_APPEND write(2) through `FdWriter`, done before `write()` returns, so the
 * last complete line is the last thing the process did even after SIGKILL; a line cut by
 * the kill is ended by a newline when the file is next opened.
 */
export class TsvLog {
  readonly #jobDir: string
  readonly #stem: string
  readonly #header: string
  #writer: FdWriter | undefined
  // The local day of the open file, as [start, end) in epoch ms: a line in it needs no date math.
  #dayStart = 0
  #dayEnd = 0

  constructor(jobDir: string, stem: string, columns: readonly string[]) {
    this.#jobDir = jobDir
    this.#stem = stem
    this.#header = tsvLine(columns)
  }

  /** The file a line written at `epochMs` goes to. */
  pathAt(epochMs: number): string {
    return join(this.#jobDir, `${this.#stem}_${dayStamp(epochMs)}.log`)
  }

  /** Appends one line of escaped cells, written at `epochMs`; throws what the file system threw. */
  write(cells: readonly string[], epochMs: number): void {
    if (this.#writer === undefined || epochMs < this.#dayStart || epochMs >= this.#dayEnd) this.#openDay(epochMs)
    ;(this.#writer as FdWriter).write(tsvLine(cells))
  }

  #openDay(epochMs: number): void {
    this.close()
    const path = this.pathAt(epochMs)
    nodeFs.mkdirSync(this.#jobDir, { recursive: true })
    createWithHeader(path, this.#header)
    const writer = new FdWriter(path, { mkdir: false })
    writer.open()
    // Someone made the file empty (`touch`, `: >`): it gets its header after all.
    if (writer.fd !== undefined && nodeFs.fstatSync(writer.fd).size === 0) writer.write(this.#header)
    this.#writer = writer
    const day = new Date(epochMs)
    this.#dayStart = new Date(day.getFullYear(), day.getMonth(), day.getDate()).getTime()
    this.#dayEnd = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime()
  }

  close(): void {
    const writer = this.#writer
    this.#writer = undefined
    writer?.close()
  }
}
