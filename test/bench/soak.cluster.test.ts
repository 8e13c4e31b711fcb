// Issue 16 item 4: the shortened soak on the local cluster — three minutes at 1,000 readings/s with a
// fault every minute — reports memory, open files, lag and latency over time, and ends with nothing
// missing or duplicated.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Sample } from '../../src/bench/sampler.ts';
import { runCli } from '../helpers/cli.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';

interface SoakReport {
  ok: boolean;
  verdict: string;
  dir: string;
  summary: Record<string, number | boolean | null>;
  faults: { fault: string; recovered: boolean; down_s: number; recovery_s: number | null }[];
  memory: Record<string, { mib_per_h: number; flat: boolean | null }>;
  series: Sample[];
}

describe('bench soak --short on the local cluster', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let report: SoakReport;

  before(async () => {
    cluster = await ensureCluster({ kafka: true, hdfs: true });
    const r = await runCli(['bench', 'soak', '--short', '--json'], {
      env: { LAKESTREAM_CLUSTER_DIR: cluster.dir },
      timeoutMs: 840_000,
    });
    assert.ok(r.stdout.trim(), `bench soak printed no result (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
    report = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  });

  it('runs three minutes with a fault every minute, each recovered', () => {
    assert.equal(report.summary.minutes, 3);
    assert.deepEqual(
      report.faults.map((f) => f.fault),
      ['broker', 'worker'],
    );
    for (const f of report.faults) assert.ok(f.recovered && f.recovery_s !== null, f.fault);
    assert.ok(report.series.at(-1)!.t >= 180, 'sampled for the whole run');
  });

  it("samples memory, open files, lag and latency of the worker and the brokers, and the JVMs' live heap, over time", () => {
    const during = report.series.filter((s) => s.t > 30 && s.t < 170);
    for (const name of ['worker', 'broker-1', 'broker-2']) {
      assert.ok(
        during.some((s) => (s.rss_mib[name] ?? 0) > 0),
        `memory of ${name}`,
      );
      assert.ok(
        during.some((s) => (s.open_files?.[name] ?? 0) > 0),
        `open files of ${name}`,
      );
    }
    // the live heap is read every 20 s here (every two minutes in the full run)
    for (const name of ['broker-1', 'broker-2', 'namenode'])
      assert.ok(
        during.some((s) => (s.heap_mib?.[name] ?? 0) > 0),
        `live heap of ${name}`,
      );
    assert.ok(
      during.some((s) => s.p95 !== null && s.p95 > 0),
      'latency',
    );
    assert.ok(
      during.some((s) => s.lag > 0),
      'lag',
    );
  });

  it('ends with every acknowledged reading stored once, and gives the memory trend without judging three minutes', () => {
    assert.ok(
      (report.summary.acknowledged as number) > 100_000,
      `acknowledged ${report.summary.acknowledged}`,
    );
    assert.equal(report.summary.stored, report.summary.acknowledged);
    assert.equal(report.summary.missing, 0);
    assert.equal(report.summary.duplicated, 0);
    assert.equal(typeof report.memory.worker?.mib_per_h, 'number');
    // no process runs ten minutes in a row here: a heap still settling is no leak
    assert.equal(report.memory.worker.flat, null);
    assert.equal(report.summary.memory_flat, null);
  });

  it('plots the open files beside the other charts in its HTML report', async () => {
    const html = await readFile(join(report.dir, 'report.html'), 'utf8');
    for (const title of [
      'Consumer lag',
      'End-to-end latency',
      'Memory per process',
      'Open files per process',
      'Live heap per JVM',
    ])
      assert.ok(html.includes(title), title);
  });
});
