// Issue 6 acceptance, on the real HDFS started by `lakestream cluster up`: the London replay into a
// lake on HDFS equals the one on local disk, with a DataNode SIGKILLed mid-run; Hadoop's own FsShell
// lists the Delta logs and Parquet files; delta-rs reads a copy of a table.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { killNode, startNode } from '../../src/cluster/cluster.ts';
import { fsShell } from '../../src/cluster/tools.ts';
import { Lake } from '../../src/lake/index.ts';
import { startServer } from '../../src/serve/server.ts';
import { openStore } from '../../src/storage/index.ts';
import { cli, freshEngines, ROOT, startCli } from '../helpers/cli.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';
import { meterTableContents, produceLondon, until } from '../helpers/pipeline.ts';

describe('the pipeline on real HDFS', { timeout: 1_800_000 }, () => {
  let cluster: TestCluster;
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let hdfsPath: string;
  let hdfsLake: string;
  let killedDataNode = false;

  before(async () => {
    cluster = await ensureCluster({ hdfs: true });
    engines = await freshEngines();
    hdfsPath = `/lakestream-test-${randomUUID().slice(0, 8)}`;
    hdfsLake = `${cluster.webhdfsUrl}${hdfsPath}?user=${cluster.hdfsUser}`;
    // One produced log, streamed twice by two groups: into HDFS and into a local lake.
    await produceLondon(engines.produceFlags);
    const toHdfs = startCli([
      'stream',
      '--drain',
      '--quiet',
      '--retrain',
      'off',
      '--max-batch',
      '20000',
      '--group',
      'hdfs',
      '--transport',
      engines.transport,
      '--lake',
      hdfsLake,
    ]);
    const exited = new Promise<number | null>((r) => toHdfs.once('close', (code) => r(code)));
    let stderr = '';
    toHdfs.stderr?.on('data', (d) => (stderr += d));
    try {
      // SIGKILL one DataNode once the worker has committed a few batches to HDFS.
      await until('the HDFS worker to commit a few batches', async () => {
        const store = await openStore(hdfsLake);
        const files = (await store.list('_status/workers/')).filter((f) => f.path.endsWith('.json'));
        for (const f of files) {
          const s = JSON.parse(new TextDecoder().decode(await store.get(f.path)));
          if (s.batches >= 3) return true;
        }
        return toHdfs.exitCode !== null;
      });
      killedDataNode = await killNode(cluster.dir, 'datanode-1');
      assert.equal(
        await exited,
        0,
        `the worker on HDFS failed after the DataNode was killed:\n${stderr.slice(-3000)}`,
      );
    } finally {
      await startNode(cluster.dir, 'datanode-1');
    }
    await cli([
      'stream',
      '--drain',
      '--quiet',
      '--retrain',
      'off',
      '--group',
      'local',
      '--transport',
      engines.transport,
      '--lake',
      engines.lake,
    ]);
  });

  it('gives the same table contents on HDFS as on local disk, though a DataNode was killed mid-run', async () => {
    assert.ok(killedDataNode, 'datanode-1 was running and was killed');
    const [onHdfs, local] = await Promise.all([
      meterTableContents(hdfsLake),
      meterTableContents(engines.lake),
    ]);
    assert.deepEqual([...onHdfs.keys()].sort(), [...local.keys()].sort());
    for (const [table, rows] of local) assert.deepEqual(onHdfs.get(table), rows, `${table} differs`);
    assert.ok((local.get('meters/bronze/readings') ?? []).length === 350_365);
  });

  it("is listed by Hadoop's own FsShell: Delta logs and Parquet files", async () => {
    const out = await fsShell(['-ls', '-R', hdfsPath], { dir: cluster.dir });
    assert.match(out, new RegExp(`${hdfsPath}/meters/gold/daily/_delta_log/00000000000000000000\\.json`));
    assert.match(out, /meters\/bronze\/readings\/day=2013-01-01\/[^\s]+\.parquet/);
    assert.match(out, /_delta_log\/00000000000000000010\.checkpoint\.parquet/);
  });

  it('trains and registers a model on HDFS, and serves the dashboard API from it', async () => {
    await cli(['train', '--lake', hdfsLake]);
    const store = await openStore(hdfsLake);
    assert.equal(new TextDecoder().decode(await store.get('models/consumption/LATEST')).trim(), '1');
    assert.ok(await store.stat('models/consumption/v1/model.json'));
    const server = await startServer({ lake: hdfsLake, port: 0, log: () => {} });
    try {
      const r = await fetch(
        `${server.url}/api/consumption?fleet&kind=electricity&from=2013-01-01&to=2013-12-31&granularity=month`,
      );
      assert.equal(r.status, 200, await r.clone().text());
      const body = (await r.json()) as { x: number[]; y: number[] };
      assert.equal(body.x.length, 12, 'one point per month of 2013');
      const lake = await Lake.open(hdfsLake);
      try {
        const total = await lake.query(
          "SELECT sum(value) AS v FROM meters_gold_daily WHERE kind = 'electricity'",
        );
        const served = body.y.reduce((a, b) => a + b, 0);
        assert.ok(
          Math.abs(served - Number(total.rows[0].v)) < 1e-6,
          `served ${served}, lake ${total.rows[0].v}`,
        );
      } finally {
        await lake.close();
      }
    } finally {
      await server.close();
    }
  });

  it('can be read by delta-rs from a copy of the table', async () => {
    const store = await openStore(hdfsLake);
    const copy = join(engines.dir, 'copy', 'daily');
    for (const f of await store.list('meters/gold/daily/')) {
      const target = join(copy, f.path.slice('meters/gold/daily/'.length));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, await store.get(f.path));
    }
    const r = spawnSync('python3', [join(ROOT, 'test/interop/delta_rs.py'), 'read', copy], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    const lake = await Lake.open(hdfsLake);
    try {
      const n = await lake.query('SELECT count(*)::BIGINT AS n FROM meters_gold_daily');
      assert.equal(info.num_rows, Number(n.rows[0].n));
      assert.deepEqual(info.partition_columns, ['month']);
    } finally {
      await lake.close();
    }
  });
});
