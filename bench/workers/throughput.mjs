// Logs `records` records with one contender and reports, as one JSON line on stdout, the
// time from the first call until finish() resolved, and the peak RSS.
// Usage: node throughput.mjs <contender-id> <output-path> <records>
import { reportAndExit, timeBurst } from '../burst.mjs'
import { openContender } from '../contenders.mjs'
import { countLines } from '../output-files.mjs'

const [id, path, recordsArg] = process.argv.slice(2)
const records = Number(recordsArg)

const logger = await openContender(id, path)
const timing = await timeBurst(logger, records)
// A finish() that resolves before the last write landed would show fewer lines here than at exit.
reportAndExit({ ...timing, linesAtFinish: countLines(path) })
