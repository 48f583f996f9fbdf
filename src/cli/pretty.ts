import { StringDecoder } from 'node:string_decoder'
import { PrettyPrinter } from '../layout/pretty-lines.js'
import { MAX_LINE_CHARS } from '../layout/read-records.js'
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
characters, is printed as it is; so is a last line without a newline. Control characters
are escaped (\\e, \\u0007), in records and in lines printed as they are: input cannot drive
the terminal. A message that is not text is shown as its JSON (\`123\`), a time that is no
moment as a field (\`time=1e+300\`).

Colours: on when stdout is a terminal, off when NO_COLOR is set, on when FORCE_COLOR is.
`

/** `blackbox pretty`: JSON lines on stdin as coloured text lines on stdout. */
export const prettyCommand: Command = (argv) =>
  runCommand('pretty', PRETTY_USAGE, argv, async () => {
    parseCommandArgs(argv, {})
    const printer = new PrettyPrinter({ colour: shouldColour(process.stdout), onNote: (note) => process.stderr.write(`blackbox pretty: ${note}\n`) })
    // A multi-byte character split between two chunks is decoded whole.
    const decoder = new StringDecoder('utf8')
    // Written a chunk at a time, as it comes: `app | blackbox pretty` shows each record at once.
    for await (const chunk of process.stdin) {
      const out = printer.push(decoder.write(chunk as Buffer))
      if (out !== '') process.stdout.write(out)
    }
    const out = printer.push(decoder.end()) + printer.end()
    if (out !== '') process.stdout.write(out)
    return EXIT_OK
  })
