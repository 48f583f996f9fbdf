// SIGKILL torture of durability 'ring', at a small scale: a child logs numbered records
// through a ring sink (test/fixtures/ring-until-killed.mjs, built library) in a tight or a
// yielding loop and is killed at a random point; the ring is then recovered by the next
// run (a fixture opening the sink again) or by `blackbox recover`. Every record whose log
// call had returned must be in the file exactly once, in order, and no line may be torn.
// Run `npm run build` first.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseJsonLines, readLines } from '../helpers/lines.ts'
import { exitedReason, fixturePath, killIfRunning, runNode, spawnNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'

const RUNS_PER_LOOP = 10
const STARTUP_TIMEOUT_MS = 15_000
/** Ring sizes the runs cycle through: small ones wrap and fill (spill) often. */
const RING_BYTES = [16 * 1024, 64 * 1024, 4 * 1024 * 1024] as const

/** Deterministic, so a failing run can be repeated: a small linear congruential generator. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

function sideReport(path: string): { mode: string; returned: number } {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []
  const mode = lines[0] ?? ''
  let returned = 0
  for (const line of lines.slice(1)) if (/^\d+$/.test(line)) returned = Number(line)
  return { mode, returned }
}

for (const loop of ['tight', 'yield'] as const) {
  test(`SIGKILL torture, ${loop} loop: ${RUNS_PER_LOOP} runs, recovered by the next run and by blackbox recover`, async (t) => {
    const dir = await tempDir(t, 'blackbox-ring-torture-')
    const next = random(loop === 'tight' ? 7 : 11)
    const modes = new Set<string>()
    for (let run = 0; run < RUNS_PER_LOOP; run++) {
      const log = join(dir, `run-${run}.log`)
      const side = join(dir, `run-${run}.side`)
      const ring = `${log}.ring`
      const ringBytes = RING_BYTES[run % RING_BYTES.length] as number
      const killAfter = 500 + Math.floor(next() * 20_000)
      const child = spawnNode(fixturePath('ring-until-killed.mjs'), [log, side, loop, String(ringBytes)])
      try {
        await waitUntil(() => sideReport(side).returned >= killAfter, {
          timeoutMs: STARTUP_TIMEOUT_MS, what: `run ${run} to report ${killAfter} records`, abortIf: () => exitedReason(child),
        })
        child.child.kill('SIGKILL')
        const end = await child.exited()
        assert.equal(end.signal, 'SIGKILL', `run ${run} ended by ${String(end.signal)}, code ${String(end.code)}:\n${end.stderr}`)
      } finally {
        killIfRunning(child)
      }
      const { mode, returned } = sideReport(side)
      modes.add(mode)
      const byCli = run % 2 === 1
      if (mode === 'ring') {
        assert.ok(existsSync(ring), `run ${run}: the ring ${ring} is there after the kill`)
        const recovery = byCli
          ? await runNode(fixturePath('ring-recover-cli.mjs'), ['--json', ring])
          : await runNode(fixturePath('ring-open-close.mjs'), [log])
        assert.equal(recovery.code, 0, `run ${run}: recovery by ${byCli ? 'blackbox recover' : 'the next run'} failed:\n${recovery.stderr}`)
      }
      const lines = await readLines(log)
      assert.equal(lines.partial, '', `run ${run}: the file ends in a torn line ${JSON.stringify(lines.partial.slice(0, 80))}`)
      const records = parseJsonLines(lines.complete, `run ${run} (${log})`)
      const indices = records.map((record) => record['i'])
      assert.ok(indices.length >= returned, `run ${run} (ring ${ringBytes} B, ${byCli ? 'blackbox recover' : 'next run'}): ${returned} calls had returned, the file holds ${indices.length} records`)
      for (let k = 0; k < indices.length; k++) {
        if (indices[k] !== k) assert.fail(`run ${run}: line ${k + 1} holds i=${String(indices[k])}, expected ${k} (lost, repeated or out of order)`)
      }
    }
    t.diagnostic(`durability that ran: ${[...modes].join(', ')} (ring = native addon loaded; sync = fallback)`)
    assert.ok(modes.size === 1 && (modes.has('ring') || modes.has('sync')), `every run reported its mode: ${[...modes].join(', ')}`)
  })
}
