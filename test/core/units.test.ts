// parseSize and parseDuration: loguru's spellings (its docs and tests/test_filesink_rotation.py,
// test_filesink_retention.py), blackbox's own, and round trips drawn by fast-check.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseDuration, parseSize } from '../../src/core/units.ts'
import { formatBytes, formatDuration } from '../../src/layout/human.ts'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const WEEK = 7 * DAY
/** loguru's month and year: fixed lengths (2,628,000 s and 365 days), not calendar ones. */
const MONTH = 2_628_000 * SECOND
const YEAR = 365 * DAY

for (const [text, bytes] of [
  // loguru's docs and its size rotation test
  ['100 MB', 100e6],
  ['0.5 GB', 0.5e9],
  ['8 B', 8],
  ['8e-6MB', 8],
  ['0.008 kiB', 8],
  // the issue's
  ['500 MB', 500e6],
  ['0.5 GiB', 0.5 * 1024 ** 3],
  ['1e3 KB', 1e6],
  // case, spaces, every prefix loguru knows (k m g t p e z y, decimal or binary)
  [' 10 mb ', 10e6],
  ['10MB', 10e6],
  ['2 KiB', 2048],
  ['1 tb', 1e12],
  ['1 PB', 1e15],
  ['1 pib', 1024 ** 5],
  ['1 EB', 1e18],
  ['1 ZB', 1e21],
  ['1 YiB', 1024 ** 8],
  ['1.5E3 b', 1500],
  ['.5 kb', 500],
  // blackbox's own, kept for the callers that have them: b is bytes, bare k m g t are binary
  ['100 b', 100],
  ['100', 100],
  ['3 bytes', 3],
  ['512 k', 512 * 1024],
  ['2 M', 2 * 1024 ** 2],
] as const) {
  test(`parseSize(${JSON.stringify(text)}) is ${bytes} bytes`, () => {
    assert.equal(parseSize(text), Math.floor(bytes))
  })
}

for (const [text, ms] of [
  // loguru's docs
  ['1 month 2 weeks', MONTH + 2 * WEEK],
  ['4 days', 4 * DAY],
  ['10h', 10 * HOUR],
  ['1 week, 3 days', WEEK + 3 * DAY],
  ['2 months', 2 * MONTH],
  // loguru's rotation and retention tests
  ['2 h', 2 * HOUR],
  ['1 hour', HOUR],
  ['7 days', 7 * DAY],
  ['1h 30 minutes', HOUR + 30 * MINUTE],
  ['1 w, 2D', WEEK + 2 * DAY],
  ['1.5d', 1.5 * DAY],
  ['1.222 hours, 3.44s', 1.222 * HOUR + 3.44 * SECOND],
  ['1H', HOUR],
  [' 1 h ', HOUR],
  ['1 min', MINUTE],
  // the issue's
  ['2 h 30 min', 2 * HOUR + 30 * MINUTE],
  ['1.5 days', 1.5 * DAY],
  // the rest of loguru's units, glued or spaced, with exponents
  ['2h30min', 2 * HOUR + 30 * MINUTE],
  ['1 year', YEAR],
  ['2y', 2 * YEAR],
  ['500 ms', 500],
  ['250 milliseconds', 250],
  ['1500 us', 1.5],
  ['3 microseconds', 0.003],
  ['1e2 s', 100 * SECOND],
  ['2 secs', 2 * SECOND],
  ['1 second', SECOND],
  ['5 mins', 5 * MINUTE],
  ['1 minute', MINUTE],
  ['3 DAYS', 3 * DAY],
  ['1 weeks', WEEK],
  // blackbox's own
  ['12 h', 12 * HOUR],
  ['5 m', 5 * MINUTE],
  ['2 hrs', 2 * HOUR],
  ['.5 h', 0.5 * HOUR],
  ['1 day 12 hours', 1.5 * DAY],
  ['2 weeks 3 days', 17 * DAY],
] as const) {
  test(`parseDuration(${JSON.stringify(text)}) is ${ms} ms`, () => {
    assert.equal(parseDuration(text), ms)
  })
}

test('numbers are taken as they are: bytes (floored) and ms', () => {
  assert.equal(parseSize(8), 8)
  assert.equal(parseSize(7.99), 7)
  assert.equal(parseDuration(1500), 1500)
})

// The messages callers already show (clean, syslog, the resilient sink) stay word for word.
for (const text of ['ten MB', 'foobar MB', '111.111.111 kb', 'e KB', '3 Ki', '', '0 MB', '-1 MB', 'K', '1 week']) {
  test(`parseSize refuses ${JSON.stringify(text)}, quoting it`, () => {
    assert.throws(() => parseSize(text, 'maxSize'), {
      name: 'TypeError',
      message: `Expected \`maxSize\` to be a positive size like "10 MB", "0.5 GiB" or a number of bytes, got \`${text}\` (string)`,
    })
  })
}

for (const text of ['a while', 'fortnightly', '2 days 8 foobar', '1 foobar 3 days', 'e days', '1.2.3 days', '5 MB', '3 hours 2 dayz', 'd', 'H', 'nope', 'W5', 'monday at 14:00', 'sunday', '__dict__', '0 days', '1h30', '']) {
  test(`parseDuration refuses ${JSON.stringify(text)}, quoting it`, () => {
    assert.throws(() => parseDuration(text, 'olderThan'), {
      name: 'TypeError',
      message: `Expected \`olderThan\` to be a positive duration like "7 days", "12 h", "1 week" or a number of ms, got \`${text}\` (string)`,
    })
  })
}

