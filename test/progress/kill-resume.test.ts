// A job SIGKILLed at random moments, then resumed: tested with real processes running the
// BUILT library (test/fixtures/progress-job.mjs imports dist/). Run `npm run build` first.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { test, type TestContext } from 'node:test'
import { HEARTBEAT_COLUMNS, readCheckpoint, readStatus } from '../../src/progress/index.ts'
import { readLines } from '../helpers/lines.ts'
import { exitedReason, fixturePath, killIfRunning, runNode, spawnNode, waitUntil } from '../helpers/process.ts'
import { tempDir } from '../helpers/tmp.ts'
import { readTsv, tsvFiles } from './tsv-reader.ts'

const KILL_RUNS = 20
const KILL_CONCURRENCY = 4
const ITEMS = 20_000
/** Busy work per item in the killed run: long enough that it is killed mid-job. */
const WORK_US = 50
/** The kill comes after at least this many reported items, plus a random delay. */
const MIN_ITEMS_BEFORE_KILL = 50
const MAX_EXTRA_DELAY_MS = 250
const STARTUP_TIMEOUT_MS = 15_000

const RUN_ID = 'events_intraday_20261121'
const itemAt = (index: number): string => `item${String(index).padStart(5, '0')}`
const ALL_ITEMS = Array.from({ length: ITEMS }, (_, i) => itemAt(i))

/** The items a side channel lists, one per complete line (a line cut by the kill is not a report). */
async function sideItems(path: string): Promise<string[]> {
  return (await readLines(path)).complete
}

interface KillOutcome {
  /** The last heartbeat named the item whose complete() had not yet happened (not the last completed one). */
  readonly caughtMidItem: boolean
}

async function killAndResume(t: TestContext, run: number): Promise<KillOutcome> {
  const dir = await tempDir(t)
  const side = join(dir, 'side-killed')
  const handle = spawnNode(fixturePath('progress-job.mjs'), [dir, RUN_ID, String(ITEMS), side, 'finish', String(WORK_US)])
  try {
    await waitUntil(async () => (await sideItems(side).catch(() => [])).length >= MIN_ITEMS_BEFORE_KILL, {
      timeoutMs: STARTUP_TIMEOUT_MS,
      what: `run ${run}: the job to complete ${MIN_ITEMS_BEFORE_KILL} items`,
      abortIf: () => exitedReason(handle),
    })
    await delay(Math.floor(Math.random() * MAX_EXTRA_DELAY_MS))
  } finally {
    // Here, not in t.after(): after-hooks run in order, and tempDir's removal comes first.
    killIfRunning(handle)
  }
  const killed = await handle.exited()
  assert.equal(killed.signal, 'SIGKILL', `run ${run}: the job finished before the kill (code ${String(killed.code)}); stderr:\n${killed.stderr}`)

  // The checkpoint holds exactly what the side channel reports, plus at most the next item:
  // its complete() may have returned with the kill coming before the side-channel write.
  const reported = await sideItems(side)
  const checkpointPath = join(dir, 'checkpoints', `${RUN_ID}_completed.json`)
  const completed = readCheckpoint(checkpointPath)
  assert.deepEqual(completed.slice(0, reported.length), reported, `run ${run}: the checkpoint starts with the reported items, in order`)
  assert.ok(completed.length - reported.length <= 1, `run ${run}: ${reported.length} items reported, the checkpoint holds ${completed.length}`)
  assert.deepEqual(completed, ALL_ITEMS.slice(0, completed.length), `run ${run}: the checkpoint holds the first ${completed.length} items, each once`)
  assert.ok(completed.length < ITEMS, `run ${run}: killed mid-job`)

  // The JSON file itself is valid JSON at any moment, and lags the journal only.
  const json = JSON.parse(await readFile(checkpointPath, 'utf8')) as { items: string[]; count: number }
  assert.equal(json.count, json.items.length)
  assert.deepEqual(json.items, completed.slice(0, json.items.length), `run ${run}: the JSON file holds a prefix of the completed items`)

  // The last heartbeat line names the item being processed: the first not completed, or,
  // when the kill came between complete() and the next heartbeat, the last completed.
  const heartbeatFile = newestTsv(dir)
  const heartbeats = readTsv(await readFile(heartbeatFile, 'utf8'))
  assert.deepEqual(heartbeats.columns, [...HEARTBEAT_COLUMNS])
  const last = heartbeats.rows.at(-1)
  assert.ok(last !== undefined, `run ${run}: a heartbeat line`)
  const beingProcessed = ALL_ITEMS[completed.length]
  assert.ok(
    last['item'] === beingProcessed || last['item'] === completed.at(-1),
    `run ${run}: the last heartbeat names ${String(last['item'])}; the item being processed was ${String(beingProcessed)} (last completed ${String(completed.at(-1))})`,
  )
  assert.equal(last['run_id'], RUN_ID)
  const killedStatus = readStatus(join(dir, 'heartbeats', `${RUN_ID}_heartbeat.json`))
  assert.equal(killedStatus.status, 'running', 'SIGKILL runs nothing: the status stays running')
  assert.equal(killedStatus.pid, handle.child.pid)

  // A resumed run does exactly the rest.
  const resumedSide = join(dir, 'side-resumed')
  const resumed = await runNode(fixturePath('progress-job.mjs'), [dir, RUN_ID, String(ITEMS), resumedSide, 'finish', '0'])
  assert.equal(resumed.code, 0, `run ${run}: the resumed job failed; stderr:\n${resumed.stderr}`)
  assert.equal(resumed.stdout, `ready ${ITEMS - completed.length}\n`)
  assert.deepEqual(await sideItems(resumedSide), ALL_ITEMS.slice(completed.length), `run ${run}: the resumed run did the remaining items and no completed one`)
  const final = JSON.parse(await readFile(checkpointPath, 'utf8')) as { items: string[] }
  assert.deepEqual(final.items, ALL_ITEMS, `run ${run}: after the resumed run's finish() the JSON file holds every item once, in order`)
  const status = readStatus(join(dir, 'heartbeats', `${RUN_ID}_heartbeat.json`))
  assert.equal(status.status, 'completed')
  assert.equal(status.attempt, 2)
  assert.equal(status.completed, ITEMS)
  const lines = (await readLines(heartbeatFile)).complete
  assert.equal(lines.filter((line) => line.startsWith('timestamp\t')).length, 1, `run ${run}: one header line across both runs`)
  assert.equal(lines[0]?.startsWith('timestamp\t'), true, 'the header comes first')
  return { caughtMidItem: last['item'] === beingProcessed }
}

/** The heartbeat file the job wrote last (a job may run across midnight into a new day's file). */
function newestTsv(dir: string): string {
  const path = tsvFiles(join(dir, 'events_intraday'), 'heartbeat').at(-1)
  assert.ok(path !== undefined, `a heartbeat file in ${dir}/events_intraday`)
  return path
}

test(`a job SIGKILLed at ${KILL_RUNS} random moments leaves a checkpoint of exactly what it completed, and a resumed run does the rest`, async (t) => {
  const outcomes: KillOutcome[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < KILL_RUNS) {
      const run = next++
      outcomes.push(await killAndResume(t, run))
    }
  }
  await Promise.all(Array.from({ length: KILL_CONCURRENCY }, worker))
  assert.equal(outcomes.length, KILL_RUNS)
  // Most of the time goes to the work of an item, so most kills land in the middle of one.
  assert.ok(outcomes.some((outcome) => outcome.caughtMidItem), 'at least one kill came while an item was being processed')
})
