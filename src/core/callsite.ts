import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CallSite } from './record.js'

const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/

const UNKNOWN: CallSite = { file: '?', line: 0, column: 0, function: '?' }

/**
 * The first stack frame outside the file named by `ownFile` (the logger), i.e. the
 * application's log call. Costs a stack capture, so it runs only for formats that ask.
 */
export function callerOf(ownFile: string): CallSite {
  const holder: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 12
  Error.captureStackTrace(holder, callerOf)
  Error.stackTraceLimit = limit
  const lines = holder.stack?.split('\n') ?? []
  for (let i = 1; i < lines.length; i++) {
    const match = FRAME.exec(lines[i] as string)
    if (!match) continue
    const [, fn, location = '', line = '0', column = '0'] = match
    if (location.includes(ownFile)) continue
    let file = location
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file)
      } catch {
        // keep the URL as it is
      }
    }
    return { file: basename(file), line: Number(line), column: Number(column), function: fn?.replace(/^async /, '') || '<anonymous>' }
  }
  return UNKNOWN
}
