// Silver's is_holiday on replayed days: the true UK bank holidays for a London household, unknown
// (null) for a meter whose zone has no calendar.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReading } from '../../domain/meters/reading.ts';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import { openLineFiles } from '../../sources/io/lines.ts';
import { parseLondon } from '../../sources/replay/london.ts';
import { DATA } from '../../sources/testing.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import { loadEnrichment } from './enrich.ts';
import { DEFAULT_METERS_CONFIG, MetersProcessor } from './processor.ts';

const LONDON = `${DATA}meters/london/`;

function processor() {
  return new MetersProcessor({
    config: DEFAULT_METERS_CONFIG,
    enrichment: loadEnrichment({
      householdsFile: `${LONDON}households.csv`,
      holidaysFile: `${LONDON}uk_bank_holidays.csv`,
    }),
    forecaster: { version: 0, predict: () => 0 },
    decode: (b) => decodeReading(b),
    now: () => 0,
  });
}

/** day → the set of is_holiday values of its silver rows */
function holidayByDay(out: BatchOutputs): Map<string, Set<unknown>> {
  const by = new Map<string, Set<unknown>>();
  for (const r of out.rowsFor(METER_TABLES.silver.path)) {
    const s = by.get(String(r.day)) ?? new Set();
    s.add(r.is_holiday);
    by.set(String(r.day), s);
  }
  return by;
}

describe('silver is_holiday', () => {
  it('flags the true bank holidays of a replayed London household (Easter Monday on 1 April, not 4 January)', async () => {
    const p = processor();
    const out = new BatchOutputs();
    const [file] = await openLineFiles(`${LONDON}halfhourly_2013_20_households.csv.gz`);
    let offset = 0;
    outer: for await (const batch of parseLondon(file, { label: 'x', messages: 0, unparsed: 0, skipped: 0 }))
      for (const m of batch) {
        const r = JSON.parse(Buffer.from(m.value).toString('utf8'));
        if (r.meter_id !== 'MAC000002') continue;
        if (r.ts >= '2013-04-04') break outer;
        p.process(
          { topic: 't', partition: 0, offset: offset++, key: null, value: m.value, timestamp: 0 },
          out,
        );
      }
    const by = holidayByDay(out);
    assert.ok(by.size >= 90, `${by.size} days replayed`);
    const holidays = [...by].filter(([, v]) => v.has(true)).map(([d]) => d);
    assert.deepEqual(holidays.sort(), ['2013-01-01', '2013-03-29', '2013-04-01']);
    for (const [day, v] of by) assert.equal(v.size, 1, `${day}: one value for every hour`);
    assert.deepEqual([...by.get('2013-01-04')!], [false]);
  });

  it('leaves is_holiday unknown (null) for a meter in a zone without a calendar', () => {
    const p = processor();
    const out = new BatchOutputs();
    const start = Date.parse('2016-05-01T00:00:00Z');
    for (let i = 0; i < 60; i++) {
      const reading = {
        v: 1,
        meter_id: 'W1',
        kind: 'water',
        ts: new Date(start + i * 3_600_000).toISOString(),
        value: 1000 + i * 5,
        unit: 'L',
        type: 'cumulative',
        seq: i,
        tz: 'Europe/Madrid',
      };
      const value = new TextEncoder().encode(JSON.stringify(reading));
      p.process({ topic: 't', partition: 0, offset: i, key: null, value, timestamp: 0 }, out);
    }
    const by = holidayByDay(out);
    assert.ok(by.size >= 1);
    for (const v of by.values()) assert.deepEqual([...v], [null]);
  });
});
