import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { encodeFrame, type Frame, FrameDecoder, FrameType, HEADER_BYTES, MAX_PAYLOAD_BYTES, ProtocolError } from '../../src/transport/frame.ts'
import { splitBytes } from '../helpers/split-bytes.ts'

// A failing property shows the assertion that failed, not only the counterexample.
fc.configureGlobal({ includeErrorInReport: true })

type Code = ProtocolError['code']

/** The closed set of codes, spelled out so that a code added in src/ fails here until documented. */
const CODES: ReadonlySet<string> = new Set(['BAD_MAGIC', 'BAD_VERSION', 'BAD_TYPE', 'OVERSIZE', 'BAD_CHECKSUM', 'TRUNCATED', 'BAD_PAYLOAD', 'BAD_SEQUENCE'])
/** Frame types by name, from the protocol (docs/protocol.md), not from src/. */
const TYPES = { HELLO: 1, LOGS: 2, HEARTBEAT: 3, ACK: 4, BYE: 5, RING: 6 } as const
const TYPE_VALUES: readonly FrameType[] = Object.values(FrameType)
const PROPERTY_TIMEOUT_MS = 10_000

/** Runs `fn`, which must throw a ProtocolError with `code`; returns it for further checks. */
function throwsProtocolError(fn: () => unknown, code: Code): ProtocolError {
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

/** Frames in a form whose diffs are readable. */
function shown(frames: readonly Frame[]): { type: number; payload: string }[] {
  return frames.map((frame) => ({ type: frame.type, payload: frame.payload.toString('hex') }))
}

/** A 12-byte header with every field chosen by the caller (the checksum too). */
function header(fields: { magic?: number; version?: number; type?: number; length?: number; checksum?: number }): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES)
  bytes.writeUInt16BE(fields.magic ?? 0x4242, 0)
  bytes.writeUInt8(fields.version ?? 1, 2)
  bytes.writeUInt8(fields.type ?? TYPES.HELLO, 3)
  bytes.writeUInt32BE(fields.length ?? 0, 4)
  bytes.writeUInt32BE(fields.checksum ?? 0, 8)
  return bytes
}


interface Outcome {
  frames: Frame[]
  /** The code of the first error, from push() or end(); undefined when the stream was clean. */
  code: Code | undefined
}

/**
 * Feeds `chunks` to a decoder, then calls end(). Fails the test on any exception that is not
 * a ProtocolError, and on `buffered` growing past one header and the largest payload.
 */
function decodeChunks(chunks: readonly Buffer[], maxPayload = MAX_PAYLOAD_BYTES): Outcome {
  const decoder = new FrameDecoder(maxPayload)
  const frames: Frame[] = []
  try {
    for (const chunk of chunks) {
      frames.push(...decoder.push(chunk))
      assert.ok(decoder.buffered < HEADER_BYTES + maxPayload, `${decoder.buffered} bytes buffered with a limit of ${maxPayload}`)
    }
    decoder.end()
    assert.equal(decoder.buffered, 0, 'a clean end leaves nothing buffered')
    return { frames, code: undefined }
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error
    assert.ok(CODES.has(error.code), `unknown code ${error.code}`)
    return { frames, code: error.code }
  }
}

/**
 * The protocol as docs/protocol.md states it, applied to the whole stream at once: an
 * independent reading to compare the incremental decoder against.
 */
