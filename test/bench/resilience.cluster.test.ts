// Issue 16 acceptance (and issue 9 before it): the shortened resilience run on the local cluster
// (Kafka + HDFS) — brokers, the controller, the NameNode, a DataNode, the worker and the producer killed,
// a broker and a worker paused — loses and duplicates no reading, checked by identity after every fault.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { FaultResult } from '../../src/bench/resilience.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';

type FaultRow = FaultResult;

const FAULTS = [
  'broker',
  'controller',
  'brokers',
  'broker-pause',
  'worker',
  'worker-pause',
  'datanode',
  'namenode',
  'producer',
  'storage-full',
  'slow-storage',
];

describe('bench resilience --short on the local cluster', { timeout: 1_500_000 }, () => {
  let cluster: TestCluster;
  let report: {
    ok: boolean;
    faults: FaultRow[];
    dir: string;
    verdict: string;
    summary: Record<string, number | string | null>;
  };
  let stderr = '';

  before(async () => {
    cluster = await ensureCluster({ kafka: true, hdfs: true });
    const r = await runCli(['bench', 'resilience', '--short', '--json'], {
      env: { LAKESTREAM_CLUSTER_DIR: cluster.dir },
      timeoutMs: 1_440_000,
    });
    stderr = r.stderr;
    assert.ok(
      r.stdout.trim(),
      `bench resilience printed no result (exit ${r.code}):\n${r.stderr.slice(-4000)}`,
    );
    report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  });

  it('injects every fault, and after each the pipeline recovers on its own', () => {
    assert.deepEqual(
      report.faults.map((f) => f.fault),
      FAULTS,
    );
    for (const f of report.faults) {
      assert.ok(f.down_s > 0, `${f.fault} was down for a while`);
      assert.ok(
        f.recovered && f.recovery_s !== null && f.recovery_s >= 0,
        `${f.fault} did not recover:\n${stderr.slice(-3000)}`,
      );
    }
  });

  it('finds every acknowledged reading in bronze by its identity, and none twice: missing = 0, duplicated = 0', () => {
    for (const f of report.faults) {
      assert.ok(f.acknowledged > 0, `the producer had readings acknowledged during the ${f.fault} fault`);
      assert.equal(f.stored, f.acknowledged, `stored after the ${f.fault} fault`);
      assert.equal(f.missing, 0, `missing after the ${f.fault} fault: ${f.missing_ids.join(' ')}`);
      assert.deepEqual(f.missing_ids, []);
      assert.equal(f.duplicated, 0, `duplicated after the ${f.fault} fault`);
    }
    assert.equal(report.ok, true, report.verdict);
  });

  it('counts redeliveries before the dedupe: a killed or paused worker has its messages handed over again', () => {
    for (const f of report.faults) assert.ok(Number.isInteger(f.redelivered) && f.redelivered >= 0, f.fault);
    const byName = Object.fromEntries(report.faults.map((f) => [f.fault, f]));
    assert.ok(byName.worker.redelivered > 0, 'the killed worker had uncommitted messages read again');
    assert.ok(byName['worker-pause'].redelivered > 0, "the paused worker's partitions were read again");
  });

  it('restarts the killed producer with the same command, and it re-sends at most its send in flight', () => {
    const p = report.faults.find((f) => f.fault === 'producer') as FaultRow;
    // at 1,000/s the producer sends 50 readings at a time (rate / 20)
    assert.ok(p.producer_resent >= 0 && p.producer_resent <= 50, `re-sent ${p.producer_resent}`);
    assert.ok(Number(report.summary.producer_restarts) >= 1);
    // no segment overran its pace while the cluster accepted writes (both brokers down refuses them)
    assert.equal(report.summary.producer_stalls, 0);
  });

  it('reads back the default durability, and shows it while brokers are down: one of 2 down, writes go on with 1 in sync', () => {
    assert.equal(report.summary.brokers, 2);
    assert.equal(report.summary.replication_factor, 2);
    assert.equal(report.summary.min_insync_replicas, 1);
    assert.equal(report.summary.producer_acks, 'all');
    const byName = Object.fromEntries(report.faults.map((f) => [f.fault, f]));
    for (const name of ['broker', 'broker-pause']) {
      assert.equal(byName[name].in_sync_while_down, 1, `${name}: in sync while down`);
      assert.equal(byName[name].accepts_writes_while_down, true, `${name}: ${byName[name].refused_with}`);
    }
    // both brokers down: none is left to answer, so no acks=all write is acknowledged
    assert.equal(byName.brokers.in_sync_while_down, null);
    assert.equal(byName.brokers.accepts_writes_while_down, false);
  });

  it('writes the JSON result, the HTML report and the markdown summary', () => {
    for (const f of ['result.json', 'report.html', 'summary.md'])
      assert.ok(existsSync(join(report.dir, f)), `${f} in ${report.dir}`);
  });
});
