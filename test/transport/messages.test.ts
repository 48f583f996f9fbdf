import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { FrameDecoder, FrameType, ProtocolError, PROTOCOL_VERSION } from '../../src/transport/frame.ts'
import {
  decodeAck,
  decodeBye,
  decodeHeartbeat,
  decodeHello,
  decodeLogs,
  decodeRingAnswer,
  encodeAck,
  encodeBye,
  encodeHeartbeat,
  encodeHello,
  encodeLogs,
  encodeRingAnswer,
  type Heartbeat,
  type Hello,
} from '../../src/transport/messages.ts'

// A failing property shows the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true })

const PROPERTY_TIMEOUT_MS = 10_000
const LOGS_HEADER_BYTES = 1 + 8 + 4
const RECORD_HEADER_BYTES = 8 + 1 + 4
/** Epoch ms up to 2^41 reach the year 2039; a realistic clock. */
const MAX_TIME_MS = 2 ** 41

/** Runs `fn`, which must throw a ProtocolError with `code`; returns it for further checks. */
function throwsProtocolError(fn: () => unknown, code: ProtocolError['code']): ProtocolError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof ProtocolError, `Expected a ProtocolError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

/** The payload of the one frame in `frame`, checked to be of `type`, read the way a peer reads it. */
function payloadOf(frame: Buffer, type: FrameType): Buffer {
  const decoder = new FrameDecoder()
  const frames = decoder.push(frame)
  decoder.end()
  assert.equal(frames.length, 1)
  assert.equal(frames[0]?.type, type)
  return frames[0]?.payload ?? assert.fail('no frame')
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

/** Text as a formatted record might carry it: any code point, with line breaks mixed in. */
const text = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 4 }), fc.constantFrom('\n', '\r\n', '\u2028', '\u0000', '😀', 'é')), { maxLength: 6 })
  .map((parts) => parts.join(''))
const record = fc.record({ timeMs: fc.integer({ min: 0, max: MAX_TIME_MS }), level: fc.integer({ min: 0, max: 255 }), text })
/** Records with consecutive sequence numbers, the last one at most 2^53 - 1. */
const batch = fc.array(record, { maxLength: 20 }).chain((records) =>
  fc
    .oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - records.length }), fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER - records.length))
    .map((first) => records.map((fields, i) => ({ seq: first + i, ...fields }))),
)
const seq = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER))

/** Offsets of each record's length field in an encoded LOGS payload. */
function lengthOffsets(payload: Buffer, count: number): number[] {
  const offsets: number[] = []
  let offset = LOGS_HEADER_BYTES
  for (let i = 0; i < count; i++) {
    offsets.push(offset + 9)
    offset += RECORD_HEADER_BYTES + payload.readUInt32BE(offset + 9)
  }
  return offsets
}

describe('LOGS', () => {
  test('lays out flags, first sequence, count, then time ns, level, length and bytes per record, big-endian', () => {
    const frame = encodeLogs([{ seq: 2 ** 32 + 5, timeMs: 1_700_000_000_123, level: 30, text: 'hi\n' }], true)
    const payload = payloadOf(frame, FrameType.LOGS)
    assert.equal(
      payload.toString('hex'),
      '01' + '0000000100000005' + '00000001' + '17979cfe3d7ed4c0' + '1e' + '00000003' + '68690a',
    )
  })

  test('property: records round-trip with their sequence numbers, times, levels, text and the resent flag', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(batch, fc.boolean(), (records, resent) => {
        const logs = decodeLogs(payloadOf(encodeLogs(records, resent), FrameType.LOGS))
        assert.equal(logs.resent, resent)
        assert.deepEqual(
          logs.records.map((wire) => ({ seq: wire.seq, timeNs: wire.timeNs, level: wire.level, text: wire.bytes.toString('utf8'), bytes: wire.bytes.toString('hex') })),
          records.map((sent) => ({ seq: sent.seq, timeNs: BigInt(sent.timeMs) * 1_000_000n, level: sent.level, text: sent.text, bytes: Buffer.from(sent.text).toString('hex') })),
        )
      }),
      { numRuns: 300 },
    )
  })

  test('resent defaults to false', () => {
    assert.equal(decodeLogs(payloadOf(encodeLogs([{ seq: 1, timeMs: 0, level: 30, text: 'x' }]), FrameType.LOGS)).resent, false)
  })

  test('only bit 0 of the flags means resent; the other bits are ignored', () => {
    const payload = payloadOf(encodeLogs([{ seq: 7, timeMs: 1, level: 30, text: 'x' }]), FrameType.LOGS)
    for (const [flags, resent] of [[0x00, false], [0x01, true], [0xfe, false], [0xff, true]] as const) {
      payload[0] = flags
      assert.equal(decodeLogs(payload).resent, resent, `flags 0x${flags.toString(16)}`)
    }
  })

  test('an empty batch is a 13-byte payload with count 0', () => {
    const payload = payloadOf(encodeLogs([]), FrameType.LOGS)
    assert.equal(payload.toString('hex'), '00' + '0000000000000000' + '00000000')
    assert.deepEqual(decodeLogs(payload), { resent: false, records: [] })
  })

  test('a zero-length record and a record of multi-byte UTF-8 keep their byte lengths', () => {
    const logs = decodeLogs(payloadOf(encodeLogs([{ seq: 3, timeMs: 0, level: 0, text: '' }, { seq: 4, timeMs: 0, level: 255, text: '😀\n' }]), FrameType.LOGS))
    assert.deepEqual(logs.records.map((wire) => [wire.seq, wire.level, wire.bytes.length]), [[3, 0, 0], [4, 255, 5]])
  })

  test('time is sent in ns from ms rounded to the nearest whole ms', () => {
    const logs = decodeLogs(payloadOf(encodeLogs([1.4, 1.5, MAX_TIME_MS].map((timeMs, i) => ({ seq: i, timeMs, level: 30, text: '' }))), FrameType.LOGS))
    assert.deepEqual(logs.records.map((wire) => wire.timeNs), [1_000_000n, 2_000_000n, BigInt(MAX_TIME_MS) * 1_000_000n])
  })

  test('a lone surrogate, which UTF-8 cannot carry, arrives as U+FFFD', () => {
    const [wire] = decodeLogs(payloadOf(encodeLogs([{ seq: 0, timeMs: 0, level: 30, text: 'a\ud800b' }]), FrameType.LOGS)).records
    assert.equal(wire?.bytes.toString('utf8'), 'a\ufffdb')
  })

  for (const length of [0, 1, LOGS_HEADER_BYTES - 1]) {
    test(`BAD_PAYLOAD: a payload of ${length} bytes, shorter than the LOGS header`, () => {
      throwsProtocolError(() => decodeLogs(Buffer.alloc(length)), 'BAD_PAYLOAD')
    })
  }

  test('BAD_PAYLOAD: a count of 2^32 - 1 with no records fails at once, without allocating for them', () => {
    const payload = Buffer.alloc(LOGS_HEADER_BYTES)
    payload.writeUInt32BE(0xffff_ffff, 9)
    const error = throwsProtocolError(() => decodeLogs(payload), 'BAD_PAYLOAD')
    assert.match(error.message, /record 0 of 4294967295 is cut short/)
  })

  test('BAD_PAYLOAD: a record length of 2^32 - 1', () => {
    const payload = payloadOf(encodeLogs([{ seq: 0, timeMs: 0, level: 30, text: 'abc' }]), FrameType.LOGS)
    payload.writeUInt32BE(0xffff_ffff, LOGS_HEADER_BYTES + 9)
    throwsProtocolError(() => decodeLogs(payload), 'BAD_PAYLOAD')
  })

  test('BAD_PAYLOAD: one byte after the last record', () => {
    const payload = payloadOf(encodeLogs([{ seq: 0, timeMs: 0, level: 30, text: 'abc' }]), FrameType.LOGS)
    const error = throwsProtocolError(() => decodeLogs(Buffer.concat([payload, Buffer.of(0x0a)])), 'BAD_PAYLOAD')
    assert.match(error.message, /1 bytes follow the last LOGS record/)
  })

  const nonEmptyBatch = batch.filter((records) => records.length > 0)

  test('property: a count larger than the records sent is BAD_PAYLOAD', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 2 ** 32 - 1 }), (records, extra) => {
        const payload = payloadOf(encodeLogs(records), FrameType.LOGS)
        payload.writeUInt32BE(Math.min(records.length + extra, 2 ** 32 - 1), 9)
        throwsProtocolError(() => decodeLogs(payload), 'BAD_PAYLOAD')
      }),
    )
  })

  test('property: a count smaller than the records sent leaves trailing bytes: BAD_PAYLOAD', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(nonEmptyBatch, fc.nat(), (records, fewer) => {
        const payload = payloadOf(encodeLogs(records), FrameType.LOGS)
        payload.writeUInt32BE(fewer % records.length, 9)
        throwsProtocolError(() => decodeLogs(payload), 'BAD_PAYLOAD')
      }),
    )
  })

  test('property: a record length running past the end of the payload is BAD_PAYLOAD', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(nonEmptyBatch, fc.nat(), fc.integer({ min: 1, max: 2 ** 31 }), (records, which, over) => {
        const payload = payloadOf(encodeLogs(records), FrameType.LOGS)
        const at = lengthOffsets(payload, records.length)[which % records.length] ?? assert.fail('no record')
        const left = payload.length - (at + 4)
        payload.writeUInt32BE(Math.min(left + over, 2 ** 32 - 1), at)
        throwsProtocolError(() => decodeLogs(payload), 'BAD_PAYLOAD')
      }),
    )
  })

  test('property: a payload cut anywhere, or with bytes added, is BAD_PAYLOAD', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(nonEmptyBatch, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 32 }), (records, cut, extra) => {
        const payload = payloadOf(encodeLogs(records), FrameType.LOGS)
        throwsProtocolError(() => decodeLogs(payload.subarray(0, cut % payload.length)), 'BAD_PAYLOAD')
        throwsProtocolError(() => decodeLogs(Buffer.concat([payload, extra])), 'BAD_PAYLOAD')
      }),
    )
  })

  test('property: any bytes decode to records that account for every byte, or throw BAD_PAYLOAD', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    const damaged = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
      fc.record({ records: batch, at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }).map(({ records, at, mask }) => {
        const payload = payloadOf(encodeLogs(records), FrameType.LOGS)
        const index = at % payload.length
        payload[index] = (payload[index] ?? 0) ^ mask
        return payload
      }),
    )
    let decoded = 0
    fc.assert(
      fc.property(damaged, (payload) => {
        let logs
        try {
          logs = decodeLogs(payload)
        } catch (error) {
          assert.ok(error instanceof ProtocolError, String(error))
          assert.equal(error.code, 'BAD_PAYLOAD')
          return
        }
        decoded++
        const first = payload.readUInt32BE(1) * 2 ** 32 + payload.readUInt32BE(5)
        assert.equal(logs.records.length, payload.readUInt32BE(9))
        assert.equal(LOGS_HEADER_BYTES + logs.records.reduce((sum, wire) => sum + RECORD_HEADER_BYTES + wire.bytes.length, 0), payload.length)
        logs.records.forEach((wire, i) => assert.equal(wire.seq, first + i))
      }),
      { numRuns: 500 },
    )
    assert.ok(decoded > 0, 'some damaged payloads still decode (a flipped flag, time or text byte)')
  })

  // Above 2^53 a number no longer holds every integer: two records would get the same sequence
  // number, and a reader removing duplicates by (client id, sequence) would drop one of them.
  test('a first sequence number whose records go past 2^53 - 1 is refused', () => {
    const payload = payloadOf(encodeLogs([{ seq: 0, timeMs: 0, level: 30, text: 'a' }, { seq: 1, timeMs: 0, level: 30, text: 'b' }]), FrameType.LOGS)
    payload.writeUInt32BE(0xffff_ffff, 1)
    payload.writeUInt32BE(0xffff_ffff, 5)
    assert.throws(() => decodeLogs(payload), ProtocolError)
  })
})

describe('ACK', () => {
  test('is a frame of type ACK with the sequence number as a big-endian u64', () => {
    assert.equal(payloadOf(encodeAck(2 ** 32 + 1), FrameType.ACK).toString('hex'), '0000000100000001')
    assert.equal(payloadOf(encodeAck(0), FrameType.ACK).toString('hex'), '0000000000000000')
    assert.equal(payloadOf(encodeAck(Number.MAX_SAFE_INTEGER), FrameType.ACK).toString('hex'), '001fffffffffffff')
  })

  test('property: any sequence number up to 2^53 - 1 round-trips', () => {
    fc.assert(fc.property(seq, (value) => assert.equal(decodeAck(payloadOf(encodeAck(value), FrameType.ACK)), value)))
  })

  for (const length of [0, 1, 4, 7, 9, 16]) {
    test(`BAD_PAYLOAD: an ACK payload of ${length} bytes`, () => {
      const error = throwsProtocolError(() => decodeAck(Buffer.alloc(length)), 'BAD_PAYLOAD')
      assert.match(error.message, new RegExp(`got ${length}$`))
    })
  }

  test('an ACK above 2^53 - 1 is refused', () => {
    assert.throws(() => decodeAck(Buffer.alloc(8, 0xff)), ProtocolError)
  })
})

const hello: Omit<Hello, 'protocol'> = { clientId: 'c-1', pid: 1234, name: 'api', role: 'worker', startTime: 1_700_000_000_000, lastSeq: 41 }
const heartbeat: Heartbeat = { next: 1_700_000_005_000, uptimeS: 12.5, rssBytes: 50_000_000, heapUsedBytes: 20_000_000, loopDelayMs: 1.25 }

/** Values of every JSON kind but the one a field must have. */
const WRONG = {
  string: [1, 0, true, null, [], {}, ['s']],
  number: ['1', '', true, null, [], {}, [1]],
} as const
const HELLO_FIELDS = { clientId: 'string', pid: 'number', name: 'string', role: 'string', protocol: 'number', startTime: 'number', lastSeq: 'number' } as const
const HEARTBEAT_FIELDS = { next: 'number', uptimeS: 'number', rssBytes: 'number', heapUsedBytes: 'number', loopDelayMs: 'number' } as const

const NOT_AN_OBJECT = ['', ' ', '{', '{"a":1', 'hello', '\u0000', 'null', '[]', '[{}]', '1', '"text"', 'true'] as const

/** For HELLO and HEARTBEAT: missing, wrong-typed and non-finite fields, and payloads that are not JSON objects. */
function describeStrictJson(what: string, valid: Record<string, unknown>, fields: Record<string, 'string' | 'number'>, decode: (payload: Buffer) => unknown): void {
  for (const [key, type] of Object.entries(fields)) {
    test(`BAD_PAYLOAD: ${what} without ${key}`, () => {
      const { [key]: _dropped, ...rest } = valid
      const error = throwsProtocolError(() => decode(json(rest)), 'BAD_PAYLOAD')
      assert.equal(error.message, `${what}.${key} must be a ${type}`)
    })

    test(`BAD_PAYLOAD: ${what} with ${key} of any other JSON type`, () => {
      for (const wrong of WRONG[type]) throwsProtocolError(() => decode(json({ ...valid, [key]: wrong })), 'BAD_PAYLOAD')
    })

    if (type === 'number') {
      test(`BAD_PAYLOAD: ${what} with ${key} out of the range of a double (1e999 parses to Infinity)`, () => {
        const payload = Buffer.from(JSON.stringify({ ...valid, [key]: 0 }).replace(`"${key}":0`, `"${key}":1e999`))
        throwsProtocolError(() => decode(payload), 'BAD_PAYLOAD')
      })
    }
  }

  test(`BAD_PAYLOAD: ${what} payloads that are not JSON, or JSON but not an object`, () => {
    for (const body of NOT_AN_OBJECT) throwsProtocolError(() => decode(Buffer.from(body)), 'BAD_PAYLOAD')
  })
}

describe('HELLO', () => {
  test('is a JSON object of type HELLO carrying the protocol version', () => {
    const payload = payloadOf(encodeHello(hello), FrameType.HELLO)
    assert.deepEqual(JSON.parse(payload.toString('utf8')), { ...hello, protocol: 1 })
    assert.equal(PROTOCOL_VERSION, 1)
  })

  test('property: round-trips, with and without the optional spool and heartbeatInterval', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    const anyHello = fc.record(
      {
        clientId: fc.string({ unit: 'binary' }),
        pid: fc.integer({ min: 1, max: 2 ** 22 }),
        name: fc.string({ unit: 'binary' }),
        role: fc.string({ unit: 'binary' }),
        startTime: fc.integer({ min: 0, max: MAX_TIME_MS }),
        lastSeq: seq,
        spool: fc.string({ unit: 'binary' }),
        heartbeatInterval: fc.oneof(fc.nat(), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true })),
      },
      { requiredKeys: ['clientId', 'pid', 'name', 'role', 'startTime', 'lastSeq'] },
    )
    fc.assert(
      fc.property(anyHello, (sent) => {
        assert.deepEqual(decodeHello(payloadOf(encodeHello(sent), FrameType.HELLO)), { ...sent, protocol: PROTOCOL_VERSION })
      }),
    )
  })

  test('fields it does not know are left out, so a later client can add some', () => {
    const decoded = decodeHello(json({ ...hello, protocol: 1, color: 'blue', nested: { a: 1 } }))
    assert.deepEqual(decoded, { ...hello, protocol: 1 })
  })

  test('the protocol number is reported as sent; whether to accept it is the collector\'s decision', () => {
    assert.equal(decodeHello(json({ ...hello, protocol: 2 })).protocol, 2)
  })

  describeStrictJson('HELLO', { ...hello, protocol: 1 }, HELLO_FIELDS, decodeHello)

  // Unlike the required fields, an optional field of the wrong type is not an error: the HELLO
  // is read as if the field were absent (no spool to deliver, no heartbeats to expect).
  test('an optional field of the wrong type, or a negative or non-finite heartbeatInterval, is left out', () => {
    for (const wrong of WRONG.string) assert.deepEqual(decodeHello(json({ ...hello, protocol: 1, spool: wrong })), { ...hello, protocol: 1 })
    for (const wrong of [...WRONG.number, -1, -0.5]) assert.deepEqual(decodeHello(json({ ...hello, protocol: 1, heartbeatInterval: wrong })), { ...hello, protocol: 1 })
    const infinite = Buffer.from(JSON.stringify({ ...hello, protocol: 1, heartbeatInterval: 0 }).replace('"heartbeatInterval":0', '"heartbeatInterval":1e999'))
    assert.deepEqual(decodeHello(infinite), { ...hello, protocol: 1 })
    assert.deepEqual(decodeHello(json({ ...hello, protocol: 1, heartbeatInterval: 0 })), { ...hello, protocol: 1, heartbeatInterval: 0 })
  })
})

describe('HEARTBEAT', () => {
  test('is a JSON object of type HEARTBEAT', () => {
    assert.deepEqual(JSON.parse(payloadOf(encodeHeartbeat(heartbeat), FrameType.HEARTBEAT).toString('utf8')), heartbeat)
  })

  test('property: round-trips', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 })
    const anyHeartbeat = fc.record({ next: fc.integer({ min: 0, max: MAX_TIME_MS }), uptimeS: finite, rssBytes: fc.nat(), heapUsedBytes: fc.nat(), loopDelayMs: finite })
    fc.assert(fc.property(anyHeartbeat, (sent) => assert.deepEqual(decodeHeartbeat(payloadOf(encodeHeartbeat(sent), FrameType.HEARTBEAT)), { ...sent })))
  })

  describeStrictJson('HEARTBEAT', { ...heartbeat }, HEARTBEAT_FIELDS, decodeHeartbeat)
})

describe('BYE', () => {
  test('round-trips its reason', () => {
    for (const reason of ['done', '', 'SIGTERM received\n😀']) {
      assert.deepEqual(decodeBye(payloadOf(encodeBye({ reason }), FrameType.BYE)), { reason })
    }
  })

  // Deliberately lenient: a BYE is what tells a clean shutdown from a death, so a BYE whose
  // reason is missing or odd still counts as one, with the reason 'closed'.
  test('a missing or wrong-typed reason reads as "closed"', () => {
    assert.deepEqual(decodeBye(json({})), { reason: 'closed' })
    for (const wrong of WRONG.string) assert.deepEqual(decodeBye(json({ reason: wrong })), { reason: 'closed' })
  })

  test('BAD_PAYLOAD: BYE payloads that are not JSON, or JSON but not an object', () => {
    for (const body of NOT_AN_OBJECT) throwsProtocolError(() => decodeBye(Buffer.from(body)), 'BAD_PAYLOAD')
  })
})

describe('every decoder', () => {
  const decoders = { HELLO: decodeHello, HEARTBEAT: decodeHeartbeat, BYE: decodeBye, ACK: decodeAck, LOGS: decodeLogs } as const
  for (const [name, decode] of Object.entries(decoders)) {
    test(`property: ${name} on any bytes or any JSON returns or throws BAD_PAYLOAD, nothing else`, { timeout: PROPERTY_TIMEOUT_MS }, () => {
      const input = fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        fc.json().map((value) => Buffer.from(value)),
        fc.object().map((value) => Buffer.from(JSON.stringify(value) ?? 'undefined')),
      )
      let refused = 0
      fc.assert(
        fc.property(input, (payload) => {
          try {
            decode(payload)
          } catch (error) {
            assert.ok(error instanceof ProtocolError, `threw ${String(error)}`)
            assert.equal(error.code, 'BAD_PAYLOAD')
            refused++
          }
        }),
      )
      assert.ok(refused > 0, 'random input is refused at least sometimes')
    })
  }
})

describe('RING', () => {
  test('the answer to a HELLO naming a ring round-trips: accepted, or refused with a reason', () => {
    for (const answer of [{ accepted: true }, { accepted: false, reason: 'no addon' }]) {
      assert.deepEqual(decodeRingAnswer(payloadOf(encodeRingAnswer(answer), FrameType.RING)), answer)
    }
  })

  test('BAD_PAYLOAD when accepted is not a boolean; a reason of another type is left out', () => {
    throwsProtocolError(() => decodeRingAnswer(Buffer.from('{"accepted":"yes"}')), 'BAD_PAYLOAD')
    throwsProtocolError(() => decodeRingAnswer(Buffer.from('{}')), 'BAD_PAYLOAD')
    assert.deepEqual(decodeRingAnswer(Buffer.from('{"accepted":false,"reason":7}')), { accepted: false })
  })

  test('a HELLO names the client’s ring; a ring that is not a string is ignored', () => {
    const hello = { clientId: 'c', pid: 1, name: 'n', role: 'worker', startTime: 1, lastSeq: 0, ring: '/run/spool/c.ring' }
    assert.equal(decodeHello(payloadOf(encodeHello(hello), FrameType.HELLO)).ring, '/run/spool/c.ring')
    assert.equal('ring' in decodeHello(payloadOf(encodeHello({ ...hello, ring: 5 as unknown as string }), FrameType.HELLO)), false)
  })
})
