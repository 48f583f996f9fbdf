import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

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
  const seen = new Uint8Array(count)
  let found = 0
  forEachLine(readFileSync(path, 'latin1'), (line) => {
    const match = RECORD_INDEX.exec(line)
    if (match === null) return
    const i = Number(match[1])
    if (i < count && seen[i] === 0) {
      seen[i] = 1
      found++
    }
  })
  return found
}

/**
 * Every file in `dir` read back, `.gz` ones gunzipped, and the JSON records `0…count-1`
 * tallied: `missing` is how many are in no file, `extra` how many copies there are beyond
 * the first, `strays` how many complete lines are not a whole record (a record cut in two
 * by a rotation leaves one such line, and one record missing). Also how many files there
 * are, how many of them gzipped, and the uncompressed size of the largest.
 */
export function tallyRecords(dir, count) {
  return tallyFiles(readdirSync(dir).map((name) => join(dir, name)), count)
}

/** `tallyRecords()` over the files named in `paths`, and no others. */
export function tallyFiles(paths, count) {
  const copies = new Uint32Array(count)
  let files = 0
  let gzipped = 0
  let largestBytes = 0
  let strays = 0
  for (const path of paths) {
    let bytes = readFileSync(path)
    files++
    if (path.endsWith('.gz')) {
      bytes = gunzipSync(bytes)
      gzipped++
    }
    largestBytes = Math.max(largestBytes, bytes.length)
    forEachLine(bytes.toString('utf8'), (line) => {
      const i = recordNumber(line)
      if (i === undefined || i >= count) strays++
      else copies[i]++
    })
  }
  let missing = 0
  let extra = 0
  for (const copiesOfOne of copies) {
    if (copiesOfOne === 0) missing++
    else extra += copiesOfOne - 1
  }
  return { files, gzipped, largestBytes, missing, extra, strays }
}

/** The `i` of a line that is one whole JSON record, else undefined. */
function recordNumber(line) {
  let record
  try {
    record = JSON.parse(line)
  } catch {
    return undefined
  }
  return Number.isInteger(record?.i) && record.i >= 0 ? record.i : undefined
}

/** Calls `visit(line)` for each complete line of `text`: one that ends in '\n'. */
function forEachLine(text, visit) {
  let start = 0
  for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    visit(text.slice(start, end))
  }
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
