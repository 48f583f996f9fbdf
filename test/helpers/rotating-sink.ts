import { join } from 'node:path'
import { createLogger, rotatingFileSink, type RotatingFileSinkOptions } from '../../src/index.ts'
import { tempDir } from './tmp.ts'

/**
 * A rotating sink on `worker.log` in a fresh temporary folder, writing `{message}` only (each
 * record is exactly its message and a newline, so sizes are exact), closed when the test ends.
 */
export async function rotatingSinkIn(t: Parameters<typeof tempDir>[0], options: Partial<RotatingFileSinkOptions> = {}) {
  const dir = await tempDir(t)
  const path = join(dir, 'worker.log')
  const sink = rotatingFileSink({ path, format: '{message}', ...options })
  const log = createLogger({ sinks: [sink] })
  t.after(() => log.close())
  return { dir, path, sink, log }
}
