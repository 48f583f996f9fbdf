import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { encodeRelpFrame, nextTxnr, RELP_MAX_TXNR, RelpDecoder, type RelpFrame } from '../../../src/sinks/syslog/relp-frame.ts'

fc.configureGlobal({ includeErrorInReport: true })

function decodeAll(bytes: Uint8Array, cuts: readonly number[] = []): { frames: RelpFrame[]; error: string | undefined } {
  const decoder = new RelpDecoder()
  const frames: RelpFrame[] = []
  let from = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    frames.push(...decoder.push(bytes.subarray(from, cut)))
    from = cut
  }
  frames.push(...decoder.push(bytes.subarray(from)))
  return { frames, error: decoder.error }
}

function plain(frames: readonly RelpFrame[]): Array<[number, string, string]> {
  return frames.map((frame) => [frame.txnr, frame.command, frame.data.toString('latin1')])
}

test('encodes the frames of the RELP protocol', () => {
  assert.equal(encodeRelpFrame(1, 'open', 'relp_version=0\ncommands=syslog').toString(), '1 open 30 relp_version=0\ncommands=syslog\n')
  assert.equal(encodeRelpFrame(7, 'syslog', 'é').toString(), '7 syslog 2 é\n', 'DATALEN counts bytes')
  assert.equal(encodeRelpFrame(3, 'close').toString(), '3 close 0\n', 'no SP DATA when DATALEN is 0')
  assert.throws(() => encodeRelpFrame(RELP_MAX_TXNR + 1, 'syslog', 'x'), /Expected `txnr` to be an integer from 0 to 999999999/)
  assert.throws(() => encodeRelpFrame(1, 'sys log', 'x'), /Expected `command` to be 1 to 32 ASCII letters/)
  assert.equal(nextTxnr(RELP_MAX_TXNR), 1, 'after 999,999,999 comes 1')
  assert.equal(nextTxnr(41), 42)
})

test('decodes what librelp sends, byte by byte too', () => {
  const wire = Buffer.from('1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n4 rsp 0\n0 serverclose 0\n')
  const expected: Array<[number, string, string]> = [
    [1, 'rsp', '200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog'],
    [2, 'rsp', '200 OK'],
    [4, 'rsp', ''],
    [0, 'serverclose', ''],
  ]
  assert.deepEqual(plain(decodeAll(wire).frames), expected)
  assert.deepEqual(plain(decodeAll(wire, Array.from({ length: wire.length }, (_, i) => i)).frames), expected)
})

test('stops at the first malformed byte and says what and where', () => {
  const cases: Array<[string, RegExp]> = [
    ['x rsp 0\n', /at byte 0: expected a digit .* in TXNR, got 'x'/],
    ['1234567890 rsp 0\n', /at byte 9: expected a digit \(at most 9\)/],
    ['1 r5p 0\n', /at byte 3: expected a letter .* in COMMAND, got '5'/],
    ['1 rsp 3 abcX', /at byte 11: expected LF after the data in TRAILER, got 'X'/],
    ['1 rsp 3\n', /expected a digit or a space before the data in DATALEN, got 0x0a/],
    ['1 rsp 999999 ', /DATALEN 999999 is over the limit of 131072 bytes/],
    ['2 rsp 0\n1 rsp 0 x', /at byte 16: expected LF after the data in TRAILER, got 'x'/],
  ]
  for (const [wire, error] of cases) {
    const decoded = decodeAll(Buffer.from(wire))
    assert.match(decoded.error ?? '', error, wire)
  }
  const decoder = new RelpDecoder()
  assert.deepEqual(plain(decoder.push(Buffer.from('2 rsp 0\nbad'))), [[2, 'rsp', '']], 'frames before the error are kept')
  assert.deepEqual(decoder.push(Buffer.from('3 rsp 0\n')), [], 'nothing after it')
})

const frameArbitrary = fc.record({
  txnr: fc.integer({ min: 0, max: RELP_MAX_TXNR }),
  command: fc.stringMatching(/^[A-Za-z]{1,32}$/),
  data: fc.uint8Array({ maxLength: 300 }),
})

test('property: whatever the chunking, the decoder returns exactly the frames the encoder wrote', () => {
  fc.assert(
    fc.property(fc.array(frameArbitrary, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, rawCuts) => {
      const wire = Buffer.concat(frames.map((frame) => encodeRelpFrame(frame.txnr, frame.command, Buffer.from(frame.data))))
      const cuts = rawCuts.map((cut) => (wire.length === 0 ? 0 : cut % (wire.length + 1)))
      const decoded = decodeAll(wire, cuts)
      assert.equal(decoded.error, undefined)
      assert.deepEqual(
        decoded.frames.map((frame) => [frame.txnr, frame.command, Buffer.from(frame.data).toString('hex')]),
        frames.map((frame) => [frame.txnr, frame.command, Buffer.from(frame.data).toString('hex')]),
      )
    }),
    { numRuns: 300 },
  )
})

test('property: arbitrary bytes never make the decoder throw, and after an error it returns nothing more', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    // Mostly valid-looking input, so the later states are reached too.
    fc.array(fc.constantFrom(...'0123456789 abcrspsyslog\n\n\n'.split('')), { maxLength: 80 }).map((chars) => Buffer.from(chars.join(''))),
  )
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 6 }), (chunks) => {
      const decoder = new RelpDecoder(64)
      let failedAt: number | undefined
      for (const [index, chunk] of chunks.entries()) {
        const frames = decoder.push(chunk)
        if (failedAt !== undefined) assert.deepEqual(frames, [])
        if (decoder.error !== undefined) failedAt ??= index
        for (const frame of frames) {
          assert.ok(frame.txnr >= 0 && frame.txnr <= RELP_MAX_TXNR)
          assert.match(frame.command, /^[A-Za-z]{1,32}$/)
          assert.ok(frame.data.length <= 64)
        }
      }
    }),
    { numRuns: 500 },
  )
})
