import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

// The built command, run as a user's shell would: through its shebang.
const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> }

function run(...args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8' })
}

test('package.json names the command blackbox', () => {
  assert.equal(pkg.bin['blackbox'], './dist/cli/main.js')
})

for (const flag of ['--version', '-v']) {
  test(`blackbox ${flag} prints the package version`, () => {
    const result = run(flag)
    assert.equal(result.status, 0)
    assert.equal(result.stdout, `${pkg.version}\n`)
  })
}

for (const args of [['--help'], ['-h'], []]) {
  test(`blackbox ${args.join(' ') || '(no arguments)'} prints usage`, () => {
    const result = run(...args)
    assert.equal(result.status, 0)
    assert.match(result.stdout, /^blackbox — a flight recorder/)
    assert.match(result.stdout, /--version/)
  })
}

test('an unknown command or option exits 2 with the reason on stderr', () => {
  for (const args of [['frobnicate'], ['--frob']]) {
    const result = run(...args)
    assert.equal(result.status, 2, args.join(' '))
    assert.match(result.stderr, /^blackbox: /)
  }
})
