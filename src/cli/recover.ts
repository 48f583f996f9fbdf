import { recoverRing } from '../ring/recover.js'
import { EXIT_OK, UsageError, runCommand, type Command } from './command.js'
import { parseArgs } from 'node:util'

export const RECOVER_USAGE = `Usage: blackbox recover [--to FILE] [--force] [--json] RING

Moves the records left in a ring file (durability: 'ring') by a process that ended,
killed or not, into the file named in the ring (or FILE): in order, each exactly once.
The next run of the program does the same on its own; this is for rings it will not open.
Refuses a ring of another format version and one whose process still runs.

Options:
  --to FILE   write the records to FILE instead of the file named in the ring
  --force     recover even if the ring's process id belongs to a running process
  --json      print the result as JSON { ring, target, records, bytes, dropped, pending }
`

/** `blackbox recover`: drain a dead process's ring file into its log file. */
export const recoverCommand: Command = (argv) =>
  runCommand('recover', RECOVER_USAGE, argv, async () => {
    let parsed
    try {
      parsed = parseArgs({
        args: [...argv],
        options: { to: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
        strict: true,
        allowPositionals: true,
      })
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const [ring, ...extra] = parsed.positionals
    if (ring === undefined) throw new UsageError('Expected the path of a ring file')
    if (extra.length > 0) throw new UsageError(`Expected one ring file, got ${parsed.positionals.length}`)
    const result = recoverRing(ring, {
      ...(parsed.values.to === undefined ? {} : { target: parsed.values.to }),
      ...(parsed.values.force ? { force: true } : {}),
    })
    if (parsed.values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else {
      const dropped = result.dropped > 0 ? `; ${result.dropped} records had been dropped (told in the file)` : ''
      process.stdout.write(`recovered ${result.records} records (${result.bytes} bytes) from ${result.ring}${result.target ? ` into ${result.target}` : ''}${dropped}\n`)
    }
    return EXIT_OK
  })