function referenceDecode(bytes: Buffer, maxPayload: number): Outcome {
  const frames: Frame[] = []
  let offset = 0
  while (bytes.length - offset >= 12) {
    if (bytes.readUInt16BE(offset) !== 0x4242) return { frames, code: 'BAD_MAGIC' }
    if (bytes.readUInt8(offset + 2) !== 1) return { frames, code: 'BAD_VERSION' }
    const type = bytes.readUInt8(offset + 3)
    if (type < 1 || type > 6) return { frames, code: 'BAD_TYPE' }
    const length = bytes.readUInt32BE(offset + 4)
    if (length > maxPayload) return { frames, code: 'OVERSIZE' }
    if (bytes.length - offset - 12 < length) break
    const payload = bytes.subarray(offset + 12, offset + 12 + length)
    // The checksum covers version, type and length, then the payload (docs/protocol.md).
    if (crc32(payload, crc32(bytes.subarray(offset + 2, offset + 8))) !== bytes.readUInt32BE(offset + 8)) return { frames, code: 'BAD_CHECKSUM' }
    frames.push({ type: type as FrameType, payload })
    offset += 12 + length
  }
  return { frames, code: offset === bytes.length ? undefined : 'TRUNCATED' }
}

const frameType = fc.constantFrom(...TYPE_VALUES)
// Mostly small payloads, some long enough that a chunk boundary often falls deep inside one.
const payload = fc
  .oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 2000 }) })
  .map((bytes) => Buffer.from(bytes))
const validFrame = fc.record({ type: frameType, payload })
const cuts = fc.array(fc.nat(), { maxLength: 24 })

/** Byte streams that reach every branch of the decoder: valid frames, noise, plausible headers, damaged frames. */
const streamPiece = fc.oneof(
  { weight: 3, arbitrary: validFrame.map((frame) => encodeFrame(frame.type, frame.payload)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        version: fc.constantFrom(1, 1, 1, 0, 2),
        type: fc.integer({ min: 0, max: 7 }),
        length: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constantFrom(MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1, 0xffff_ffff)),
        checksum: fc.nat({ max: 0xffff_ffff }),
        rest: fc.uint8Array({ maxLength: 80 }),
      })
      .map((fields) => Buffer.concat([header(fields), fields.rest])),
  },
  {
    weight: 2,
    arbitrary: fc.record({ frame: validFrame, at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }).map(({ frame, at, mask }) => {
      const bytes = encodeFrame(frame.type, frame.payload)
      const index = at % bytes.length
      bytes[index] = (bytes[index] ?? 0) ^ mask
      return bytes
    }),
  },
)
const stream = fc.array(streamPiece, { maxLength: 8 }).map((pieces) => Buffer.concat(pieces))
const maxPayload = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(MAX_PAYLOAD_BYTES))

describe('encodeFrame', () => {
  test('lays out magic, version, type, length, crc32 and payload, big-endian', () => {
    const frame = encodeFrame(FrameType.LOGS, Buffer.from('123456789'))
    // The CRC-32 (IEEE 802.3, as zlib) of the bytes 01 02 00000009 then "123456789".
    const checked = Buffer.concat([Buffer.from('010200000009', 'hex'), Buffer.from('123456789')])
    assert.equal(crc32(checked).toString(16), '5eae1ae0')
    assert.equal(frame.toString('hex'), `4242` + `01` + `02` + `00000009` + `5eae1ae0` + Buffer.from('123456789').toString('hex'))
  })

  test('the types are the closed set HELLO 1, LOGS 2, HEARTBEAT 3, ACK 4, BYE 5, RING 6', () => {
    assert.deepEqual({ ...FrameType }, TYPES)
    assert.equal(HEADER_BYTES, 12)
    assert.equal(MAX_PAYLOAD_BYTES, 8 * 1024 * 1024)
  })

  test('a zero-length payload is a bare header whose checksum covers the header', () => {
    assert.equal(encodeFrame(FrameType.BYE, Buffer.alloc(0)).toString('hex'), `4242010500000000${crc32(Buffer.from('010500000000', 'hex')).toString(16).padStart(8, '0')}`)
  })
})

