import { FileSink, type FileSinkOptions } from '../sinks/file.js'
import { ringFileSink, type RingFileSink, type RingFileSinkOptions } from './ring-sink.js'

/** `fileSink()` options: those of a `sync`/`batched` file sink, or those of `durability: 'ring'`. */
export type AnyFileSinkOptions = FileSinkOptions | (RingFileSinkOptions & { durability: 'ring' })

/**
 * A sink that appends records to a file. In `sync` mode (the default) every record is in
 * the kernel before the log call returns; in `ring` mode it is in a memory-mapped ring
 * file, as safe from SIGKILL without a system call (see docs/ring.md).
 */
export function fileSink(options: FileSinkOptions): FileSink
/**
 * A file sink with `durability: 'ring'` (see docs/ring.md). Without the native addon it is
 * a `sync` FileSink: `instanceof RingFileSink` tells which, and gives `stats`, `ready` and
 * `recovered`.
 */
export function fileSink(options: RingFileSinkOptions & { durability: 'ring' }): RingFileSink | FileSink
export function fileSink(options: AnyFileSinkOptions): RingFileSink | FileSink
// Lives here rather than in sinks/file.ts: ring-sink.ts extends FileSink, so file.ts
// importing it back would make an import cycle that breaks whenever file.ts loads first.
export function fileSink(options: AnyFileSinkOptions): RingFileSink | FileSink {
  if (options !== null && typeof options === 'object' && options.durability === 'ring') return ringFileSink(options)
  return new FileSink(options as FileSinkOptions)
}
