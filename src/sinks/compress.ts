import { createReadStream, createWriteStream, fstatSync, openSync } from 'node:fs'
import { basename } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { Zip, ZipDeflate } from 'fflate'

export type Compression = 'gzip' | 'zip'

/** The extension each compression adds. */
export const COMPRESSED_EXTENSION: Readonly<Record<Compression, string>> = { gzip: '.gz', zip: '.zip' }

/** Validates `compress` once. */
export function checkCompression(option: unknown): Compression | undefined {
  if (option === undefined || option === false) return undefined
  if (option === 'gzip' || option === 'zip') return option
  throw new TypeError(`Expected \`compress\` to be 'gzip', 'zip' or false, got \`${String(option)}\` (${typeof option})`)
}

/**
 * Compresses `source` into `destination` (a temporary name: the caller renames it when
 * this resolves, so no half-written archive ever has the final name). gzip runs in
 * zlib's thread pool; zip is deflated chunk by chunk (fflate), between event-loop turns.
 */
export async function compressFile(source: string, destination: string, compression: Compression): Promise<void> {
  // Opened now, synchronously: a stream opens its path later, by which time a rotation may
  // have moved another backup to this name.
  const fd = openSync(source, 'r')
  const input = createReadStream('', { fd })
  if (compression === 'gzip') {
    await pipeline(input, createGzip(), createWriteStream(destination, { mode: 0o644 }))
    return
  }
  const output = createWriteStream(destination, { mode: 0o644 })
  const finished = new Promise<void>((resolve, reject) => {
    output.once('finish', resolve)
    output.once('error', reject)
  })
  const zipped = new Promise<void>((resolve, reject) => {
    const zip = new Zip((error, chunk, final) => {
      if (error) return reject(error)
      output.write(chunk)
      if (final) {
        output.end()
        resolve()
      }
    })
    const entry = new ZipDeflate(basename(source), { level: 6 })
    entry.mtime = fstatSync(fd).mtime
    zip.add(entry)
    input.on('data', (chunk) => entry.push(chunk as Buffer))
    input.once('end', () => {
      entry.push(new Uint8Array(0), true)
      zip.end()
    })
    input.once('error', reject)
  })
  await Promise.all([zipped, finished])
}
