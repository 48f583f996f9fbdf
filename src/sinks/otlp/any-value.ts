import type { Plain } from '../../core/serialize.js'

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
// Global for replace(), which starts from 0 whatever lastIndex holds; test() uses the other, which keeps no state.
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

/**
 * Text as it can travel: each lone surrogate becomes U+FFFD, as encoding to UTF-8 turns it
 * (proto3 strings must be UTF-8, and a JSON receiver may refuse a lone surrogate), so both
 * encodings deliver the same text.
 */
export function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text
}

/**
 * Entries whose keys are well-formed and unique. Two keys that differ only in lone
 * surrogates become the same key; KeyValueList keys "MUST be unique" (common.proto), so the
 * later one wins, as it would in JSON.parse.
 */
export function wellFormedEntries(entries: readonly (readonly [string, Plain])[]): readonly (readonly [string, Plain])[] {
  if (!entries.some(([key]) => LONE_SURROGATE.test(key))) return entries
  const unique = new Map<string, Plain>()
  for (const [key, value] of entries) {
    const fixed = wellFormed(key)
    unique.delete(fixed)
    unique.set(fixed, value)
  }
  return [...unique]
}

/** What each kind of OTLP AnyValue becomes in one encoding. */
export interface AnyValueVisitor<T> {
  string(value: string): T
  bool(value: boolean): T
  /** A safe integer: `int_value` (int64). */
  int(value: number): T
  /** Any other number: `double_value`. */
  double(value: number): T
  array(values: readonly Plain[]): T
  kvlist(entries: readonly (readonly [string, Plain])[]): T
  /** `null`: an AnyValue with no value set, which OTLP calls empty. */
  empty(): T
}

/**
 * The one place that decides which AnyValue a plain value is, for both encodings.
 * Integers within ±(2^53 − 1) are `int_value`, so `42` reads back as 42 and not 42.0;
 * other numbers are `double_value` (`-0` counts as the integer 0: OTLP/JSON could not tell
 * them apart). Arrays are `array_value`, objects `kvlist_value`, `null` empty.
 */
export function visitAnyValue<T>(value: Plain, visitor: AnyValueVisitor<T>): T {
  switch (typeof value) {
    case 'string':
      return visitor.string(value)
    case 'boolean':
      return visitor.bool(value)
    case 'number':
      return Number.isSafeInteger(value) ? visitor.int(value) : visitor.double(value)
  }
  if (value === null) return visitor.empty()
  if (Array.isArray(value)) return visitor.array(value)
  return visitor.kvlist(wellFormedEntries(Object.entries(value)))
}
