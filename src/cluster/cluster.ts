// The local cluster's life cycle: up (fetch jars, format, start in parallel, wait healthy, create topics),
// down (stop by pid what this directory started), and killing or restarting one node for resilience tests.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { LakestreamError } from '../errors.ts';
import {
  type ClusterConfig,
  type ConfigOverrides,
  HDFS_NODES,
  type HdfsNode,
  KAFKA_NODES,
  type KafkaNode,
  kafkaBootstrap,
  loadConfig,
  type NodeName,
  nodePorts,
  type Part,
  partOf,
  resolveConfig,
  saveConfig,
  webhdfsUrl,
} from './config.ts';
import {
  formatNameNode,
  hdfsConfDir,
  startHdfsNode,
  waitHdfsNode,
  waitOutOfSafemode,
  writeHdfsConfig,
} from './hdfs.ts';
import { classpath, ensureJars, type Log } from './jars.ts';
import { ensureTopics, formatKafka, startKafkaNode, waitKafkaNode, writeKafkaConfig } from './kafka.ts';
import { withClusterLock } from './lock.ts';
import { alivePid, portOpen, stopNode } from './processes.ts';

export interface UpOptions extends ConfigOverrides {
  /** default: both */
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
  elapsedMs: number;
}

const PART_NODES: Record<Part, readonly NodeName[]> = { kafka: KAFKA_NODES, hdfs: HDFS_NODES };

export async function kafkaClasspath(log: Log = () => {}): Promise<string> {
  return classpath(await ensureJars('kafka', log));
}

export async function hdfsClasspath(c: ClusterConfig, log: Log = () => {}): Promise<string> {
  return classpath(await ensureJars('hdfs', log), [hdfsConfDir(c)]);
}

function running(c: ClusterConfig, nodes: readonly NodeName[]): NodeName[] {
  return nodes.filter((n) => alivePid(c.dir, n) !== undefined);
}

/** Ports and folders cannot change under running nodes: name the conflict instead of half-applying it. */
function checkUnchanged(saved: ClusterConfig | undefined, wanted: ClusterConfig): void {
  if (!saved) return;
  const live = running(saved, [...KAFKA_NODES, ...HDFS_NODES]);
  if (live.length === 0) return;
  const shape = (c: ClusterConfig) => JSON.stringify({ k: c.kafka, h: c.hdfs });
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
      const started: NodeName[] = [];
      let topicsCreated: string[] = [];
      const upKafka = async () => {
        const cp = await kafkaClasspath(log);
        await writeKafkaConfig(c);
        const todo = KAFKA_NODES.filter((n) => alivePid(c.dir, n) === undefined);
        if (todo.length > 0) {
          await checkPortsFree(c, todo);
          await formatKafka(c, cp, log);
          log(`starting Kafka: ${todo.join(', ')} …`);
          for (const n of todo) await startKafkaNode(c, n, cp);
          started.push(...todo);
        }
        await Promise.all(
          KAFKA_NODES.map(async (n) => {
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
      await Promise.all([
        parts.includes('kafka') ? upKafka() : undefined,
        parts.includes('hdfs') ? upHdfs() : undefined,
      ]);
      return {
        config: c,
        started,
        topicsCreated,
        kafkaBootstrap: kafkaBootstrap(c),
        webhdfsUrl: webhdfsUrl(c),
        elapsedMs: Date.now() - t0,
      };
    },
    { onWait: () => log(`waiting for another "cluster up" or "cluster down" in ${first.dir} …`) },
  );
}

export interface DownOptions {
  dir?: string;
  parts?: Part[];
  /** delete data, logs and configuration too */
  wipe?: boolean;
  log?: Log;
}

/** Stops the nodes this directory started (SIGTERM, SIGKILL after a grace period), brokers before the controller. */
export async function clusterDown(o: DownOptions = {}): Promise<{ stopped: NodeName[] }> {
  const log = o.log ?? (() => {});
  const c = resolveConfig({ dir: o.dir });
  const parts = o.parts && o.parts.length > 0 ? o.parts : (['kafka', 'hdfs'] as Part[]);
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
              ['broker-1', 'broker-2'],
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
    ]);
    if (o.wipe) {
      const dirs = parts.map((p) => `${c.dir}/${p}`);
      log(`deleting ${dirs.join(', ')}`);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
      if (parts.length === 2) await rm(c.dir, { recursive: true, force: true });
    }
    return { stopped };
  });
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
    } else {
      const h = node as HdfsNode;
      if (alivePid(c.dir, h) === undefined) {
        await checkPortsFree(c, [h]);
        await startHdfsNode(c, h, await hdfsClasspath(c, opts.log));
      }
      await waitHdfsNode(c, h, timeoutMs);
    }
  });
}

export { PART_NODES };
