// `lakestream cluster`: a cluster of its own (free ports found by an offset, a temporary directory) goes up, is healthy,
// survives losing a broker and a DataNode, takes them back, and goes down — checked with Apache's own tools.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killNode, startNode } from '../../src/cluster/cluster.ts';
import { CLUSTER_TOPICS } from '../../src/cluster/kafka.ts';
import { alivePid } from '../../src/cluster/processes.ts';
import type { ClusterStatus } from '../../src/cluster/status.ts';
import { consoleConsume, fsShell, producerPerformance } from '../../src/cluster/tools.ts';
import { cli, runCli } from '../helpers/cli.ts';
import { freePortOffset } from '../helpers/cluster.ts';

describe('lakestream cluster up|status|down', () => {
  let dir: string;
  let OFFSET: number;
  let BOOTSTRAP: string;

  async function status(): Promise<{ code: number | null; s: ClusterStatus }> {
    const r = await runCli(['cluster', 'status', '--dir', dir, '--json']);
    return { code: r.code, s: JSON.parse(r.stdout) as ClusterStatus };
  }
  const node = (s: ClusterStatus, n: string) => s.nodes.find((x) => x.node === n)!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-cluster-test-'));
    OFFSET = await freePortOffset();
    BOOTSTRAP = `127.0.0.1:${9092 + OFFSET},127.0.0.1:${9094 + OFFSET}`;
  });
  after(async () => {
    await runCli(['cluster', 'down', '--dir', dir, '--wipe']);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts Kafka (controller + 2 brokers) and HDFS (NameNode + 2 DataNodes) with one command', async () => {
    const t0 = Date.now();
    const r = await cli(
      // Spark has a test of its own (spark.cluster.test.ts): nine JVMs at once would starve two cores
      [
        'cluster',
        'up',
        '--kafka',
        '--hdfs',
        '--dir',
        dir,
        '--port-offset',
        String(OFFSET),
        '--partitions',
        '3',
        '--json',
      ],
      { timeoutMs: 600_000 },
    );
    const up = JSON.parse(r.stdout) as { started: string[]; kafkaBootstrap: string; webhdfsUrl: string };
    process.stderr.write(`cluster up (cold) took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    assert.deepEqual([...up.started].sort(), [
      'broker-1',
      'broker-2',
      'controller',
      'datanode-1',
      'datanode-2',
      'namenode',
    ]);
    assert.equal(up.kafkaBootstrap, BOOTSTRAP);
    assert.equal(up.webhdfsUrl, `http://127.0.0.1:${9870 + OFFSET}`);
  });

  it('reports every node healthy: 2 brokers registered, 2 DataNodes live with their capacity', async () => {
    const { code, s } = await status();
    assert.equal(code, 0);
    assert.equal(s.healthy, true);
    assert.deepEqual(s.healthyParts, ['kafka', 'hdfs']);
    assert.deepEqual(s.kafka?.brokersRegistered, [2, 3]);
    assert.equal(s.hdfs?.liveDataNodes, 2);
    assert.equal(s.hdfs?.safemode, false);
    assert.ok((s.hdfs?.capacityBytes ?? 0) > 0, 'capacity is reported');
    for (const n of s.nodes.filter((x) => x.part !== 'spark'))
      assert.ok(n.alive && n.portOpen && n.pid !== null, `${n.node} runs`);
    for (const n of s.nodes.filter((x) => x.part === 'spark'))
      assert.equal(n.alive, false, `${n.node} not asked for`);
  });

  it('creates every workload topic with replication factor 2 and the partitions asked for', async () => {
    const { s } = await status();
    const topics = new Map(s.kafka!.topics.map((t) => [t.name, t]));
    for (const name of CLUSTER_TOPICS) {
      const t = topics.get(name);
      assert.ok(t, `${name} exists`);
      assert.equal(t.replicationFactor, 2, name);
      assert.equal(t.partitions, 3, name);
      assert.equal(t.offline, 0, name);
    }
  });

  it('answers a second up without starting anything', async () => {
    const r = await cli(['cluster', 'up', '--kafka', '--hdfs', '--dir', dir, '--json']);
    assert.deepEqual(JSON.parse(r.stdout).started, []);
    assert.match(r.stderr, /already running and healthy/);
  });

  it('keeps taking acks=all writes with a broker killed, shows it down, and takes it back', async () => {
    assert.equal(await killNode(dir, 'broker-2'), true);
    const { code, s } = await status();
    assert.equal(code, 1, 'status exits 1 while a node is down');
    assert.equal(s.healthy, false);
    assert.equal(node(s, 'broker-2').alive, false);
    assert.equal(node(s, 'broker-2').healthy, false);
    assert.equal(node(s, 'broker-1').healthy, true);

    // the controller alone holds the metadata quorum: leaders move to broker-1 and writes go on
    const topic = 'meters.readings';
    const during = await producerPerformance({
      bootstrap: `127.0.0.1:${9092 + OFFSET}`,
      topic,
      numRecords: 300,
      recordSize: 100,
    });
    assert.equal(during.records, 300);

    await startNode(dir, 'broker-2');
    const again = await status();
    assert.equal(node(again.s, 'broker-2').healthy, true);
    assert.deepEqual(again.s.kafka?.brokersRegistered, [2, 3]);

    const lines = await consoleConsume({
      bootstrap: BOOTSTRAP,
      topic,
      maxMessages: 300,
      idleTimeoutMs: 20_000,
    });
    assert.equal(lines.length, 300, 'every acknowledged record is there');
  });

  it("serves WebHDFS with permissions on, lists through Hadoop's own shell, and takes a killed DataNode back", async () => {
    const webhdfs = `http://127.0.0.1:${9870 + OFFSET}/webhdfs/v1`;
    const mkdirs = (path: string, user: string) =>
      fetch(`${webhdfs}${path}?op=MKDIRS&user.name=${user}`, { method: 'PUT' });
    assert.equal((await mkdirs('/lakestream/t', 'lakestream')).status, 200);
    assert.equal(
      (await mkdirs('/lakestream/mallory', 'mallory')).status,
      403,
      'another user may not write there',
    );
    assert.match(
      await fsShell(['-ls', '-R', '/lakestream'], { dir }),
      /lakestream supergroup .* \/lakestream\/t$/m,
    );

    assert.equal(await killNode(dir, 'datanode-2'), true);
    const { s } = await status();
    assert.equal(node(s, 'datanode-2').alive, false);
    assert.equal(node(s, 'datanode-2').healthy, false);
    assert.equal(s.healthy, false);

    await startNode(dir, 'datanode-2');
    const again = await status();
    assert.equal(node(again.s, 'datanode-2').healthy, true);
    assert.equal(again.s.hdfs?.liveDataNodes, 2);
  });

  it('stops only what it started with down, and deletes the data with --wipe', async () => {
    const r = await cli(['cluster', 'down', '--dir', dir, '--wipe', '--json']);
    assert.equal(JSON.parse(r.stdout).stopped.length, 6);
    for (const n of ['controller', 'broker-1', 'broker-2', 'namenode', 'datanode-1', 'datanode-2'] as const)
      assert.equal(alivePid(dir, n), undefined, `${n} stopped`);
    assert.equal(existsSync(join(dir, 'kafka')), false);
    assert.equal(existsSync(join(dir, 'hdfs')), false);
  });
});