describe('FrameDecoder round trips', () => {
  for (const [name, type] of Object.entries(FrameType)) {
    test(`${name}: a frame decodes to its type and payload`, () => {
      const body = Buffer.from(`{"a ${name} payload":"é😀\\n"}\n\u0000\u00ff`)
      const decoder = new FrameDecoder()
      assert.deepEqual(shown(decoder.push(encodeFrame(type, body))), shown([{ type, payload: body }]))
      assert.equal(decoder.buffered, 0)
      decoder.end()
    })

    test(`${name}: a frame with a zero-length payload decodes`, () => {
      const decoder = new FrameDecoder()
      const frames = decoder.push(encodeFrame(type, Buffer.alloc(0)))
      assert.deepEqual(shown(frames), [{ type, payload: '' }])
      assert.equal(frames[0]?.payload.length, 0)
      decoder.end()
    })
  }

  test('zero-length frames back to back, then one byte at a time', () => {
    const bytes = Buffer.concat(TYPE_VALUES.map((type) => encodeFrame(type, Buffer.alloc(0))))
    assert.deepEqual(shown(new FrameDecoder().push(bytes)), TYPE_VALUES.map((type) => ({ type, payload: '' })))
    const decoder = new FrameDecoder()
    const frames: Frame[] = []
    for (const byte of bytes) frames.push(...decoder.push(Buffer.of(byte)))
    assert.deepEqual(shown(frames), TYPE_VALUES.map((type) => ({ type, payload: '' })))
  })

  test('buffered counts the bytes of a frame not yet whole, and drops to 0 when it is', () => {
    const frame = encodeFrame(FrameType.HEARTBEAT, Buffer.from('{"next":1}'))
    const decoder = new FrameDecoder()
    assert.deepEqual(decoder.push(frame.subarray(0, 5)), [])
    assert.equal(decoder.buffered, 5)
    assert.deepEqual(decoder.push(frame.subarray(5, 15)), [])
    assert.equal(decoder.buffered, 15)
    assert.equal(decoder.push(frame.subarray(15)).length, 1)
    assert.equal(decoder.buffered, 0)
  })

  test('a decoded payload is a copy: changing the pushed chunk afterwards does not change it', () => {
    const chunk = encodeFrame(FrameType.LOGS, Buffer.from('abc'))
    const [frame] = new FrameDecoder().push(chunk)
    chunk.fill(0)
    assert.equal(frame?.payload.toString(), 'abc')
  })

  test('a payload of exactly the default limit is accepted', () => {
    const body = Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61)
    const frames = new FrameDecoder().push(encodeFrame(FrameType.LOGS, body))
    assert.equal(frames.length, 1)
    assert.equal(frames[0]?.payload.length, MAX_PAYLOAD_BYTES)
  })

  test('property: valid frames, concatenated and cut anywhere, decode to the same frames in order', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.array(validFrame, { maxLength: 12 }), cuts, (frames, at) => {
        const bytes = Buffer.concat(frames.map((frame) => encodeFrame(frame.type, frame.payload)))
        const outcome = decodeChunks(splitBytes(bytes, at))
        assert.equal(outcome.code, undefined)
        assert.deepEqual(shown(outcome.frames), shown(frames))
      }),
      { numRuns: 300 },
    )
  })
})

