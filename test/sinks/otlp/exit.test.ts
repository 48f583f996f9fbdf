// The exit path, tested with real processes (STYLE.md): fixtures/otlp-exit.ts logs and ends
// before the batch interval has passed, so only the synchronous send on exit (or on `fatal`)
// can deliver. The receiver runs here, in another process than the one blocked in Atomics.wait.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import type { OtlpEncoding } from '../../../src/sinks/otlp/index.ts'
import { runNode, type ExitResult } from '../../helpers/process.ts'
import { startOtlpReceiver, type OtlpReceiver } from './helpers/otlp-receiver.ts'

const FIXTURE = fileURLToPath(new URL('fixtures/otlp-exit.ts', import.meta.url))
const CHILD_TIMEOUT_MS = 15_000

interface Report {
  readonly sent: number
  readonly pending: number
  readonly dropped: number
  readonly failures: number
  readonly lastError: string
  readonly exitMs: number
}

async function runFixture(receiver: OtlpReceiver, spec: { encoding?: OtlpEncoding; ending: string; count?: number; exitTimeout?: number }): Promise<ExitResult & { report: Report | undefined }> {
  const full = { url: receiver.url, encoding: spec.encoding ?? 'protobuf', ending: spec.ending, count: spec.count ?? 3, exitTimeout: spec.exitTimeout ?? 3_000 }
  const result = await runNode(FIXTURE, [JSON.stringify(full)], { nodeArgs: ['--import', 'tsx'], timeoutMs: CHILD_TIMEOUT_MS })
  const line = result.stdout.split('\n').find((text) => text.startsWith('report '))
  return { ...result, report: line === undefined ? undefined : (JSON.parse(line.slice('report '.length)) as Report) }
}

function bodies(receiver: OtlpReceiver): unknown[] {
  return receiver.records().map((record) => record.body)
}

describe('otlpSink on process exit', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    test(`${encoding}: records logged just before process.exit(1) reach the receiver`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const result = await runFixture(receiver, { encoding, ending: 'exit' })
      assert.equal(result.code, 1, result.stderr)
      assert.equal(receiver.requests.length, 1, result.stderr)
      assert.equal(receiver.requests[0]?.contentType, encoding === 'json' ? 'application/json' : 'application/x-protobuf')
      assert.match(String(receiver.requests[0]?.headers['user-agent']), /^blackbox-log\/\d+\.\d+\.\d+/, 'the synchronous send names its exporter too')
      assert.deepEqual(bodies(receiver), ['exit-path record 0', 'exit-path record 1', 'exit-path record 2'])
      assert.equal(receiver.requests[0]?.resource['service.name'], 'exit-fixture')
      assert.deepEqual(result.report && { sent: result.report.sent, pending: result.report.pending, failures: result.report.failures }, { sent: 3, pending: 0, failures: 0 })
    })
  }

  for (const ending of ['throw', 'natural'] as const) {
    test(`ending by ${ending === 'throw' ? 'an uncaught exception' : 'an empty event loop'}: the records are sent`, async (t) => {
      const receiver = await startOtlpReceiver(t)
      const result = await runFixture(receiver, { ending })
      assert.equal(result.code, ending === 'throw' ? 1 : 0, result.stderr)
      assert.deepEqual(bodies(receiver), ['exit-path record 0', 'exit-path record 1', 'exit-path record 2'])
    })
  }

  test('a fatal record is sent synchronously: it arrives although SIGKILL follows', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const result = await runFixture(receiver, { ending: 'fatal-kill', count: 1 })
    assert.equal(result.signal, 'SIGKILL')
    assert.deepEqual(bodies(receiver), ['exit-path record 0', 'fixture: fatal before SIGKILL'])
    assert.equal(receiver.records()[1]?.raw['severityNumber'], 21)
  })

  test('more than one batch: all are sent, the newest first', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const result = await runFixture(receiver, { ending: 'exit', count: 1_200 })
    assert.equal(result.code, 1, result.stderr)
    const firstOf = receiver.requests.map((request) => [request.records.length, request.records[0]?.body])
    assert.deepEqual(firstOf, [[176, 'exit-path record 1024'], [512, 'exit-path record 512'], [512, 'exit-path record 0']])
    assert.equal(result.report?.sent, 1_200)
  })

  test('a receiver that never answers costs at most exitTimeout, and says so', async (t) => {
    const receiver = await startOtlpReceiver(t, () => 'hang')
    const result = await runFixture(receiver, { ending: 'exit', exitTimeout: 500 })
    assert.equal(result.code, 1)
    assert.equal(receiver.requests.length >= 1, true, 'the request was made')
    const report = result.report
    assert.ok(report)
    assert.ok(report.exitMs >= 450 && report.exitMs < 2_000, `the exit took ${report.exitMs} ms for an exitTimeout of 500 ms`)
    assert.equal(report.sent, 0)
    assert.equal(report.pending, 0, 'the exit path ends the sink')
    assert.equal(report.dropped, 3)
    assert.equal(result.stderr.match(/blackbox: sink "otlp [^"]+": 3 records not delivered \(left at close\)/g)?.length, 1, result.stderr)
    assert.match(result.stderr, /0 of 1 requests sent synchronously: `exitTimeout` \(500 ms\) passed first/)
    assert.match(result.stderr, /blackbox: sink "otlp http:\/\/127\.0\.0\.1:\d+\/v1\/logs" failed during flushSync/)
  })
})
