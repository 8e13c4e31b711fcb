import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openLineFiles } from '../io/lines.ts';
import type { FileStats } from '../source.ts';
import { DATA, json, take } from '../testing.ts';
import { parseUci } from './uci.ts';

const FILE = `${DATA}meters/uci/household_power_hourly.csv.gz`;

describe('UCI hourly replay', () => {
  it('sends Global_active_power / 60 as the kWh of the hour starting at the row time, meter UCI-SCEAUX in UTC', async () => {
    const [file] = await openLineFiles(FILE);
    const ms = (await take(parseUci(file, { label: '', messages: 0, unparsed: 0, skipped: 0 }), 2)).map(json);
    // 2006-12-16 17:00:00,152.024,… and 18:00:00,217.932,…
    assert.deepEqual(ms[0], {
      v: 1,
      meter_id: 'UCI-SCEAUX',
      kind: 'electricity',
      ts: '2006-12-16T17:00:00Z',
      value: 152.024 / 60,
      unit: 'kWh',
      type: 'interval',
      seq: 0,
      tz: 'UTC',
      src: 'household_power_hourly.csv.gz:2',
    });
    assert.equal(ms[1].value, 217.932 / 60);
    assert.equal(ms[1].ts, '2006-12-16T18:00:00Z');
  });

  it('skips and counts the 421 hours with Voltage = 0 (gaps), sending every other row of the file', async () => {
    const [file] = await openLineFiles(FILE);
    const st: FileStats = { label: '', messages: 0, unparsed: 0, skipped: 0 };
    const ms = await take(parseUci(file, st));
    assert.equal(st.skipped, 421);
    assert.equal(ms.length, 34_589 - 421);
    assert.equal(st.unparsed, 0);
    // the first gap is 2007-04-28 01:00: that hour is not sent, its neighbours are
    const april28 = ms.map(json).filter((r) => r.ts.startsWith('2007-04-28T0'));
    assert.ok(!april28.some((r) => r.ts === '2007-04-28T01:00:00Z'));
    assert.ok(april28.some((r) => r.ts === '2007-04-28T00:00:00Z'));
  });
});
