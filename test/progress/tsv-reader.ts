import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** A TSV file as a pandas or polars user reads it: the first line names the columns, every other line is a row. */
export interface Tsv {
  readonly columns: string[]
  /** Each complete line (newline-terminated) after the header, by column name, split on tabs, not unescaped. */
  readonly rows: Record<string, string>[]
}

/**
 * `pd.read_csv(path, sep='\t', quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)`
 * in a few lines, written here independently of the library's own code: split lines,
 * split on tabs, name by the header. A last line without its newline (a write cut by a
 * kill) is left out, as docs/progress.md tells readers to do. Every row must have as
 * many fields as the header.
 */
export function readTsv(text: string): Tsv {
  const lines = text.split('\n')
  lines.pop()
  const [header, ...body] = lines
  assert.ok(header !== undefined, 'a header line')
  const columns = header.split('\t')
  const rows = body.map((line, index) => {
    const fields = line.split('\t')
    assert.equal(fields.length, columns.length, `line ${index + 2} has ${fields.length} fields, the header ${columns.length}: ${JSON.stringify(line.slice(0, 200))}`)
    return Object.fromEntries(columns.map((column, i) => [column, fields[i] ?? '']))
  })
  return { columns, rows }
}

/** The paths of `<stem>_YYYYMMDD.log` files in a folder, oldest day first. */
export function tsvFiles(jobDir: string, stem: string): string[] {
  return readdirSync(jobDir)
    .filter((name) => new RegExp(`^${stem}_\\d{8}\\.log$`).test(name))
    .sort()
    .map((name) => join(jobDir, name))
}
