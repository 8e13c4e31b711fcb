// The batch view on Spark: computed and written by Spark over Spark Connect, it holds the same rows as
// the one DuckDB computes on the same lake, and finds the same differences with the stream's tables.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { latestView, VIEW_DIR } from '../../src/batch/view.ts';
import { Lake } from '../../src/lake/index.ts';
import { type BatchLake, batchLake, LATE, streamWithBatchEvery } from '../helpers/batch-lake.ts';
import { cli } from '../helpers/cli.ts';
import { ensureCluster } from '../helpers/cluster.ts';

const TABLES = ['meters_batch_hourly', 'meters_batch_daily', 'meters_batch_monthly'];

async function contents(lake: string): Promise<Record<string, unknown[]>> {
  const l = await Lake.open(lake);
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES)
      out[t] = (await l.query(`SELECT * FROM ${t} ORDER BY ALL`, { maxRows: 10_000_000 })).rows;
    return out;
  } finally {
    await l.close();
  }
}

describe('lakestream batch on Spark', { timeout: 1_800_000 }, () => {
  let l: BatchLake;
  let spark: string;
  before(async () => {
    const c = await ensureCluster({ spark: true, hdfs: true });
    spark = c.sparkConnectUrl.replace(/^sc:/, 'spark:');
    l = await batchLake();
    await l.sendLate();
  });
  after(async () => {
    if (l) await rm(l.dir, { recursive: true, force: true });
  });

  it('writes the same batch tables as DuckDB on the same lake, and finds the same differences', async () => {
    const duck = JSON.parse((await cli(['batch', '--json', '--lake', l.lake])).stdout);
    const byDuck = await contents(l.lake);
    const onSpark = JSON.parse((await cli(['batch', '--json', '--engine', spark, '--lake', l.lake])).stdout);
    assert.equal(onSpark.view.engine, 'spark');
    assert.equal(onSpark.view.run, duck.view.run + 1);
    // Spark committed new versions of each table: its rows, not DuckDB's left in place
    for (const [path, version] of Object.entries(onSpark.view.tables))
      assert.ok((version as number) > duck.view.tables[path], path);
    assert.deepEqual(await contents(l.lake), byDuck);
    assert.deepEqual(onSpark.differences, duck.differences);
    assert.deepEqual(
      onSpark.differences.daily.map((d: { meter_id: string; key: string }) => [d.meter_id, d.key]),
      [[LATE.meter, LATE.day]],
    );
    assert.equal(onSpark.view.mark, duck.view.mark);
  });

  it('stream --batch-every with --engine spark runs the view on Spark beside the worker', async () => {
    const lake = await Lake.open(l.lake);
    try {
      const before = (await latestView(lake.store))!;
      const r = await streamWithBatchEvery(
        lake,
        VIEW_DIR,
        before.run + 1,
        ['--engine', spark, ...l.flags],
        900_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const view = (await latestView(lake.store))!;
      assert.ok(view.run > before.run, r.stderr);
      assert.equal(view.engine, 'spark');
      assert.equal(view.mark, before.mark);
      assert.match(
        r.stderr,
        new RegExp(
          `batch view run ${before.run + 1}: .*; keys differing from the stream: hourly 24, daily 1, monthly 1`,
        ),
      );
    } finally {
      await lake.close();
    }
  });
});