describe('FrameDecoder memory (issue #15)', () => {
  test('firstMaxPayload: the first frame is refused from its header over it; the frames after it take maxPayload', () => {
    const decoder = new FrameDecoder(1000, { firstMaxPayload: 10 })
    const frames = decoder.push(Buffer.concat([encodeFrame(FrameType.HELLO, Buffer.alloc(10)), encodeFrame(FrameType.LOGS, Buffer.alloc(1000))]))
    assert.deepEqual(frames.map((frame) => frame.payload.length), [10, 1000])
    const error = throwsProtocolError(() => new FrameDecoder(1000, { firstMaxPayload: 10 }).push(header({ type: TYPES.HELLO, length: 11 })), 'OVERSIZE')
    assert.match(error.message, /a first frame of 11 bytes is over the limit of 10/)
    throwsProtocolError(() => new FrameDecoder(1000, { firstMaxPayload: 10 }).push(encodeFrame(FrameType.HELLO, Buffer.alloc(11)).subarray(0, HEADER_BYTES)), 'OVERSIZE')
  })

  test('a header announcing the largest payload holds only the bytes that came, and no more as they come', () => {
    for (const ownsChunks of [false, true]) {
      const decoder = new FrameDecoder(MAX_PAYLOAD_BYTES, { ownsChunks })
      decoder.push(header({ type: TYPES.LOGS, length: MAX_PAYLOAD_BYTES }))
      assert.equal(decoder.buffered, HEADER_BYTES, `ownsChunks ${ownsChunks}`)
      for (let i = 1; i <= 100; i++) {
        decoder.push(Buffer.alloc(1000))
        assert.equal(decoder.buffered, HEADER_BYTES + i * 1000, `ownsChunks ${ownsChunks}`)
      }
    }
  })

  test('ownsChunks: chunks are kept as pushed (the caller hands them over); the frames decode the same', () => {
    const payload = Buffer.from('records, in two chunks')
    const frame = encodeFrame(FrameType.LOGS, payload)
    const decoder = new FrameDecoder(MAX_PAYLOAD_BYTES, { ownsChunks: true })
    assert.deepEqual(decoder.push(frame.subarray(0, 20)), [])
    const [decoded] = decoder.push(frame.subarray(20))
    assert.deepEqual(decoded?.payload, payload)
  })

  test('property: with ownsChunks, valid frames cut anywhere decode to the same frames in order', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.array(validFrame, { maxLength: 12 }), cuts, (frames, at) => {
        const bytes = Buffer.concat(frames.map((frame) => encodeFrame(frame.type, frame.payload)))
        const decoder = new FrameDecoder(MAX_PAYLOAD_BYTES, { ownsChunks: true })
        const decoded = splitBytes(bytes, at).flatMap((chunk) => decoder.push(Buffer.from(chunk)))
        decoder.end()
        assert.deepEqual(shown(decoded), shown(frames))
      }),
      { numRuns: 200 },
    )
  })
})

