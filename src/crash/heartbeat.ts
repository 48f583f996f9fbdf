import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Logger } from '../core/logger.js'

/** How late a beat may fire, beyond half its interval, before the loop is said to have been blocked. */
export const BLOCKED_THRESHOLD_MS = 100
/** Resolution of the event-loop delay histogram. */
export const LOOP_DELAY_RESOLUTION_MS = 10

export interface Heartbeat {
  /** Stops the beats; safe to call twice. */
  stop(): void
  /** How many beats were written. */
  readonly beats: number
}

const MB = 1024 * 1024

function round(value: number, digits = 1): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/**
 * Writes a debug record every `intervalMs`: uptime, RSS, heap used, event-loop delay (p99
 * and max since the last beat), CPU time since the last beat. A beat that fires far later
 * than scheduled means the event loop was blocked, and a warning says for how long.
 * The timer never keeps the process alive.
 */
export function startHeartbeat(logger: Logger, intervalMs: number): Heartbeat {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw new TypeError(`Expected \`heartbeatInterval\` to be a positive integer of ms (or 0 for none), got \`${String(intervalMs)}\` (${typeof intervalMs})`)
  }
  const histogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS })
  histogram.enable()
  let cpu = process.cpuUsage()
  let beats = 0
  let timer: NodeJS.Timeout | undefined
  let due = 0

  const schedule = (): void => {
    due = performance.now() + intervalMs
    timer = setTimeout(beat, intervalMs).unref()
  }

  const beat = (): void => {
    const late = performance.now() - due
    if (late > Math.max(BLOCKED_THRESHOLD_MS, intervalMs / 2)) {
      logger.warn({ event: 'blocked', blockedMs: Math.round(late) }, `the event loop was blocked for about ${Math.round(late)} ms (a heartbeat came that much late)`)
    }
    const memory = process.memoryUsage()
    const used = process.cpuUsage(cpu)
    cpu = process.cpuUsage()
    // The histogram is in nanoseconds and each sample includes the sampling period itself;
    // it has no samples until the loop has turned.
    const delay = (ns: number): number => (histogram.count > 0 ? Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) : 0)
    const p99 = delay(histogram.percentile(99))
    // reset() drops the histogram's next sample, which is the one a block just before this
    // beat would have made: the beat's own lateness is a probe of the same delay.
    const max = Math.max(delay(histogram.max), late)
    histogram.reset()
    beats++
    logger.debug(
      {
        event: 'heartbeat',
        uptimeS: round(process.uptime()),
        rssMB: round(memory.rss / MB),
        heapUsedMB: round(memory.heapUsed / MB),
        loopDelayP99Ms: round(p99),
        loopDelayMaxMs: round(max),
        cpuUserMs: Math.round(used.user / 1000),
        cpuSystemMs: Math.round(used.system / 1000),
      },
      `heartbeat: up ${round(process.uptime())} s, rss ${round(memory.rss / MB)} MB, heap ${round(memory.heapUsed / MB)} MB, loop delay p99 ${round(p99)} ms`,
    )
    schedule()
  }

  schedule()
  return {
    stop() {
      if (timer) clearTimeout(timer)
      timer = undefined
      histogram.disable()
    },
    get beats() {
      return beats
    },
  }
}
