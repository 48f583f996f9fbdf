// The package as npm users get it (#19): the tarball `npm pack` makes, installed into a fresh
// project, type-checked by that project with TypeScript 7 (the repo's) and 5, loaded with
// require() and import. Needs the built dist/ (`npm test` builds first) and the npm registry
// for what the npm cache lacks; without a network the tests that install say so and skip.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, posix } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { removeTempDir } from '../helpers/tmp.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CONSUMER_FIXTURE = fileURLToPath(new URL('../fixtures/package-consumer/', import.meta.url))
/** `npm pack` and a `tsc` run; an install may fetch from the registry. */
const COMMAND_TIMEOUT_MS = 60_000
const INSTALL_TIMEOUT_MS = 120_000
/** Bounds npm's own wait on an unreachable registry (its default is five minutes). */
const NPM_FETCH_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--fetch-timeout=20000', '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=2000']
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b|network/

interface PackedFile {
  path: string
  size: number
}

interface Packed {
  tarball: string
  files: PackedFile[]
  size: number
  unpackedSize: number
  entryCount: number
}

/** A finished install, or why there is none. */
type Installed = { dir: string; skip?: never } | { skip: string }

interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

// Under `npm test` these describe the repo's package; the npm started here works elsewhere.
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|npm_command$|INIT_CWD$)/.test(key)),
)

function run(command: string, args: readonly string[], cwd: string, timeoutMs = COMMAND_TIMEOUT_MS, env: NodeJS.ProcessEnv = childEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null && error.killed) {
        reject(new Error(`\`${command} ${args.join(' ')}\` did not finish within ${timeoutMs} ms (command timeout); stderr:\n${stderr}`))
        return
      }
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

function describeFailure(what: string, result: CommandResult): string {
  return `${what} exited with ${String(result.code)}:\n${result.stdout}${result.stderr}`
}

/** `npm install` in `dir`; a failure to reach the registry is a reason to skip, any other a failure. */
async function npmInstall(dir: string, specs: readonly string[]): Promise<Installed> {
  const result = await run('npm', ['install', ...NPM_FETCH_FLAGS, ...specs], dir, INSTALL_TIMEOUT_MS)
  if (result.code === 0) return { dir }
  if (NETWORK_ERROR.test(result.stderr)) {
    return { skip: `the npm registry is unreachable and the npm cache lacks what \`npm install ${specs.join(' ')}\` needs: ${result.stderr.split('\n').find((line) => NETWORK_ERROR.test(line))?.trim() ?? ''}` }
  }
  throw new Error(describeFailure(`npm install ${specs.join(' ')}`, result))
}

/** `npm pack` of the repo as it is built: the scripts (prepack's clean build) are left to a real publish. */
async function pack(work: string): Promise<Packed> {
  assert.ok(existsSync(join(REPO, 'dist', 'index.js')), 'dist/ is not built: run `npm run build` (npm test does)')
  const destination = join(work, 'pack')
  await mkdir(destination)
  const result = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], REPO)
  assert.equal(result.code, 0, describeFailure('npm pack', result))
  const [summary] = JSON.parse(result.stdout) as [Omit<Packed, 'tarball'> & { filename: string }]
  return { tarball: join(destination, summary.filename), files: summary.files, size: summary.size, unpackedSize: summary.unpackedSize, entryCount: summary.entryCount }
}

