/**
 * The one piece of module-level mutable state in blackbox (see STYLE.md): the live
 * sinks that must be flushed synchronously before the process goes. A sink registers
 * when it opens and leaves when it closes; on `exit` (which Node also emits after an
 * uncaught exception or an unhandled rejection) every one is flushed. The crash guard
 * calls `flushAllSinksSync()` on its own paths (signals, fatal errors).
 */

/** What the registry needs of a sink. */
export interface Flushable {
  readonly name: string
  flushSync(): void
  /**
   * Called instead of flushSync on `exit`: write everything, and let go of what only a
   * live process needs (a ring sink writes directly from here on and removes its ring).
   */
  exitSync?(): void
}

const live = new Set<Flushable>()

function onExit(): void {
  eachLiveSink((sink) => (sink.exitSync ? sink.exitSync() : sink.flushSync()))
}

/** Calls `act` on every live sink; one failing never stops the others. */
function eachLiveSink(act: (sink: Flushable) => void): void {
  for (const sink of live) {
    try {
      act(sink)
    } catch {
      // The sink has reported its own failure; the others still get their turn.
    }
  }
}

export function registerSink(sink: Flushable): void {
  if (live.size === 0) process.on('exit', onExit)
  live.add(sink)
}

export function unregisterSink(sink: Flushable): void {
  if (live.delete(sink) && live.size === 0) process.removeListener('exit', onExit)
}

/** The sinks open now, in the order they opened. */
export function liveSinks(): readonly Flushable[] {
  return [...live]
}

/** Flushes every live sink; one failing never stops the others. */
export function flushAllSinksSync(): void {
  eachLiveSink((sink) => sink.flushSync())
}
