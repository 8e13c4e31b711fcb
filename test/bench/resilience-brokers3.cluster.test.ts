// Issue 16 item 6: the resilience run on a 3-broker cluster (replication factor 3, min.insync.replicas 2)
// shows what that setting guarantees. With one broker killed or paused, 2 replicas stay in sync and an
// acks=all write is accepted; with two of the three killed, 1 stays in sync and the write is refused
// (NOT_ENOUGH_REPLICAS) rather than kept on one broker. After every fault nothing is missing or doubled.
// Runs on a private Kafka (3 brokers) + HDFS of its own (directory and ports), started and wiped here.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FaultResult } from '../../src/bench/resilience.ts';
import { clusterDown, clusterUp } from '../../src/cluster/cluster.ts';
import { runCli } from '../helpers/cli.ts';

// brokers 10992, 10994, 10996, controller 10993, NameNode 9920/11770 (offsets 400-1700 are other files')
const PORT_OFFSET = 1900;
const log = (line: string) => process.stderr.write(`[resilience-3] ${line}\n`);

describe('bench resilience --short --brokers 3 on a private 3-broker cluster', { timeout: 1_500_000 }, () => {
  let dir = '';
  let report: {
    ok: boolean;
    faults: FaultResult[];
    verdict: string;
    summary: Record<string, number | string | null>;
  };
  let stderr = '';
  const row = (name: string) => report.faults.find((f) => f.fault === name) as FaultResult;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-resilience-3-'));
    await clusterUp({ dir, parts: ['kafka', 'hdfs'], portOffset: PORT_OFFSET, brokers: 3, log });
  });

  after(async () => {
    if (dir) await clusterDown({ dir, wipe: true, log });
  });

  it('refuses --brokers 2 while the 3-broker cluster runs, before starting anything, and says to stop it', async () => {
    const r = await runCli(['bench', 'resilience', '--short', '--brokers', '2'], {
      env: { LAKESTREAM_CLUSTER_DIR: dir },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /runs with 3 brokers .*not 2; run "lakestream cluster down --dir /);
    assert.doesNotMatch(r.stderr, /warm-up|\[cluster\] starting/);
  });

  it('runs the broker faults and reads back replication factor 3, min.insync.replicas 2, acks=all', async () => {
    const r = await runCli(
      [
        'bench',
        'resilience',
        '--short',
        '--brokers',
        '3',
        '--faults',
        'broker,brokers,broker-pause',
        '--json',
      ],
      { env: { LAKESTREAM_CLUSTER_DIR: dir }, timeoutMs: 1_200_000 },
    );
    stderr = r.stderr;
    assert.ok(
      r.stdout.trim(),
      `bench resilience printed no result (exit ${r.code}):\n${r.stderr.slice(-4000)}`,
    );
    report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
    for (const f of report.faults)
      log(
        `${f.fault}: down ${f.down_s} s, recovery ${f.recovery_s} s, in sync ${f.in_sync_while_down} (noticed after ${f.noticed_s} s), accepts writes ${f.accepts_writes_while_down}${f.refused_with ? ` (${f.refused_with})` : ''}, missing ${f.missing}, duplicated ${f.duplicated}`,
      );
    assert.deepEqual(
      report.faults.map((f) => f.fault),
      ['broker', 'brokers', 'broker-pause'],
      `${report.verdict}\n${stderr.slice(-3000)}`,
    );
    assert.equal(report.summary.brokers, 3);
    assert.equal(report.summary.replication_factor, 3);
    assert.equal(report.summary.min_insync_replicas, 2);
    assert.equal(report.summary.producer_acks, 'all');
  });

  it('with one broker killed or paused: 2 replicas in sync, acks=all writes accepted', () => {
    for (const name of ['broker', 'broker-pause']) {
      const f = row(name);
      assert.equal(f.in_sync_while_down, 2, `${name}: in sync while down\n${stderr.slice(-3000)}`);
      assert.equal(f.accepts_writes_while_down, true, `${name}: refused with ${f.refused_with}`);
    }
  });

  it('with two of the three killed: 1 replica in sync, acks=all writes refused with NOT_ENOUGH_REPLICAS', () => {
    const f = row('brokers');
    assert.equal(f.in_sync_while_down, 1, stderr.slice(-3000));
    assert.equal(f.accepts_writes_while_down, false);
    assert.match(f.refused_with ?? '', /NOT_ENOUGH_REPLICAS/);
    // the producer waited on the refusal (and was restarted when its sends failed), and a broker's
    // restart left none of its sends unacknowledged for a minute: no stall
    assert.equal(report.summary.producer_stalls, 0, stderr.slice(-3000));
  });

  it('recovers after every fault and finds every acknowledged reading once: missing = 0, duplicated = 0', () => {
    for (const f of report.faults) {
      assert.ok(f.recovered && f.recovery_s !== null, `${f.fault} did not recover:\n${stderr.slice(-3000)}`);
      assert.ok(f.acknowledged > 0, `readings acknowledged during the ${f.fault} fault`);
      assert.equal(f.stored, f.acknowledged, `stored after the ${f.fault} fault`);
      assert.equal(f.missing, 0, `missing after the ${f.fault} fault: ${f.missing_ids.join(' ')}`);
      assert.equal(f.duplicated, 0, `duplicated after the ${f.fault} fault`);
    }
    assert.equal(report.ok, true, report.verdict);
  });
});
