// Logs numbered records as fast as it can until it is killed. After every 100 returned
// calls it writes the count to stdout (a pipe the parent reads to its end, so the last count
// written before the kill still reaches it). writeSync: a count is written only after its
// calls returned, so every count is a lower bound of the calls that had returned.
// Usage: node crash-child.mjs <log path> [sync|ring]
import { writeSync } from 'node:fs'
import { createLogger, fileSink } from '../dist/index.js'

const durability = process.argv[3] ?? 'sync'
const log = createLogger({ sinks: [fileSink({ path: process.argv[2], format: 'json', durability })] })
for (let i = 1; ; i++) {
  log.info({ i }, 'working')
  if (i % 100 === 0) writeSync(1, `${i}\n`)
}
