// The batch view's SQL text, and DuckDB's parts of the meters (run.ts): a meter with nothing to join from `info` is not a literal row of it, so the
// text (and the plan Spark's driver holds) does not grow with a fleet that has no enrichment. That such a
// meter's rows are unchanged (null tariff and calendar, sample false) is batch.test.ts's: its three
// meters have no enrichment, and the view equals the stream's tables.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchDialect } from '../../src/batch/dialect.ts';
import { dailySql, hasInfo, hourlySql, type MeterInfo } from '../../src/batch/meters-sql.ts';
import { partsFor, READINGS_PER_GIB } from '../../src/batch/run.ts';
import { parseByteSize } from '../../src/lake/duck.ts';

const bare = (i: number): MeterInfo => ({
  meter_id: `GEN${String(i).padStart(6, '0')}`,
  tariff: null,
  acorn: null,
  acorn_group: null,
  sample: false,
  calendar: null,
});

describe("the batch view's meter info", () => {
  it('holds only meters with a tariff, ACORN, sample flag or calendar', () => {
    const meters = Array.from({ length: 100_000 }, (_, i) => bare(i));
    const enriched = [
      { ...bare(1), tariff: 'ToU' },
      { ...bare(2), acorn: 'ACORN-A' },
      { ...bare(3), acorn_group: 'Affluent' },
      { ...bare(4), sample: true },
      { ...bare(5), calendar: 'c1' },
    ];
    assert.deepEqual(enriched.map(hasInfo), [true, true, true, true, true]);
    assert.equal(hasInfo(bare(6)), false);
    const input = (ms: MeterInfo[]) => ({
      dialect: batchDialect('spark'),
      meters: ms,
      calendars: new Map([['c1', new Set(['2013-01-01'])]]),
      lateReadings: false,
    });
    for (const sql of [hourlySql, dailySql]) {
      assert.equal(sql(input(meters)).length, sql(input([])).length, 'bare meters add nothing to the text');
      const text = sql(input([...meters, ...enriched.map((m, i) => ({ ...m, meter_id: `RICH${i}` }))]));
      for (let i = 0; i < enriched.length; i++)
        assert.ok(text.includes(`'RICH${i}'`), `RICH${i} is a row of info`);
    }
  });
});

describe("DuckDB's parts of the meters", () => {
  it('are as many as it takes to keep each within READINGS_PER_GIB per GiB of its memory limit', () => {
    const gib = 2 ** 30;
    assert.equal(partsFor(0, gib), 1);
    assert.equal(partsFor(READINGS_PER_GIB, gib), 1);
    assert.equal(partsFor(READINGS_PER_GIB + 1, gib), 2);
    // 100,000 meters × 3 years of daily readings at a 4 GiB limit; 10,000 at the machine's default
    assert.equal(partsFor(109_600_000, 4 * gib), Math.ceil(109_600_000 / (4 * READINGS_PER_GIB)));
    assert.equal(partsFor(10_960_000, 19 * gib), 1);
  });

  it("read DuckDB's memory limit as it writes it", () => {
    assert.equal(parseByteSize('4.0 GiB'), 4 * 2 ** 30);
    assert.equal(parseByteSize('953.6 MiB'), 953.6 * 2 ** 20);
    assert.equal(parseByteSize('1.5 GB'), 1.5e9);
    assert.equal(parseByteSize('512 B'), 512);
    assert.throws(() => parseByteSize('lots'), /"lots" is not a size in bytes/);
  });
});
