import { escapeInline } from '../core/format/escape.js'
import { FirstLineParser, UNKNOWN_LEVEL } from './parse-record.js'
import { MAX_LINE_CHARS } from './read-records.js'
import { RecordRenderer } from './render-record.js'

export interface PrettyPrinterOptions {
  /** Colour the level labels (the console sink's colours). */
  colour: boolean
  /** Told, with a sentence for stderr, when a line could not be rendered and was printed as it is. */
  onNote?: (note: string) => void
}

/**
 * `blackbox pretty`'s lines: text in, in chunks of any size, and for each complete line
 * its output. A JSON record (an object with a level) is printed as the default text preset
 * writes it (see `RecordRenderer`); any other line as it is. Every line gives exactly one
 * record's lines, whatever it holds: control characters are escaped, a line deeper or
 * longer than the readers' bounds is cut to them or passed through, and one line never
 * stops the next.
 */
export class PrettyPrinter {
  readonly #renderer: RecordRenderer
  readonly #parser = new FirstLineParser()
  #number = 0
  #pending = ''
  // Inside a line too long to be a record: the rest of it goes out as it comes.
  #passing = false

  constructor(options: PrettyPrinterOptions) {
    const { onNote } = options
    this.#renderer = new RecordRenderer({
      colour: options.colour,
      ...(onNote === undefined ? {} : { onError: (record, error) => onNote(`line ${record.line} could not be rendered (${escapeInline(error.message)}); printed as it is`) }),
    })
  }

  /** The output for the lines `text` completes; a line not yet ended is held back. */
  push(text: string): string {
    let out = ''
    let start = 0
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline)
      if (this.#passing) out += `${passThrough(piece)}\n`
      else out += this.#line(this.#pending + piece)
      this.#pending = ''
      this.#passing = false
      start = newline + 1
    }
    const rest = text.slice(start)
    if (this.#passing) out += escapeInline(rest)
    else if (this.#pending.length + rest.length > MAX_LINE_CHARS) {
      out += escapeInline(this.#pending + rest)
      this.#pending = ''
      this.#passing = true
    } else this.#pending += rest
    return out
  }

  /** The end of the input: a last line without its newline (a writer cut off mid-line) as it is. */
  end(): string {
    const rest = this.#pending
    this.#pending = ''
    return escapeInline(rest)
  }

  #line(line: string): string {
    this.#number++
    if (line.startsWith('{')) {
      const record = this.#parser.parse(line, this.#number)
      if (record.format === 'json' && record.level !== UNKNOWN_LEVEL) return this.#renderer.render(record)
    }
    return `${passThrough(line)}\n`
  }
}

/** A line printed as it is: its controls escaped, but for the `\r` of a CRLF line end. */
function passThrough(line: string): string {
  return line.endsWith('\r') ? `${escapeInline(line.slice(0, -1))}\r` : escapeInline(line)
}
