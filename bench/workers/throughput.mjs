// Logs `records` records with one contender and reports, as one JSON line on stdout, the
// time from the first call until finish() resolved, and the peak RSS.
// Usage: node throughput.mjs <contender-id> <output-path> <records>
import { writeSync } from 'node:fs'
import { openContender } from '../contenders.mjs'
import { countLines } from '../output-files.mjs'

// If a library leaves a handle open after finishing, exit anyway once this has passed.
const EXIT_GRACE_MS = 2000

const [id, path, recordsArg] = process.argv.slice(2)
const records = Number(recordsArg)

const { log, finish } = await openContender(id, path)
const start = process.hrtime.bigint()
for (let i = 0; i < records; i++) log(i)
const loopEnd = process.hrtime.bigint()
await finish()
const end = process.hrtime.bigint()
// Before anything else allocates: this is the peak of the logging itself.
const maxRssKiB = process.resourceUsage().maxRSS
// A finish() that resolves before the last write landed would show fewer lines here than at exit.
const linesAtFinish = countLines(path)

writeSync(1, `${JSON.stringify({
  totalNs: Number(end - start),
  finishNs: Number(end - loopEnd),
  maxRssKiB,
  linesAtFinish,
})}\n`)
setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref()
