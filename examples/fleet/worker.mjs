// A demo worker: processes 40 batches of symbols, with progress files a killed run can
// resume from. The "leaky" one keeps every batch's buffers around.
import { createProgress, getLoggerFromEnv } from '../../dist/index.js'

const name = process.argv[2]
const log = getLoggerFromEnv({ name: `worker-${name}`, heartbeatInterval: 200 })
const symbols = Array.from({ length: 200 }, (_, i) => `SYM${String(i).padStart(3, '0')}`)
const progress = createProgress({ dir: process.env['DEMO_DIR'] ?? 'logs', runId: `demo_${name}`, total: symbols.length, resume: false })
const hoard = []

log.info({ symbols: symbols.length }, `worker ${name} starting`)
for (let batch = 0; batch < 40; batch++) {
  const items = symbols.slice(batch * 5, batch * 5 + 5)
  for (const symbol of items) {
    progress.heartbeat({ symbol, batch: batch + 1, totalBatches: 40 })
    if (name === 'leaky') hoard.push(Buffer.alloc(4 * 1024 * 1024, 1))
    progress.complete(symbol)
  }
  progress.batch({ batch: batch + 1, symbols: items.length, events: items.length * 100 })
  log.info({ batch: batch + 1, rssMB: Math.round(process.memoryUsage().rss / 1048576) }, `batch ${batch + 1}/40 done`)
  await new Promise((resolve) => setTimeout(resolve, 50))
}
await progress.finish()
log.success(`worker ${name} finished`)
await log.close()
