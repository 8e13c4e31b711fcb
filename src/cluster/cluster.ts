// The local cluster's life cycle: up (fetch jars, format, start in parallel, wait healthy, create topics),
// down (stop by pid what this directory started), and killing or restarting one node for resilience tests.
// Parts: Kafka, HDFS and Spark (master, worker, Spark Connect).

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { LakestreamError } from '../errors.ts';
import {
  ALL_NODES,
  ALL_PARTS,
  type ClusterConfig,
  type ConfigOverrides,
  ephemeralPortsWarning,
  HDFS_NODES,
  type HdfsNode,
  type KafkaNode,
  kafkaBootstrap,
  kafkaNodes,
  loadConfig,
  type NodeName,
  nodePorts,
  PART_NODES,
  type Part,
  partOf,
  resolveConfig,
  SPARK_NODES,
  type SparkNode,
  saveConfig,
  sparkConnectUrl,
  webhdfsUrl,
} from './config.ts';
import {
  formatNameNode,
  hdfsConfDir,
  hdfsEnv,
  hdfsJvm,
  startHdfsNode,
  waitHdfsNode,
  waitOutOfSafemode,
  writeHdfsConfig,
} from './hdfs.ts';
import { classpath, ensureJars, type Log } from './jars.ts';
import { ensureTopics, formatKafka, startKafkaNode, waitKafkaNode, writeKafkaConfig } from './kafka.ts';
import { withClusterLock } from './lock.ts';
import { alivePid, ephemeralPortRange, portOpen, runJava, stopNode, stopTagged } from './processes.ts';
import { logSize, sparkConfDir, startSparkNode, waitSparkNode, writeSparkConfig } from './spark.ts';

export interface UpOptions extends ConfigOverrides {
  /** default: Kafka and HDFS (what the pipeline tests and benchmarks use); the CLI's plain `up` asks for all three */
  parts?: Part[];
  log?: Log;
  /** per node, for start-up and health (default 180 s: the machine is small and shared) */
  timeoutMs?: number;
}

export interface UpResult {
  config: ClusterConfig;
  /** nodes this call started (empty when all were running) */
  started: NodeName[];
  topicsCreated: string[];
  kafkaBootstrap: string;
  webhdfsUrl: string;
  /** `sc://127.0.0.1:15002` */
  sparkConnectUrl: string;
  elapsedMs: number;
}

export async function kafkaClasspath(log: Log = () => {}): Promise<string> {
  return classpath(await ensureJars('kafka', log));
}

export async function hdfsClasspath(c: ClusterConfig, log: Log = () => {}): Promise<string> {
  return classpath(await ensureJars('hdfs', log), [hdfsConfDir(c)]);
}

/** Spark's jars and SPARK_HOME (whose conf/ holds the logging configuration), set up; returns the classpath. */
export async function sparkClasspath(c: ClusterConfig, log: Log = () => {}): Promise<string> {
  const jars = await ensureJars('spark', log);
  await writeSparkConfig(c, jars);
  return classpath(jars, [sparkConfDir(c)]);
}

function running(c: ClusterConfig, nodes: readonly NodeName[]): NodeName[] {
  return nodes.filter((n) => alivePid(c.dir, n) !== undefined);
}

/** Ports and folders cannot change under running nodes: name the conflict instead of half-applying it. */
function checkUnchanged(saved: ClusterConfig | undefined, wanted: ClusterConfig): void {
  if (!saved) return;
  const live = running(saved, ALL_NODES);
  if (live.length === 0) return;
  const shape = (c: ClusterConfig) => JSON.stringify({ k: c.kafka, h: c.hdfs, s: c.spark });
  if (shape(saved) !== shape(wanted))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `the cluster in ${saved.dir} runs (${live.join(', ')}) with other ports or settings; run "lakestream cluster down --dir ${saved.dir}" first`,
    );
}

