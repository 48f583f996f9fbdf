import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { printLogSummary, summarizeLogFile } from '../../src/index.ts'
import { fixturePath, spawnNode } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const fixture = fixturePath('guarded-run.mjs')

interface Expected {
  /** How `blackbox summary` must classify the run. */
  ending: 'completed' | 'error' | 'signal' | 'uncaught' | 'none'
  /** Exit code, or null when the process dies by a signal. */
  code: number | null
  signal: NodeJS.Signals | null
  /** The record of the ending, or null when none can be written (SIGKILL). */
  record: RegExp | null
}

const ENDINGS: Record<string, Expected> = {
  normal: { ending: 'completed', code: 0, signal: null, record: /\[SUCCESS\] completed guarded in [\d.]+ s event=cleanup ending=completed/ },
  exit3: { ending: 'error', code: 3, signal: null, record: /\[ERROR\] exiting with code 3 after [\d.]+ s event=exit code=3 durationMs=\d+ ending=error/ },
  throw: { ending: 'uncaught', code: 1, signal: null, record: /\[CRITICAL\] uncaught exception: boom event=uncaught ending=uncaught\n {2}\| Error: boom\n(?: {2}\| .*\n)* {2}\| Caused by: TypeError: the root cause/ },
  reject: { ending: 'uncaught', code: 1, signal: null, record: /\[CRITICAL\] unhandled rejection: nobody caught me event=unhandledRejection ending=uncaught\n {2}\| Error: nobody caught me/ },
  SIGINT: { ending: 'signal', code: null, signal: 'SIGINT', record: /\[WARNING\] received SIGINT \(Ctrl\+C: an interrupt from the terminal\) event=signal signal=SIGINT ending=signal/ },
  SIGTERM: { ending: 'signal', code: null, signal: 'SIGTERM', record: /\[WARNING\] received SIGTERM \(a termination request.*\) event=signal signal=SIGTERM ending=signal/ },
  SIGHUP: { ending: 'signal', code: null, signal: 'SIGHUP', record: /\[WARNING\] received SIGHUP \(hang-up.*\) event=signal signal=SIGHUP ending=signal/ },
  SIGKILL: { ending: 'none', code: null, signal: 'SIGKILL', record: null },
}

for (const [ending, expected] of Object.entries(ENDINGS)) {
  test(`ending ${ending}: every record, the ending's record, the exit status, the summary`, async (t) => {
    const dir = await tempDir(t)
    const child = spawnNode(fixture, [dir, ending])
    // Wait for "ready <file>": all 100 records have been logged by then.
    const file = await new Promise<string>((resolve, reject) => {
      child.child.stdout?.on('data', () => {
        const match = /^ready (.+)\n/.exec(child.stdout())
        if (match?.[1]) resolve(match[1])
      })
      child.child.once('exit', () => reject(new Error(`exited before ready: ${child.stderr()}`)))
    })
    if (expected.signal) child.child.kill(expected.signal)
    const result = await child.exited()
    assert.equal(result.code, expected.code, `exit code; stderr: ${result.stderr}`)
    assert.equal(result.signal, expected.signal)
    const text = readFileSync(file, 'utf8')
    const numbered = [...text.matchAll(/\[INFO\] working i=(\d+)\n/g)].map((match) => Number(match[1]))
    assert.deepEqual(numbered, Array.from({ length: 100 }, (_, i) => i), 'every record logged before the ending')
    if (expected.record) assert.match(text, expected.record)
    else assert.doesNotMatch(text, /ending=/, 'nothing can write after SIGKILL')
    const summary = await summarizeLogFile(file)
    assert.equal(summary.ending, expected.ending, 'summarizeLogFile classifies the ending')
    assert.equal(summary.levels.info, text.match(/\[INFO\]/g)?.length, 'records per level')
    assert.ok((summary.levels.info ?? 0) >= 100)
    const printed: string[] = []
    await printLogSummary({ dir, stream: { write: (chunk: string) => void printed.push(chunk) } })
    const expectedWords = { completed: /completed/, error: /error/, signal: /SIG/, uncaught: /uncaught/, none: /no ending record: killed or still running/ }[expected.ending]
    assert.match(printed.join(''), expectedWords, 'printLogSummary says how it ended')
  })
}
