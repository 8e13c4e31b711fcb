// A meter's local calendar around DST changes: which hour and day an instant falls on, and when a
// local day starts, with the zone offsets of sources/time.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { offsetMs } from '../../sources/time.ts';
import { localDayStartUtc, localFields } from './calendar.ts';

/** The local hour and day of a UTC instant in a zone. */
function local(zone: string, iso: string): { day: string; hour: number } {
  const t = Date.parse(iso);
  const { day, hour } = localFields(t + offsetMs(zone, t));
  return { day, hour };
}

describe('a meter calendar', () => {
  it('reads London hours on both sides of the spring change (01:00 UTC becomes 02:00 BST)', () => {
    assert.deepEqual(local('Europe/London', '2016-03-27T00:59:00Z'), { day: '2016-03-27', hour: 0 });
    assert.deepEqual(local('Europe/London', '2016-03-27T01:00:00Z'), { day: '2016-03-27', hour: 2 });
  });

  it("reads the hour right where the change is off the whole UTC hour (St John's, 05:30 UTC)", () => {
    assert.deepEqual(local('America/St_Johns', '2016-03-13T05:15:00Z'), { day: '2016-03-13', hour: 1 });
    assert.deepEqual(local('America/St_Johns', '2016-03-13T05:45:00Z'), { day: '2016-03-13', hour: 3 });
  });

  it('starts each local day at local midnight, before and after a DST change', () => {
    const start = (day: string) => new Date(localDayStartUtc(day, 'Europe/London', 0)).toISOString();
    assert.equal(start('2016-03-27'), '2016-03-27T00:00:00.000Z');
    assert.equal(start('2016-03-28'), '2016-03-27T23:00:00.000Z');
    assert.equal(start('2016-10-30'), '2016-10-29T23:00:00.000Z');
    assert.equal(start('2016-10-31'), '2016-10-31T00:00:00.000Z');
  });

  it('starts a day of a meter without a zone at its fixed offset', () => {
    assert.equal(localDayStartUtc('2016-03-27', undefined, 3_600_000), Date.parse('2016-03-26T23:00:00Z'));
  });
});
