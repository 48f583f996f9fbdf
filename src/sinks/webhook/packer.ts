import type { LogRecord } from '../../core/record.js'
import type { EntrySource as EngineEntrySource } from '../delivery/engine.js'

/** A record waiting to be sent, with the line the sink's format made of it. */
export interface Entry {
  readonly record: LogRecord
  readonly line: string
  /** The sink's own drop notice, not a record of the application: it is never counted as dropped. */
  readonly notice: boolean
}

/** One HTTP request: its JSON body and the entries it carries (a split record is in several). */
export interface Payload {
  readonly body: string
  readonly entries: readonly Entry[]
}

/** The next requests to make, built from the front of the queue. */
export interface Packed {
  readonly payloads: readonly Payload[]
  /** How many entries from the front of the source these requests carry (the notice not counted). */
  readonly used: number
  /** Set when no body could be built for those entries (a `body` option that threw); they are dropped. */
  readonly error?: unknown
}

/** What a packer reads from: the queue, or a plain array on the synchronous path (the engine's source of entries). */
export type EntrySource = EngineEntrySource<Entry>

/** Turns records into request bodies under a service's limits. */
export interface Packer {
  /**
   * Packs entries from the front of `source`, after `notice` if there is one, into the
   * next requests: as many records as one message holds, or all the parts of one record
   * too long for a message. Uses at least one entry when `source` has any.
   */
  pack(source: EntrySource, notice: Entry | undefined): Packed
}
