// The Spark worker SIGKILLed during a query over the lake: Spark reruns the lost tasks once the worker
// is back (or the query fails with one clear line), the answer is the right one, and nothing in the
// lake changes — a query only reads.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { killNode, startNode } from '../../src/cluster/cluster.ts';
import { openEngine } from '../../src/engine/index.ts';
import { Lake } from '../../src/lake/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';
import { replayedLake } from '../helpers/engine-lake.ts';

/** Every table's version and row count. */
async function lakeState(url: string): Promise<Record<string, string>> {
  const lake = await Lake.open(url);
  try {
    const out: Record<string, string> = {};
    for (const path of await lake.listTables()) {
      const snap = await lake.table(path).snapshot();
      out[path] = `v${snap.version} ${snap.files.length} files`;
    }
    return out;
  } finally {
    await lake.close();
  }
}

describe('the Spark worker killed during a query', { timeout: 1_200_000 }, () => {
  it('gives the right answer after the worker is back, or one clear error, and leaves the lake as it was', async () => {
    const c = await ensureCluster({ spark: true });
    const lakeUrl = await replayedLake({ londonRows: 20_000, traceRows: 2_000 });
    const before = await lakeState(lakeUrl);
    const engine = await openEngine(c.sparkConnectUrl.replace(/^sc:/, 'spark:'), lakeUrl);
    try {
      const days = Number((await engine.query('SELECT count(*) AS n FROM meters_gold_daily')).rows[0].n);
      assert.ok(days > 0);
      // a query that reads the lake and keeps the executors busy for a while: every gold day times R
      // generated rows; calibrated on this machine so that it runs for ~20 s
      const query = (r: number) =>
        `SELECT count(*) AS n FROM meters_gold_daily d CROSS JOIN range(0, ${r}) g WHERE (g.id + d.value) >= 0`;
      const probe = 2_000_000;
      let started = performance.now();
      await engine.query(query(probe));
      const probeMs = performance.now() - started;
      const r = Math.max(probe, Math.round((probe * 20_000) / Math.max(probeMs, 1)));

      started = performance.now();
      let settled = false;
      const running = engine.query(query(r), { timeoutMs: 900_000 }).finally(() => {
        settled = true;
      });
      running.catch(() => {}); // judged below
      await new Promise((res) => setTimeout(res, 4_000));
      assert.equal(settled, false, 'the query ended before the worker was killed: the calibration is off');
      assert.equal(await killNode(c.dir, 'spark-worker'), true);
      await new Promise((res) => setTimeout(res, 3_000));
      await startNode(c.dir, 'spark-worker');

      const outcome = await running.then(
        (res) => ({ ok: true as const, n: Number(res.rows[0].n) }),
        (e: Error) => ({ ok: false as const, message: e.message }),
      );
      if (outcome.ok) assert.equal(outcome.n, days * r, 'Spark reran the lost tasks: the count is exact');
      else {
        assert.equal(outcome.message.trim().split('\n').length, 1, outcome.message);
        assert.match(outcome.message, /spark|executor|worker|task/i);
      }
      // the engine still answers, and the lake is as it was
      assert.equal(
        Number((await engine.query('SELECT count(*) AS n FROM meters_gold_daily')).rows[0].n),
        days,
      );
    } finally {
      await engine.close();
    }
    assert.deepEqual(await lakeState(lakeUrl), before);
  });
});
