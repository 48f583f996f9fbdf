import { once } from 'node:events'
import { openBlackbox, openPino } from './contenders.mjs'

/**
 * The loggers of the rotation benchmark, each with and without rotation by size. Every
 * `open(path)` resolves to `log(i)` and `finish()` as in `contenders.mjs`; a rotating
 * logger puts its backups next to `path`, in a folder of its own.
 */

// Rotation every 1 MB, with backups kept far past what a run makes: a deleted backup would
// read as lost records.
const MAX_SIZE = '1 MB'
const PINO_ROLL_SIZE = '1m'
const BACKUPS_KEPT = 10_000

const MESSAGE = 'request handled'

const ROTATING_BLACKBOX = { format: 'json', maxSize: MAX_SIZE, maxFiles: BACKUPS_KEPT, compress: 'gzip' }

// pino-roll is a transport: pino runs it in a worker thread, its documented use. Run in the
// main thread instead, it rolls on sonic-boom's 'drain', which a loop that never yields does
// not reach, so it would write the whole burst to one file.
async function openPinoRoll(path) {
  const { default: pino } = await import('pino')
  const transport = pino.transport({
    target: 'pino-roll',
    // pino-roll 4 has no compression option.
    options: { file: path, size: PINO_ROLL_SIZE, limit: { count: BACKUPS_KEPT } },
  })
  await once(transport, 'ready')
  const log = pino(transport)
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    // pino unrefs its worker, so nothing would keep this process alive until 'close';
    // end() has the worker write what is left, close its file and exit.
    finish: async () => {
      transport.ref()
      const closed = once(transport, 'close')
      transport.end()
      await closed
    },
  }
}

/**
 * Contender id → table label, `rotation` as the table shows it, `baseline` (the same logger
 * without rotation), and opener, in the order the table shows them.
 */
export const ROTATION_CONTENDERS = new Map([
  ['blackbox-sync', { label: 'blackbox sync', rotation: 'none', open: (path) => openBlackbox('fileSink', path, { format: 'json' }) }],
  ['blackbox-sync-rotating', {
    label: 'blackbox sync',
    rotation: '1 MB, gzip',
    baseline: 'blackbox-sync',
    open: (path) => openBlackbox('rotatingFileSink', path, ROTATING_BLACKBOX),
  }],
  ['blackbox-batched', { label: 'blackbox batched', rotation: 'none', open: (path) => openBlackbox('fileSink', path, { format: 'json', durability: 'batched' }) }],
  ['blackbox-batched-rotating', {
    label: 'blackbox batched',
    rotation: '1 MB, gzip',
    baseline: 'blackbox-batched',
    open: (path) => openBlackbox('rotatingFileSink', path, { ...ROTATING_BLACKBOX, durability: 'batched' }),
  }],
  ['pino-sync', { label: 'pino sync', rotation: 'none', open: (path) => openPino(path, true) }],
  ['pino-roll', { label: 'pino + pino-roll', rotation: '1 MiB, no compression', baseline: 'pino-sync', open: openPinoRoll }],
])

/** The row every other is compared with. */
export const REFERENCE = 'pino-roll'
