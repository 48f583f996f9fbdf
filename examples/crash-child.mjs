// Logs numbered records as fast as it can until it is killed. After every 100 returned
// calls it writes the count to stdout (a file the parent opened), which survives the kill.
// Usage: node crash-child.mjs <log path> [sync|ring]
import { writeSync } from 'node:fs'
import { createLogger, fileSink } from '../dist/index.js'

const durability = process.argv[3] ?? 'sync'
const log = createLogger({ sinks: [fileSink({ path: process.argv[2], format: 'json', durability })] })
for (let i = 1; ; i++) {
  log.info({ i }, 'working')
  if (i % 100 === 0) writeSync(1, `${i}\n`)
}
