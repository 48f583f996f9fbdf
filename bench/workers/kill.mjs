// Logs with one contender in a loop that never yields to the event loop, until the parent
// sends SIGKILL. Every REPORT_EVERY_RECORDS records it writes to the side file how many log
// calls have returned; the side file is written with write(2), so it survives the kill.
// Usage: node kill.mjs <contender-id> <output-path> <side-path>
import { openSync, writeSync } from 'node:fs'
import { openContender } from '../contenders.mjs'

const REPORT_EVERY_RECORDS = 1000

const [id, path, sidePath] = process.argv.slice(2)

const { log } = await openContender(id, path)
const side = openSync(sidePath, 'w')
writeSync(side, 'ready\n')
for (let i = 0; ; ) {
  log(i)
  i++
  if (i % REPORT_EVERY_RECORDS === 0) writeSync(side, `${i}\n`)
}
