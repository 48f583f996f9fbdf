// `npm install` hook: builds the ring addon (native/ring.c) with node-gyp. It never fails
// the install: without a compiler, headers or node-gyp, it prints one line and exits 0,
// and `durability: 'ring'` falls back to 'sync' with a warning (BLACKBOX_RING_FALLBACK).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// npm hands lifecycle scripts the path of its bundled node-gyp; otherwise look beside npm.
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]
  return candidates.find((path) => path && existsSync(path))
}

function done(message) {
  process.stdout.write(`blackbox-log: ${message}\n`)
  process.exit(0)
}

if (process.platform === 'win32') done("the ring addon is not built on Windows; durability 'ring' falls back to 'sync'")
const gyp = nodeGyp()
if (gyp === undefined) done("node-gyp not found; the ring addon was not built, durability 'ring' falls back to 'sync'")
// Node's own headers, when installed beside it, spare node-gyp a download (offline installs).
const prefix = join(dirname(process.execPath), '..')
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined)
const args = nodedir === undefined ? [] : [`--nodedir=${nodedir}`]
// configure then build, not rebuild: a failed attempt leaves an earlier build in place.
let result = spawnSync(process.execPath, [gyp, 'configure', ...args], { cwd: root, encoding: 'utf8' })
if (result.status === 0) result = spawnSync(process.execPath, [gyp, 'build', ...args], { cwd: root, encoding: 'utf8' })
if (result.status !== 0) {
  const reason = `${result.stderr ?? ''}${result.error?.message ?? ''}`.split('\n').find((line) => /error/i.test(line))?.trim() ?? `exit code ${String(result.status)}`
  done(`the ring addon could not be built (${reason}); durability 'ring' falls back to 'sync'`)
}
done('built the ring addon (build/Release/blackbox_ring.node)')
