import { writeSync } from 'node:fs'

// If a library leaves a handle open after finishing, exit anyway once this has passed.
const EXIT_GRACE_MS = 2000

/**
 * Logs records `0…records-1` in a plain loop, then calls `finish()` and waits for it.
 * Returns the time from the first call until finish() resolved, the part of it after the
 * loop, and the peak RSS.
 */
export async function timeBurst({ log, finish }, records) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < records; i++) log(i)
  const loopEnd = process.hrtime.bigint()
  await finish()
  const end = process.hrtime.bigint()
  // Before anything else allocates: this is the peak of the logging itself.
  const maxRssKiB = process.resourceUsage().maxRSS
  return { totalNs: Number(end - start), finishNs: Number(end - loopEnd), maxRssKiB }
}

/** Prints `result` as the one JSON line the orchestrator reads, then lets the worker end. */
export function reportAndExit(result) {
  writeSync(1, `${JSON.stringify(result)}\n`)
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref()
}
