import { createRequire } from 'node:module'
import type { Plain } from '../../core/serialize.js'

/** The trace and span a record belongs to: lowercase hex, as OTLP/JSON writes them. */
export interface TraceIds {
  /** 32 hex digits, not all zero. */
  readonly traceId: string
  /** 16 hex digits, not all zero. */
  readonly spanId: string | undefined
  /** W3C trace flags (0–255): bit 0 is `sampled`. */
  readonly flags: number | undefined
}

/** Field names read for the ids, in order: OpenTelemetry's log field names, then the camelCase of its JS API. */
export const TRACE_ID_KEYS = ['trace_id', 'traceId'] as const
export const SPAN_ID_KEYS = ['span_id', 'spanId'] as const
export const TRACE_FLAGS_KEYS = ['trace_flags', 'traceFlags'] as const

const TRACE_ID = /^[0-9a-f]{32}$/i
const SPAN_ID = /^[0-9a-f]{16}$/i
const FLAGS_HEX = /^[0-9a-f]{2}$/i
const ALL_ZEROS = /^0+$/

/** W3C Trace Context §3.2.2.3: an all-zero id is invalid, and so is one of the wrong length. */
function validId(value: unknown, shape: RegExp): string | undefined {
  return typeof value === 'string' && shape.test(value) && !ALL_ZEROS.test(value) ? value.toLowerCase() : undefined
}

function validFlags(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff) return value
  if (typeof value === 'string' && FLAGS_HEX.test(value)) return Number.parseInt(value, 16)
  return undefined
}

/** The first key of `keys` whose value `accept` takes, with the value it made. */
function pick<T>(attributes: ReadonlyMap<string, Plain>, keys: readonly string[], accept: (value: unknown) => T | undefined): [string, T] | undefined {
  for (const key of keys) {
    const value = accept(attributes.get(key))
    if (value !== undefined) return [key, value]
  }
  return undefined
}

/**
 * The ids a record names in its fields or bindings (`trace_id`/`span_id`/`trace_flags`, or
 * `traceId`/`spanId`/`traceFlags`). The keys used are taken out of `attributes`: they become
 * the record's own fields. Values that are not valid ids stay as attributes, untouched.
 */
export function takeTraceIds(attributes: Map<string, Plain>): TraceIds | undefined {
  const trace = pick(attributes, TRACE_ID_KEYS, (value) => validId(value, TRACE_ID))
  if (trace === undefined) return undefined
  const span = pick(attributes, SPAN_ID_KEYS, (value) => validId(value, SPAN_ID))
  const flags = pick(attributes, TRACE_FLAGS_KEYS, validFlags)
  for (const used of [trace, span, flags]) if (used !== undefined) attributes.delete(used[0])
  return { traceId: trace[1], spanId: span?.[1], flags: flags?.[1] }
}

/** Reads the span of the active OpenTelemetry context; never throws. */
export type ActiveTraceReader = () => TraceIds | undefined

/** What is used of `@opentelemetry/api`, checked when it is loaded. */
interface OpenTelemetryApi {
  readonly context: { active(): unknown }
  readonly trace: { getSpanContext(context: unknown): { traceId?: unknown; spanId?: unknown; traceFlags?: unknown } | undefined }
}

function isOpenTelemetryApi(value: unknown): value is OpenTelemetryApi {
  const api = value as { context?: { active?: unknown }; trace?: { getSpanContext?: unknown } } | null
  return typeof api?.context?.active === 'function' && typeof api.trace?.getSpanContext === 'function'
}

/**
 * A reader of the active span, when `@opentelemetry/api` can be loaded; undefined otherwise.
 * The API is an optional peer, loaded with require() rather than imported: an import would
 * fail for every user of blackbox without it, and it must be the application's own copy,
 * since the API hands its global context manager only to copies of the same or an older
 * minor version. Without it there is no OpenTelemetry SDK, so no active span to read.
 */
export function activeTraceReader(load: () => unknown = () => createRequire(import.meta.url)('@opentelemetry/api')): ActiveTraceReader | undefined {
  let api: unknown
  try {
    api = load()
  } catch {
    return undefined
  }
  if (!isOpenTelemetryApi(api)) return undefined
  return () => {
    try {
      const span = api.trace.getSpanContext(api.context.active())
      if (span === undefined) return undefined
      const traceId = validId(span.traceId, TRACE_ID)
      if (traceId === undefined) return undefined
      return { traceId, spanId: validId(span.spanId, SPAN_ID), flags: validFlags(span.traceFlags) }
    } catch {
      // A context manager that throws must not cost the record.
      return undefined
    }
  }
}
