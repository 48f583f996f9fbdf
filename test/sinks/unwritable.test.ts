// Issue #15: in a folder the process cannot write to, every file sink and the one-call setups
// degrade with a report and the program runs; only option errors throw. Run as a user file
// modes apply to (root without CAP_DAC_OVERRIDE, through setpriv, when the tests run as root).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fixturePath } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'
import { unprivilegedNode } from '../helpers/unprivileged.ts'

const CHILD_TIMEOUT_MS = 30_000

function run(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

test('in a folder it cannot write to, no file sink, setupLogging or crashSafe throws, and crashSafe’s main runs', async (t) => {
  const how = unprivilegedNode()
  if ('skip' in how) {
    t.diagnostic(how.skip)
    t.skip(how.skip)
    return
  }
  const base = await tempDir(t)
  const folder = join(base, 'read-only')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(folder)
  // Its owner may enter and read it, nobody may write (root neither, without CAP_DAC_OVERRIDE).
  chmodSync(folder, 0o555)
  const result = await run(how.command, [...how.prefix, fixturePath('unwritable-dir.mjs'), folder])
  const lines = result.stdout.split('\n').filter(Boolean)
  const detail = `\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`
  assert.equal(result.code, 0, detail)
  for (const name of ['file', 'rotating', 'resilient', 'ring']) assert.ok(lines.includes(`${name} ok`), `${name} degrades instead of throwing${detail}`)
  assert.ok(lines.some((line) => line.startsWith('setupLogging ok')), `setupLogging degrades${detail}`)
  assert.ok(lines.includes('main ran') && lines.includes('crashSafe ok'), `crashSafe runs main${detail}`)
  assert.match(result.stderr, /EACCES/, `the failure is reported${detail}`)
})
