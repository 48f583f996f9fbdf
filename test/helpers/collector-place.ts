import { join } from 'node:path'
import { tempDir } from './tmp.ts'

/** Where a test's collector listens and writes, in a fresh temporary folder. */
export interface CollectorPlace {
  readonly base: string
  /** The socket's folder, made by the collector unless a test makes it first. */
  readonly run: string
  readonly socket: string
  /** The clients' default spool folder: `spool/` beside the socket. */
  readonly spool: string
  /** The collector's log folder. */
  readonly logs: string
}

export async function collectorPlace(t: Parameters<typeof tempDir>[0], prefix: string, socketName = 'app.sock'): Promise<CollectorPlace> {
  const base = await tempDir(t, prefix)
  const run = join(base, 'run')
  return { base, run, socket: join(run, socketName), spool: join(run, 'spool'), logs: join(base, 'logs') }
}
