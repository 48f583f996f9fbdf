import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * The loggers under test. Each `open(path)` resolves once the logger's file is open and
 * returns `log(i)`, which logs record `i` the library's idiomatic way, and `finish()`,
 * which resolves once every record has been written to the kernel and the file is closed.
 * Libraries are imported inside `open()` so that a child process loads only its own.
 */

// Some libraries open their file asynchronously and expose no event for it (log4js);
// every contender gets the same pause after opening so none starts its burst half-open.
const SETTLE_AFTER_OPEN_MS = 50

const MESSAGE = 'request handled'

/** Logs through blackbox's sink factory named `sink` (`fileSink`, `rotatingFileSink`). */
export async function openBlackbox(sink, path, options) {
  const blackbox = await import('../dist/index.js')
  const log = blackbox.createLogger({ sinks: [blackbox[sink]({ path, ...options })] })
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    finish: () => log.close(),
  }
}

export async function openPino(path, sync) {
  const { default: pino } = await import('pino')
  const dest = pino.destination({ dest: path, sync })
  if (!sync) await once(dest, 'ready')
  const log = pino(dest)
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    // sonic-boom's end() writes what it holds, fsyncs, closes, then emits 'close'.
    finish: async () => {
      const closed = once(dest, 'close')
      dest.end()
      await closed
    },
  }
}

async function openWinston(path) {
  const { default: winston } = await import('winston')
  const transport = new winston.transports.File({ filename: path })
  const log = winston.createLogger({ transports: [transport], format: winston.format.json() })
  await once(transport, 'open')
  return {
    // winston's signature is (message, meta); (fields, message) would log the object as the message.
    log: (i) => log.info(MESSAGE, { i, user: 'alice', op: 'write', ms: 1.5 }),
    // The transport's _final waits for its file stream to finish before 'finish' (winston 3.10+).
    finish: async () => {
      const finished = once(transport, 'finish')
      log.end()
      await finished
    },
  }
}

async function openBunyan(path) {
  const { default: bunyan } = await import('bunyan')
  const log = bunyan.createLogger({ name: 'bench', streams: [{ path }] })
  const stream = log.streams[0].stream
  await once(stream, 'open')
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    finish: async () => {
      const closed = once(stream, 'close')
      stream.end()
      await closed
    },
  }
}

async function openLog4js(path) {
  const { default: log4js } = await import('log4js')
  // log4js has no JSON layout of its own; addLayout is its documented way to add one.
  log4js.addLayout('json', () => (event) => JSON.stringify({
    time: event.startTime,
    level: event.level.levelStr,
    category: event.categoryName,
    pid: event.pid,
    ...event.data[0],
    msg: event.data[1],
  }))
  log4js.configure({
    appenders: { file: { type: 'file', filename: path, layout: { type: 'json' } } },
    categories: { default: { appenders: ['file'], level: 'info' } },
  })
  const log = log4js.getLogger()
  return {
    log: (i) => log.info({ i, user: 'alice', op: 'write', ms: 1.5 }, MESSAGE),
    finish: () => new Promise((resolve, reject) => {
      log4js.shutdown((error) => (error ? reject(error) : resolve()))
    }),
  }
}

/** Contender id → table label and opener, in the order the tables show them. */
export const CONTENDERS = new Map([
  ['blackbox-sync', { label: 'blackbox sync (json)', open: (path) => openBlackbox('fileSink', path, { format: 'json', durability: 'sync' }) }],
  ['blackbox-batched', { label: 'blackbox batched (json)', open: (path) => openBlackbox('fileSink', path, { format: 'json', durability: 'batched' }) }],
  ['blackbox-sync-text', { label: 'blackbox sync (text)', open: (path) => openBlackbox('fileSink', path, { format: 'text', durability: 'sync' }) }],
  ['pino-sync', { label: 'pino sync', open: (path) => openPino(path, true) }],
  ['pino-async', { label: 'pino async', open: (path) => openPino(path, false) }],
  ['winston', { label: 'winston', open: openWinston }],
  ['bunyan', { label: 'bunyan', open: openBunyan }],
  ['log4js', { label: 'log4js', open: openLog4js }],
])

/** Opens the contender `id` of `contenders`, or throws naming the ids there are. */
export async function openContender(id, path, contenders = CONTENDERS) {
  const contender = contenders.get(id)
  if (contender === undefined) {
    throw new TypeError(`Expected a contender id, one of ${[...contenders.keys()].join(', ')}, got \`${String(id)}\` (${typeof id})`)
  }
  const logger = await contender.open(path)
  await sleep(SETTLE_AFTER_OPEN_MS)
  return logger
}
