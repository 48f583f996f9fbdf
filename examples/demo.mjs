// `npm start`: blackbox in one minute.
//  1. Logs to the console and to files under logs/demo/.
//  2. Starts a child that logs as fast as it can, kills it with SIGKILL, and shows that
//     every record whose call had returned is on disk: with a write(2) per record, and
//     with the memory-mapped ring (durability 'ring').
//  3. Runs a small fleet under the flight recorder (`blackbox run`): a host and two
//     workers log and report progress; one worker leaks memory and is killed.
//  4. Prints what happened: `blackbox postmortem`.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
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
mkdirSync(dir, { recursive: true })
for (const durability of ['sync', 'ring']) {
  const crashLog = join(dir, `crash-${durability}.log`)
  const progressPath = join(dir, `crash-${durability}.progress`)
  const child = spawn(process.execPath, [new URL('./crash-child.mjs', import.meta.url).pathname, crashLog, durability], {
    stdio: ['ignore', openSync(progressPath, 'w'), 'inherit'],
  })
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.kill('SIGKILL')
  await new Promise((resolve) => child.on('exit', resolve))
  const recovered = existsSync(`${crashLog}.ring`) ? recoverRing(`${crashLog}.ring`).records : 0

  const returned = readFileSync(progressPath, 'utf8').trim().split('\n').map(Number).pop() ?? 0
  const onDisk = readFileSync(crashLog, 'utf8').split('\n').filter((line) => line.endsWith('}')).length
  console.log(`A child logged in a tight loop (durability '${durability}') and was killed with SIGKILL after 300 ms.`)
  console.log(`  log calls that had returned (reported by the child): ${returned}`)
  console.log(`  complete records in ${crashLog}: ${onDisk}${durability === 'ring' ? ` (${recovered} of them recovered from the ring)` : ''}`)
  console.log(onDisk >= returned ? '  nothing lost.' : `  LOST ${returned - onDisk} records`)
  if (onDisk < returned) process.exit(1)
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
