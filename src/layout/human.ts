const SIZE_STEPS = [
  [1e12, 'TB'],
  [1e9, 'GB'],
  [1e6, 'MB'],
  [1e3, 'kB'],
] as const

/** `512 B`, `1.2 kB`, `3.4 MB`: decimal units, the ones `parseSize("10 MB")` reads back. */
export function formatBytes(bytes: number): string {
  for (const [step, unit] of SIZE_STEPS) {
    // 999,950 bytes rounds to "1000.0 kB"; it reads better as the next unit.
    if (bytes >= step * 0.99995) return `${(bytes / step).toFixed(1)} ${unit}`
  }
  return `${bytes} B`
}

/** `850 ms`, `1.23 s`, `12.5 min`, `3.2 h`, `2.1 days`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${(ms / 86_400_000).toFixed(1)} days`
}
