import { spawn, type ChildProcess } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** How long a fixture may run before `ExitWait` gives up on it, unless told otherwise. */
export const DEFAULT_EXIT_TIMEOUT_MS = 20_000
/** How often `waitUntil()` looks again. */
export const POLL_INTERVAL_MS = 5

/** The absolute path of a script in `test/fixtures/`. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
}

/** How a child process ended, with everything it printed. */
export interface ExitResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A running child: the process, its output so far, and a promise of its end. */
export interface NodeChild {
  readonly child: ChildProcess
  readonly label: string
  /** stdout gathered so far. */
  stdout(): string
  /** stderr gathered so far. */
  stderr(): string
  /** Resolves when the child has exited and its output is closed; rejects if it does not within `timeoutMs` (the child is then SIGKILLed). */
  exited(timeoutMs?: number): Promise<ExitResult>
}

export interface SpawnNodeOptions {
  /** Extra environment variables, on top of this process's. */
  env?: NodeJS.ProcessEnv
  /** Keep stdin open as a pipe (default: ignored). */
  stdin?: boolean
  /** Options for node itself, before the script: `--unhandled-rejections=warn`. */
  nodeArgs?: readonly string[]
  /** How long `runNode` waits for the end; default DEFAULT_EXIT_TIMEOUT_MS. */
  timeoutMs?: number
}

/** Starts `node script ...args` with piped stdout and stderr. */
export function spawnNode(script: string, args: readonly string[] = [], options: SpawnNodeOptions = {}): NodeChild {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  })
  const label = `${script.split('/').pop() ?? script} ${args.join(' ')}`
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  // 'close' comes after 'exit' and after the pipes are drained, so the output is complete.
  const closed = new Promise<ExitResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }))
  })
  return {
    child,
    label,
    stdout: () => out,
    stderr: () => err,
    exited: async (timeoutMs = DEFAULT_EXIT_TIMEOUT_MS) => {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL')
          reject(new Error(`${label} did not exit within ${timeoutMs} ms (exit timeout); stderr:\n${err}`))
        }, timeoutMs)
      })
      try {
        return await Promise.race([closed, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Runs `node script ...args` to its end. */
export async function runNode(script: string, args: readonly string[] = [], options: SpawnNodeOptions = {}): Promise<ExitResult> {
  return spawnNode(script, args, options).exited(options.timeoutMs)
}

/** Kills the child if it is still running; for `finally` blocks and `t.after()`. */
export function killIfRunning(handle: NodeChild): void {
  if (handle.child.exitCode === null && handle.child.signalCode === null) handle.child.kill('SIGKILL')
}

export interface WaitUntilOptions {
  /** The bound; the error names it. */
  timeoutMs: number
  /** What was awaited, for the error message: `the child to report 500 records`. */
  what: string
  /** Stop early with an error if this returns a reason (e.g. the child died). */
  abortIf?: () => string | undefined
}

/** Polls `check` until it returns true; throws a named error when `timeoutMs` passes first. */
export async function waitUntil(check: () => boolean | Promise<boolean>, options: WaitUntilOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await check()) return
    const reason = options.abortIf?.()
    if (reason !== undefined) throw new Error(`Gave up waiting for ${options.what}: ${reason}`)
    if (Date.now() > deadline) throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
}

/** The size of a file, 0 while it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

/** Why a child is no longer there to wait for, or undefined while it runs. */
export function exitedReason(handle: NodeChild): string | undefined {
  const { exitCode, signalCode } = handle.child
  if (exitCode === null && signalCode === null) return undefined
  return `${handle.label} exited early (code ${String(exitCode)}, signal ${String(signalCode)}); stderr:\n${handle.stderr()}`
}
