import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateReading } from '../../domain/meters/reading.ts';
import { openLineFiles } from '../io/lines.ts';
import { openSource } from '../open-source.ts';
import type { FileStats } from '../source.ts';
import { DATA, fixture, json, take } from '../testing.ts';
import { parseLondon } from './london.ts';

const FILE = `${DATA}meters/london/halfhourly_2013_20_households.csv.gz`;
const stats = (): FileStats => ({ label: 'x', messages: 0, unparsed: 0, skipped: 0 });

describe('London half-hourly replay', () => {
  it('turns the first rows of the gzipped file into interval readings in kWh at GMT half hours', async () => {
    const [file] = await openLineFiles(FILE);
    const ms = await take(parseLondon(file, stats()), 3);
    // MAC000002,2013-01-01 00:00:00,0.219 / 00:30:00,0.241 / 01:00:00,0.191
    assert.deepEqual(ms.map(json), [
      {
        v: 1,
        meter_id: 'MAC000002',
        kind: 'electricity',
        ts: '2013-01-01T00:00:00Z',
        value: 0.219,
        unit: 'kWh',
        type: 'interval',
        seq: 0,
        src: 'halfhourly_2013_20_households.csv.gz:2',
      },
      {
        v: 1,
        meter_id: 'MAC000002',
        kind: 'electricity',
        ts: '2013-01-01T00:30:00Z',
        value: 0.241,
        unit: 'kWh',
        type: 'interval',
        seq: 1,
        src: 'halfhourly_2013_20_households.csv.gz:3',
      },
      {
        v: 1,
        meter_id: 'MAC000002',
        kind: 'electricity',
        ts: '2013-01-01T01:00:00Z',
        value: 0.191,
        unit: 'kWh',
        type: 'interval',
        seq: 2,
        src: 'halfhourly_2013_20_households.csv.gz:4',
      },
    ]);
    assert.deepEqual(
      ms.map((m) => m.key),
      ['MAC000002', 'MAC000002', 'MAC000002'],
    );
    for (const m of ms) assert.equal(validateReading(json(m), { now: Date.parse('2020-01-01') }).ok, true);
  });

  it('reads the fractional tstp of the original data set and sends Null rows as unparsed, counted', async () => {
    const path = await fixture(
      'london.csv',
      'LCLid,tstp,energy_kwh_hh\nMAC000145,2012-06-01 00:30:00.0000000,0.07\nMAC000145,2012-06-01 01:00:00.0000000,Null\nMAC000145,2012-06-01 01:30:00.0000000,0.05\n',
    );
    const [file] = await openLineFiles(path);
    const st = stats();
    const ms = (await take(parseLondon(file, st))).map(json);
    assert.equal(ms[0].ts, '2012-06-01T00:30:00Z');
    assert.deepEqual(ms[1], {
      v: 1,
      src: 'london.csv:3',
      unparsed: 'MAC000145,2012-06-01 01:00:00.0000000,Null',
      error: 'energy_kwh_hh "Null" is not a number',
    });
    assert.equal(ms[2].seq, 1);
    assert.equal(st.unparsed, 1);
    assert.equal(st.messages, 3);
  });

  it('replays the whole file in event-time order: every meter reports a half hour before any reports the next', async () => {
    const source = await openSource({ source: 'london-halfhourly', files: [FILE] });
    const ms = await take(source.batches());
    assert.equal(ms.length, 350_365);
    const first = ms.slice(0, 20).map(json);
    assert.equal(new Set(first.map((r) => r.meter_id)).size, 20);
    assert.ok(first.every((r) => r.ts === '2013-01-01T00:00:00Z'));
    for (let i = 1; i < ms.length; i++)
      assert.ok(ms[i].time! >= ms[i - 1].time!, `message ${i} goes back in time`);
    assert.equal(source.total, 350_365);
    assert.equal(source.stats()[0].messages, 350_365);
  });
});