function secondsSince(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/**
 * Waits for a node; when it exits meanwhile (a broker that gave up on a slow controller, a node another
 * process stopped), starts it once more and waits again before failing.
 */
async function waitOrRestart(
  c: ClusterConfig,
  node: NodeName,
  wait: () => Promise<void>,
  start: () => Promise<number>,
  log: Log,
): Promise<void> {
  try {
    await wait();
  } catch (e) {
    if (alivePid(c.dir, node) !== undefined) throw e;
    log(`  ${node} exited while starting; starting it again (its log: ${c.dir}/logs/${node}.log)`);
    await start();
    await wait();
  }
}

/** Fails, naming the port and the node, when a port a node needs is held by another process. */
async function checkPortsFree(c: ClusterConfig, nodes: readonly NodeName[]): Promise<void> {
  for (const node of nodes)
    for (const port of nodePorts(c, node))
      if (await portOpen(c.host, port, 500))
        throw new LakestreamError(
          'UNAVAILABLE',
          `port ${c.host}:${port}, needed by ${node}, is in use by another process (another cluster directory?); ` +
            'stop it, or choose other ports (--port-offset N)',
          { retriable: false },
        );
}

/** Starts what is not running yet and waits until it is healthy; idempotent and safe for concurrent callers. */
export async function clusterUp(o: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const parts = o.parts && o.parts.length > 0 ? o.parts : (['kafka', 'hdfs'] as Part[]);
  const timeoutMs = o.timeoutMs ?? 180_000;
  const first = resolveConfig(o);
  return withClusterLock(
    first.dir,
    async () => {
      const saved = loadConfig(first.dir);
      const c = resolveConfig(o);
      checkUnchanged(saved, c);
      await saveConfig(c);
      const warning = ephemeralPortsWarning(c, parts, ephemeralPortRange());
      if (warning) log(warning);
      const started: NodeName[] = [];
      let topicsCreated: string[] = [];
      const upKafka = async () => {
        const cp = await kafkaClasspath(log);
        await writeKafkaConfig(c);
        const todo = kafkaNodes(c).filter((n) => alivePid(c.dir, n) === undefined);
        if (todo.length > 0) {
          await checkPortsFree(c, todo);
          await formatKafka(c, cp, log);
          log(`starting Kafka: ${todo.join(', ')} …`);
          for (const n of todo) await startKafkaNode(c, n, cp);
          started.push(...todo);
        }
        await Promise.all(
          kafkaNodes(c).map(async (n) => {
            await waitOrRestart(
              c,
              n,
              () => waitKafkaNode(c, n, timeoutMs),
              () => startKafkaNode(c, n, cp),
              log,
            );
            if (todo.includes(n)) log(`  ${n} ready (${secondsSince(t0)})`);
          }),
        );
        if (todo.length > 0)
          log(`Kafka is up: brokers ${kafkaBootstrap(c)}, controller ${c.host}:${c.kafka.controllerPort}`);
        topicsCreated = await ensureTopics(c, log);
      };
      const upHdfs = async () => {
        const cp = await hdfsClasspath(c, log);
        await writeHdfsConfig(c);
        const todo = HDFS_NODES.filter((n) => alivePid(c.dir, n) === undefined);
        if (todo.length > 0) {
          await checkPortsFree(c, todo);
          await formatNameNode(c, cp, log);
          log(`starting HDFS: ${todo.join(', ')} …`);
          for (const n of todo) await startHdfsNode(c, n, cp);
          started.push(...todo);
        }
        await Promise.all(
          HDFS_NODES.map(async (n) => {
            await waitOrRestart(
              c,
              n,
              () => waitHdfsNode(c, n, timeoutMs),
              () => startHdfsNode(c, n, cp),
              log,
            );
            if (todo.includes(n)) log(`  ${n} ready (${secondsSince(t0)})`);
          }),
        );
        await waitOutOfSafemode(c, timeoutMs);
        if (todo.length > 0)
          log(
            `HDFS is up: WebHDFS ${webhdfsUrl(c)}/webhdfs/v1, NameNode hdfs://${c.host}:${c.hdfs.rpcPort}, user ${c.hdfs.user}`,
          );
      };
      const upSpark = async () => {
        const cp = await sparkClasspath(c, log);
        const todo = SPARK_NODES.filter((n) => alivePid(c.dir, n) === undefined);
        if (todo.length > 0) {
          await checkPortsFree(c, todo);
          log(`starting Spark: ${todo.join(', ')} …`);
          started.push(...todo);
        }
        // the worker and the driver register with the master, so it comes first
        const bringUp = async (n: SparkNode) => {
          // the log line to wait for is one written after this start (a running node is only asked)
          let offset: number | undefined;
          const start = () => {
            offset = logSize(c, n);
            return startSparkNode(c, n, cp);
          };
          if (todo.includes(n)) await start();
          await waitOrRestart(c, n, () => waitSparkNode(c, n, timeoutMs, offset), start, log);
          if (todo.includes(n)) log(`  ${n} ready (${secondsSince(t0)})`);
        };
        await bringUp('spark-master');
        await Promise.all([bringUp('spark-worker'), bringUp('spark-connect')]);
        if (todo.length > 0)
          log(
            `Spark is up: Spark Connect ${sparkConnectUrl(c)}, master spark://${c.host}:${c.spark.masterPort}`,
          );
      };
      await Promise.all([
        parts.includes('kafka') ? upKafka() : undefined,
        parts.includes('hdfs') ? upHdfs() : undefined,
        parts.includes('spark') ? upSpark() : undefined,
      ]);
      return {
        config: c,
        started,
        topicsCreated,
        kafkaBootstrap: kafkaBootstrap(c),
        webhdfsUrl: webhdfsUrl(c),
        sparkConnectUrl: sparkConnectUrl(c),
        elapsedMs: Date.now() - t0,
      };
    },
    { onWait: () => log(`waiting for another "cluster up" or "cluster down" in ${first.dir} …`) },
  );
}

export interface DownOptions {
  dir?: string;
  /** default: all three */
  parts?: Part[];
  /** delete data, logs and configuration too */
  wipe?: boolean;
  log?: Log;
}

/**
 * Stops the nodes this directory started (SIGTERM, SIGKILL after a grace period): brokers before the
 * controller, DataNodes before the NameNode, Spark's driver and worker before its master.
 */
export async function clusterDown(o: DownOptions = {}): Promise<{ stopped: NodeName[] }> {
  const log = o.log ?? (() => {});
  const c = resolveConfig({ dir: o.dir });
  const parts = o.parts && o.parts.length > 0 ? o.parts : [...ALL_PARTS];
  if (!existsSync(c.dir)) return { stopped: [] };
  return withClusterLock(c.dir, async () => {
    const stopped: NodeName[] = [];
    const stopAll = async (nodes: readonly NodeName[], graceMs?: number) => {
      const live = running(c, nodes);
      if (live.length > 0) log(`stopping ${live.join(', ')} …`);
      const results = await Promise.all(
        nodes.map(async (n) => ((await stopNode(c.dir, n, { graceMs })) ? n : undefined)),
      );
      stopped.push(...results.filter((n): n is NodeName => n !== undefined));
    };
    await Promise.all([
      parts.includes('kafka')
        ? (async () => {
            // brokers first: a broker shutting down asks the controller to move its leaders; without a
            // controller it would wait for one in vain, so it gets little time before SIGKILL
            await stopAll(
              ['broker-1', 'broker-2', 'broker-3'],
              alivePid(c.dir, 'controller') === undefined ? 3000 : undefined,
            );
            await stopAll(['controller']);
          })()
        : undefined,
      parts.includes('hdfs')
        ? (async () => {
            await stopAll(['datanode-1', 'datanode-2']);
            await stopAll(['namenode']);
          })()
        : undefined,
      parts.includes('spark')
        ? (async () => {
            await stopAll(['spark-connect', 'spark-worker']);
            await stopExecutors(c.dir);
            await stopAll(['spark-master']);
          })()
        : undefined,
    ]);
    if (o.wipe) {
      const dirs = parts.map((p) => `${c.dir}/${p}`);
      log(`deleting ${dirs.join(', ')}`);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
      if (parts.length === ALL_PARTS.length) await rm(c.dir, { recursive: true, force: true });
    }
    return { stopped };
  });
}

/**
 * Executors are children of the worker and quit when it goes; one that has not within a few seconds (a
 * worker killed mid-launch) is found by the tags the driver gives it and stopped by its pid.
 */
async function stopExecutors(dir: string): Promise<void> {
  await stopTagged(dir, 'spark-executor', { graceMs: 5000 });
}

/** Kills one node (SIGKILL by default, as a crash would). Returns false when it was not running. */
export async function killNode(
  dir: string,
  node: NodeName,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): Promise<boolean> {
  const c = resolveConfig({ dir });
  return stopNode(c.dir, node, { signal, graceMs: signal === 'SIGKILL' ? 5000 : 20_000 });
}

/**
 * Holds the NameNode in safe mode (`enter`) or lets it out (`leave`), as `hdfs dfsadmin -safemode` does:
 * a NameNode that is slow to leave safe mode after a restart (many blocks to report), for resilience
 * tests. Safe mode entered by hand stays until it is left by hand.
 */
export async function setSafemode(dir: string, action: 'enter' | 'leave'): Promise<void> {
  const c = loadConfig(dir);
  if (!c)
    throw new LakestreamError(
      'NOT_FOUND',
      `no cluster in ${dir}: run "lakestream cluster up --dir ${dir}" first`,
    );
  await runJava({
    classpath: await hdfsClasspath(c),
    mainClass: 'org.apache.hadoop.hdfs.tools.DFSAdmin',
    args: ['-fs', `hdfs://${c.host}:${c.hdfs.rpcPort}`, '-safemode', action],
    jvm: [...hdfsJvm(256), '-XX:TieredStopAtLevel=1'],
    // the cluster's user is HDFS's superuser, whom dfsadmin requires
    env: hdfsEnv(c),
    what: `hdfs dfsadmin -safemode ${action}`,
    timeoutMs: 120_000,
  });
}

/** Starts one node of a cluster that `up` created (a broker or DataNode killed before) and waits until it is healthy. */
export async function startNode(
  dir: string,
  node: NodeName,
  opts: { timeoutMs?: number; log?: Log } = {},
): Promise<void> {
  const c = loadConfig(dir);
  if (!c)
    throw new LakestreamError(
      'NOT_FOUND',
      `no cluster in ${dir}: run "lakestream cluster up --dir ${dir}" first`,
    );
  const timeoutMs = opts.timeoutMs ?? 180_000;
  await withClusterLock(c.dir, async () => {
    if (partOf(node) === 'kafka') {
      const k = node as KafkaNode;
      if (alivePid(c.dir, k) === undefined) {
        await checkPortsFree(c, [k]);
        await startKafkaNode(c, k, await kafkaClasspath(opts.log));
      }
      await waitKafkaNode(c, k, timeoutMs);
    } else if (partOf(node) === 'hdfs') {
      const h = node as HdfsNode;
      if (alivePid(c.dir, h) === undefined) {
        await checkPortsFree(c, [h]);
        await startHdfsNode(c, h, await hdfsClasspath(c, opts.log));
      }
      await waitHdfsNode(c, h, timeoutMs);
    } else {
      const s = node as SparkNode;
      let offset: number | undefined;
      if (alivePid(c.dir, s) === undefined) {
        await checkPortsFree(c, [s]);
        offset = logSize(c, s);
        await startSparkNode(c, s, await sparkClasspath(c, opts.log));
      }
      await waitSparkNode(c, s, timeoutMs, offset);
    }
  });
}

export { PART_NODES };
