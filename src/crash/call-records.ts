/** How a call ended: `{}` when it returned, `{ error }` when it threw or rejected. */
export type CallOutcome = { error?: unknown }

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * Runs `run` and tells `done` how it ended, keeping its shape: a synchronous function
 * stays synchronous (its result or exception passes straight through), a promise is
 * awaited and `done` is awaited before the result or rejection is passed on.
 */
export function observeCall<R>(run: () => R, done: (outcome: CallOutcome) => unknown): R {
  let result: R
  try {
    result = run()
  } catch (error) {
    settle(done({ error }))
    throw error
  }
  if (!isThenable(result)) {
    settle(done({}))
    return result
  }
  return Promise.resolve(result).then(
    async (value) => {
      await done({})
      return value
    },
    async (error: unknown) => {
      await done({ error })
      throw error
    },
  ) as R
}

// A synchronous caller cannot wait for `done`; its failure must not become an unhandled rejection.
function settle(value: unknown): void {
  if (isThenable(value)) Promise.resolve(value).catch(() => {})
}

/** `1.23 s`, or `12.3 s` past ten seconds. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

/** An error's message, or any value as text; never throws. */
export function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message
  try {
    return typeof value === 'string' ? value : String(value)
  } catch {
    return 'an unprintable value'
  }
}

/** What a logger needs to record the end of a call. */
interface EndLogger {
  error(fields: object, message: string): void
  success(fields: object, message: string): void
}

/**
 * The record of a call's end: `completed <label> in 1.23 s` (success) or
 * `<label> failed after 1.23 s: <message>` (error, with the stack), plus `fields`.
 */
export function recordEnd(logger: EndLogger, label: string, durationMs: number, outcome: CallOutcome, fields: object, complete: (fields: object, message: string) => void = (f, m) => logger.success(f, m)): void {
  const took = formatSeconds(durationMs)
  if ('error' in outcome) {
    const error = outcome.error
    logger.error({ ...fields, durationMs, ...(error instanceof Error ? { err: error } : { reason: error === undefined ? 'undefined' : error }) }, `${label} failed after ${took}: ${messageOf(error)}`)
  } else {
    complete({ ...fields, durationMs }, `completed ${label} in ${took}`)
  }
}
