// The DataFrame builder against the local cluster's Spark: a Delta table written by Spark in a temporary
// directory, read back, filtered, projected, aggregated, joined, sorted, limited, appended to.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Table } from 'apache-arrow';
import { ensureCluster } from '../../../test/helpers/cluster.ts';
import { col, type DataFrame, fn, isSparkError, lit, SparkConnectClient } from './index.ts';

function rows(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r) => r.toJSON());
}

// 12 readings of 4 meters over 3 days; meter m's reading on day d is m * 10 + d
const READINGS = `SELECT CAST(id % 4 AS INT) AS meter, DATE'2013-01-01' + CAST(id DIV 4 AS INT) AS day,
  CAST((id % 4) * 10 + id DIV 4 AS DOUBLE) AS kwh FROM range(12)`;

describe('Spark Connect DataFrames over Delta', { timeout: 300_000 }, () => {
  let spark: SparkConnectClient;
  let dir: string;
  let path: string;
  let readings: DataFrame;

  before(async () => {
    const { sparkConnectUrl } = await ensureCluster({ spark: true });
    spark = await SparkConnectClient.connect(sparkConnectUrl);
    dir = await mkdtemp(join(tmpdir(), 'lakestream-spark-df-'));
    path = `${pathToFileURL(dir).href}/readings`;
    await spark.sqlFrame(READINGS).write.format('delta').mode('error').save(path);
    readings = spark.read.format('delta').load(path);
  });
  after(async () => {
    await spark?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a Delta table with save(): a commit in its log, every row readable', async () => {
    assert.ok(existsSync(join(dir, 'readings', '_delta_log', '00000000000000000000.json')));
    assert.equal(await readings.count(), 12);
    assert.deepEqual(await readings.schema(), [
      { name: 'meter', type: 'integer', nullable: true },
      { name: 'day', type: 'date', nullable: true },
      { name: 'kwh', type: 'double', nullable: true },
    ]);
  });

  it('filters by SQL text or by Column, and projects names, expressions and aliases', async () => {
    const t = await readings
      .filter('kwh > 25')
      .where(col('day').eq(lit('2013-01-02')))
      .select('meter', col('kwh').times(1000).as('wh'))
      .orderBy('meter')
      .collect();
    assert.deepEqual(rows(t), [{ meter: 3, wh: 31000 }]);
    const e = await readings
      .orderBy('day', 'meter')
      .selectExpr('meter * 2 AS twice', "date_format(day, 'dd') AS dd")
      .limit(1)
      .collect();
    assert.deepEqual(rows(e), [{ twice: 0, dd: '01' }]);
  });

  it('aggregates per group and overall, with functions or SQL text', async () => {
    const t = await readings
      .groupBy('meter')
      .agg(fn.sum('kwh').as('total'), fn.max('day').as('last'), 'count(*) AS n')
      .orderBy(col('total').desc())
      .collect();
    assert.deepEqual(
      rows(t).map((r) => [r.meter, r.total, new Date(r.last as number).toISOString().slice(0, 10), r.n]),
      [
        [3, 93, '2013-01-03', 3n],
        [2, 63, '2013-01-03', 3n],
        [1, 33, '2013-01-03', 3n],
        [0, 3, '2013-01-03', 3n],
      ],
    );
    assert.deepEqual(
      rows(await readings.agg(fn.countDistinct('meter').as('meters'), fn.avg('kwh').as('avg')).collect()),
      [{ meters: 4n, avg: 16 }],
    );
  });

  it('joins on shared column names and on a condition, inner and left', async () => {
    const names = spark.sqlFrame(
      "SELECT * FROM VALUES (1, 'one'), (2, 'two'), (9, 'nine') AS t(meter, name)",
    );
    const inner = await readings
      .filter('day = DATE"2013-01-01"')
      .join(names, 'meter')
      .select('meter', 'name')
      .orderBy('meter')
      .collect();
    assert.deepEqual(rows(inner), [
      { meter: 1, name: 'one' },
      { meter: 2, name: 'two' },
    ]);
    const day1 = readings.filter('day = DATE"2013-01-01"');
    const left = await day1
      .join(names, day1.col('meter').eq(names.col('meter')), 'left')
      .select(day1.col('meter'), names.col('name'))
      .orderBy('meter')
      .collect();
    assert.deepEqual(
      rows(left).map((r) => r.name),
      [null, 'one', 'two', null],
    );
  });

  it('sorts descending, then ascending, and limits', async () => {
    const t = await readings.orderBy(col('kwh').desc(), 'meter').limit(2).select('kwh').collect();
    assert.deepEqual(rows(t), [{ kwh: 32 }, { kwh: 31 }]);
  });

  it('appends with mode("append") as a new Delta version, and refuses to overwrite silently', async () => {
    await spark
      .sqlFrame("SELECT 7 AS meter, DATE'2013-01-04' AS day, 1.5D AS kwh")
      .write.format('delta')
      .mode('append')
      .save(path);
    assert.ok(readdirSync(join(dir, 'readings', '_delta_log')).includes('00000000000000000001.json'));
    assert.equal(await readings.count(), 13);
    assert.deepEqual(rows(await readings.filter('meter = 7').collect()).length, 1);
    await assert.rejects(
      readings.limit(1).write.format('delta').save(path),
      (e) => isSparkError(e) && e.errorClass === 'DELTA_PATH_EXISTS' && e.code === 'BAD_ARGUMENT',
    );
    assert.equal(await readings.count(), 13);
  });

  it('explains a DataFrame plan and makes it a temporary view SQL can read', async () => {
    assert.match(
      await readings.filter('kwh > 3').explain(),
      /PushedFilters: \[IsNotNull\(kwh\), GreaterThan\(kwh,3\.0\)\]/,
    );
    await readings.filter('meter = 2').createOrReplaceTempView('meter_two');
    assert.deepEqual(rows(await spark.sql('SELECT count(*) AS n FROM meter_two')), [{ n: 3n }]);
  });
});
