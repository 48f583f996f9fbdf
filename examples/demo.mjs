// `npm start`: blackbox in one minute.
//  1. Logs to the console and to files under logs/demo/.
//  2. Starts a child that logs as fast as it can, kills it with SIGKILL, and shows that
//     every record whose call had returned is on disk: with a write(2) per record, and
//     with the memory-mapped ring (durability 'ring').
//  3. Runs a small fleet under the flight recorder (`blackbox run`): a host and two
//     workers log and report progress; one worker leaks memory and is killed.
//  4. Prints what happened: `blackbox postmortem`.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { consoleSink, createLogger, fileSink, recoverRing } from '../dist/index.js'

const dir = join('logs', 'demo')
rmSync(dir, { recursive: true, force: true })

const log = createLogger({
  name: 'demo',
  level: 'debug',
  redact: ['password', '*.token'],
  sinks: [
    consoleSink(),
    fileSink({ path: join(dir, 'app.log') }),
    fileSink({ path: join(dir, 'app.json'), format: 'json' }),
    fileSink({ path: join(dir, 'loguru.log'), format: 'loguru' }),
  ],
})

log.info('plain message %s %d', 'a', 1)
log.info({ user: 'alice', ms: 1.5, password: 'hunter2', github: { token: 'ghp_x' } }, 'request handled')
log.success('all green')
log.child({ reqId: 42 }).warning('slow request\nsecond line of the message, on a continuation line')
log.error(new Error('could not save', { cause: Object.assign(new Error('disk quota exceeded'), { code: 'EDQUOT' }) }), 'while saving')
log.debug({ big: 2n ** 70n, when: new Date(0), tags: new Set(['a', 'b']) }, 'odd values are serialized safely')
await log.close()

console.log(`\nThe same records as text, JSON lines and loguru-style lines: ${dir}/app.log, app.json, loguru.log\n`)

// The flight-recorder promise: SIGKILL loses nothing whose log call returned. Once with a
// write(2) per record (durability 'sync'), once through the memory-mapped ring ('ring'),
// whose records the next run recovers (here recoverRing, as the next run would).
// The child reports its count of returned calls on a pipe; it is killed at a random moment
// after it has reported MIN_REPORTED of them (never on a timer from its spawn, which a busy
// machine outlasts). Every wait below ends on an event: a report, or the child's end.
const MIN_REPORTED = 2000
mkdirSync(dir, { recursive: true })
for (const durability of ['sync', 'ring']) {
  const crashLog = join(dir, `crash-${durability}.log`)
  const child = spawn(process.execPath, [new URL('./crash-child.mjs', import.meta.url).pathname, crashLog, durability], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let reported = 0 // the last count the child wrote: a lower bound of its returned calls
  let pending = ''
  let killAt // the count the child had reported when the random kill was scheduled
  let killed = false
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk })
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? '' // a line the pipe has not delivered whole yet
    for (const line of lines) if (line !== '') reported = Number(line)
    if (killAt === undefined && reported >= MIN_REPORTED) {
      killAt = reported
      setTimeout(() => { killed = child.kill('SIGKILL') }, Math.random() * 200)
    }
  })
  // 'close': the child has ended and its pipes are read to the end, so `reported` is final.
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve([code, signal]))
  })
  if (!killed || signal !== 'SIGKILL') {
    process.stderr.write(stderr)
    console.error(`The crash child (durability '${durability}') ended on its own (${signal ?? `exit code ${code}`}) after it reported ${reported} returned calls, before the demo killed it; ${stderr === '' ? 'it wrote nothing to stderr' : 'its stderr is above'}.`)
    process.exit(1)
  }
  const recovered = existsSync(`${crashLog}.ring`) ? recoverRing(`${crashLog}.ring`).records : 0

  const onDisk = readFileSync(crashLog, 'utf8').split('\n').filter((line) => line.endsWith('}')).length
  console.log(`A child logged in a tight loop (durability '${durability}') and was killed with SIGKILL at a random moment after it reported ${killAt} returned calls.`)
  console.log(`  log calls that had returned (last count reported by the child): ${reported}`)
  console.log(`  complete records in ${crashLog}: ${onDisk}${durability === 'ring' ? ` (${recovered} of them recovered from the ring)` : ''}`)
  console.log(onDisk >= reported ? '  nothing lost.' : `  LOST ${reported - onDisk} records`)
  if (onDisk < reported) process.exit(1)
}

// The fleet, under the flight recorder.
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname
const fleetDir = join(dir, 'fleet')
console.log(`\nNow a host and two workers under \`blackbox run\`; one worker leaks memory and the host kills it:\n`)
const fleet = spawnSync(process.execPath, [cli, 'run', '--dir', fleetDir, '--heartbeat-interval', '200', '--', process.execPath, new URL('./fleet/host.mjs', import.meta.url).pathname], {
  stdio: 'inherit',
  env: { ...process.env, DEMO_DIR: fleetDir },
})
console.log(`\n(blackbox run exited with ${fleet.status}, the host's own exit code.)\n\n$ blackbox postmortem --dir ${fleetDir}\n`)
spawnSync(process.execPath, [cli, 'postmortem', '--dir', fleetDir, '--last', '8'], { stdio: 'inherit' })
console.log(`\nAlso try: node dist/cli/main.js summary --dir ${fleetDir}   and   node dist/cli/main.js postmortem --dir ${fleetDir} --html report.html`)
