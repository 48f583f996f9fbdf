import * as nodeFs from 'node:fs'
import { basename } from 'node:path'
import { escapeJsonUnsafe } from '../core/format/escape.js'
import { FdWriter } from '../sinks/fd-writer.js'
import { writeFileAtomicSync } from './atomic-file.js'

/** The JSON file is rewritten once the journal holds at least this many items (and at least as many as the JSON). */
export const COMPACT_MIN_ENTRIES = 10_000
/** The JSON file is rewritten at most once per this many times the last rewrite took, so rewriting costs at most 1/20 of the time. */
export const COMPACTION_TIME_FACTOR = 20
/** How often, at most, the JSON file is rewritten to catch up with the journal when `checkpointInterval` is not given. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000

/** What `<runId>_completed.json` holds. */
export interface CheckpointJson {
  run_id: string
  /** How many items `items` holds. */
  count: number
  /** When the file was written, ISO 8601. */
  updated_at: string
  /** The file beside this one holding the items completed since: one JSON string a line. */
  journal: string
  /** The completed items, in the order they were completed. */
  items: string[]
}

/** `X_completed.json` → `X_completed.journal`. */
export function journalPathOf(checkpointPath: string): string {
  return `${checkpointPath.replace(/\.json$/, '')}.journal`
}

function readIfExists(path: string): string | undefined {
  try {
    return nodeFs.readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function parseCheckpointJson(path: string, text: string): string[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`Checkpoint ${path} is not valid JSON (${(error as Error).message}); it is only ever replaced whole, so something else wrote it`)
  }
  const items = value !== null && typeof value === 'object' ? (value as { items?: unknown }).items : undefined
  if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) {
    throw new Error(`Checkpoint ${path} has no \`items\` array of strings; it is not a blackbox checkpoint`)
  }
  return items
}

/**
 * The items of a journal: one JSON string per line. A line not ended by a newline, or not
 * a JSON string, is a write cut by a kill: its `complete()` had not returned, so it is skipped.
 */
export function parseJournal(text: string, into: Set<string>): void {
  const end = text.lastIndexOf('\n')
  if (end === -1) return
  for (const line of text.slice(0, end).split('\n')) {
    if (line.length < 2 || line.charCodeAt(0) !== 0x22 || line.charCodeAt(line.length - 1) !== 0x22) continue
    let item: unknown
    try {
      item = JSON.parse(line)
    } catch {
      continue
    }
    if (typeof item === 'string') into.add(item)
  }
}

/**
 * The completed items of a run as a resumed run sees them: the JSON file and the journal
 * beside it, in the order they were completed. Missing files mean no item.
 */
export function readCheckpoint(checkpointPath: string): string[] {
  return [...loadCheckpoint(checkpointPath).items]
}

/** The items of a checkpoint, and whether its JSON file alone does not hold them all. */
function loadCheckpoint(checkpointPath: string): { items: Set<string>; behind: boolean } {
  const items = new Set<string>()
  const json = readIfExists(checkpointPath)
  if (json !== undefined) for (const item of parseCheckpointJson(checkpointPath, json)) items.add(item)
  const journal = readIfExists(journalPathOf(checkpointPath))
  if (journal !== undefined) parseJournal(journal, items)
  return { items, behind: json === undefined || (journal !== undefined && journal !== '') }
}

/** How a `Checkpoint` loads and when it rewrites its JSON file. */
export interface CheckpointOptions {
  readonly runId: string
  /** Load what earlier runs completed (default) or start from nothing. */
  readonly resume: boolean
  /** The longest the JSON file lags behind the journal while items are being completed, ms. */
  readonly interval: number
  readonly now: () => number
}

