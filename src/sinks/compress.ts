import { createReadStream, createWriteStream, fstatSync, openSync, type WriteStream } from 'node:fs'
import { basename } from 'node:path'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as zlib from 'node:zlib'
import { tarEntry } from './tar.js'

/** The formats the sink writes backups in. */
export type CompressionFormat = 'gzip' | 'zip' | 'tar' | 'tar.gz' | 'br' | 'zst'

/** loguru's `compression=callable`: takes a backup over (compresses, moves, uploads it) instead of a format. */
export type CompressionFunction = (path: string) => void | Promise<void>

type CompressionName = CompressionFormat | 'gz'

/** What `compress` accepts: a format, by blackbox's name or loguru's (`'gz'`, `'.tar.gz'`), or a function. */
export type Compression = CompressionName | `.${CompressionName}` | CompressionFunction

/** The extension each format adds. */
export const COMPRESSED_EXTENSION: Readonly<Record<CompressionFormat, string>> = { gzip: '.gz', zip: '.zip', tar: '.tar', 'tar.gz': '.tar.gz', br: '.br', zst: '.zst' }

const FORMAT_BY_NAME: Readonly<Record<string, CompressionFormat>> = { gz: 'gzip', gzip: 'gzip', zip: 'zip', tar: 'tar', 'tar.gz': 'tar.gz', br: 'br', zst: 'zst' }

/** loguru's formats Node cannot write without a library, and what it lacks for each. */
const UNAVAILABLE: Readonly<Record<string, string>> = { bz2: 'bzip2', 'tar.bz2': 'bzip2', xz: 'xz', 'tar.xz': 'xz', lzma: 'lzma' }

/** zlib's zstd, where this Node has it (22.15 and 23.8 on, not 20): absent from @types/node 20. */
const createZstdCompress = (zlib as unknown as { createZstdCompress?: () => Transform }).createZstdCompress

/**
 * zlib's default brotli quality (11) is its slowest: on 17 MB of JSON log lines it took some
 * 140 times gzip's time. Quality 5 took about 3 times gzip's and wrote less than half its size.
 */
const BROTLI_QUALITY = 5

function refuse(option: string, value: unknown, reason?: string): never {
  throw new TypeError(
    `Expected \`${option}\` to be 'gz', 'zip', 'tar', 'tar.gz', 'br', 'zst', a function of the backup's path or false, got \`${String(value)}\` (${typeof value})${reason === undefined ? '' : `: ${reason}`}`,
  )
}

function checkOne(option: string, value: unknown): CompressionFormat | CompressionFunction | undefined {
  if (value === undefined || value === false) return undefined
  if (typeof value === 'function') return value as CompressionFunction
  if (typeof value !== 'string') return refuse(option, value)
  // loguru strips spaces and a leading dot: ".tar.gz" is "tar.gz".
  const name = value.trim().replace(/^\./, '').toLowerCase()
  const format = FORMAT_BY_NAME[name]
  const lacking = UNAVAILABLE[name]
  if (lacking !== undefined) refuse(option, value, `Node has no ${lacking} of its own and blackbox adds no library for it; 'gz', 'br' or 'zst' compress as well, or pass a function`)
  if (format === undefined) return refuse(option, value)
  if (format === 'zst' && createZstdCompress === undefined) {
    refuse(option, value, `zstd needs Node 22.15 or 23.8 and later (zlib.createZstdCompress); this is Node ${process.versions.node}`)
  }
  return format
}

/** Validates `compress` and loguru's `compression` once: one of them, or both the same. */
export function checkCompression(compress: unknown, compression?: unknown): CompressionFormat | CompressionFunction | undefined {
  const fromCompress = checkOne('compress', compress)
  const fromCompression = checkOne('compression', compression)
  if (fromCompress !== undefined && fromCompression !== undefined && fromCompress !== fromCompression) {
    throw new TypeError(`Expected one of \`compress\` and \`compression\` (the same option, blackbox's name and loguru's), got \`${String(compress)}\` and \`${String(compression)}\``)
  }
  return fromCompress ?? fromCompression
}

function compressor(format: 'gzip' | 'tar.gz' | 'br' | 'zst', size: number): Transform {
  if (format === 'br') {
    return zlib.createBrotliCompress({
      params: {
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
      },
    })
  }
  if (format === 'zst') return (createZstdCompress as () => Transform)()
  return zlib.createGzip()
}

/**
 * Compresses `source` into `destination` (a temporary name: the caller renames it when
 * this resolves, so no half-written archive ever has the final name). gzip, brotli and zstd
 * run in zlib's thread pool; zip is deflated chunk by chunk (fflate), between event-loop
 * turns; tar is a header and the bytes, in 512-byte blocks.
 */
export async function compressFile(source: string, destination: string, format: CompressionFormat): Promise<void> {
  // Opened now, synchronously: a stream opens its path later, by which time a rotation may
  // have moved another backup to this name.
  const fd = openSync(source, 'r')
  const stat = fstatSync(fd)
  const input = createReadStream('', { fd })
  const output = createWriteStream(destination, { mode: 0o644 })
  if (format === 'zip') return zipInto(input, output, basename(source), stat.mtime)
  if (format === 'tar' || format === 'tar.gz') {
    const tar = Readable.from(tarEntry(input, { name: basename(source), size: stat.size, mtimeMs: stat.mtimeMs }))
    if (format === 'tar') await pipeline(tar, output)
    else await pipeline(tar, compressor(format, stat.size), output)
    return
  }
  await pipeline(input, compressor(format, stat.size), output)
}

async function zipInto(input: Readable, output: WriteStream, name: string, mtime: Date): Promise<void> {
  // Loaded when a zip is made, not with the package: most programs never zip (issue #18).
  const { Zip, ZipDeflate } = await import('fflate')
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
    const entry = new ZipDeflate(name, { level: 6 })
    entry.mtime = mtime
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
