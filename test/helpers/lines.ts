import { readFile } from 'node:fs/promises'

/** A log file split into its newline-terminated lines and what follows the last newline. */
export interface FileLines {
  /** Every line that ends with '\n', without it. */
  readonly complete: string[]
  /** The bytes after the last '\n' (a write cut short), '' when the file ends with a newline. */
  readonly partial: string
}

/** Splits text into complete lines and a trailing fragment. */
export function splitLines(text: string): FileLines {
  const parts = text.split('\n')
  const partial = parts.pop() ?? ''
  return { complete: parts, partial }
}

/** Reads a file (missing: empty) and splits it into complete lines and a trailing fragment. */
export async function readLines(path: string): Promise<FileLines> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    text = ''
  }
  return splitLines(text)
}

/** A JSON log line, as far as tests look at it. */
export type JsonRecord = { readonly [key: string]: unknown }

/** Parses every line as a JSON object; the error names the line number and shows the line. */
export function parseJsonLines(lines: readonly string[], source = 'log'): JsonRecord[] {
  return lines.map((line, index) => {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      throw new Error(`${source} line ${index + 1} is not JSON (${(error as Error).message}): ${JSON.stringify(line.slice(0, 300))}`)
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${source} line ${index + 1} is not a JSON object: ${JSON.stringify(line.slice(0, 300))}`)
    }
    return value as JsonRecord
  })
}

/** The numeric field `key` of every record; throws naming the first record without one. */
export function numbersOf(records: readonly JsonRecord[], key: string): number[] {
  return records.map((record, index) => {
    const value = record[key]
    if (typeof value !== 'number') throw new Error(`record ${index + 1} has no numeric \`${key}\`: ${JSON.stringify(record)}`)
    return value
  })
}

/** The first index where `actual` is not 0, 1, 2, …, or undefined when it is exactly that sequence. */
export function firstGapInSequence(actual: readonly number[]): number | undefined {
  for (let i = 0; i < actual.length; i++) if (actual[i] !== i) return i
  return undefined
}
