// The host of the demo: starts two workers, watches them, and gives up when one dies.
// Run it under the flight recorder: blackbox run -- node examples/fleet/host.mjs
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { getLogger } from '../../dist/index.js'

const log = getLogger('host')
const LIMIT_MB = Number(process.env['DEMO_LIMIT_MB'] ?? 160)

function rssMB(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
  } catch {
    return 0
  }
}

log.info('host starting two workers')
const workers = ['steady', 'leaky'].map((name) => {
  const worker = fork(new URL('./worker.mjs', import.meta.url), [name], { env: { ...process.env, BLACKBOX_ROLE: 'worker' } })
  log.info({ worker: name, pid: worker.pid }, `worker ${name} started`)
  return { name, worker }
})

// A watchdog, as a container's memory limit would be: a worker past LIMIT_MB is killed.
const watchdog = setInterval(() => {
  for (const { name, worker } of workers) {
    const rss = rssMB(worker.pid)
    if (rss > LIMIT_MB) {
      log.error({ worker: name, pid: worker.pid, rssMB: Math.round(rss) }, `worker ${name} uses ${Math.round(rss)} MB, over the ${LIMIT_MB} MB limit: killing it`)
      worker.kill('SIGKILL')
    }
  }
}, 100)

let failed = false
await Promise.all(workers.map(({ name, worker }) => new Promise((resolve) => {
  worker.once('exit', (code, signal) => {
    if (code !== 0) failed = true
    ;(code === 0 ? log.success : log.error)({ worker: name, pid: worker.pid, code, signal }, `worker ${name} ended: ${signal ?? `exit code ${code}`}`)
    resolve()
  })
})))
clearInterval(watchdog)
log.info(failed ? 'a worker failed: the host gives up' : 'all workers done')
await log.close()
process.exitCode = failed ? 1 : 0
