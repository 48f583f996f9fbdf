import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { LEVEL_VALUES, levelNameOf } from '../core/levels.js'
import { LoggerContext, type LogRecord } from '../core/record.js'
import type { Sink } from '../core/sink.js'
import { parseSize } from '../core/units.js'
import type { Plain } from '../core/serialize.js'
import { writeFully } from '../sinks/fd-writer.js'
import { relpSink } from '../sinks/syslog/relp-sink.js'
import { syslogSink } from '../sinks/syslog/syslog-sink.js'

/** The queue file of one upstream holds at most this much unsent; the oldest go past it, counted. */
export const DEFAULT_FORWARD_QUEUE_BYTES = 256 * 1024 * 1024
/** Records sent upstream per round, then flushed (confirmed) before the queue moves on. */
export const FORWARD_BATCH_RECORDS = 500
export const FORWARD_RETRY_MIN_MS = 500
export const FORWARD_RETRY_MAX_MS = 30_000

/** What the collector forwards: one record as a client sent it. */
export interface ForwardedRecord {
  level: number
  timeMs: number
  client: string
  pid: number
  role: string
  text: string
}

/** An upstream: a sink, and the URL it came from (for names and queue files). */
export interface Upstream {
  url: string
  sink: Sink
}

/**
 * `relp://host:2514`, `syslog+tcp://host:514`, `syslog+tls://host:6514`, `syslog+udp://host:514`;
 * `otlp+http://host:4318/v1/logs` needs an OTLP sink factory (see `forward` in startCollector).
 */
export function upstreamFromUrl(url: string, otlp?: (httpUrl: string) => Sink): Upstream {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`Expected \`forward\` to be a URL like relp://host:2514, syslog+tcp://host:514 or otlp+http://host:4318/v1/logs, got \`${url}\` (string)`)
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  const port = parsed.port === '' ? undefined : Number(parsed.port)
  const common = { host, ...(port === undefined ? {} : { port }), appName: 'blackbox-collector' }
  switch (parsed.protocol) {
    case 'relp:':
      return { url, sink: relpSink(common) }
    case 'syslog+tcp:':
      return { url, sink: syslogSink({ ...common, protocol: 'tcp' }) }
    case 'syslog+tls:':
      return { url, sink: syslogSink({ ...common, protocol: 'tls' }) }
    case 'syslog+udp:':
      return { url, sink: syslogSink({ ...common, protocol: 'udp' }) }
    case 'otlp+http:':
    case 'otlp+https:':
      if (!otlp) throw new TypeError(`Forwarding to ${url} needs the OTLP sink`)
      return { url, sink: otlp(url.replace(/^otlp\+/, '')) }
    default:
      throw new TypeError(`Expected \`forward\` to start with relp://, syslog+tcp://, syslog+tls://, syslog+udp:// or otlp+http(s)://, got \`${url}\` (string)`)
  }
}

const TOP_LEVEL_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg'])

/** A record for an upstream sink, rebuilt from the client's text: JSON records give back their message and fields. */
function recordOf(entry: ForwardedRecord, contexts: Map<string, LoggerContext>): LogRecord {
  let msg = entry.text.replace(/\n$/, '')
  let fields: { [key: string]: Plain } | undefined
  if (msg.startsWith('{')) {
    try {
      const parsed = JSON.parse(msg) as Record<string, Plain>
      msg = typeof parsed['msg'] === 'string' ? parsed['msg'] : ''
      fields = Object.fromEntries(Object.entries(parsed).filter(([key]) => !TOP_LEVEL_KEYS.has(key)))
    } catch {
      // Not JSON after all: forwarded as text.
    }
  }
  const key = `${entry.client}\u0000${entry.pid}\u0000${entry.role}`
  let context = contexts.get(key)
  if (!context) contexts.set(key, (context = new LoggerContext(entry.client, { pid: entry.pid, role: entry.role })))
  return { level: entry.level, levelName: levelNameOf(entry.level), time: entry.timeMs, msg, context, fields, err: undefined, callsite: undefined }
}

/**
 * A disk queue in front of one upstream: every record is appended (one write(2) for a
 * frame's records) before it is acknowledged to its client; a pump sends from the oldest,
 * in rounds, and moves the committed offset only when the upstream sink's `flush()` says
 * the round got through. While the upstream is unreachable the queue grows, up to
 * `maxBytes`; past that the oldest records are dropped and counted, and a record upstream
 * says so. Delivery is at least once: a round that failed halfway is sent again.
 */
export class ForwardQueue {
  readonly path: string
  readonly #offsetPath: string
  readonly #maxBytes: number
  readonly #contexts = new Map<string, LoggerContext>()
  #fd: number
  #size: number
  #committed: number
  #dropped = 0
  #pumping = false
  #closed = false
  #retry = FORWARD_RETRY_MIN_MS
  #timer: NodeJS.Timeout | undefined
  #idle: (() => void)[] = []

