import type { Readable } from 'node:stream'
import { constants as zlib, createGunzip } from 'node:zlib'
import { Unzip, UnzipInflate } from 'fflate'

/** A compressed backup that cannot be decompressed (further): cut while being written, or damaged. */
export class CorruptArchiveError extends Error {
  override readonly name = 'CorruptArchiveError'
}

/** How a file is compressed, by its name: `.gz`, `.zip` (the rotating sink's `compress` option) or not at all. */
export function compressionOf(path: string): 'gzip' | 'zip' | undefined {
  if (path.endsWith('.gz')) return 'gzip'
  if (path.endsWith('.zip')) return 'zip'
  return undefined
}

async function* gunzip(file: Readable): AsyncGenerator<Uint8Array> {
  // SYNC_FLUSH hands out what a truncated stream holds instead of failing at its end.
  const stream = createGunzip({ finishFlush: zlib.Z_SYNC_FLUSH })
  file.on('error', (error) => stream.destroy(error))
  file.pipe(stream)
  try {
    for await (const chunk of stream) yield chunk as Buffer
  } catch (error) {
    // zlib's errors carry Z_ codes; anything else (EIO…) came from reading the file.
    const code = (error as { code?: unknown } | null)?.code
    if (typeof code === 'string' && code.startsWith('Z_')) throw new CorruptArchiveError((error as Error).message)
    throw error
  }
}

async function* unzip(file: Readable): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = []
  let failure: Error | undefined
  let entries = 0
  // A backup archive holds one file, the log; a second entry is not ours to read.
  const reader = new Unzip((entry) => {
    if (++entries > 1) return
    entry.ondata = (error, data) => {
      if (error) failure ??= error
      else out.push(data)
    }
    entry.start()
  })
  reader.register(UnzipInflate)
  // fflate inflates synchronously inside push(): what a chunk held is in `out` right after.
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      reader.push(chunk, final)
    } catch (error) {
      failure ??= error as Error
    }
  }
  for await (const chunk of file) {
    push(chunk as Buffer, false)
    yield* out.splice(0)
    if (failure) throw new CorruptArchiveError(failure.message)
  }
  push(new Uint8Array(0), true)
  yield* out.splice(0)
  if (failure) throw new CorruptArchiveError(failure.message)
  if (entries === 0) throw new CorruptArchiveError('no file in the zip archive')
}

/** The decompressed bytes of a file being read; decoder failures are `CorruptArchiveError`s. */
export function decompress(file: Readable, compression: 'gzip' | 'zip' | undefined): AsyncIterable<Uint8Array> {
  if (compression === 'gzip') return gunzip(file)
  if (compression === 'zip') return unzip(file)
  return file
}
