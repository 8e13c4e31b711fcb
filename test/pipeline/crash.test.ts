// Issue 3 acceptance: SIGKILL the stream worker mid-run, restart it: no row lost or duplicated.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines, requireData, startCli } from '../helpers/cli.ts';
import { londonDailySums } from '../helpers/source-sums.ts';

async function workerRead(dir: string): Promise<number> {
  try {
    const files = (await readdir(join(dir, 'lake', '_status', 'workers'))).filter((f) => f.endsWith('.json'));
    let read = 0;
    for (const f of files)
      read += JSON.parse(await readFile(join(dir, 'lake', '_status', 'workers', f), 'utf8')).batches ?? 0;
    return read;
  } catch {
    return 0;
  }
}

describe('a stream worker killed with SIGKILL mid-run', () => {
  const file = requireData('meters/london/halfhourly_2013_20_households.csv.gz');
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  const kills: number[] = [];

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
    // Kill twice at different points, each time once the worker has committed a few more batches.
    for (const minBatches of [3, 10]) {
      const child = startCli(['stream', '--quiet', '--max-batch', '4000', ...engines.flags]);
      const deadline = Date.now() + 120_000;
      while ((await workerRead(engines.dir)) < minBatches && Date.now() < deadline) await sleep(100);
      await sleep(Math.floor(Math.random() * 300));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      kills.push(await workerRead(engines.dir));
    }
    await cli(['stream', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('was really killed mid-run', () => {
    assert.equal(kills.length, 2);
    assert.ok(kills[0] >= 3, `first kill after ${kills[0]} batches`);
  });

  it('bronze holds every source reading exactly once', async () => {
    const r = await lake.query(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT (meter_id, ts))::BIGINT AS d FROM meters_bronze_readings',
    );
    assert.equal(Number(r.rows[0].n), Number(r.rows[0].d), 'no duplicated reading');
    assert.equal(Number(r.rows[0].n), 350_365, 'no lost reading');
  });

  it('silver and gold hold each key once, with the source totals', async () => {
    for (const [view, key] of [
      ['meters_silver_readings', 'meter_id, hour'],
      ['meters_gold_daily', 'meter_id, day'],
      ['meters_gold_monthly', 'meter_id, month'],
      ['meters_gold_predictions', 'meter_id, month, as_of_day'],
      ['meters_gold_prediction_outcomes', 'meter_id, month, as_of_day'],
    ]) {
      const r = await lake.query(
        `SELECT count(*)::BIGINT AS n, count(DISTINCT (${key}))::BIGINT AS d FROM ${view}`,
      );
      assert.equal(Number(r.rows[0].n), Number(r.rows[0].d), `${view} has duplicated keys`);
    }
    const expected = await londonDailySums(file);
    const got = await lake.query('SELECT meter_id, day, value FROM meters_gold_daily', {
      maxRows: 1_000_000,
    });
    assert.equal(got.rows.length, expected.size);
    for (const row of got.rows) {
      const e = expected.get(`${row.meter_id}|${row.day}`)!;
      assert.ok(Math.abs(Number(row.value) - e) <= 1e-9, `${row.meter_id} ${row.day}: ${row.value} vs ${e}`);
    }
  });
});