/** A fresh project with the tarball installed (its install script builds the addon) and the consumer fixture in it. */
async function installConsumer(work: string, tarball: string): Promise<Installed> {
  const dir = join(work, 'consumer')
  await cp(CONSUMER_FIXTURE, dir, { recursive: true })
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'blackbox-consumer', private: true, type: 'module' }, null, 2)}\n`)
  return npmInstall(dir, [tarball])
}

/** Build tools that are not there: each one says so and fails, as on a machine without them. */
const MISSING_TOOLS = ['cc', 'gcc', 'c++', 'g++', 'clang', 'clang++', 'make', 'gmake']

/**
 * The tarball installed into a fresh project on "a machine without a C compiler": PATH
 * starts with a folder where cc, gcc, c++, g++, clang and make are commands that are not
 * found (exit 127), so node-gyp cannot build the ring addon. Install scripts run in the
 * foreground, so their output is captured.
 */
async function installWithoutCompiler(work: string, tarball: string): Promise<(Installed & { output?: string })> {
  const dir = join(work, 'no-compiler')
  const bin = join(work, 'no-compiler-bin')
  await cp(CONSUMER_FIXTURE, dir, { recursive: true })
  await mkdir(bin)
  for (const tool of MISSING_TOOLS) await writeFile(join(bin, tool), `#!/bin/sh\necho "${tool}: command not found" >&2\nexit 127\n`, { mode: 0o755 })
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'blackbox-no-compiler', private: true, type: 'module' }, null, 2)}\n`)
  const env = { ...childEnv, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}`, CC: join(bin, 'cc'), CXX: join(bin, 'c++') }
  const result = await run('npm', ['install', '--foreground-scripts', ...NPM_FETCH_FLAGS, tarball], dir, INSTALL_TIMEOUT_MS, env)
  if (result.code === 0) return { dir, output: `${result.stdout}${result.stderr}` }
  if (NETWORK_ERROR.test(result.stderr)) return { skip: `the npm registry is unreachable: ${result.stderr.split('\n').find((line) => NETWORK_ERROR.test(line))?.trim() ?? ''}` }
  throw new Error(describeFailure('npm install without a compiler', result))
}

/** TypeScript 5 in a folder of its own, for this run only. */
async function installTypeScript5(work: string): Promise<Installed> {
  const dir = join(work, 'typescript-5')
  await mkdir(dir)
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n')
  return npmInstall(dir, ['typescript@5'])
}

// Started at once and shared by the tests: the two installs are most of this file's time.
const workDir = mkdtemp(join(tmpdir(), 'blackbox-package-'))
const packed = workDir.then(pack)
const consumer = Promise.all([workDir, packed]).then(([work, { tarball }]) => installConsumer(work, tarball))
const typescript5 = workDir.then(installTypeScript5)
// After the first install, which fills npm's cache: this one then needs nothing from the registry.
const noCompiler = Promise.all([workDir, packed, consumer]).then(([work, { tarball }]) => installWithoutCompiler(work, tarball))
// A failure is the tests' to report, when they await; until then it is not unhandled.
for (const started of [packed, consumer, typescript5, noCompiler]) started.catch(() => {})

after(async () => {
  await removeTempDir(await workDir)
})

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}

