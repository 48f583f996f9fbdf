import type { Formatter } from '../../core/format/formatter.js'
import { LEVEL_VALUES } from '../../core/levels.js'
import { LoggerContext, type LogRecord } from '../../core/record.js'
import { FailureReport, type Sink } from '../../core/sink.js'
import { DropTally, type DropCounts } from '../delivery/drops.js'
import { DeliveryEngine, type DeliveryProtocol, type Verdict } from '../delivery/engine.js'
import type { HttpAnswer, RawAnswer } from '../delivery/http.js'
import { Scrubber } from '../delivery/scrubber.js'
import { WebhookRequestError } from './request-error.js'
import type { WebhookSettings } from './options.js'
import type { Entry, Packer } from './packer.js'
import { answerJson, bucketResetMs, classify } from './retry.js'

/**
 * On the synchronous path (process exit, a `fatal` record) at most this many messages are
 * sent, holding the newest records: the record that describes a crash is the last one
 * logged, and a larger burst meets the services' rate limits (Discord: 5 per 2 s). Older
 * records stay queued for the asynchronous path, if the process goes on.
 */
export const EXIT_MAX_MESSAGES = 3

const NOTICE_CONTEXT = new LoggerContext('blackbox', {})

/** What makes a webhook sink Discord's, Telegram's, Slack's or a plain JSON POST. */
export interface WebhookService {
  /** Names the sink in reports, with every secret masked: `discord webhook …/1234`. */
  readonly name: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** Strings no error text may hold: the URL and its parts, tokens, header values. */
  readonly secrets: readonly string[]
  readonly packer: Packer
  /** A 2xx whose JSON says `ok: false` is a failure (Telegram). */
  readonly okField: boolean
}

/** A failure of the sink itself, told once on stderr; its message never holds a secret. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError'
}

/**
 * A sink that posts records to a webhook, off the log call's path, through the one delivery
 * engine of the HTTP sinks (see `DeliveryEngine`): records wait in a bounded queue for
 * `batchInterval`, then go in as few messages as the service allows, one request at a time,
 * with retries bounded by `maxRetries`. Drops are told in the next message that gets
 * through. `flushSync()` (process exit, `fatal`) sends the newest records within
 * `exitTimeout`, in at most EXIT_MAX_MESSAGES messages. Made by `discordSink()`,
 * `telegramSink()`, `slackSink()` and `webhookSink()`.
 */
export class WebhookSink implements Sink {
  readonly name: string
  readonly level: number
  readonly formatter: Formatter
  readonly failures: FailureReport
  readonly #engine: DeliveryEngine<Entry>

  constructor(service: WebhookService, settings: WebhookSettings) {
    this.name = service.name
    this.level = settings.level
    this.formatter = settings.formatter
    this.failures = new FailureReport(service.name)
    const scrubber = new Scrubber(service.secrets)
    const scrub = (text: string): string => scrubber.scrub(text)
    const accepts = (answer: HttpAnswer): boolean => {
      if (!service.okField) return true
      const json = answerJson(answer)
      return !(json !== null && typeof json === 'object' && (json as { ok?: unknown }).ok === false)
    }
    const protocol: DeliveryProtocol<Entry> = {
      name: service.name,
      url: service.url,
      headers: { 'content-type': 'application/json; charset=utf-8', ...service.headers },
      scrubber,
      okField: service.okField,
      requestNoun: 'messages',
      maxSyncRequests: EXIT_MAX_MESSAGES,
      newestFirstAtExit: false,
      pack: (source, drops) => {
        const packed = service.packer.pack(source, drops === undefined ? undefined : this.#noticeEntry(drops))
        const requests = packed.payloads.map((payload) => ({ body: payload.body, entries: payload.entries.filter((entry) => !entry.notice) }))
        return packed.error === undefined ? { requests, used: packed.used } : { requests, used: packed.used, error: packed.error }
      },
      classify: (raw) => readAnswer(raw, scrub, accepts),
      error: (message) => new WebhookDeliveryError(message),
      noAnswer: (message, failure, code) => new WebhookRequestError(message, failure, code),
    }
    this.#engine = new DeliveryEngine(protocol, settings, this.failures, this)
  }

  /** Records dropped since the sink was made (queue full, retries exhausted, rejected, invalid body, left at close). */
  get dropped(): number {
    return this.#engine.dropped
  }

  /** Records waiting or being sent. */
  get pending(): number {
    return this.#engine.pending
  }

  write(line: string, record: LogRecord): void {
    this.#engine.write({ record, line, notice: false })
  }

  /** Resolves when every record is sent (or dropped and counted); rejects with FlushTimeoutError after `flushTimeout`. */
  flush(): Promise<void> {
    return this.#engine.flush()
  }

  /**
   * Sends what waits before returning, blocking at most `exitTimeout`: the newest records,
   * in at most EXIT_MAX_MESSAGES messages. A message the asynchronous path has in flight
   * is sent again (at least once beats lost). What could not be sent goes back to the
   * queue, for the asynchronous path if the process goes on.
   */
  flushSync(): void {
    this.#engine.flushSync()
  }

  /** Flushes once within `flushTimeout`, then ends; what was not delivered is counted and told once. Always settles. */
  close(): Promise<void> {
    return this.#engine.close()
  }

  /** At exit: sends what waits within `exitTimeout`, then ends and tells what was not delivered. */
  exitSync(): void {
    this.#engine.exitSync()
  }

  #noticeEntry(counts: DropCounts): Entry {
    const record: LogRecord = {
      level: LEVEL_VALUES.warn,
      levelName: 'warn',
      time: Date.now(),
      msg: DropTally.describe(counts),
      context: NOTICE_CONTEXT,
      fields: undefined,
      err: undefined,
      callsite: undefined,
    }
    return { record, line: this.formatter.format(record), notice: true }
  }
}

/** An answer as the engine needs it: Discord's bucket reset pauses whatever the outcome. */
function readAnswer(raw: RawAnswer, scrub: (text: string) => string, accepts: (answer: HttpAnswer) => boolean): Verdict {
  const answer: HttpAnswer = { status: raw.status, headers: raw.headers, body: raw.bytes.toString('utf8') }
  const reset = bucketResetMs(answer)
  const pause = reset === undefined ? {} : { pauseMs: reset }
  const outcome = classify(answer, scrub, accepts)
  switch (outcome.kind) {
    case 'sent':
      return { kind: 'sent', ...pause }
    case 'rate-limited':
      return { kind: 'retry', waitMs: outcome.waitMs, error: outcome.error, ...pause }
    case 'retry':
      return { kind: 'retry', waitMs: undefined, error: outcome.error, ...pause }
    case 'rejected':
      return { kind: 'rejected', error: outcome.error, ...pause }
  }
}