/**
 * The set of completed items of a run, kept in two files so that each update is one small
 * append whatever the number of items, and a crash at any moment leaves both valid (with
 * `resume`, loaded from them; the first `compactIfPending()` then makes the JSON file hold
 * everything and empties the journal):
 *
 * - `<runId>_completed.journal`: each `add()` appends one line, a JSON string, with one
 *   O_APPEND write(2) before it returns (so it survives SIGKILL, like a `sync` file sink).
 * - `<runId>_completed.json`: every item, rewritten atomically (`writeFileAtomicSync`)
 *   when the journal has grown as large as it (so the rewrites of a million items cost
 *   O(1) each, amortized) or `interval` ms after the last rewrite; then the journal is
 *   emptied. A kill between the two leaves items in both, which loading forgives.
 */
export class Checkpoint {
  readonly path: string
  readonly journalPath: string
  readonly #options: CheckpointOptions
  readonly #items: Set<string>
  readonly #journal: FdWriter
  #journalEntries = 0
  // The journal size that brings the next rewrite: as many items as the JSON file holds.
  #compactAt = COMPACT_MIN_ENTRIES
  #compactedAt: number
  #compactionMs = 0
  // The JSON file does not hold exactly the items: missing, behind its journal or an
  // add() whose journal write failed, or from before `resume: false`.
  #behind: boolean

  constructor(path: string, options: CheckpointOptions) {
    this.path = path
    this.journalPath = journalPathOf(path)
    this.#options = options
    const loaded = options.resume ? loadCheckpoint(path) : { items: new Set<string>(), behind: true }
    this.#items = loaded.items
    this.#behind = loaded.behind
    this.#journal = new FdWriter(this.journalPath, { mkdir: false })
    this.#compactedAt = options.now()
  }

  get size(): number {
    return this.#items.size
  }

  has(item: string): boolean {
    return this.#items.has(item)
  }

  /** Records `item` as completed before returning; false if it already was. Throws what the file system threw (the item is then kept in memory only). */
  add(item: string): boolean {
    if (this.#items.has(item)) return false
    this.#items.add(item)
    // Set first: if the journal cannot be written, the next rewrite of the JSON file saves the item.
    this.#behind = true
    this.#journal.write(`${escapeJsonUnsafe(JSON.stringify(item))}\n`)
    this.#journalEntries++
    if (this.#journalEntries >= this.#compactAt || this.#options.now() - this.#compactedAt >= Math.max(this.#options.interval, COMPACTION_TIME_FACTOR * this.#compactionMs)) {
      this.compact()
    }
    return true
  }

  /**
   * Rewrites the JSON file with every item and empties the journal. When it fails (a full
   * disk), the files stay as they were, and the next try waits as long as after a success:
   * a failing disk does not turn every `add()` into a rewrite.
   */
  compact(): void {
    const started = performance.now()
    try {
      this.#rewrite()
    } finally {
      this.#compactedAt = this.#options.now()
      this.#compactAt = this.#journalEntries + Math.max(COMPACT_MIN_ENTRIES, this.#items.size)
      this.#compactionMs = performance.now() - started
    }
  }

  #rewrite(): void {
    const body: CheckpointJson = { run_id: this.#options.runId, count: this.#items.size, updated_at: new Date(this.#options.now()).toISOString(), journal: basename(this.journalPath), items: [] }
    const head = JSON.stringify(body).slice(0, -'[]}'.length)
    const items = Array.from(this.#items, (item) => JSON.stringify(item)).join(',\n')
    // One item per line: `grep`, `wc -l` and diff work on it too.
    writeFileAtomicSync(this.path, escapeJsonUnsafe(`${head}[${items === '' ? '' : `\n${items}\n`}]}\n`))
    this.#journal.open()
    if (this.#journal.fd !== undefined) nodeFs.ftruncateSync(this.#journal.fd, 0)
    this.#journalEntries = 0
    this.#behind = false
  }

  /** Rewrites the JSON file unless it holds exactly the items already. */
  compactIfPending(): void {
    if (this.#behind) this.compact()
  }

  close(): void {
    this.#journal.close()
  }
}
