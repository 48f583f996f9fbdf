import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The children alive now, so that Ctrl-C can end them. */
const running = new Set()

/**
 * Starts `node script ...args`; `exited` resolves with its code, signal and everything it
 * printed. With `stdin: true` the child's stdin is a pipe the caller can write to.
 */
export function startWorker(script, args, { stdin = false } = {}) {
  const child = spawn(process.execPath, [script, ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text) => { stderr += text })
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject)
    // 'close', not 'exit': the pipes are drained by then.
    child.once('close', (code, signal) => {
      running.delete(child)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { child, exited }
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export async function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export function workerFailure(id, result) {
  return new Error(`The ${id} worker ended with code ${result.code}, signal ${result.signal}:\n${result.stderr.trim()}`)
}

/**
 * Runs a worker for contender `id` to its end and returns the one JSON line it printed.
 * A worker still running after `timeoutMs` is killed, with an error that names `what`.
 */
export async function runWorker({ id, script, args, timeoutMs, what }) {
  const { child, exited } = startWorker(script, args)
  let result
  try {
    result = await withTimeout(exited, timeoutMs, what)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  if (result.code !== 0) throw workerFailure(id, result)
  return JSON.parse(result.stdout)
}

/**
 * Runs `main(dir)` with a fresh directory under `os.tmpdir()`, removed at the end. Ctrl-C
 * kills the running children and removes it too.
 */
export async function withScratchDir(prefix, main) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  process.once('SIGINT', () => {
    for (const child of running) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  })
  try {
    await main(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
