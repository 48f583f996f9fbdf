// Logs `records` records with one rotation contender into the empty folder `dir` and
// reports, as one JSON line on stdout, the time from the first call until finish()
// resolved and a tally of the records in `dir` at that moment.
// Usage: node rotation.mjs <contender-id> <dir> <records>
import { join } from 'node:path'
import { reportAndExit, timeBurst } from '../burst.mjs'
import { openContender } from '../contenders.mjs'
import { tallyRecords } from '../output-files.mjs'
import { ROTATION_CONTENDERS } from '../rotation-contenders.mjs'

const LOG_FILE_NAME = 'app.log'

const [id, dir, recordsArg] = process.argv.slice(2)
const records = Number(recordsArg)

const logger = await openContender(id, join(dir, LOG_FILE_NAME), ROTATION_CONTENDERS)
const timing = await timeBurst(logger, records)
// A finish() that resolves before the last write or compression is done shows here, not at exit.
reportAndExit({ ...timing, atFinish: tallyRecords(dir, records) })