for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`a number ${value} is neither a size nor a duration`, () => {
    assert.throws(() => parseSize(value), TypeError)
    assert.throws(() => parseDuration(value), TypeError)
  })
}

// ── fast-check round trips ───────────────────────────────────────────────────────────

const SIZE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['b', 1], ['bytes', 1], ['kb', 1e3], ['mb', 1e6], ['gb', 1e9], ['tb', 1e12],
  ['kib', 1024], ['mib', 1024 ** 2], ['gib', 1024 ** 3], ['k', 1024], ['m', 1024 ** 2],
]
const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['us', 0.001], ['ms', 1], ['s', SECOND], ['sec', SECOND], ['seconds', SECOND], ['min', MINUTE], ['minutes', MINUTE],
  ['m', MINUTE], ['h', HOUR], ['hours', HOUR], ['d', DAY], ['days', DAY], ['w', WEEK], ['weeks', WEEK],
  ['months', MONTH], ['y', YEAR], ['years', YEAR],
]

/** A unit as someone may type it: any mix of case. */
function anyCase(unit: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), { minLength: unit.length, maxLength: unit.length }).map((upper) => [...unit].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''))
}
const blanks = fc.constantFrom('', ' ', '  ', '\t')

/**
 * A positive number and the ways of writing it: plain, decimal, scientific. `digits` and
 * `exponent` are the number as written, so a decimal unit can be applied exactly
 * ("1.001 kB" is 1001 bytes, where 1.001 × 1000 in floating point is 1000.999…).
 */
const quantity = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => ({ text: String(n), digits: String(n), exponent: 0 })),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 999 })).map(([whole, fraction]) => {
    const text = `${whole}.${fraction}`
    return { text, digits: text, exponent: 0 }
  }),
  fc.tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: -3, max: 6 }), fc.constantFrom('e', 'E')).map(([mantissa, exponent, e]) => ({
    text: `${mantissa}${e}${exponent}`,
    digits: String(mantissa),
    exponent,
  })),
)

/** The exact quantity times the unit: a power of ten moves the exponent, a power of two multiplies exactly. */
function times(amount: { digits: string; exponent: number }, factor: number): number {
  const decimal = Math.log10(factor)
  return Number.isInteger(decimal) ? Number(`${amount.digits}e${amount.exponent + decimal}`) : Number(`${amount.digits}e${amount.exponent}`) * factor
}

test('property: a size written with any unit, case, spacing and number notation reads back', () => {
  const sized = fc.tuple(quantity, fc.constantFrom(...SIZE_UNITS), blanks, blanks, blanks).chain(([amount, [unit, factor], before, between, after]) =>
    anyCase(unit).map((cased) => ({ text: `${before}${amount.text}${between}${cased}${after}`, bytes: Math.floor(times(amount, factor)) })),
  )
  fc.assert(
    fc.property(sized.filter(({ bytes }) => bytes > 0), ({ text, bytes }) => {
      assert.equal(parseSize(text), bytes, text)
    }),
  )
})

test('property: a sum of durations, in any units, case and separators, reads back as the sum', () => {
  const part = fc.tuple(quantity, fc.constantFrom(...DURATION_UNITS), blanks).chain(([amount, [unit, factor], between]) =>
    anyCase(unit).map((cased) => ({ text: `${amount.text}${between}${cased}`, ms: times(amount, factor) })),
  )
  const separator = fc.constantFrom(' ', ', ', ',', '  ,  ')
  const durations = fc.tuple(fc.array(part, { minLength: 1, maxLength: 4 }), fc.array(separator, { minLength: 4, maxLength: 4 }))
  fc.assert(
    fc.property(durations, ([parts, separators]) => {
      const text = parts.map((p, i) => (i === 0 ? p.text : `${separators[i - 1]}${p.text}`)).join('')
      const ms = parts.reduce((sum, p) => sum + p.ms, 0)
      assert.ok(Math.abs(parseDuration(text) - ms) <= ms * 1e-12, `${text}: ${parseDuration(text)} vs ${ms}`)
    }),
  )
})

test('property: what formatBytes and formatDuration print, the parsers read back (to the printed precision)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 50 }), (bytes) => {
      const read = parseSize(formatBytes(bytes))
      assert.ok(Math.abs(read - bytes) <= bytes * 0.0501 + 1, `${bytes} → ${formatBytes(bytes)} → ${read}`)
    }),
  )
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 * YEAR }), (ms) => {
      const read = parseDuration(formatDuration(ms))
      assert.ok(Math.abs(read - ms) <= ms * 0.0501 + 1, `${ms} → ${formatDuration(ms)} → ${read}`)
    }),
  )
})

test('property: any other string is refused with a TypeError, never another error or a bad number', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 24 }), (text) => {
      for (const parse of [parseSize, parseDuration]) {
        let value: number
        try {
          value = parse(text)
        } catch (error) {
          assert.ok(error instanceof TypeError, String(error))
          continue
        }
        assert.ok(Number.isFinite(value) && value > 0, `${JSON.stringify(text)} → ${value}`)
      }
    }),
  )
})
