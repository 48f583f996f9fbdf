/**
 * Run files as the crash guard writes them (see docs/log-management.md), one per way a
 * run can end, in the default text preset. Times are local, on 2026-11-21.
 */

/** The pid every sample line carries. */
export const SAMPLE_PID = 4321

/** One first line of the default text preset, newline included. */
export function textLine(time: string, label: string, message: string): string {
  return `${time} [${SAMPLE_PID}] [${label}] ${message}\n`
}

const START = textLine('2026-11-21 05:52:25.100', 'INFO', 'system: Node v20.20.2 on linux x64 event=system')
const WORK = textLine('2026-11-21 05:52:25.200', 'INFO', 'working user=alice note="two words"')

/** The sample runs, by how they ended. */
export const RUNS = {
  completed:
    START + WORK +
    textLine('2026-11-21 05:52:26.330', 'SUCCESS', 'completed in 1.23 s event=cleanup durationMs=1230 ending=completed') +
    textLine('2026-11-21 05:52:26.353', 'INFO', 'exiting with code 0 after 1.25 s event=exit code=0 durationMs=1253 ending=completed'),
  exit3:
    START + WORK +
    textLine('2026-11-21 05:52:25.600', 'ERROR', 'exiting with code 3 after 0.5 s event=exit code=3 durationMs=500 ending=error'),
  uncaught:
    START + WORK +
    textLine('2026-11-21 05:52:25.700', 'CRITICAL', 'uncaught exception: boom event=uncaught ending=uncaught') +
    '  | Error: boom\n  |     at main (file:///app/main.js:3:9)\n' +
    textLine('2026-11-21 05:52:25.701', 'ERROR', 'exiting with code 1 after 0.6 s event=exit code=1 durationMs=601 ending=error'),
  sigterm:
    START + WORK +
    textLine('2026-11-21 05:52:27.000', 'WARNING', 'received SIGTERM (termination request) event=signal signal=SIGTERM ending=signal'),
  sigkill: START + WORK + textLine('2026-11-21 05:52:25.300', 'DEBUG', 'heartbeat event=heartbeat rssMb=51.2'),
  torn: START + WORK + '2026-11-21 05:52:25.400 [4321] [INFO] cut off mid-wr',
} as const
