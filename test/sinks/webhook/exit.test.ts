// The exit path, tested with real processes (STYLE.md): test/fixtures/webhook-exit.mjs
// logs through the BUILT library (dist/) and ends before the batch interval has passed,
// so only the synchronous send on exit (or on `fatal`) can deliver. The fake service runs
// here, in another process than the one blocked in Atomics.wait. Run `npm run build` first.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { EXIT_MAX_MESSAGES } from '../../../src/sinks/webhook/index.ts'
import { readMessage, type MarkupName } from '../../helpers/chat-markup.ts'
import { fixturePath, runNode, type ExitResult } from '../../helpers/process.ts'
import { DISCORD_OK, SLACK_OK, TELEGRAM_OK, discordRateLimited, startFakeService, type FakeService, type Reply, type ReceivedRequest } from '../../helpers/webhook-server.ts'

const SECRET = 'eXiT-SeCrEt-0123456789abcdefXYZ'
const TELEGRAM_TOKEN = `5550123:${SECRET}`
/** Longer than any test: only the exit path can send. */
const NEVER_MS = 60_000
const CHILD_TIMEOUT_MS = 15_000

type Kind = 'discord' | 'telegram' | 'slack' | 'webhook'
type Ending = 'exit' | 'throw' | 'natural' | 'fatal-kill' | 'fatal-exit'

interface Report {
  readonly name: string
  readonly failures: number
  readonly pending: number
  /** Records dropped by the end (the exit path counts what it could not send). */
  readonly dropped: number
  readonly lastError: string
  /** From the ending to the fixture's own exit listener, which runs after the sink's. */
  readonly exitMs: number
}

function optionsFor(kind: Kind, server: FakeService, extra: object): object {
  const common = { batchInterval: NEVER_MS, exitTimeout: 3_000, ...extra }
  switch (kind) {
    case 'discord':
      return { url: `${server.origin}/api/webhooks/4242/${SECRET}`, ...common }
    case 'telegram':
      return { token: TELEGRAM_TOKEN, chatId: 99, apiUrl: server.origin, ...common }
    case 'slack':
      return { url: `${server.origin}/services/T1/B2/${SECRET}`, ...common }
    case 'webhook':
      return { url: `${server.origin}/hook/${SECRET}`, headers: { authorization: `Bearer ${SECRET}` }, ...common }
  }
}

async function runFixture(kind: Kind, server: FakeService, ending: Ending, extra: { count?: number; options?: object; message?: string; guard?: boolean } = {}): Promise<ExitResult & { report: Report | undefined }> {
  const spec = { kind, ending, count: extra.count ?? 1, message: extra.message ?? 'exit-path record', guard: extra.guard ?? false, options: optionsFor(kind, server, extra.options ?? {}) }
  const result = await runNode(fixturePath('webhook-exit.mjs'), [JSON.stringify(spec)], { timeoutMs: CHILD_TIMEOUT_MS })
  const line = result.stdout.split('\n').find((text) => text.startsWith('report '))
  return { ...result, report: line === undefined ? undefined : (JSON.parse(line.slice('report '.length)) as Report) }
}

function assertNoSecret(result: ExitResult, server: FakeService): void {
  assert.ok(!result.stdout.includes(SECRET), `the secret is on stdout:\n${result.stdout}`)
  assert.ok(!result.stderr.includes(SECRET), `the secret is on stderr:\n${result.stderr}`)
  for (const request of server.requests) assert.ok(!request.body.includes(SECRET), 'the secret is in a message')
}

/** What a reader sees in a chat message, or the messages of a generic body. */
function shown(kind: Kind, request: ReceivedRequest): string {
  if (kind === 'webhook') return request.json<{ records: { msg: string }[] }>().records.map((record) => record.msg).join('\n')
  const markup: MarkupName = kind === 'telegram' ? 'HTML' : kind
  const text = kind === 'discord' ? request.json<{ content: string }>().content : request.json<{ text: string }>().text
  return readMessage(markup, text).map((segment) => segment.text).join('')
}

const OK: Readonly<Record<Kind, Reply>> = { discord: DISCORD_OK, telegram: TELEGRAM_OK, slack: SLACK_OK, webhook: { status: 200, body: {} } }

