// Issue 3 acceptance: the 20 London households of 2013 through produce → stream → lake.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';
import { londonDailySums } from '../helpers/source-sums.ts';

describe('replaying the 20 London households of 2013', () => {
  const file = requireData('meters/london/halfhourly_2013_20_households.csv.gz');
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;

  before(async () => {
    engines = await freshEngines();
    await cli([
      'produce',
      '--source',
      'london-halfhourly',
      '--file',
      file,
      '--rate',
      'max',
      ...engines.produceFlags,
    ]);
    await cli(['stream', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('gold daily totals equal the per-day sums of the source file for every meter-day', async () => {
    const expected = await londonDailySums(file);
    const got = await lake.query(
      "SELECT meter_id, day, value FROM meters_gold_daily WHERE meter_id <> '__fleet__'",
      { maxRows: 1_000_000 },
    );
    assert.equal(got.rows.length, expected.size, 'one gold row per source meter-day');
    let worst = 0;
    for (const r of got.rows) {
      const e = expected.get(`${r.meter_id}|${r.day}`);
      assert.ok(e !== undefined, `unexpected meter-day ${r.meter_id} ${r.day}`);
      worst = Math.max(worst, Math.abs(Number(r.value) - e));
    }
    assert.ok(worst <= 1e-9, `largest difference ${worst} kWh`);
  });

  it('reconciles: read = accepted + quarantined + duplicates dropped, and bronze holds every accepted row', async () => {
    const dir = join(engines.dir, 'lake', '_status', 'workers');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1);
    const s = JSON.parse(await readFile(join(dir, files[0]), 'utf8'));
    assert.ok(s.read > 350_000);
    assert.equal(s.read, s.accepted + s.quarantined + s.duplicates);
    const bronze = await lake.query('SELECT count(*)::BIGINT AS n FROM meters_bronze_readings');
    assert.equal(Number(bronze.rows[0].n), s.accepted);
    const q = await lake.query('SELECT count(*)::BIGINT AS n FROM meters_quarantine_readings');
    assert.equal(Number(q.rows[0].n), s.quarantined);
  });

  it('silver holds hourly rows whose sums match gold daily', async () => {
    const r = await lake.query(`
      SELECT max(abs(s.total - g.value)) AS worst, count(*)::BIGINT AS days
      FROM (SELECT meter_id, day, sum(value) AS total FROM meters_silver_readings GROUP BY ALL) s
      JOIN meters_gold_daily g USING (meter_id, day)`);
    assert.ok(Number(r.rows[0].worst) <= 1e-9);
    assert.ok(Number(r.rows[0].days) > 7000);
  });

  it('enriches silver with the household tariff and ACORN group', async () => {
    const r = await lake.query(
      "SELECT DISTINCT tariff FROM meters_silver_readings WHERE meter_id = 'MAC000002'",
    );
    assert.deepEqual(
      r.rows.map((x) => x.tariff),
      ['Std'],
    );
  });
});
