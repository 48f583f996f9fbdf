import type { PostmortemProcess } from './postmortem-processes.js'

/**
 * The colour of each process of a run in the HTML report (issue #20): one colour per process,
 * the same in every chart, lane and table row, so that a reader follows a process from its
 * memory line to its event-loop line to its lane without reading a legend twice.
 */

/**
 * Dark enough to read as text on white and apart from one another; no red, which marks errors
 * and bad endings, and no grey, which marks what is muted. The first is the blue of the RSS
 * line, so that the one process of a program's own file has the colour it always had.
 */
export const PROCESS_COLOURS = [
  '#1565c0', '#e65100', '#2e7d32', '#5e35b1', '#00838f', '#c2185b', '#6d4c41', '#827717', '#303f9f', '#546e7a',
] as const

/** Past the palette the colours come round again, each round with its own dash so that two processes never look alike. */
const ROUND_DASHES = ['7 4', '2 3', '9 3 2 3'] as const

export interface ProcessColour {
  readonly colour: string
  /** An SVG `stroke-dasharray`, for the processes past the first round of the palette. */
  readonly dash: string | undefined
}

/** `host (pid 120)`: how a process is named in legends and lanes. */
export function processLabel(process: Pick<PostmortemProcess, 'name' | 'pid'>): string {
  return `${process.name ?? 'process'} (pid ${process.pid})`
}

/** The processes in the order they started (those with no known start last), then by pid. */
export function inStartOrder<T extends Pick<PostmortemProcess, 'startedAt' | 'pid'>>(processes: readonly T[]): T[] {
  const start = (process: T): number => (process.startedAt === null ? Number.POSITIVE_INFINITY : Date.parse(process.startedAt))
  return [...processes].sort((a, b) => start(a) - start(b) || a.pid - b.pid)
}

/**
 * Colours by start order, not by the report's order (worst ending first): the worst ending
 * is a judgement that changes with what went wrong, while the order of starts is a fact of
 * the run, so the host that started the fleet gets the first colour in every report of it.
 */
export function processColours(processes: readonly PostmortemProcess[]): Map<number, ProcessColour> {
  const colours = new Map<number, ProcessColour>()
  inStartOrder(processes).forEach((process, index) => {
    const round = Math.floor(index / PROCESS_COLOURS.length)
    colours.set(process.pid, {
      colour: PROCESS_COLOURS[index % PROCESS_COLOURS.length] as string,
      dash: round === 0 ? undefined : ROUND_DASHES[(round - 1) % ROUND_DASHES.length],
    })
  })
  return colours
}