describe('webhook sinks on process exit', () => {
  for (const kind of ['discord', 'telegram', 'slack', 'webhook'] as const) {
    test(`${kind}: an error logged just before process.exit(1) reaches the service`, async (t) => {
      const server = await startFakeService(t, () => OK[kind])
      const result = await runFixture(kind, server, 'exit', { count: 2 })
      assert.equal(result.code, 1, result.stderr)
      assert.equal(server.requests.length, 1, result.stderr)
      assert.match(shown(kind, server.requests[0] as ReceivedRequest), /exit-path record 0.*\n.*exit-path record 1/)
      assert.equal(result.report?.pending, 0)
      assert.equal(result.report?.failures, 0, result.stderr)
      assertNoSecret(result, server)
    })
  }

  for (const ending of ['throw', 'natural'] as const) {
    test(`discord: ending by ${ending === 'throw' ? 'an uncaught exception' : 'an empty event loop'}, the record is sent`, async (t) => {
      const server = await startFakeService(t, () => DISCORD_OK)
      const result = await runFixture('discord', server, ending)
      assert.equal(result.code, ending === 'throw' ? 1 : 0, result.stderr)
      assert.equal(server.requests.length, 1)
      assert.equal(shown('discord', server.requests[0] as ReceivedRequest), '[ERROR] exit-path record 0 i=0')
      assertNoSecret(result, server)
    })
  }

  test('a fatal record is sent before the log call returns: it arrives although the process is then SIGKILLed', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const result = await runFixture('discord', server, 'fatal-kill')
    assert.equal(result.signal, 'SIGKILL')
    assert.equal(server.requests.length, 1)
    assert.equal(shown('discord', server.requests[0] as ReceivedRequest), '[ERROR] exit-path record 0 i=0\n[CRITICAL] fixture: fatal before SIGKILL')
  })

  test('a 429 at exit is waited out within the bound', async (t) => {
    const server = await startFakeService(t, (_, index) => (index === 0 ? discordRateLimited(0.1) : DISCORD_OK))
    const result = await runFixture('discord', server, 'exit')
    assert.equal(server.requests.length, 2, result.stderr)
    assert.ok((server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0) >= 95)
    assert.equal(result.report?.failures, 0, result.stderr)
  })

  test('a service that never answers holds the exit for exitTimeout, no longer; the failure is reported without the secret', async (t) => {
    const server = await startFakeService(t, () => 'hang')
    const exitTimeout = 400
    const result = await runFixture('discord', server, 'exit', { options: { exitTimeout } })
    assert.equal(result.code, 1)
    assert.equal(server.requests.length, 1, 'the request was made')
    const exitMs = result.report?.exitMs ?? Number.NaN
    assert.ok(exitMs >= exitTimeout - 5 && exitMs < exitTimeout + 600, `the exit path took ${exitMs} ms; exitTimeout is ${exitTimeout} ms`)
    assert.match(result.stderr, /sink "discord webhook …\/4242" failed during flushSync/)
    assert.match(result.stderr, /0 of 1 messages sent synchronously: `exitTimeout` \(400 ms\) passed first/)
    assert.equal(result.report?.pending, 0, 'the exit path ends the sink')
    assert.equal(result.report?.dropped, 1)
    assert.equal(result.stderr.match(/blackbox: sink "discord webhook …\/4242": 1 record not delivered \(left at close\)/g)?.length, 1, result.stderr)
    assertNoSecret(result, server)
  })

  for (const [ending, guard] of [['fatal-exit', false], ['throw', true]] as const) {
    test(`with a dead service, the synchronous sends of one ending share exitTimeout (${ending}${guard ? ', crash guard' : ''})`, async (t) => {
      const server = await startFakeService(t, () => 'hang')
      const exitTimeout = 400
      const result = await runFixture('discord', server, ending, { guard, options: { exitTimeout } })
      assert.equal(result.code, 1)
      const exitMs = result.report?.exitMs ?? Number.NaN
      // A fatal record, the guard and the exit registry each flush: without a shared budget, a multiple of the bound.
      assert.ok(exitMs >= exitTimeout - 5 && exitMs < exitTimeout * 1.5, `the exit path took ${exitMs} ms; exitTimeout is ${exitTimeout} ms`)
      assert.ok((result.report?.dropped ?? 0) >= 2, 'the records were not sent, and are counted')
      assert.equal(result.stderr.match(/records? not delivered/g)?.length, 1, result.stderr)
      assertNoSecret(result, server)
    })
  }

  test('with the crash guard, its records of an uncaught exception reach the service', async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const result = await runFixture('discord', server, 'throw', { guard: true })
    assert.equal(result.code, 1)
    const text = server.requests.map((request) => shown('discord', request)).join('\n')
    assert.match(text, /\[ERROR\] exit-path record 0 i=0/)
    assert.match(text, /\[CRITICAL\] uncaught exception: fixture: uncaught throw/)
    assert.match(text, /Error: fixture: uncaught throw\n +at /, 'the stack, in a code block')
    assert.match(text, /\[ERROR\] exiting with code 1/)
    assert.equal(result.report?.pending, 0)
    assert.equal(result.report?.failures, 0, result.stderr)
  })

  test(`with many records waiting, exit sends the newest in at most ${EXIT_MAX_MESSAGES} messages and says how many were left`, async (t) => {
    const server = await startFakeService(t, () => DISCORD_OK)
    const count = 150
    const result = await runFixture('discord', server, 'exit', { count, message: `${'w'.repeat(120)} record` })
    assert.ok(server.requests.length >= 1 && server.requests.length <= EXIT_MAX_MESSAGES, `${server.requests.length} messages`)
    const lines = server.requests.flatMap((request) => shown('discord', request).split('\n'))
    assert.match(lines.at(-1) ?? '', new RegExp(`record ${count - 1} i=${count - 1}$`), 'the newest record is sent, last')
    const first = Number(/ i=(\d+)$/.exec(lines[0] ?? '')?.[1])
    assert.deepEqual(lines.map((line) => Number(/ i=(\d+)$/.exec(line)?.[1])), Array.from({ length: count - first }, (_, i) => first + i), 'a run of the newest, in order')
    assert.match(result.stderr, new RegExp(`${first} older records not sent synchronously`))
    assert.equal(result.report?.dropped, first)
    assert.match(result.stderr, new RegExp(`: ${first} records not delivered \\(left at close\\)`))
  })
})