  constructor(readonly upstream: Upstream, dir: string, maxBytes: number | string = DEFAULT_FORWARD_QUEUE_BYTES) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const name = upstream.url.replace(/[^A-Za-z0-9.-]+/g, '_')
    this.path = join(dir, `${name}.queue`)
    this.#offsetPath = join(dir, `${name}.offset`)
    this.#maxBytes = typeof maxBytes === 'number' ? maxBytes : parseSize(maxBytes, 'forwardQueue')
    this.#fd = openSync(this.path, 'a+', 0o600)
    this.#size = fstatSync(this.#fd).size
    // Where the last run stopped: records after it were not confirmed upstream.
    this.#committed = existsSync(this.#offsetPath) ? Math.min(Number(readFileSync(this.#offsetPath, 'utf8')) || 0, this.#size) : 0
    if (this.#committed < this.#size) this.#schedule(0)
  }

  /** Bytes queued and not yet confirmed upstream. */
  get pending(): number {
    return this.#size - this.#committed
  }

  get dropped(): number {
    return this.#dropped
  }

  /** Appends records (durably: one write(2)) and starts the pump. */
  push(entries: readonly ForwardedRecord[]): void {
    if (entries.length === 0 || this.#closed) return
    const data = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('')
    writeFully({ writeSync }, this.#fd, data, this.path)
    this.#size += Buffer.byteLength(data)
    if (this.pending > this.#maxBytes) this.#dropOldest()
    this.#schedule(0)
  }

  #dropOldest(): void {
    // Past the bound: skip whole records from the front until under it again.
    const excess = this.pending - this.#maxBytes
    let skipped = 0
    let count = 0
    while (skipped < excess) {
      const chunk = this.#read(this.#committed + skipped, 64 * 1024)
      let start = 0
      let newline = chunk.indexOf(0x0a)
      if (newline === -1) break
      while (newline !== -1 && skipped < excess) {
        skipped += newline + 1 - start
        count++
        start = newline + 1
        newline = chunk.indexOf(0x0a, start)
      }
    }
    this.#commit(this.#committed + skipped)
    this.#dropped += count
  }

  #read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(length)
    const read = readSync(this.#fd, buffer, 0, length, position)
    return buffer.subarray(0, read)
  }

  #commit(offset: number): void {
    this.#committed = offset
    if (this.#committed >= this.#size) {
      // Everything confirmed: start the file again.
      ftruncateSync(this.#fd, 0)
      this.#size = 0
      this.#committed = 0
    }
    const temporary = `${this.#offsetPath}.tmp`
    writeFileSync(temporary, String(this.#committed))
    renameSync(temporary, this.#offsetPath)
  }

  #schedule(delay: number): void {
    if (this.#timer || this.#pumping || this.#closed) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#pump()
    }, delay)
    this.#timer.unref()
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (!this.#closed && this.pending > 0) {
        const { records, bytes } = this.#nextRound()
        if (records.length === 0) break
        const sink = this.upstream.sink
        if (this.#dropped > 0) {
          const notice: LogRecord = {
            level: LEVEL_VALUES.warn, levelName: 'warn', time: Date.now(), context: new LoggerContext('blackbox-collector', {}), err: undefined, callsite: undefined,
            msg: `blackbox collector: ${this.#dropped} records were dropped while ${this.upstream.url} was unreachable (queue over ${this.#maxBytes} bytes)`, fields: { event: 'forward-dropped', dropped: this.#dropped },
          }
          sink.write(sink.formatter.format(notice), notice)
        }
        for (const entry of records) {
          const record = recordOf(entry, this.#contexts)
          if (record.level >= sink.level) sink.write(sink.formatter.format(record), record)
        }
        try {
          await sink.flush()
        } catch {
          // Not confirmed: the round is sent again later (at least once).
          this.#schedule(this.#retry)
          this.#retry = Math.min(this.#retry * 2, FORWARD_RETRY_MAX_MS)
          return
        }
        this.#retry = FORWARD_RETRY_MIN_MS
        this.#dropped = 0
        this.#commit(this.#committed + bytes)
      }
    } finally {
      this.#pumping = false
      if (this.pending === 0) for (const resolve of this.#idle.splice(0)) resolve()
    }
  }

  #nextRound(): { records: ForwardedRecord[]; bytes: number } {
    const records: ForwardedRecord[] = []
    let bytes = 0
    while (records.length < FORWARD_BATCH_RECORDS && this.#committed + bytes < this.#size) {
      const chunk = this.#read(this.#committed + bytes, 256 * 1024)
      let start = 0
      let at = chunk.indexOf(0x0a)
      if (at === -1) break
      while (at !== -1 && records.length < FORWARD_BATCH_RECORDS) {
        try {
          records.push(JSON.parse(chunk.subarray(start, at).toString('utf8')) as ForwardedRecord)
        } catch {
          // A line cut by a crash mid-append: skipped.
        }
        start = at + 1
        at = chunk.indexOf(0x0a, start)
      }
      bytes += start
    }
    return { records, bytes }
  }

  /** Resolves when everything queued is confirmed upstream, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true)
    this.#schedule(0)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.#idle.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  async close(timeoutMs = 5000): Promise<void> {
    await this.drained(timeoutMs)
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    closeSync(this.#fd)
    await this.upstream.sink.close().catch(() => {})
  }
}
