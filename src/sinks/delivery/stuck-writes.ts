import type { Socket } from 'node:net'

/** How often a socket with bytes waiting looks whether the program has finished. */
export const STUCK_WRITE_CHECK_MS = 100

/** The kinds of libuv request a pending socket write or shutdown shows as (`process.getActiveResourcesInfo()`). */
const WRITE_REQUESTS = new Set(['WriteWrap', 'SimpleWriteWrap', 'ShutdownWrap'])

/** The resource names `process.getActiveResourcesInfo()` gives the handle classes stdout and stderr can have. */
const HANDLE_RESOURCE: Readonly<Record<string, string>> = { Pipe: 'PipeWrap', TTY: 'TTYWrap', TCP: 'TCPSocketWrap' }

/**
 * The resources stdout and stderr show as. Their handles are ref'd but idle (a pipe that is
 * not read from is not active in libuv), so they never keep the process alive, yet
 * `getActiveResourcesInfo()` lists them. stdin is not discounted: a program reading it is
 * not finished.
 */
function stdioResources(): string[] {
  const names: string[] = []
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as { _handle?: { constructor?: { name?: string } } })._handle
    const name = HANDLE_RESOURCE[handle?.constructor?.name ?? '']
    if (name !== undefined) names.push(name)
  }
  return names
}

/**
 * Whether only socket writes keep the event loop alive: every other ref'd handle, timer and
 * request is gone, so the program has finished and waits for nothing but a peer that does
 * not read. An unref'd socket cannot hide its pending write: libuv counts the write request
 * itself as active (uv_loop_alive), so the program would wait for that peer forever.
 */
export function onlyWritesKeepAlive(): boolean {
  const active = process.getActiveResourcesInfo()
  for (const name of stdioResources()) {
    const index = active.indexOf(name)
    if (index !== -1) active.splice(index, 1)
  }
  return active.length > 0 && active.every((kind) => WRITE_REQUESTS.has(kind))
}

/**
 * Watches `socket` while bytes wait in it; when the program has finished and only such
 * writes hold it (see `onlyWritesKeepAlive`), calls `abandon`, which destroys the socket so
 * the process can end (its exit path then counts what was not delivered). The watch is an
 * unref'd timer: it never keeps the process alive itself. Returns the function that stops it.
 */
export function watchStuckWrites(socket: Socket, abandon: () => void): () => void {
  const timer = setInterval(() => {
    if (socket.destroyed) return stop()
    if (socket.writableLength > 0 && onlyWritesKeepAlive()) {
      stop()
      abandon()
    }
  }, STUCK_WRITE_CHECK_MS)
  timer.unref()
  function stop(): void {
    clearInterval(timer)
  }
  return stop
}
