import { Worker } from 'node:worker_threads'
import { EXIT_WORKER_SOURCE } from './exit-worker-source.js'
import { MAX_ANSWER_BYTES, blackboxUserAgent, type RequestFailure } from './http.js'

/**
 * After a synchronous send that failed, the synchronous sends of the next this-many ms share
 * what is left of its `exitTimeout`. One ending flushes several times (a `fatal` record, the
 * crash guard, the exit registry): with a dead service, each must not block for the whole
 * bound again.
 */
export const SYNC_BUDGET_WINDOW_MS = 10_000
/** With less left of the budget than this, a synchronous send is not started: a worker takes about that long to start. */
export const MIN_SYNC_SEND_MS = 50

/** The wait between two attempts of one message on the synchronous path, when the service names none. */
export const EXIT_RETRY_DELAY_MS = 100
/** Attempts of one message on the synchronous path; the deadline usually ends them first. */
const EXIT_MAX_ATTEMPTS = 3

// Slots of the Int32Array shared with the worker.
const LAYOUT = { STATE: 0, LAST_STATUS: 1, LAST_FAILURE: 2, FIRST_OUTCOME: 3 } as const
// A closed set of codes for those slots; 0 is the initial value of every slot.
const CODES = {
  STATE_RUNNING: 0,
  STATE_DONE: 1,
  OUTCOME_NOT_SENT: 0,
  OUTCOME_SENT: 1,
  OUTCOME_REJECTED: 2,
  FAILURE_NONE: 0,
  FAILURE_NETWORK: 1,
  FAILURE_TIMEOUT: 2,
  FAILURE_DEADLINE: 3,
} as const

/** One request for the synchronous path. */
export interface SyncRequest {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Uint8Array
}

/** The bounds of `sendSync()`. */
export interface SyncSendOptions {
  /** The whole send must end within this; the caller is blocked at most this long. */
  readonly boundMs: number
  /** One request may take at most this. */
  readonly timeoutMs: number
  /** A 2xx whose JSON says `ok: false` is a failure (Telegram). */
  readonly okField: boolean
}

/** What happened to each request, and why the last failure failed. */
export interface SyncSendResult {
  /** `sent[i]`: request i got a success answer. */
  readonly sent: readonly boolean[]
  /** Whether every request got its final answer before the bound (a request cut short by the bound did not). */
  readonly finished: boolean
  /** The last HTTP status seen, if any. */
  readonly lastStatus: number | undefined
  /** Why the last request that got no answer got none. */
  readonly lastFailure: Exclude<RequestFailure, 'aborted'> | undefined
  /** The worker could not be started. */
  readonly startError?: unknown
}

/**
 * Sends requests in order and returns only when every one has its answer or `boundMs` has
 * passed. No asynchronous work runs in an `exit` listener, so the requests are made by a
 * worker thread, which has an event loop of its own, while this thread blocks in
 * `Atomics.wait` on a SharedArrayBuffer the worker writes each outcome to. When the bound
 * passes first, the worker is left to be ended with the process (or terminated).
 */
export function sendSync(requests: readonly SyncRequest[], options: SyncSendOptions): SyncSendResult {
  const deadline = Date.now() + options.boundMs
  const shared = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (LAYOUT.FIRST_OUTCOME + requests.length))
  const state = new Int32Array(shared)
  const result = (finished: boolean, startError?: unknown): SyncSendResult => {
    const status = Atomics.load(state, LAYOUT.LAST_STATUS)
    const failure = Atomics.load(state, LAYOUT.LAST_FAILURE)
    return {
      sent: requests.map((_, i) => Atomics.load(state, LAYOUT.FIRST_OUTCOME + i) === CODES.OUTCOME_SENT),
      finished: finished && failure !== CODES.FAILURE_DEADLINE,
      lastStatus: status === 0 ? undefined : status,
      lastFailure: failure === CODES.FAILURE_NETWORK ? 'network' : failure === CODES.FAILURE_TIMEOUT || failure === CODES.FAILURE_DEADLINE ? 'timeout' : undefined,
      ...(startError === undefined ? {} : { startError }),
    }
  }
  let worker: Worker
  try {
    worker = new Worker(EXIT_WORKER_SOURCE, {
      eval: true,
      // The application's loaders (a TypeScript loader, say) are not needed and slow the start.
      execArgv: [],
      // The worker prints nothing; its streams must not wait on this blocked thread.
      stdout: true,
      stderr: true,
      workerData: {
        shared,
        requests: requests.map((request) => ({ ...request, headers: { 'user-agent': blackboxUserAgent(), ...request.headers } })),
        deadline,
        timeoutMs: options.timeoutMs,
        okField: options.okField,
        layout: LAYOUT,
        codes: CODES,
        retryDelayMs: EXIT_RETRY_DELAY_MS,
        maxAttempts: EXIT_MAX_ATTEMPTS,
        maxAnswerBytes: MAX_ANSWER_BYTES,
      },
    })
  } catch (error) {
    return result(false, error)
  }
  worker.unref()
  // An error inside the worker is seen as messages not sent; it must not become an uncaught exception here.
  worker.on('error', () => {})
  for (;;) {
    const left = deadline - Date.now()
    if (Atomics.load(state, LAYOUT.STATE) === CODES.STATE_DONE) return result(true)
    if (left <= 0) break
    Atomics.wait(state, LAYOUT.STATE, CODES.STATE_RUNNING, left)
  }
  worker.terminate().catch(() => {})
  return result(false)
}
