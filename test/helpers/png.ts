import { inflateSync } from 'node:zlib'

/** A decoded PNG: width, height and RGBA bytes, row by row. */
export interface Png {
  readonly width: number
  readonly height: number
  readonly rgba: Uint8Array
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
// Bytes per pixel of 8-bit colour types: greyscale, RGB, grey + alpha, RGBA (PNG spec, 11.2.2).
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 }

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/**
 * Decodes what a browser's screenshot is: an 8-bit, non-interlaced PNG (greyscale, RGB,
 * or with alpha), with the five filters of the PNG spec. Anything else throws, naming it.
 */
export function decodePng(file: Uint8Array): Png {
  const bytes = Buffer.from(file)
  if (!bytes.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: the signature is wrong')
  let width = 0
  let height = 0
  let channels = 0
  const data: Buffer[] = []
  for (let offset = 8; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset)
    const type = bytes.toString('latin1', offset + 4, offset + 8)
    const body = bytes.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const depth = body[8]
      const colour = body[9] ?? -1
      const interlace = body[12]
      if (depth !== 8 || interlace !== 0 || CHANNELS[colour] === undefined) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`)
      channels = CHANNELS[colour] as number
    } else if (type === 'IDAT') {
      data.push(body)
    } else if (type === 'IEND') {
      break
    }
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0
      const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0
      const value = line[x] as number
      const predicted = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : Number.NaN
      if (Number.isNaN(predicted)) throw new Error(`bad PNG filter ${filter} on row ${y}`)
      pixels[y * stride + x] = (value + predicted) & 0xff
    }
  }
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const p = i * channels
    const grey = channels <= 2
    rgba[i * 4] = pixels[p] as number
    rgba[i * 4 + 1] = (grey ? pixels[p] : pixels[p + 1]) as number
    rgba[i * 4 + 2] = (grey ? pixels[p] : pixels[p + 2]) as number
    rgba[i * 4 + 3] = channels === 4 ? (pixels[p + 3] as number) : channels === 2 ? (pixels[p + 1] as number) : 255
  }
  return { width, height, rgba }
}

/** How many pixels are within `tolerance` (per channel) of a `#rrggbb` colour. */
export function countColour(png: Png, hex: string, tolerance = 24): number {
  const r = Number.parseInt(hex.slice(1, 3), 16)
  const g = Number.parseInt(hex.slice(3, 5), 16)
  const b = Number.parseInt(hex.slice(5, 7), 16)
  let count = 0
  for (let i = 0; i < png.rgba.length; i += 4) {
    if (Math.abs((png.rgba[i] as number) - r) <= tolerance && Math.abs((png.rgba[i + 1] as number) - g) <= tolerance && Math.abs((png.rgba[i + 2] as number) - b) <= tolerance) count++
  }
  return count
}
