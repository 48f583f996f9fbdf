/**
 * A tar archive of one file, as a stream of 512-byte blocks (POSIX ustar, pax(1) "ustar
 * Interchange Format"): Node has no tar of its own, and a backup needs only this much. A name
 * longer than ustar's 100 bytes goes in a pax extended header first, as GNU and BSD tar read.
 */

const BLOCK_BYTES = 512
/** The largest size ustar's 11 octal digits hold (8 GiB − 1); past it, GNU's base-256 form. */
const MAX_OCTAL_SIZE = 0o77777777777
const NAME_BYTES = 100
const REGULAR_FILE = '0'
const PAX_HEADER = 'x'

export interface TarEntryInfo {
  name: string
  size: number
  mtimeMs: number
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii')
}

function header(name: Buffer, size: number, mtimeMs: number, type: string): Buffer {
  const block = Buffer.alloc(BLOCK_BYTES)
  name.copy(block, 0, 0, Math.min(name.length, NAME_BYTES))
  writeOctal(block, 100, 8, 0o644)
  writeOctal(block, 108, 8, 0)
  writeOctal(block, 116, 8, 0)
  if (size <= MAX_OCTAL_SIZE) writeOctal(block, 124, 12, size)
  else {
    // Base-256: the high bit of the first byte set, the size big-endian in the rest.
    block[124] = 0x80
    let rest = size
    for (let at = 135; at > 124; at--) {
      block[at] = rest % 256
      rest = Math.floor(rest / 256)
    }
  }
  writeOctal(block, 136, 12, Math.floor(mtimeMs / 1000))
  block.write(type, 156, 1, 'ascii')
  block.write('ustar\u000000', 257, 8, 'ascii')
  // The checksum is the sum of the header's bytes with its own field read as spaces.
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii')
  return block
}

/** Zeros up to the next block boundary after `size` bytes. */
function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK_BYTES - (size % BLOCK_BYTES)) % BLOCK_BYTES)
}

/** A pax `path` record: "<length> path=<name>\n", the length counting its own digits. */
function paxPath(name: Buffer): Buffer {
  const rest = name.length + ' path=\n'.length
  let length = rest + 1
  while (String(length).length + rest !== length) length = String(length).length + rest
  return Buffer.concat([Buffer.from(`${length} path=`, 'ascii'), name, Buffer.from('\n', 'ascii')])
}

/**
 * The blocks of a tar archive holding `content` as `info.name`. Throws if `content` is not
 * exactly `info.size` bytes (the file changed meanwhile): the header has already said its size.
 */
export async function* tarEntry(content: AsyncIterable<Buffer | string>, info: TarEntryInfo): AsyncGenerator<Buffer> {
  const name = Buffer.from(info.name, 'utf8')
  if (name.length > NAME_BYTES) {
    const record = paxPath(name)
    yield header(Buffer.from('././@PaxHeader', 'ascii'), record.length, info.mtimeMs, PAX_HEADER)
    yield record
    yield padding(record.length)
  }
  yield header(name, info.size, info.mtimeMs, REGULAR_FILE)
  let read = 0
  for await (const chunk of content) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    read += bytes.length
    if (read > info.size) break
    yield bytes
  }
  if (read !== info.size) throw new Error(`${info.name} changed while it was archived: ${read} bytes where its header says ${info.size}`)
  yield padding(info.size)
  // The end of an archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK_BYTES)
}
