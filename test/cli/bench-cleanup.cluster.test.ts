// Issue 19: benchmarks leave nothing behind. A run's topics and lake are removed from the cluster
// unless --keep; a cluster benchmark that started the local cluster stops it at the end.
// (Cluster phase: ensureCluster for the shared test cluster, and a Kafka of its own on other ports.)

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runningNodes } from '../../src/bench/leftovers.ts';
import { cleanupRun } from '../../src/bench/run.ts';
import { clusterDown } from '../../src/cluster/cluster.ts';
import { defaultConfig, saveConfig } from '../../src/cluster/config.ts';
import { openWebHdfs } from '../../src/storage/webhdfs/index.ts';
import { openTransport } from '../../src/transport/index.ts';
import { cli, runCli } from '../helpers/cli.ts';
import { ensureCluster } from '../helpers/cluster.ts';

describe('benchmarks clean up after themselves', { timeout: 1_200_000 }, () => {
  it("removes a run's topics and lake from the cluster, and keeps them with --keep", async () => {
    const tc = await ensureCluster({ kafka: true, hdfs: true });
    const id = `cleanup-${process.pid}`;
    const transport = `${tc.kafkaUrl}#ns=bench-${id}.`;
    const lake = `${tc.webhdfsUrl}/lakestream-bench/${id}?user=${tc.hdfsUser}`;
    await cli([
      'produce',
      '--source',
      'simulate',
      '--meters',
      '3',
      '--days',
      '1',
      '-q',
      '--transport',
      transport,
    ]);
    await cli(['stream', '--drain', '--retrain', 'off', '-q', '--transport', transport, '--lake', lake]);
    const topics = async () => {
      const t = await openTransport(tc.kafkaUrl);
      try {
        return (await t.listTopics()).map((x) => x.name).filter((n) => n.startsWith(`bench-${id}.`));
      } finally {
        await t.close();
      }
    };
    const lakeFiles = async () => {
      const store = openWebHdfs(lake);
      try {
        return (await store.list('')).length;
      } finally {
        await store.close();
      }
    };
    assert.ok((await topics()).length > 0);
    assert.ok((await lakeFiles()) > 0);
    await cleanupRun(transport, lake, true);
    assert.ok((await topics()).length > 0, '--keep keeps the topics');
    assert.ok((await lakeFiles()) > 0, '--keep keeps the lake');
    await cleanupRun(transport, lake);
    assert.deepEqual(await topics(), []);
    assert.equal(await lakeFiles(), 0);
  });

  it('stops the local Kafka that bench kafka started, and says so', async () => {
    // a cluster directory of its own, on ports away from the shared test cluster's, not running
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-cluster-'));
    await saveConfig(defaultConfig(dir, 3100));
    try {
      const r = await runCli(['bench', 'kafka', '--short', '--json'], {
        env: { LAKESTREAM_CLUSTER_DIR: dir },
        timeoutMs: 1_000_000,
      });
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      assert.match(r.stderr, /stopped the local cluster this benchmark started \(.*broker-1/);
      assert.deepEqual(runningNodes(dir), []);
    } finally {
      await clusterDown({ dir });
    }
  });
});
