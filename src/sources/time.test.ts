import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoWithOffset, localToUtc, offsetMinutes } from './time.ts';

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
});
