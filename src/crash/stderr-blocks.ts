/**
 * How long a block may wait for its next line before it is handed back as it is. Node writes
 * its report of an uncaught exception in one go, so 100 ms of silence means it is complete,
 * or it is not Node's report (an older Node prints no `Node.js v…` line at its end).
 */
export const BLOCK_IDLE_MS = 100

/** One piece of captured stderr: a line as it came, or the lines of one error report, in order. */
export type StderrPiece =
  | { readonly kind: 'line'; readonly line: string }
  | {
    readonly kind: 'block'
    readonly lines: readonly string[]
    /** Node's report of an uncaught exception (a `file:line` header and caret, or the `Node.js v…` line at its end), not only a stack the program printed. */
    readonly fatal: boolean
  }

// `/app/main.js:3`, `file:///app/main.mjs:3`, `[eval]:1`, `node:events:502`: where the throw was.
const HEADER = /^\S.*:\d+$/
// Under the source line, the column of the throw.
const CARET = /^\s*\^+\s*$/
// `Error: boom`, `TypeError [ERR_X]: …`, `[Error: boom] {`, `UnhandledPromiseRejection: …`, `Error` with no message.
const ERROR_LINE = /^\[?[\w$.]*(?:Error|Exception|Rejection)(?: \[[\w.-]+\])?(?::|\]|$)/
const STACK_LINE = /^\s+at\s+\S/
// Node's last line after an uncaught exception (since Node 17).
const NODE_VERSION = /^Node\.js v\d+\.\d+\.\d+/
// What follows the first stack line of a stack with no header: further frames, properties
// (`  code: 'X'`, `}`), causes, the lines of an `error` event nobody listened to, blank lines.
const STACK_MORE = /^(?:\s|[}\]]|Emitted '[^']*' event\b|$)/

/** How held lines may begin an error report. */
type Start = 'none' | 'maybe' | 'header' | 'stack'

/** Whether `lines` (from the first held one) can begin a report: a blank line may come first (Node prints one before some). */
function startOf(lines: readonly string[]): Start {
  const rest = lines[0] === '' ? lines.slice(1) : lines
  const [first, second, third] = rest
  if (first === undefined) return lines.length === 1 ? 'maybe' : 'none'
  const header = HEADER.test(first)
  const error = ERROR_LINE.test(first)
  if (second === undefined) return header || error ? 'maybe' : 'none'
  if (error && STACK_LINE.test(second) && rest.length === 2) return 'stack'
  if (!header) return 'none'
  if (third === undefined) return 'maybe'
  return rest.length === 3 && CARET.test(third) ? 'header' : 'none'
}

/**
 * Groups a stream of stderr lines, fed one at a time, into Node's reports of uncaught
 * exceptions (and stacks printed whole) and the other lines. A report begins with a
 * `file:line` header, the source line and a caret, or with an error line followed by a
 * stack line; it ends with Node's `Node.js v…` line, with `flush()` (the stream's end), or
 * after BLOCK_IDLE_MS without a line. A headerless stack also ends at the first line that
 * cannot belong to it. Every line comes out once, in order; lines that might begin a report
 * are held until the next line tells.
 */
export class StderrBlocks {
  readonly #onPiece: (piece: StderrPiece) => void
  readonly #idleMs: number
  /** `pending`: lines that might begin a report; `header`, `stack`: inside a report that began so. */
  #mode: 'pending' | 'header' | 'stack' = 'pending'
  #held: string[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(onPiece: (piece: StderrPiece) => void, idleMs: number = BLOCK_IDLE_MS) {
    if (!Number.isFinite(idleMs) || idleMs <= 0) throw new TypeError(`Expected \`idleMs\` to be a positive number of ms, got \`${String(idleMs)}\` (${typeof idleMs})`)
    this.#onPiece = onPiece
    this.#idleMs = idleMs
  }

  push(line: string): void {
    if (this.#mode === 'pending') this.#pending(line)
    else if (NODE_VERSION.test(line)) {
      this.#held.push(line)
      this.#emitBlock(true)
    } else if (this.#mode === 'header' || STACK_MORE.test(line)) this.#held.push(line)
    else {
      this.#emitBlock(false)
      this.#pending(line)
    }
    this.#arm()
  }

  /** Hands back whatever is held: at the stream's end, or when it has been idle. */
  flush(): void {
    this.#disarm()
    if (this.#mode === 'pending') {
      for (const line of this.#held) this.#onPiece({ kind: 'line', line })
      this.#held = []
    } else this.#emitBlock(false)
  }

  #pending(line: string): void {
    this.#held.push(line)
    for (;;) {
      const start = startOf(this.#held)
      if (start === 'maybe') return
      if (start === 'header' || start === 'stack') {
        this.#mode = start
        return
      }
      // The first held line begins nothing: it goes, and the rest is looked at again.
      const first = this.#held.shift() as string
      this.#onPiece({ kind: 'line', line: first })
      if (this.#held.length === 0) return
    }
  }

  /** `fatal`: ended by Node's version line; a report that began with a header and a caret is Node's anyway. */
  #emitBlock(fatal: boolean): void {
    const lines = this.#held
    const header = this.#mode === 'header'
    this.#held = []
    this.#mode = 'pending'
    if (lines.length > 0) this.#onPiece({ kind: 'block', lines, fatal: fatal || header })
  }

  #arm(): void {
    if (this.#held.length === 0) return this.#disarm()
    if (this.#timer !== undefined) this.#timer.refresh()
    else {
      // Unref'd: the stream's end flushes anyway, and this timer must not keep the supervisor alive.
      this.#timer = setTimeout(() => this.flush(), this.#idleMs)
      this.#timer.unref()
    }
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

/**
 * The message of a report: its error line (`Error: boom`; else the line after the caret, the
 * thrown value; else the first line), then every other line in order, without the blank
 * lines at either end.
 */
export function blockMessage(lines: readonly string[]): string {
  let index = lines.findIndex((line) => ERROR_LINE.test(line))
  if (index === -1) {
    const caret = lines.findIndex((line) => CARET.test(line))
    index = caret !== -1 && caret + 1 < lines.length && lines[caret + 1] !== '' ? caret + 1 : lines.findIndex((line) => line !== '')
  }
  if (index === -1) return ''
  const rest = lines.filter((_, i) => i !== index)
  let start = 0
  let end = rest.length
  while (start < end && rest[start]?.trim() === '') start++
  while (end > start && rest[end - 1]?.trim() === '') end--
  return [lines[index], ...rest.slice(start, end)].join('\n')
}
