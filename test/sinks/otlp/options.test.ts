// Bad configuration throws when the sink is made, naming the option; a header value never
// appears in the message.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { otlpSink, type OtlpSinkOptions } from '../../../src/sinks/otlp/index.ts'

const URL_OK = 'http://127.0.0.1:4318/v1/logs'

function throwsWith(options: unknown, message: RegExp): void {
  assert.throws(() => otlpSink(options as OtlpSinkOptions), (error: unknown) => error instanceof TypeError && message.test(error.message))
}

describe('otlpSink options', () => {
  test('defaults: protobuf, every level, the name without credentials', async () => {
    const sink = otlpSink({ url: 'https://user:pa55word@collector.example.com:4318/v1/logs?token=abc123xyz' })
    assert.equal(sink.encoding, 'protobuf')
    assert.equal(sink.level, 0)
    assert.equal(sink.name, 'otlp https://collector.example.com:4318/v1/logs?…')
    await sink.close()
  })

  test('the options are checked', () => {
    throwsWith(undefined, /^Expected the options of otlpSink\(\) to be an object, got `undefined` \(undefined\)$/)
    throwsWith({}, /^Expected `url` to be an http\(s\) URL, got `undefined` \(undefined\)$/)
    throwsWith({ url: 'localhost:4318' }, /^Expected `url` to be an http\(s\) URL, got `localhos…` \(string of 14 characters\)$/)
    throwsWith({ url: 'grpc://localhost:4317' }, /^Expected `url` to be an http\(s\) URL/)
    throwsWith({ url: URL_OK, encoding: 'grpc' }, /^Expected `encoding` to be 'protobuf' or 'json', got `grpc` \(string\)$/)
    throwsWith({ url: URL_OK, level: 'loud' }, /^Expected `level` to be one of trace, debug/)
    throwsWith({ url: URL_OK, batchSize: 0 }, /^Expected `batchSize` to be a positive integer, got `0` \(number\)$/)
    throwsWith({ url: URL_OK, maxQueue: 1.5 }, /^Expected `maxQueue` to be a positive integer/)
    throwsWith({ url: URL_OK, maxRetries: -1 }, /^Expected `maxRetries` to be a non-negative integer/)
    throwsWith({ url: URL_OK, batchInterval: '1s' }, /^Expected `batchInterval` to be a positive number of ms, got `1s` \(string\)$/)
    throwsWith({ url: URL_OK, timeout: 0 }, /^Expected `timeout` to be a positive number of ms/)
    throwsWith({ url: URL_OK, exitTimeout: Number.NaN }, /^Expected `exitTimeout` to be a positive number of ms/)
    throwsWith({ url: URL_OK, resource: ['service.name'] }, /^Expected `resource` to be an object of attributes such as \{ 'service.name': 'api' \}, got `service.name` \(array\)$/)
    throwsWith({ url: URL_OK, resource: { 'service.name': 42 } }, /^Expected `resource\['service.name'\]` to be a non-empty string, got `42` \(number\)$/)
  })

  test('headers: names checked, reserved ones refused, values never quoted', () => {
    throwsWith({ url: URL_OK, headers: 'Bearer x' }, /^Expected `headers` to be an object of header names and string values, got `Bearer x` \(string\)$/)
    throwsWith({ url: URL_OK, headers: { 'bad name': 'v' } }, /^Expected `headers` to have HTTP header names \(RFC 9110 tokens\), got `"bad name"` \(string\)$/)
    throwsWith({ url: URL_OK, headers: { 'Content-Type': 'text/plain' } }, /^Expected `headers` to leave out `content-type`, which the sink sets from `encoding` and the body/)
    throwsWith({ url: URL_OK, headers: { authorization: 42 } }, /^Expected `headers.authorization` to be a string, got a value of type number$/)
    const secret = 'Bearer sEcReT-vAlUe\r\nX-Injected: 1'
    assert.throws(
      () => otlpSink({ url: URL_OK, headers: { authorization: secret } }),
      (error: unknown) => error instanceof TypeError && error.message === 'Expected `headers.authorization` to be a valid header value (no line breaks or control characters), got a string of 34 characters',
    )
  })
})
