// bench train and bench batch with both engines on the cluster's Spark: the report holds both runs,
// their ratio and where the time went, and the equality checks pass (models equal as the trainer tests
// hold them; the batch tables' rows and row hashes equal). Timings are not asserted.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { ensureCluster } from '../helpers/cluster.ts';

describe('bench train and bench batch on DuckDB and Spark', { timeout: 1_800_000 }, () => {
  let spark: string;
  let lakes: string;
  let env: Record<string, string>;
  before(async () => {
    const c = await ensureCluster({ spark: true });
    spark = c.sparkConnectUrl.replace(/^sc:/, 'spark:');
    lakes = await mkdtemp(join(tmpdir(), 'lakestream-bench-lakes-'));
    env = { LAKESTREAM_BENCH_LAKES: lakes };
  });
  after(() => rm(lakes, { recursive: true, force: true }));

  it('bench train: both engines side by side, equal models', async () => {
    const r = await cli(
      ['bench', 'train', '--engine', `duckdb,${spark}`, '--meters', '20', '--generated-only', '--json'],
      { env, timeoutMs: 1_500_000 },
    );
    const [l] = JSON.parse(r.stdout).lakes;
    assert.deepEqual(
      l.runs.map((x: { engine: string }) => x.engine),
      ['duckdb', spark],
    );
    const [duck, sp] = l.runs;
    assert.equal(duck.examples, sp.examples);
    assert.ok(sp.buildSeconds > 0, 'Spark builds and caches the training set once');
    assert.equal(typeof l.sparkOverDuckdb, 'number');
    assert.equal(l.models.equal, true, JSON.stringify(l.models));
    assert.equal(l.models.examplesEqual, true);
    assert.ok(l.models.maxCoefficientDifference < 1e-6);
  });

  it('bench batch: both engines side by side, equal batch tables', async () => {
    const r = await cli(
      ['bench', 'batch', '--engine', `duckdb,${spark}`, '--meters', '20', '--generated-only', '--json'],
      { env, timeoutMs: 1_500_000 },
    );
    const [l] = JSON.parse(r.stdout).results;
    assert.deepEqual(
      l.runs.map((x: { engine: string }) => x.engine),
      ['duckdb', spark],
    );
    for (const run of l.runs)
      assert.deepEqual(run.rows, { hourly: 20 * 1096, daily: 20 * 1096, monthly: 720 });
    assert.equal(typeof l.ratio_spark_over_duckdb, 'number');
    assert.equal(l.tables_equal, true, JSON.stringify(l.tables));
  });
});
