// Issue 9 and 16 acceptance: the shortened resilience run on the local cluster (Kafka + HDFS) — a broker,
// the stream worker, a DataNode and the producer SIGKILLed in turn, the lake storage full, then slow — loses
// and duplicates no reading.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';

interface FaultRow {
  fault: string;
  lost: number;
  duplicated: number;
  recovery_s: number | null;
  acknowledged: number;
}

describe('bench resilience --short on the local cluster', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let report: { ok: boolean; faults: FaultRow[]; dir: string; verdict: string };
  let stderr = '';

  before(async () => {
    cluster = await ensureCluster({ kafka: true, hdfs: true });
    const r = await runCli(['bench', 'resilience', '--short', '--json'], {
      env: { LAKESTREAM_CLUSTER_DIR: cluster.dir },
      timeoutMs: 840_000,
    });
    stderr = r.stderr;
    assert.ok(
      r.stdout.trim(),
      `bench resilience printed no result (exit ${r.code}):\n${r.stderr.slice(-4000)}`,
    );
    report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  });

  it('kills a broker, the stream worker, a DataNode and the producer, fills and slows the lake storage, and each recovers on its own', () => {
    assert.deepEqual(
      report.faults.map((f) => f.fault),
      ['broker', 'worker', 'datanode', 'producer', 'storage-full', 'slow-storage'],
    );
    for (const f of report.faults)
      assert.ok(
        f.recovery_s !== null && f.recovery_s > 0,
        `${f.fault} did not recover:\n${stderr.slice(-3000)}`,
      );
  });

  it('stores every acknowledged reading exactly once after every fault: lost = 0, duplicated = 0', () => {
    for (const f of report.faults) {
      assert.ok(f.acknowledged > 0, `the producer had readings acknowledged during the ${f.fault} fault`);
      assert.equal(f.lost, 0, `readings lost after the ${f.fault} fault`);
      assert.equal(f.duplicated, 0, `readings duplicated after the ${f.fault} fault`);
    }
    assert.equal(report.ok, true, report.verdict);
  });

  it('writes the JSON result, the HTML report and the markdown summary', () => {
    for (const f of ['result.json', 'report.html', 'summary.md'])
      assert.ok(existsSync(join(report.dir, f)), `${f} in ${report.dir}`);
  });
});