describe('FrameDecoder errors', () => {
  test('BAD_MAGIC: anything but "BB" first, such as an HTTP request on the socket', () => {
    const error = throwsProtocolError(() => new FrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 'BAD_MAGIC')
    assert.match(error.message, /0x4745/)
    assert.equal(error.name, 'ProtocolError')
    throwsProtocolError(() => new FrameDecoder().push(header({ magic: 0x4241 })), 'BAD_MAGIC')
  })

  for (const version of [0, 2, 255]) {
    test(`BAD_VERSION: version ${version}`, () => {
      throwsProtocolError(() => new FrameDecoder().push(header({ version })), 'BAD_VERSION')
    })
  }

  for (const type of [0, 7, 255]) {
    test(`BAD_TYPE: type ${type}`, () => {
      const error = throwsProtocolError(() => new FrameDecoder().push(header({ type })), 'BAD_TYPE')
      assert.match(error.message, new RegExp(`\\b${type}\\b`))
    })
  }

  test('OVERSIZE: a length over the default limit is refused from the header alone, before any payload', () => {
    const decoder = new FrameDecoder()
    throwsProtocolError(() => decoder.push(header({ length: MAX_PAYLOAD_BYTES + 1 })), 'OVERSIZE')
    throwsProtocolError(() => new FrameDecoder().push(header({ length: 0xffff_ffff })), 'OVERSIZE')
  })

  test('OVERSIZE with a custom limit: 16 bytes pass a limit of 16, 17 do not', () => {
    assert.equal(new FrameDecoder(16).push(encodeFrame(FrameType.LOGS, Buffer.alloc(16))).length, 1)
    const error = throwsProtocolError(() => new FrameDecoder(16).push(encodeFrame(FrameType.LOGS, Buffer.alloc(17))), 'OVERSIZE')
    assert.match(error.message, /17 bytes .* 16/)
  })

  test('OVERSIZE with a limit of 0: only zero-length payloads pass', () => {
    assert.equal(new FrameDecoder(0).push(encodeFrame(FrameType.BYE, Buffer.alloc(0))).length, 1)
    throwsProtocolError(() => new FrameDecoder(0).push(encodeFrame(FrameType.BYE, Buffer.alloc(1))), 'OVERSIZE')
  })

  test('BAD_CHECKSUM: a changed payload byte, or a changed checksum', () => {
    const frame = encodeFrame(FrameType.LOGS, Buffer.from('payload'))
    const payloadChanged = Buffer.from(frame)
    payloadChanged[HEADER_BYTES + 3] = 0x21
    throwsProtocolError(() => new FrameDecoder().push(payloadChanged), 'BAD_CHECKSUM')
    const checksumChanged = Buffer.from(frame)
    checksumChanged[11] = (checksumChanged[11] ?? 0) ^ 1
    throwsProtocolError(() => new FrameDecoder().push(checksumChanged), 'BAD_CHECKSUM')
  })

  test('BAD_CHECKSUM on a zero-length payload whose checksum is not 0', () => {
    throwsProtocolError(() => new FrameDecoder().push(header({ type: TYPES.BYE, length: 0, checksum: 1 })), 'BAD_CHECKSUM')
  })

  test('TRUNCATED: the stream ends inside a header, after a header, or inside a payload', () => {
    const frame = encodeFrame(FrameType.LOGS, Buffer.from('twelve bytes'))
    for (const cut of [1, HEADER_BYTES - 1, HEADER_BYTES, frame.length - 1]) {
      const decoder = new FrameDecoder()
      assert.deepEqual(decoder.push(Buffer.concat([encodeFrame(FrameType.BYE, Buffer.from('{}')), frame.subarray(0, cut)])).length, 1)
      const error = throwsProtocolError(() => decoder.end(), 'TRUNCATED')
      assert.match(error.message, new RegExp(`\\(${cut} bytes left\\)`))
    }
  })

  test('end() on a clean stream, empty or after whole frames, throws nothing', () => {
    const empty = new FrameDecoder()
    empty.end()
    const decoder = new FrameDecoder()
    assert.equal(decoder.push(encodeFrame(FrameType.ACK, Buffer.alloc(8))).length, 1)
    decoder.end()
    assert.equal(decoder.buffered, 0)
  })

  test('a bad header is seen once its 12 bytes are in; fewer bad bytes wait, and end() calls them TRUNCATED', () => {
    const decoder = new FrameDecoder()
    assert.deepEqual(decoder.push(Buffer.from('XX')), [])
    assert.equal(decoder.buffered, 2)
    throwsProtocolError(() => decoder.end(), 'TRUNCATED')
    const later = new FrameDecoder()
    assert.deepEqual(later.push(Buffer.from('XXXXXXXXXXX')), [])
    throwsProtocolError(() => later.push(Buffer.from('X')), 'BAD_MAGIC')
  })

  test('frames delivered by earlier pushes stand when a later push fails', () => {
    const decoder = new FrameDecoder()
    const first = decoder.push(encodeFrame(FrameType.HELLO, Buffer.from('{}')))
    throwsProtocolError(() => decoder.push(header({ version: 9 })), 'BAD_VERSION')
    assert.deepEqual(shown(first), [{ type: FrameType.HELLO, payload: Buffer.from('{}').toString('hex') }])
  })

  test('property: random bytes in random chunks give frames or one ProtocolError, as the protocol says, with buffered bounded', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(stream, cuts, maxPayload, (bytes, at, max) => {
        const outcome = decodeChunks(splitBytes(bytes, at), max)
        const expected = referenceDecode(bytes, max)
        assert.equal(outcome.code, expected.code)
        // A push that throws returns none of the frames it completed before the bad one (see
        // the failing test below), so after an error the frames seen are a prefix of the expected.
        if (outcome.code === undefined) assert.deepEqual(shown(outcome.frames), shown(expected.frames))
        else assert.deepEqual(shown(outcome.frames), shown(expected.frames.slice(0, outcome.frames.length)))
      }),
      { numRuns: 1000 },
    )
  })

  test('property: one changed byte in a valid frame gives the error of the field it lands in', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    const damaged = fc
      .record({
        type: frameType,
        payload,
        at: fc.nat(),
        mask: fc.integer({ min: 1, max: 255 }),
        // Every limit is over the largest generated payload, so only the changed byte can break the frame.
        max: fc.constantFrom(MAX_PAYLOAD_BYTES, 2048, 4096),
        cuts,
      })
      // A type byte turned into another valid type passes the frame layer: see the todo test below.
      .filter(({ type, payload, at, mask }) => at % (HEADER_BYTES + payload.length) !== 3 || !TYPE_VALUES.some((valid) => valid === (type ^ mask)))
    fc.assert(
      fc.property(damaged, ({ type, payload, at, mask, max, cuts }) => {
        const bytes = encodeFrame(type, payload)
        const index = at % bytes.length
        bytes[index] = (bytes[index] ?? 0) ^ mask
        const length = bytes.readUInt32BE(4)
        const expected: Code =
          index <= 1 ? 'BAD_MAGIC'
          : index === 2 ? 'BAD_VERSION'
          : index === 3 ? 'BAD_TYPE'
          : index <= 7 ? (length > max ? 'OVERSIZE' : length > payload.length ? 'TRUNCATED' : 'BAD_CHECKSUM')
          : 'BAD_CHECKSUM'
        const outcome = decodeChunks(splitBytes(bytes, cuts), max)
        assert.equal(outcome.code, expected, `byte ${index} ^ 0x${mask.toString(16)}`)
        assert.deepEqual(outcome.frames, [])
      }),
      { numRuns: 1000 },
    )
  })

  // A peer might read with one reused buffer (net.Socket's `onread: { buffer }` option does).
  test('push() keeps no reference to the chunk: the caller may reuse its buffer', () => {
    const frame = encodeFrame(FrameType.BYE, Buffer.from('{"reason":"done"}'))
    const reused = Buffer.alloc(frame.length)
    const decoder = new FrameDecoder()
    frame.copy(reused, 0, 0, 10)
    assert.deepEqual(decoder.push(reused.subarray(0, 10)), [])
    reused.fill(0)
    frame.copy(reused, 0, 10)
    assert.deepEqual(shown(decoder.push(reused.subarray(0, frame.length - 10))), [{ type: FrameType.BYE, payload: Buffer.from('{"reason":"done"}').toString('hex') }])
  })

  // Known failing (codec bug): a push that throws drops the whole frames it decoded before the
  // bad one. spoolFrames (spool.ts) reads a spool 1 MiB at a time and counts on getting the
  // frames before a damaged one, so a damaged frame loses up to 1 MiB of good records before it.
  test('whole frames before a bad one are delivered whatever the chunking', () => {
    const good = encodeFrame(FrameType.LOGS, Buffer.from('records'))
    const bad = header({ magic: 0 })
    const oneChunk = decodeChunks([Buffer.concat([good, bad])])
    const twoChunks = decodeChunks([good, bad])
    assert.equal(twoChunks.frames.length, 1)
    assert.deepEqual(shown(oneChunk.frames), shown(twoChunks.frames))
  })

  test('a type byte changed into another valid type is detected', () => {
    const frame = encodeFrame(FrameType.HEARTBEAT, Buffer.from('{"next":1}'))
    frame[3] = FrameType.BYE
    const outcome = decodeChunks([frame])
    assert.notEqual(outcome.code, undefined, `decoded as ${JSON.stringify(shown(outcome.frames))}`)
  })
})

