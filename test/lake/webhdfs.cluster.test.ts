// The same Delta code on HDFS through WebHDFS (a real NameNode + DataNodes from `lakestream cluster up --hdfs`):
// writes, SQL, time travel, checkpoints and racing appends.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';
import { READINGS, readings } from './helpers.ts';

test('a Delta table on HDFS: writes, checkpoints, SQL, time travel and racing appends', async () => {
  const c = await ensureCluster({ hdfs: true });
  const url = `${c.webhdfsUrl}/lakestream-tests/lake-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}?user=${c.hdfsUser}`;
  const lake = await Lake.open(url);
  const t = lake.table('meters/bronze/readings');
  await t.ensure(READINGS);
  for (let i = 0; i < 10; i++) await t.write(readings(12, i * 12), { txn: { appId: 'g/r/0', version: i } });
  assert.equal((await t.write(readings(12), { txn: { appId: 'g/r/0', version: 9 } })).status, 'skipped');
  const other = await Lake.open(url);
  const res = await Promise.all([
    t.write(readings(5, 1000)),
    other.table('meters/bronze/readings').write(readings(5, 2000)),
  ]);
  assert.deepEqual(
    res.map((r) => r.status),
    ['committed', 'committed'],
  );
  const cold = await Lake.open(url);
  const snap = await cold.table('meters/bronze/readings').snapshot();
  assert.equal(snap.version, 12);
  assert.equal(snap.txnVersions.get('g/r/0'), 9);
  assert.ok(
    (await lake.store.list('meters/bronze/readings/_delta_log/')).some((o) =>
      o.path.endsWith('00000000000000000010.checkpoint.parquet'),
    ),
  );
  const r = await cold.query('SELECT count(*) AS n, count(DISTINCT seq) AS d FROM meters_bronze_readings');
  assert.deepEqual(r.rows[0], { n: 130, d: 130 });
  assert.equal((await cold.table('meters/bronze/readings').snapshot(3)).numRecords, 36);
  await Promise.all([lake.close(), other.close(), cold.close()]);
});
