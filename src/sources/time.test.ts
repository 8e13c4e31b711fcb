import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoOffsetMs, isoWithOffset, localToUtc, offsetMinutes, offsetMs } from './time.ts';

describe('zone time', () => {
  it('knows Madrid is +01:00 in winter and +02:00 in summer', () => {
    assert.equal(offsetMinutes('Europe/Madrid', Date.parse('2016-01-15T12:00:00Z')), 60);
    assert.equal(offsetMinutes('Europe/Madrid', Date.parse('2016-07-15T12:00:00Z')), 120);
  });

  it('reads a repeated wall time as the first or second occurrence', () => {
    const wall = Date.UTC(2016, 9, 30, 2, 30);
    const first = localToUtc('Europe/Madrid', wall, 'earlier');
    const second = localToUtc('Europe/Madrid', wall, 'later');
    assert.equal(first.ambiguous, true);
    assert.equal(isoWithOffset(first.utcMs, first.offset), '2016-10-30T02:30:00+02:00');
    assert.equal(isoWithOffset(second.utcMs, second.offset), '2016-10-30T02:30:00+01:00');
    assert.equal(localToUtc('Europe/Madrid', Date.UTC(2016, 9, 30, 4, 0)).ambiguous, false);
  });

  it('writes UTC as Z when asked and handles negative offsets', () => {
    assert.equal(isoWithOffset(Date.parse('2013-01-01T00:00:00Z'), 0, true), '2013-01-01T00:00:00Z');
    const ny = localToUtc('America/New_York', Date.UTC(2013, 0, 1, 19, 0));
    assert.equal(isoWithOffset(ny.utcMs, ny.offset), '2013-01-01T19:00:00-05:00');
    assert.equal(ny.utcMs, Date.parse('2013-01-02T00:00:00Z'));
  });

  it("changes the offset at the instant the zone does, also off the whole UTC hour (St John's at 05:30 UTC)", () => {
    const at = (iso: string) => offsetMinutes('America/St_Johns', Date.parse(iso));
    assert.deepEqual(
      [at('2016-03-13T05:29:59Z'), at('2016-03-13T05:30:00Z'), at('2016-03-13T05:45:00Z')],
      [-210, -150, -150],
    );
    // and back in November: 04:30 UTC is 01:00 local, the second time
    assert.deepEqual(
      [
        offsetMinutes('America/St_Johns', Date.parse('2016-11-06T04:29:59Z')),
        offsetMinutes('America/St_Johns', Date.parse('2016-11-06T04:30:00Z')),
      ],
      [-150, -210],
    );
  });

  it('moves a half-hour DST (Lord Howe) by half an hour, at 15:30 UTC', () => {
    assert.equal(offsetMinutes('Australia/Lord_Howe', Date.parse('2016-10-01T15:29:00Z')), 630);
    assert.equal(offsetMinutes('Australia/Lord_Howe', Date.parse('2016-10-01T15:30:00Z')), 660);
  });

  it('gives the same offsets in milliseconds, and reads them from ISO text', () => {
    const t = Date.parse('2016-07-15T12:00:00Z');
    assert.equal(offsetMs('Europe/London', t), 3_600_000);
    assert.equal(offsetMs('UTC', t), 0);
    assert.deepEqual(
      [
        '2016-07-15T12:00:00Z',
        '2016-07-15T12:00:00+01:00',
        '2016-07-15T12:00:00-0330',
        '2016-07-15T12:00:00',
      ].map(isoOffsetMs),
      [0, 3_600_000, -12_600_000, undefined],
    );
  });
});
