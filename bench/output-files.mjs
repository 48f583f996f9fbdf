import { closeSync, openSync, readFileSync, readSync } from 'node:fs'

const READ_CHUNK_BYTES = 1024 * 1024
const NEWLINE = 0x0a

// `"i":123` in every JSON format under test, ` i=123` in blackbox's text format.
const RECORD_INDEX = /(?:^|[{,\s])"?i"?[:=](\d+)/

/** The number of '\n' bytes in the file, read in chunks so that a big file costs little memory. */
export function countLines(path) {
  const fd = openSync(path, 'r')
  const chunk = Buffer.alloc(READ_CHUNK_BYTES)
  let lines = 0
  try {
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null)
      if (read === 0) return lines
      let at = chunk.indexOf(NEWLINE, 0)
      while (at !== -1 && at < read) {
        lines++
        at = chunk.indexOf(NEWLINE, at + 1)
      }
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * How many distinct records numbered below `count` the file holds complete. A record is
 * complete when its line ends in '\n': the one a SIGKILL cut short has no newline.
 */
export function countRecordsBelow(path, count) {
  const text = readFileSync(path, 'latin1')
  const seen = new Uint8Array(count)
  let found = 0
  let start = 0
  for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    const match = RECORD_INDEX.exec(text.slice(start, end))
    if (match === null) continue
    const i = Number(match[1])
    if (i < count && seen[i] === 0) {
      seen[i] = 1
      found++
    }
  }
  return found
}

/** The last count the child reported on its side channel: one number a line, after a `ready` line. */
export function lastReportedCount(sidePath) {
  const lines = readFileSync(sidePath, 'utf8').split('\n')
  // The last element is what follows the final '\n': empty, or a report the kill cut short.
  for (let index = lines.length - 2; index >= 0; index--) {
    const line = lines[index]
    if (/^\d+$/.test(line)) return Number(line)
  }
  return 0
}
