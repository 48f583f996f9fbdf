import { escapeJsonUnsafe } from '../core/format/escape.js'
import { serialize, type Plain } from '../core/serialize.js'
import { escapeTsvField } from './tsv.js'

/**
 * The columns of `heartbeat_YYYYMMDD.log`, in file order. Fixed: a field `heartbeat()` does
 * not know goes into `extra`, so every line of every run has the same columns.
 */
export const HEARTBEAT_COLUMNS = [
  'timestamp', 'run_id', 'item', 'batch', 'total_batches', 'completed', 'total', 'pct', 'rate_per_s', 'eta_s', 'events', 'extra', 'rss_gb',
] as const

/** The columns of `batches_YYYYMMDD.log`, in file order; unknown fields go into `extra`. */
export const BATCH_COLUMNS = [
  'timestamp', 'run_id', 'batch', 'total_batches', 'items', 'events', 'shard', 'duration_s', 'completed', 'total', 'pct', 'extra', 'rss_gb',
] as const

/** What `progress.heartbeat()` takes: known fields have columns of their own, any other goes into `extra`. */
export interface HeartbeatFields {
  /** The item being processed now (column `item`). */
  item?: string
  /** Another name for `item`, used when `item` is not given. */
  symbol?: string
  /** The batch being processed; kept for later heartbeats that do not give one. */
  batch?: number
  /** Kept for later heartbeats that do not give it; default the `totalBatches` option. */
  totalBatches?: number
  /** A count of your own, e.g. events read so far. */
  events?: number
  [field: string]: unknown
}

/** What `progress.batch()` takes when a batch is done: known fields have columns of their own, any other goes into `extra`. */
export interface BatchFields {
  batch?: number
  /** Default the last one given to `heartbeat()` or `batch()`, or the `totalBatches` option. */
  totalBatches?: number
  /** How many items the batch held (column `items`). */
  items?: number
  /** Another name for `items`, used when `items` is not given. */
  symbols?: number
  events?: number
  /** Where the batch's output went, e.g. `shard0005.parquet`. */
  shard?: string
  [field: string]: unknown
}

/** Values of a line that come from the run, not from the call. */
export interface RunCells {
  readonly timestamp: string
  readonly runId: string
  readonly completed: number
  readonly total: number | undefined
  readonly pct: number | undefined
  readonly ratePerS: number | undefined
  readonly etaS: number | undefined
  readonly rssGb: number
}

/** Rounds to `digits` decimals; trailing zeros are not written. */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** A value as one text field: empty for nothing, numbers as JavaScript writes them, objects as JSON; escaped. */
export function cell(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return ''
    case 'string':
      return escapeTsvField(value)
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value)
    default:
      return value === null ? '' : escapeTsvField(JSON.stringify(serialize(value)))
  }
}

function numberCell(value: number | undefined, digits: number): string {
  return value === undefined ? '' : String(roundTo(value, digits))
}

/**
 * The `extra` column: every field not consumed by a column of its own, as one JSON
 * object in the order given, or empty. JSON never holds a raw tab or line break, so this
 * column is written as it is, not escaped: `json.loads` and polars' `json_decode` read it.
 */
function extraCell(fields: object, consumed: ReadonlySet<string>): string {
  let extra: Record<string, unknown> | undefined
  for (const key of Object.keys(fields)) {
    const value = (fields as Record<string, unknown>)[key]
    if (consumed.has(key) || value === undefined) continue
    extra ??= {}
    extra[key] = value
  }
  if (extra === undefined) return ''
  const plain: Plain = serialize(extra)
  return escapeJsonUnsafe(JSON.stringify(plain))
}

const ITEM_ONLY = new Set(['item', 'batch', 'totalBatches', 'events'])
const ITEM_AND_SYMBOL = new Set(['item', 'symbol', 'batch', 'totalBatches', 'events'])
const ITEMS_ONLY = new Set(['batch', 'totalBatches', 'items', 'events', 'shard'])
const ITEMS_AND_SYMBOLS = new Set(['batch', 'totalBatches', 'items', 'symbols', 'events', 'shard'])

/** The item a heartbeat names: `item`, or `symbol` when there is no `item`. */
export function itemOf(fields: HeartbeatFields): unknown {
  return fields.item !== undefined ? fields.item : fields.symbol
}

/** The cells of a heartbeat line, in `HEARTBEAT_COLUMNS` order. */
export function heartbeatCells(fields: HeartbeatFields, run: RunCells, batch: unknown, totalBatches: unknown): string[] {
  const consumed = fields.item === undefined ? ITEM_AND_SYMBOL : ITEM_ONLY
  return [
    run.timestamp, escapeTsvField(run.runId), cell(itemOf(fields)), cell(batch), cell(totalBatches),
    String(run.completed), cell(run.total), numberCell(run.pct, 2), numberCell(run.ratePerS, 3), numberCell(run.etaS, 1),
    cell(fields.events), extraCell(fields, consumed), numberCell(run.rssGb, 3),
  ]
}

/** The cells of a batch line, in `BATCH_COLUMNS` order. */
export function batchCells(fields: BatchFields, run: RunCells, totalBatches: unknown, durationS: number): string[] {
  const consumed = fields.items === undefined ? ITEMS_AND_SYMBOLS : ITEMS_ONLY
  return [
    run.timestamp, escapeTsvField(run.runId), cell(fields.batch), cell(totalBatches), cell(fields.items !== undefined ? fields.items : fields.symbols),
    cell(fields.events), cell(fields.shard), numberCell(durationS, 3), String(run.completed), cell(run.total), numberCell(run.pct, 2),
    extraCell(fields, consumed), numberCell(run.rssGb, 3),
  ]
}
