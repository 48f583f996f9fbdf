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
  assert.equal(pkg.bin['blackbox']?.replace(/^\.\//, ''), 'dist/cli/main.js')
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

test('the help lists every command, each description in one column, and the collector’s --forward', () => {
  const result = run('--help')
  const section = result.stdout.split('Commands (blackbox <command> --help for more):\n')[1]?.split('\n\n')[0] ?? ''
  const lines = section.split('\n')
  for (const command of ['ls', 'latest', 'summary', 'clean', 'tail', 'pretty', 'run', 'progress', 'postmortem', 'recover', 'collector']) {
    assert.ok(lines.some((line) => line.startsWith(`  ${command} `)), `${command} is listed`)
  }
  // Every description starts in the same column: after a usage that fits, or alone on the next line.
  const descriptionColumns = new Set<number>()
  lines.forEach((line, index) => {
    const wrapped = /^( {3,})\S/.exec(line)
    if (wrapped) return descriptionColumns.add(wrapped[1]?.length ?? 0)
    // A usage whose description is on the next line has none of its own.
    if (/^ {3,}\S/.test(lines[index + 1] ?? '')) return
    // Descriptions hold no double space: the last run of two or more spaces ends the usage.
    const inline = /^ {2}(.*\S) {2,}(?=\S)/.exec(line)
    if (inline) descriptionColumns.add(inline[0].length)
  })
  assert.equal(descriptionColumns.size, 1, `one column for descriptions, got ${[...descriptionColumns].join(', ')}:\n${section}`)
  assert.match(section, /--forward URL/)
})
