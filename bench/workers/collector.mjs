// The collector of the collector benchmark, in a process of its own. It listens on
// <socket>, writes every client's records to <dir>/worker.log (no rotation: pino's file
// does not rotate either), prints "ready", and on SIGTERM closes and prints its peak RSS
// as one JSON line.
// Usage: node collector.mjs <socket> <dir>
import { writeSync } from 'node:fs'
import { startCollector } from '../../dist/index.js'

const [socket, dir] = process.argv.slice(2)
const collector = await startCollector({ socket, dir, files: { maxSize: false } })
process.once('SIGTERM', async () => {
  await collector.close()
  writeSync(1, `${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`)
  process.exit(0)
})
writeSync(1, 'ready\n')
