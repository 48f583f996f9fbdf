import { StringDecoder } from 'node:string_decoder'
import { FirstLineParser, UNKNOWN_LEVEL } from '../layout/parse-record.js'
import { MAX_LINE_CHARS } from '../layout/read-records.js'
import { RecordRenderer } from '../layout/render-record.js'
import { shouldColour } from '../sinks/console.js'
import { EXIT_OK, parseCommandArgs, runCommand, type Command } from './command.js'

export const PRETTY_USAGE = `Usage: blackbox pretty < FILE
       node app.js | blackbox pretty

Reads JSON lines on stdin (blackbox's, or pino's: level, time, pid, hostname, name, msg,
err, other fields) and prints each as a text line, the level coloured as the console sink
colours it:

  2026-11-21 05:52:25.123 [1234] [INFO] checkout started name=shop user=alice

The time is local; \`time\` may be epoch ms or an ISO string. \`hostname\` is left out, every
other member is a field; \`err\` is printed as its stack on continuation lines (\`  | \`).
A line that is not a JSON object with a level, and a line longer than ${MAX_LINE_CHARS}
characters, is printed unchanged; so is a last line without a newline.

Colours: on when stdout is a terminal, off when NO_COLOR is set, on when FORCE_COLOR is.
`

/** `blackbox pretty`: JSON lines on stdin as coloured text lines on stdout. */
export const prettyCommand: Command = (argv) =>
  runCommand('pretty', PRETTY_USAGE, argv, async () => {
    parseCommandArgs(argv, {})
    const renderer = new RecordRenderer({ colour: shouldColour(process.stdout) })
    const parser = new FirstLineParser()
    let number = 0
    const pretty = (line: string): string => {
      number++
      if (line.startsWith('{')) {
        const record = parser.parse(line, number)
        if (record.format === 'json' && record.level !== UNKNOWN_LEVEL) return renderer.render(record)
      }
      return `${line}\n`
    }

    // A multi-byte character split between two chunks is decoded whole.
    const decoder = new StringDecoder('utf8')
    let pending = ''
    // Inside a line too long to be a record: the rest of it goes out as it comes.
    let passing = false
    const take = (text: string): string => {
      let out = ''
      let start = 0
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        const piece = text.slice(start, newline)
        if (passing) out += `${piece}\n`
        else out += pretty(pending + piece)
        pending = ''
        passing = false
        start = newline + 1
      }
      const rest = text.slice(start)
      if (passing) out += rest
      else if (pending.length + rest.length > MAX_LINE_CHARS) {
        out += pending + rest
        pending = ''
        passing = true
      } else pending += rest
      return out
    }
    // Written a chunk at a time, as it comes: `app | blackbox pretty` shows each record at once.
    for await (const chunk of process.stdin) {
      const out = take(decoder.write(chunk as Buffer))
      if (out !== '') process.stdout.write(out)
    }
    // A last line without its newline (a writer cut off mid-line) is shown as it is.
    const out = take(decoder.end()) + pending
    if (out !== '') process.stdout.write(out)
    return EXIT_OK
  })
