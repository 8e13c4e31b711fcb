// `lakestream train --engine spark` (consumption model) on the cluster's Spark over a lake in HDFS: the
// registered version equals the embedded trainer's on the same lake; an unreachable Spark changes nothing.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { generateTrainLake } from '../../src/bench/train-lake.ts';
import { retrainOnLake } from '../../src/cli/stream.ts';
import { openEngine } from '../../src/engine/index.ts';
import { Lake } from '../../src/lake/index.ts';
import { trainOnEngine } from '../../src/models/consumption/engine-train.ts';
import type { ConsumptionModelJson } from '../../src/models/consumption/model.ts';
import { trainFromLake } from '../../src/models/consumption/train.ts';
import { latestModelVersion, loadModelJson } from '../../src/models/registry.ts';
import { cli, runCli } from '../helpers/cli.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';
import { assertCumFrames } from '../helpers/cum-frames.ts';
import { assertCumEqualsSelfJoin } from '../helpers/cum-reference.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Every file under a directory with its size: what "nothing in the lake changed" compares. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (f.isFile()) {
      const p = join(f.parentPath, f.name);
      out.push(`${p} ${(await stat(p)).size}`);
    }
  return out.sort();
}

describe('train --engine spark (consumption)', { timeout: 1_800_000 }, () => {
  let cluster: TestCluster;
  let hdfsLake: string;

  before(async () => {
    cluster = await ensureCluster({ spark: true, hdfs: true });
    const rpc = new URL(cluster.hdfsUrl).port;
    hdfsLake = `${cluster.webhdfsUrl}/train-spark-${randomUUID().slice(0, 8)}?user=${cluster.hdfsUser}&rpc=${rpc}`;
    // 6 meters over 15 months: previous months, one last-year month, holidays, ToU, a meter at zero
    await generateTrainLake(hdfsLake, { meters: 6, months: 15, firstMonth: '2012-12' });
  });

  it("registers a version in HDFS equal to the embedded trainer's on the same lake, with the same in-sample errors", async () => {
    const r = await cli(['train', '--engine', cluster.sparkConnectUrl, '--lake', hdfsLake, '--json'], {
      timeoutMs: 1_500_000,
    });
    const out = JSON.parse(r.stdout);
    assert.equal(out.model, 'consumption');
    const lake = await Lake.open(hdfsLake);
    try {
      assert.equal(await latestModelVersion(lake.store, 'consumption'), out.version);
      const spark = (await loadModelJson(lake.store, 'consumption', out.version)) as {
        model: ConsumptionModelJson;
        metrics: { engine: string; inSample: { k: unknown; model: Record<string, number> }[] };
      };
      assert.match(spark.metrics.engine, /^spark /);
      const own = await trainFromLake(lake);
      assert.deepEqual(spark.model.trainedOn, own.model.trainedOn);
      spark.model.fits.forEach((f, k) => {
        assert.equal(f.n, own.model.fits[k].n, `examples at k=${k + 1}`);
        f.coef.forEach((c, j) => {
          assert.ok(rel(c, own.model.fits[k].coef[j]) < 1e-6, `k=${k + 1} coefficient ${j}: ${c}`);
        });
      });
      const ownRows = (own.metrics as typeof spark.metrics).inSample;
      spark.metrics.inSample.forEach((row, i) => {
        assert.equal(row.k, ownRows[i].k);
        assert.equal(row.model.n, ownRows[i].model.n);
        for (const m of ['mape', 'mdape', 'wape'])
          assert.ok(rel(row.model[m], ownRows[i].model[m]) < 1e-9, `k=${row.k} ${m}`);
      });
    } finally {
      await lake.close();
    }
  });

  it("the training set's cum frames give DuckDB's values on Spark (median of an even count, a missing day)", async () => {
    const engine = await openEngine(cluster.sparkConnectUrl, hdfsLake, { connectTimeoutMs: 60_000 });
    try {
      await assertCumFrames(engine);
    } finally {
      await engine.close();
    }
  });

  it('the training set with cum as windows equals the self-join it replaced, row for row, on Spark', async () => {
    const engine = await openEngine(cluster.sparkConnectUrl, hdfsLake, { connectTimeoutMs: 60_000 });
    try {
      const { cumRows } = await assertCumEqualsSelfJoin(engine, {
        firstMonth: '2012-12',
        lastMonth: '2014-02',
        silver: true,
      });
      assert.ok(
        cumRows.some((r) => Number(r.hol_n) > 0),
        'some examples have holidays',
      );
    } finally {
      await engine.close();
    }
  });

  it('every IRLS step reads the training set Spark cached, not a recomputation of it', async () => {
    // A view Spark analyzes again at each use never matched its own cache (the training set's CTEs get
    // new ids each time): each step rebuilt the whole set. The step's plan must scan the cached rows.
    const engine = await openEngine(cluster.sparkConnectUrl, hdfsLake, { connectTimeoutMs: 60_000 });
    try {
      const steps: string[] = [];
      const query = engine.query.bind(engine);
      engine.query = (sql, o) => {
        if (/FROM weighted GROUP BY k/.test(sql)) steps.push(sql);
        return query(sql, o);
      };
      await trainOnEngine(engine);
      assert.ok(steps.length > 1, `${steps.length} IRLS steps`);
      for (const sql of [steps[0], steps.at(-1)!]) {
        const plan = String(Object.values((await query(`EXPLAIN ${sql}`)).rows[0])[0]);
        assert.match(plan, /InMemoryTableScan|Scan In-memory table|InMemoryRelation/, plan.slice(0, 2000));
      }
    } finally {
      await engine.close();
    }
  });

  it("stream --engine spark's monthly retraining registers the next version, trained on Spark", async () => {
    const lake = await Lake.open(hdfsLake);
    try {
      const before = (await latestModelVersion(lake.store, 'consumption')) ?? 0;
      const version = await retrainOnLake(lake, cluster.sparkConnectUrl, hdfsLake);
      assert.equal(version, before + 1);
      const saved = (await loadModelJson(lake.store, 'consumption', version)) as {
        model: ConsumptionModelJson;
        metrics: { engine: string };
      };
      assert.match(saved.metrics.engine, /^spark /);
      const own = await trainFromLake(lake);
      saved.model.fits.forEach((f, k) => {
        f.coef.forEach((c, j) => {
          assert.ok(rel(c, own.model.fits[k].coef[j]) < 1e-6, `k=${k + 1} coefficient ${j}: ${c}`);
        });
      });
    } finally {
      await lake.close();
    }
  });

  it('with Spark unreachable: one clear line, no model registered, nothing in the lake changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-train-spark-'));
    const silent = createServer(() => {});
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    try {
      await generateTrainLake(`file:${dir}`, { meters: 2, months: 2 });
      const before = await listing(dir);
      const r = await runCli(['train', '--engine', `spark://127.0.0.1:${port}`, '--lake', `file:${dir}`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /Spark Connect at spark:\/\/127\.0\.0\.1:\d+ does not answer/);
      assert.equal(r.stdout, '');
      assert.deepEqual(await listing(dir), before);
    } finally {
      silent.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