test('the tarball holds LICENSE, README, docs, dist with its declarations and the addon sources, and nothing else', async (t) => {
  const { files, size, entryCount } = await packed
  t.diagnostic(`${entryCount} files, ${size} bytes packed`)
  const paths = new Set(files.map((file) => file.path))
  const outside = [...paths].filter((path) => !/^(dist|docs|native)\//.test(path) && !['LICENSE', 'README.md', 'package.json', 'binding.gyp', 'scripts/build-addon.mjs'].includes(path))
  assert.deepEqual(outside, [], 'files outside what a user needs')
  for (const path of ['LICENSE', 'README.md', 'package.json', 'binding.gyp', 'scripts/build-addon.mjs', 'native/ring.c', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) {
    assert.ok(paths.has(path), `${path} is missing`)
  }
  for (const doc of readdirSync(join(REPO, 'docs'))) assert.ok(paths.has(`docs/${doc}`), `docs/${doc} is missing`)
  const withoutDeclarations = [...paths].filter((path) => path.endsWith('.js') && path.startsWith('dist/') && !paths.has(path.replace(/\.js$/, '.d.ts')))
  assert.deepEqual(withoutDeclarations, [], 'modules without their .d.ts')
  // A map whose sources are not in the tarball leads nowhere: a debugger finds no file.
  const mapsWithoutSources = [...paths].filter((path) => path.endsWith('.map')).filter((path) => {
    const map = readJson<{ sources: string[] }>(join(REPO, path))
    return map.sources.some((source) => !paths.has(posix.join(posix.dirname(path), source)))
  })
  assert.deepEqual(mapsWithoutSources, [], 'source maps whose sources are not shipped')
})

test('package.json says what the package is, where it lives, and how it loads', () => {
  const pkg = readJson<{
    license: string
    repository?: { url?: string }
    homepage?: string
    bugs?: { url?: string }
    exports: { '.': Record<string, string> }
    peerDependencies?: Record<string, string>
  }>(join(REPO, 'package.json'))
  assert.equal(pkg.license, 'MIT')
  assert.match(readFileSync(join(REPO, 'LICENSE'), 'utf8'), /^MIT License\n/)
  assert.ok(pkg.repository?.url, 'repository')
  assert.ok(pkg.homepage, 'homepage')
  assert.ok(pkg.bugs?.url, 'bugs')
  // `types` first: TypeScript takes the first condition that matches.
  assert.equal(Object.keys(pkg.exports['.'])[0], 'types')
  // Not `import` alone: require() of the package (Node ≥ 20.19) must find the module.
  assert.equal(pkg.exports['.']['default'], './dist/index.js')
  // The declarations name Node's types (see src/index.ts); the user's copy of them is the one used.
  assert.ok(pkg.peerDependencies?.['@types/node'], '@types/node as a peer dependency')
})

/** A `tsc -p` run in the consumer, or why there is none. */
type TypeCheck = { version: string; result: CommandResult; skip?: never } | { skip: string }

async function typeCheck(compiler: Promise<Installed>, config: string): Promise<TypeCheck> {
  const [installed, typescript] = await Promise.all([consumer, compiler])
  if (installed.skip !== undefined) return { skip: installed.skip }
  if (typescript.skip !== undefined) return { skip: typescript.skip }
  const home = join(typescript.dir, 'node_modules', 'typescript')
  const version = readJson<{ version: string }>(join(home, 'package.json')).version
  return { version, result: await run(process.execPath, [join(home, 'bin', 'tsc'), '-p', config], installed.dir) }
}

const NO_TYPES = { name: 'no `types`', file: 'tsconfig.json' }
const NODE_TYPES = { name: '`types: ["node"]`', file: 'tsconfig.types-node.json' }
// TypeScript 5 loads every @types package it finds when `types` is not given, so there both
// configs make the same program; TypeScript 6 and later load none.
const typeChecks = [
  { compiler: "TypeScript 7 (the repo's)", major: 7, installed: Promise.resolve<Installed>({ dir: REPO }), config: NO_TYPES },
  { compiler: "TypeScript 7 (the repo's)", major: 7, installed: Promise.resolve<Installed>({ dir: REPO }), config: NODE_TYPES },
  { compiler: 'TypeScript 5', major: 5, installed: typescript5, config: NO_TYPES },
].map((check) => ({ ...check, pending: typeCheck(check.installed, check.config.file) }))
// Run side by side, as soon as their installs are done; each test awaits its own.
for (const check of typeChecks) check.pending.catch(() => {})

for (const { compiler, major, config, pending } of typeChecks) {
  test(`the installed declarations type-check under ${compiler}, strict, skipLibCheck false, ${config.name}`, async (t) => {
    const check = await pending
    if (check.skip !== undefined) return t.skip(check.skip)
    t.diagnostic(`typescript ${check.version}`)
    assert.equal(check.version.split('.')[0], String(major))
    assert.equal(check.result.code, 0, describeFailure(`tsc ${check.version} -p ${config.file}`, check.result))
  })
}

interface LoadReport {
  ring?: boolean
  records: Array<{ msg: string; via: string; level: number }>
}

test('require() from a .cjs file loads the package, and its ring sink writes a record', async (t) => {
  const installed = await consumer
  if (installed.skip !== undefined) return t.skip(installed.skip)
  if (!process.features.require_module) return t.skip(`Node ${process.version} cannot require() an ES module (20.19 and later can); the next test checks what it says`)
  const log = join(installed.dir, 'logs', 'require.log')
  const result = await run(process.execPath, ['require.cjs', log], installed.dir)
  assert.equal(result.code, 0, describeFailure('node require.cjs', result))
  const report = JSON.parse(result.stdout) as LoadReport
  assert.deepEqual(report.records.map(({ msg, via, level }) => ({ msg, via, level })), [{ msg: 'hello from CommonJS', via: 'require', level: 30 }])
  // Where the repo could build the addon, the install script built it in the installed package too.
  const addon = existsSync(join(installed.dir, 'node_modules', 'blackbox-log', 'build', 'Release', 'blackbox_ring.node'))
  if (existsSync(join(REPO, 'build', 'Release', 'blackbox_ring.node'))) assert.ok(addon, 'the install script did not build the ring addon in the installed package')
  assert.equal(report.ring, addon, 'a ring sink exactly when the addon is there')
})

test('require() on a Node that cannot load an ES module so says to use import()', async (t) => {
  const installed = await consumer
  if (installed.skip !== undefined) return t.skip(installed.skip)
  // Where Node can, the flag turns it off, as older Node (20.0 to 20.18) is.
  const nodeArgs = process.features.require_module ? ['--no-experimental-require-module'] : []
  const result = await run(process.execPath, [...nodeArgs, 'require.cjs', join(installed.dir, 'logs', 'refused.log')], installed.dir)
  assert.notEqual(result.code, 0)
  assert.match(result.stderr, /ERR_REQUIRE_ESM/)
  assert.match(result.stderr, /dynamic import\(\)/)
})

test('import from a .mjs file loads the package, and the blackbox command runs', async (t) => {
  const installed = await consumer
  if (installed.skip !== undefined) return t.skip(installed.skip)
  const log = join(installed.dir, 'logs', 'import.log')
  const result = await run(process.execPath, ['import.mjs', log], installed.dir)
  assert.equal(result.code, 0, describeFailure('node import.mjs', result))
  const report = JSON.parse(result.stdout) as LoadReport
  assert.deepEqual(report.records.map(({ msg, via }) => ({ msg, via })), [{ msg: 'hello from ESM', via: 'import' }])
  const version = await run(join(installed.dir, 'node_modules', '.bin', 'blackbox'), ['--version'], installed.dir)
  assert.equal(version.code, 0, describeFailure('blackbox --version', version))
  assert.equal(version.stdout, `${readJson<{ version: string }>(join(REPO, 'package.json')).version}\n`)
})

test('installed on a machine without a C compiler: one line says the ring addon was not built; a ring sink falls back to sync and says so', async (t) => {
  const installed = await noCompiler
  if (installed.skip !== undefined) return t.skip(installed.skip)
  const lines = (installed.output ?? '').split('\n').filter((line) => line.startsWith('blackbox-log: '))
  assert.equal(lines.length, 1, `one line from the install script, got:\n${installed.output ?? ''}`)
  assert.match(lines[0] as string, /^blackbox-log: the ring addon could not be built \(.+\); durability 'ring' falls back to 'sync'$/)
  assert.equal(existsSync(join(installed.dir, 'node_modules', 'blackbox-log', 'build', 'Release', 'blackbox_ring.node')), false)
  const log = join(installed.dir, 'logs', 'fallback.log')
  const result = await run(process.execPath, ['ring-fallback.mjs', log], installed.dir)
  assert.equal(result.code, 0, describeFailure('node ring-fallback.mjs', result))
  const report = JSON.parse(result.stdout) as { ring: boolean; warnings: Array<{ code: string; message: string }>; records: Array<{ msg: string }> }
  assert.equal(report.ring, false)
  assert.deepEqual(report.warnings.map((warning) => warning.code), ['BLACKBOX_RING_FALLBACK'])
  assert.deepEqual(report.records.map((record) => record.msg), ['hello without a compiler'])
})
