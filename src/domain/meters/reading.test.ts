import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReading, type RejectReason, validateReading } from './reading.ts';

const NOW = Date.parse('2020-06-01T00:00:00Z');
const good = {
  v: 1,
  meter_id: 'MAC000002',
  kind: 'electricity',
  ts: '2013-01-01T00:30:00+00:00',
  value: 0.219,
  unit: 'kWh',
  type: 'interval',
  seq: 1,
};
const bytes = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s);
const reasonOf = (s: string | Buffer) => {
  const r = decodeReading(bytes(s), { now: NOW });
  return r.ok ? 'accepted' : r.reason;
};
const withField = (o: Record<string, unknown>) => JSON.stringify({ ...good, ...o });

describe('reading validation (schema v1)', () => {
  it('accepts a good reading and returns only the known fields', () => {
    const r = decodeReading(bytes(withField({ tz: 'Europe/London', src: 'f.csv:2', extra: 'ignored' })), {
      now: NOW,
    });
    assert.ok(r.ok);
    assert.deepEqual(r.reading, { ...good, tz: 'Europe/London', src: 'f.csv:2' });
  });

  const cases: [string, string | Buffer, RejectReason | 'accepted'][] = [
    ['truncated JSON', '{"v":1,"meter_id":"M1",', 'malformed-json'],
    ['not JSON at all', 'hello', 'malformed-json'],
    ['the raw text NaN', withField({}).replace('0.219', 'NaN'), 'malformed-json'],
    ['the raw text Infinity', withField({}).replace('0.219', 'Infinity'), 'malformed-json'],
    ['a number too big for a double', withField({}).replace('0.219', '1e999'), 'not-finite'],
    ['the string "NaN"', withField({ value: 'NaN' }), 'not-finite'],
    ['the string "-Infinity"', withField({ value: '-Infinity' }), 'not-finite'],
    ['a value that is another string', withField({ value: '0.2' }), 'wrong-type'],
    ['a missing ts', JSON.stringify({ ...good, ts: undefined }), 'missing-field'],
    ['a null meter_id', withField({ meter_id: null }), 'missing-field'],
    ['a numeric meter_id', withField({ meter_id: 42 }), 'wrong-type'],
    ['a meter_id with spaces', withField({ meter_id: 'MAC 2' }), 'bad-meter-id'],
    ['a 65-char meter_id', withField({ meter_id: 'M'.repeat(65) }), 'bad-meter-id'],
    ['an array', '[1,2]', 'wrong-type'],
    ['a bare number', '42', 'wrong-type'],
    ['a negative interval', withField({ value: -0.5 }), 'negative-interval'],
    ['a negative register', withField({ type: 'cumulative', value: -1 }), 'out-of-bounds'],
    ['a 1,000 kWh half hour', withField({ value: 1000 }), 'out-of-bounds'],
    [
      'a register over 1e12',
      withField({ kind: 'water', unit: 'L', type: 'cumulative', value: 2e12 }),
      'out-of-bounds',
    ],
    [
      '200,000 L of water in one interval',
      withField({ kind: 'water', unit: 'L', value: 200_000 }),
      'out-of-bounds',
    ],
    ['a far-future ts', withField({ ts: '2999-01-01T00:00:00Z' }), 'future-timestamp'],
    ['a ts 2 days ahead', withField({ ts: '2020-06-03T00:00:00Z' }), 'future-timestamp'],
    ['a ts 12 hours ahead (clock skew)', withField({ ts: '2020-06-01T12:00:00Z' }), 'accepted'],
    ['a pre-1970 ts', withField({ ts: '1969-12-31T23:30:00Z' }), 'pre-1970'],
    ['year 0001', withField({ ts: '0001-01-01T00:00:00Z' }), 'pre-1970'],
    ['a ts without offset', withField({ ts: '2013-01-01T00:30:00' }), 'bad-timestamp'],
    ['a space instead of T', withField({ ts: '2013-03-01 08:30Z' }), 'bad-timestamp'],
    ['February 30th', withField({ ts: '2013-02-30T00:00:00Z' }), 'bad-timestamp'],
    ['a numeric ts', withField({ ts: 1357000200000 }), 'wrong-type'],
    ['a unit of MWh', withField({ unit: 'MWh' }), 'unknown-unit'],
    ['gas', withField({ kind: 'gas' }), 'unknown-kind'],
    ['water in kWh', withField({ kind: 'water' }), 'unit-kind-mismatch'],
    ['version 2', withField({ v: 2 }), 'unsupported-version'],
    ['an unknown reading type', withField({ type: 'delta' }), 'wrong-type'],
    ['a fractional seq', withField({ seq: 1.5 }), 'wrong-type'],
    ['an unknown zone', withField({ tz: 'Mars/Olympus' }), 'wrong-type'],
    ['a 1 MB message', withField({ pad: 'x'.repeat(1 << 20) }), 'too-large'],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"v":1,"meter_id":"M'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}'),
      ]),
      'invalid-utf8',
    ],
    [
      'a producer’s unparsed source row',
      '{"v":1,"src":"f.csv:9","unparsed":"M,x,Null","error":"bad"}',
      'unparsed-row',
    ],
    ['ts with a +05:30 offset', withField({ ts: '2013-01-01T06:00:00.500+05:30' }), 'accepted'],
  ];
  for (const [name, input, reason] of cases)
    it(`${reason === 'accepted' ? 'accepts' : `rejects as ${reason}`}: ${name}`, () =>
      assert.equal(reasonOf(input), reason));

  it('names the meter and source position of a rejected reading when it has them', () => {
    const r = validateReading({ ...good, value: -1, src: 'file.csv:12' }, { now: NOW });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.meter_id, 'MAC000002');
      assert.equal(r.src, 'file.csv:12');
      assert.match(r.detail, /-1 kWh is negative/);
    }
  });
});
