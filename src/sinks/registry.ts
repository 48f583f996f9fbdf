/**
 * The one piece of module-level mutable state in blackbox (see STYLE.md): the live
 * sinks that must be flushed synchronously before the process goes, and the ending hooks
 * that must write before them. A sink registers when it opens and leaves when it closes.
 * The crash guard calls `flushAllSinksSync()` on its own paths (signals, fatal errors).
 *
 * The one exit path (issue #14): this module holds the only `exit` listener of blackbox
 * (Node also emits `exit` after an uncaught exception or an unhandled rejection). At exit it
 * runs, in this order:
 *
 * 1. the ending hooks, in the order they were added: the crash guard writes its "exiting
 *    with code N" record, progress marks its status;
 * 2. every live sink's `exitSync(code)` (or `flushSync()`), in the order they registered:
 *    file sinks write what they batch and release their locks, network sinks send what
 *    waits within their `exitTimeout` (or count and say what they could not) and destroy
 *    their sockets, a collector client flushes and then says goodbye (BYE).
 *
 * So every record an ending hook writes is out before any client says goodbye.
 */

/** What the registry needs of a sink. */
export interface Flushable {
  readonly name: string
  flushSync(): void
  /**
   * Called instead of flushSync on `exit`, with the exit code: write everything, and let go of
   * what only a live process needs (sockets, locks; a ring sink writes directly from here on
   * and removes its ring).
   */
  exitSync?(code: number): void
}

/** Runs at exit before the sinks' last flush; see the module comment. Synchronous. */
export type EndingHook = (code: number) => void

const live = new Set<Flushable>()
const endingHooks = new Set<EndingHook>()
let listening = false

function onExit(code: number): void {
  for (const hook of [...endingHooks]) {
    try {
      hook(code)
    } catch {
      // A hook that fails must not keep the sinks from their last flush.
    }
  }
  eachLiveSink((sink) => (sink.exitSync ? sink.exitSync(code) : sink.flushSync()))
}

/** Listens for `exit` exactly while something needs it, so a process that logs nothing carries no listener of ours. */
function updateListener(): void {
  const needed = live.size > 0 || endingHooks.size > 0
  if (needed && !listening) process.on('exit', onExit)
  else if (!needed && listening) process.removeListener('exit', onExit)
  listening = needed
}

/** Calls `act` on every live sink; one failing never stops the others. */
function eachLiveSink(act: (sink: Flushable) => void): void {
  for (const sink of [...live]) {
    try {
      act(sink)
    } catch {
      // The sink has reported its own failure; the others still get their turn.
    }
  }
}

export function registerSink(sink: Flushable): void {
  live.add(sink)
  updateListener()
}

export function unregisterSink(sink: Flushable): void {
  if (live.delete(sink)) updateListener()
}

/** Adds a hook that runs at exit before the sinks' last flush; returns the function that removes it. */
export function addEndingHook(hook: EndingHook): () => void {
  endingHooks.add(hook)
  updateListener()
  return () => {
    if (endingHooks.delete(hook)) updateListener()
  }
}

/** The sinks open now, in the order they opened. */
export function liveSinks(): readonly Flushable[] {
  return [...live]
}

/** Flushes every live sink; one failing never stops the others. */
export function flushAllSinksSync(): void {
  eachLiveSink((sink) => sink.flushSync())
}
