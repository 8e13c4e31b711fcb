import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ALL_NODES,
  configPath,
  defaultConfig,
  ephemeralPortsWarning,
  highestOffsetBelow,
  kafkaBootstrap,
  kafkaNodes,
  loadConfig,
  nodePorts,
  partsFromFlags,
  resolveConfig,
  sparkConnectUrl,
  sparkMasterUrl,
  webhdfsUrl,
} from './config.ts';
import { coreSite, hdfsSite } from './hdfs.ts';
import { CLUSTER_TOPICS, KAFKA_NODE_IDS, kafkaProperties } from './kafka.ts';
import { ephemeralPortRange } from './processes.ts';
import { connectConf, sparkEnv } from './spark.ts';

describe('cluster configuration', () => {
  const c = defaultConfig('/tmp/lakestream-config-test');

  it('puts brokers at 127.0.0.1:9092 and :9094, the controller at :9093 and WebHDFS at :9870 by default', () => {
    assert.equal(kafkaBootstrap(c), '127.0.0.1:9092,127.0.0.1:9094');
    assert.equal(c.kafka.controllerPort, 9093);
    assert.equal(webhdfsUrl(c), 'http://127.0.0.1:9870');
    assert.equal(c.hdfs.rpcPort, 8020);
  });

  it('gives every node its own ports, and a port offset moves them all', () => {
    const ports = ALL_NODES.flatMap((n) => nodePorts(c, n));
    assert.equal(new Set(ports).size, ports.length);
    const moved = defaultConfig('/tmp/x', 10_000);
    assert.deepEqual(
      ALL_NODES.flatMap((n) => nodePorts(moved, n)),
      ports.map((p) => p + 10_000),
    );
  });

  it('runs a dedicated controller as the only quorum voter, and two brokers that are not voters', () => {
    const ctl = kafkaProperties(c, 'controller');
    assert.equal(ctl['process.roles'], 'controller');
    assert.equal(ctl['controller.quorum.voters'], '1@127.0.0.1:9093');
    assert.equal(ctl['default.replication.factor'], 2);
    assert.equal(ctl['num.partitions'], 6);
    for (const b of ['broker-1', 'broker-2'] as const) {
      const p = kafkaProperties(c, b);
      assert.equal(p['process.roles'], 'broker');
      assert.equal(p['controller.quorum.voters'], '1@127.0.0.1:9093');
      assert.match(String(p['advertised.listeners']), /^PLAINTEXT:\/\/127\.0\.0\.1:909[24]$/);
      // acks=all keeps working with one broker down; no data loss by electing a stale replica
      assert.equal(p['min.insync.replicas'], 1);
      assert.equal(p['unclean.leader.election.enable'], false);
      assert.equal(p['offsets.topic.replication.factor'], 2);
    }
    assert.equal(new Set(Object.values(KAFKA_NODE_IDS)).size, 4);
    assert.deepEqual(kafkaNodes(c), ['controller', 'broker-1', 'broker-2']);
  });

  it('with --brokers 3 adds broker-3 at 9096 and replicates topics 3 times with min.insync.replicas 2', () => {
    const three = resolveConfig({ dir: '/tmp/lakestream-config-test-3', portOffset: 400, brokers: 3 });
    assert.deepEqual(three.kafka.brokerPorts, [9492, 9494, 9496]);
    assert.deepEqual(kafkaNodes(three), ['controller', 'broker-1', 'broker-2', 'broker-3']);
    assert.equal(kafkaProperties(three, 'controller')['default.replication.factor'], 3);
    const p = kafkaProperties(three, 'broker-3');
    assert.equal(p['node.id'], 4);
    assert.equal(p['advertised.listeners'], 'PLAINTEXT://127.0.0.1:9496');
    assert.equal(p['min.insync.replicas'], 2);
    assert.equal(p['offsets.topic.replication.factor'], 3);
    assert.throws(() => resolveConfig({ dir: '/tmp/x', brokers: 4 }), /2 or 3 brokers/);
  });

  it('creates the topics of both workloads', () => {
    for (const t of ['meters.readings', 'meters.quarantine', 'meters.predictions', 'trace.events'])
      assert.ok(CLUSTER_TOPICS.includes(t), t);
  });

  it('configures HDFS with replication 2, permissions on, WebHDFS on, every address on 127.0.0.1', () => {
    const site = hdfsSite(c);
    assert.equal(site['dfs.replication'], 2);
    assert.equal(site['dfs.permissions.enabled'], true);
    assert.equal(site['dfs.webhdfs.enabled'], true);
    assert.equal(site['dfs.namenode.http-address'], '127.0.0.1:9870');
    assert.equal(site['dfs.datanode.hostname'], '127.0.0.1');
    assert.equal(coreSite(c)['fs.defaultFS'], 'hdfs://127.0.0.1:8020');
    assert.match(
      String(coreSite(c)['hadoop.user.group.static.mapping.overrides']),
      /^lakestream=supergroup;/,
    );
  });

  it('runs Spark Connect at 127.0.0.1:15002 as the driver on the master at :7077, with Delta, UTC and no web UI', () => {
    assert.equal(sparkConnectUrl(c), 'sc://127.0.0.1:15002');
    assert.equal(sparkMasterUrl(c), 'spark://127.0.0.1:7077');
    const conf = connectConf(c);
    assert.equal(conf['spark.master'], 'spark://127.0.0.1:7077');
    assert.equal(conf['spark.connect.grpc.binding.address'], '127.0.0.1');
    assert.equal(conf['spark.connect.grpc.binding.port'], '15002');
    assert.equal(conf['spark.driver.bindAddress'], '127.0.0.1');
    assert.equal(conf['spark.ui.enabled'], 'false');
    assert.equal(conf['spark.sql.extensions'], 'io.delta.sql.DeltaSparkSessionExtension');
    assert.equal(conf['spark.sql.catalog.spark_catalog'], 'org.apache.spark.sql.delta.catalog.DeltaCatalog');
    assert.equal(conf['spark.sql.session.timeZone'], 'UTC');
    assert.ok(c.spark.executorMemoryMb <= c.spark.workerMemoryMb, 'an executor fits in the worker');
  });

  it('with --spark-memory gives the executor that much, and the worker at least as much', () => {
    const big = resolveConfig({
      dir: '/tmp/lakestream-config-test-sm',
      portOffset: 400,
      sparkMemoryMb: 8192,
    });
    assert.equal(big.spark.executorMemoryMb, 8192);
    assert.equal(big.spark.workerMemoryMb, 8192);
    assert.equal(connectConf(big)['spark.executor.memory'], '8192m');
    const small = resolveConfig({
      dir: '/tmp/lakestream-config-test-sm',
      portOffset: 400,
      sparkMemoryMb: 768,
    });
    assert.equal(connectConf(small)['spark.executor.memory'], '768m');
    assert.equal(small.spark.workerMemoryMb, defaultConfig('/tmp/x').spark.workerMemoryMb);
  });

  it("gives Spark's processes the launcher's Scala version, 127.0.0.1 and the HDFS superuser", () => {
    const env = sparkEnv(c);
    assert.equal(env.SPARK_SCALA_VERSION, '2.13');
    assert.equal(env.SPARK_LOCAL_IP, '127.0.0.1');
    assert.equal(env.HADOOP_USER_NAME, c.hdfs.user);
    assert.equal(connectConf(c)['spark.executorEnv.HADOOP_USER_NAME'], c.hdfs.user);
  });

  it('reads a cluster.json written before Spark joined with Spark at the same port offset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-config-'));
    try {
      const old: Record<string, unknown> = { ...defaultConfig(dir, 1000) };
      delete old.spark;
      await writeFile(configPath(dir), JSON.stringify(old));
      const loaded = loadConfig(dir)!;
      assert.equal(loaded.spark.connectPort, 16002);
      assert.equal(loaded.heapMb['spark-connect'], defaultConfig(dir).heapMb['spark-connect']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts all three parts when the command names none, and only those named otherwise', () => {
    assert.deepEqual(partsFromFlags({}), ['kafka', 'hdfs', 'spark']);
    assert.deepEqual(partsFromFlags({ spark: true }), ['spark']);
    assert.deepEqual(partsFromFlags({ kafka: true, hdfs: true }), ['kafka', 'hdfs']);
  });

  it("warns when ports lie in the kernel's ephemeral range, naming them and the offsets that stay below it", async () => {
    const range: [number, number] = [32768, 60999];
    // Spark Connect at 15002 + 21,500 failed to bind in CI: a connection had taken 36502
    const high = defaultConfig('/tmp/x', 21_500);
    const w = ephemeralPortsWarning(high, ['kafka', 'hdfs', 'spark'], range);
    assert.match(w ?? '', /36502 \(spark-connect\)/);
    assert.match(w ?? '', /32768-60999/);
    assert.match(w ?? '', /--port-offset of 17765 or less/);
    // Kafka's and HDFS's ports at that offset stay below the range: only Spark's are named
    assert.equal(ephemeralPortsWarning(high, ['kafka', 'hdfs'], range), undefined);
    assert.equal(
      ephemeralPortsWarning(defaultConfig('/tmp/x', 17_765), ['kafka', 'hdfs', 'spark'], range),
      undefined,
    );
    assert.match(
      ephemeralPortsWarning(defaultConfig('/tmp/x', 17_766), ['spark'], range) ?? '',
      /32768 \(spark-connect\)/,
    );
    assert.equal(ephemeralPortsWarning(high, ['spark'], undefined), undefined);
    assert.equal(highestOffsetBelow(32768), 32767 - 15002);
    // every port of a cluster (a third broker too) at that offset is below the range
    const edge = resolveConfig({ dir: '/tmp/x', portOffset: highestOffsetBelow(32768), brokers: 3 });
    assert.ok(Math.max(...ALL_NODES.flatMap((n) => nodePorts(edge, n))) < 32768);
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-ports-'));
    try {
      await writeFile(join(dir, 'range'), '32768\t60999\n');
      assert.deepEqual(ephemeralPortRange(join(dir, 'range')), [32768, 60999]);
      await writeFile(join(dir, 'range'), 'nonsense\n');
      assert.equal(ephemeralPortRange(join(dir, 'range')), undefined);
      assert.equal(ephemeralPortRange(join(dir, 'none')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