describe('FrameDecoder after a failure', () => {
  const failures: readonly [Code, (decoder: FrameDecoder) => void][] = [
    ['BAD_MAGIC', (decoder) => decoder.push(header({ magic: 0 }))],
    ['BAD_VERSION', (decoder) => decoder.push(header({ version: 2 }))],
    ['BAD_TYPE', (decoder) => decoder.push(header({ type: 0 }))],
    ['OVERSIZE', (decoder) => decoder.push(header({ length: MAX_PAYLOAD_BYTES + 1 }))],
    ['BAD_CHECKSUM', (decoder) => decoder.push(header({ length: 0, checksum: 7 }))],
    ['TRUNCATED', (decoder) => {
      decoder.push(Buffer.from('B'))
      decoder.end()
    }],
  ]
  for (const [code, fail] of failures) {
    test(`after ${code}, the second and third pushes are refused, even of valid frames`, () => {
      const decoder = new FrameDecoder()
      throwsProtocolError(() => fail(decoder), code)
      for (const attempt of ['second', 'third']) {
        let caught: unknown
        try {
          const frames = decoder.push(encodeFrame(FrameType.HELLO, Buffer.from('{}')))
          assert.fail(`the ${attempt} push returned ${frames.length} frames`)
        } catch (error) {
          caught = error
        }
        assert.ok(caught instanceof ProtocolError, `the ${attempt} push threw ${String(caught)}`)
        assert.ok(CODES.has(caught.code))
        assert.match(caught.message, /already failed/)
      }
      assert.throws(() => decoder.push(Buffer.alloc(0)), ProtocolError)
    })
  }

  test('end() after a failure throws nothing more: the failure was reported once (collector.ts calls end() on every close)', () => {
    const decoder = new FrameDecoder()
    throwsProtocolError(() => decoder.push(header({ magic: 0 })), 'BAD_MAGIC')
    decoder.end()
    decoder.end()
    const truncated = new FrameDecoder()
    truncated.push(Buffer.from('BB'))
    throwsProtocolError(() => truncated.end(), 'TRUNCATED')
    truncated.end()
  })

  test('reset() forgets the failure and the buffered bytes: the decoder serves a new connection', () => {
    const decoder = new FrameDecoder()
    throwsProtocolError(() => decoder.push(Buffer.concat([header({ version: 0 }), Buffer.from('more bytes')])), 'BAD_VERSION')
    decoder.reset()
    assert.equal(decoder.buffered, 0)
    const ack = Buffer.from('0000000000000007', 'hex')
    assert.deepEqual(shown(decoder.push(encodeFrame(FrameType.ACK, ack))), [{ type: FrameType.ACK, payload: ack.toString('hex') }])
    decoder.end()
  })

  test('reset() in the middle of a frame drops its bytes, so the next connection starts on a frame boundary', () => {
    const decoder = new FrameDecoder()
    assert.deepEqual(decoder.push(encodeFrame(FrameType.ACK, Buffer.alloc(8)).subarray(0, 15)), [])
    decoder.reset()
    assert.equal(decoder.push(encodeFrame(FrameType.BYE, Buffer.from('{}'))).length, 1)
    decoder.end()
  })

  test('property: once a stream has failed, every later push throws a ProtocolError', { timeout: PROPERTY_TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(stream, cuts, maxPayload, fc.array(validFrame, { minLength: 1, maxLength: 3 }), (bytes, at, max, after) => {
        const decoder = new FrameDecoder(max)
        let failed = false
        for (const chunk of splitBytes(bytes, at)) {
          try {
            decoder.push(chunk)
          } catch (error) {
            assert.ok(error instanceof ProtocolError)
            failed = true
            break
          }
        }
        if (!failed) {
          try {
            decoder.end()
          } catch (error) {
            assert.ok(error instanceof ProtocolError)
            failed = true
          }
        }
        fc.pre(failed)
        for (const frame of after) assert.throws(() => decoder.push(encodeFrame(frame.type, frame.payload)), ProtocolError)
      }),
      { numRuns: 300 },
    )
  })
})
