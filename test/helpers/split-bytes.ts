/** `bytes` cut at each of `cuts` (taken modulo its length + 1); repeated cuts give empty chunks. Feeds decoders in odd pieces. */
export function splitBytes(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let start = 0
  for (const point of points) {
    chunks.push(bytes.subarray(start, point))
    start = point
  }
  chunks.push(bytes.subarray(start))
  return chunks
}
