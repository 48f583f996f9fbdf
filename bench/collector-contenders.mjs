import { once } from 'node:events'

/**
 * The loggers of the collector benchmark: many processes logging into one place. Every
 * `open(target)` resolves, once the logger is ready, to `log(i)` and `finish()`, which
 * resolves once every record of this process is in the output file.
 */

const MESSAGE = 'request handled'

/** A collector client: records go over the collector's socket to its `worker.log`. */
async function openCollectorClient(socket, durability) {
  const { connectLogger } = await import('../dist/index.js')
  const log = await connectLogger({ socket, role: 'worker', format: 'json', durability })
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    // close() resolves once the collector has acknowledged every record: acknowledged
    // means written to worker.log (the collector flushes before it acknowledges).
    finish: () => log.close(),
  }
}

/** pino with its file transport in a worker thread, every process appending to one file. */
async function openPinoTransport(path) {
  const { default: pino } = await import('pino')
  const transport = pino.transport({ target: 'pino/file', options: { destination: path } })
  await once(transport, 'ready')
  const log = pino(transport)
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    // pino unrefs its worker; end() has it write what is left, close the file and exit.
    finish: async () => {
      transport.ref()
      const closed = once(transport, 'close')
      transport.end()
      await closed
    },
  }
}

/**
 * Contender id → table label, whether it logs through a collector (`target` is then the
 * collector's socket, else the shared output file), and opener, in the table's order.
 */
export const COLLECTOR_CONTENDERS = new Map([
  ['collector-sync', { label: 'blackbox → collector, sync client', collector: true, open: (socket) => openCollectorClient(socket, 'sync') }],
  ['collector-batched', { label: 'blackbox → collector, batched client', collector: true, open: (socket) => openCollectorClient(socket, 'batched') }],
  ['collector-ring', { label: 'blackbox → collector, ring client', collector: true, open: (socket) => openCollectorClient(socket, 'ring') }],
  ['pino-transport', { label: 'pino, pino/file transport (worker thread)', collector: false, open: openPinoTransport }],
])

/** The row every other is compared with. */
export const REFERENCE = 'pino-transport'
