// Spark from Maven jars on 127.0.0.1: a standalone master, one worker (its executors launched by Spark's
// launcher from a SPARK_HOME whose jars/ is the jar cache) and a Spark Connect server as the driver.

import { readlinkSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SparkConnectClient } from '../engine/spark/index.ts';
import { LakestreamError } from '../errors.ts';
import { type ClusterConfig, type SparkNode, sparkConnectUrl, sparkMasterUrl } from './config.ts';
import { alivePid, logFile, portOpen, startDaemon, waitUntil } from './processes.ts';

export function sparkDir(c: ClusterConfig): string {
  return join(c.dir, 'spark');
}

/** SPARK_HOME for the worker's launcher: jars/ (a link to the jar cache) and conf/ (log4j2.properties). */
export function sparkHome(c: ClusterConfig): string {
  return join(sparkDir(c), 'home');
}

export function sparkConfDir(c: ClusterConfig): string {
  return join(sparkHome(c), 'conf');
}

// Daemons log their life cycle at INFO (up waits on those lines); Spark's chatter stays at WARN.
const LOG4J2 = `# Spark logging for the local cluster (written by lakestream cluster up)
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.master.name = org.apache.spark.deploy.master.Master
logger.master.level = info
logger.worker.name = org.apache.spark.deploy.worker
logger.worker.level = info
logger.connect.name = org.apache.spark.sql.connect.service.SparkConnectServer
logger.connect.level = info
logger.executor.name = org.apache.spark.executor.CoarseGrainedExecutorBackend
logger.executor.level = info
logger.cluster.name = org.apache.spark.scheduler.cluster.StandaloneSchedulerBackend
logger.cluster.level = info
`;

/** Links SPARK_HOME/jars to the jar folder and writes the logging configuration. */
export async function writeSparkConfig(c: ClusterConfig, jarFolder: string): Promise<void> {
  await mkdir(sparkConfDir(c), { recursive: true });
  await mkdir(join(sparkDir(c), 'work'), { recursive: true });
  await mkdir(join(sparkDir(c), 'tmp'), { recursive: true });
  const link = join(sparkHome(c), 'jars');
  let current: string | undefined;
  try {
    current = readlinkSync(link);
  } catch {
    current = undefined;
  }
  if (current !== jarFolder) {
    await rm(link, { recursive: true, force: true });
    await symlink(jarFolder, link);
  }
  await writeFile(join(sparkConfDir(c), 'log4j2.properties'), LOG4J2);
}

/** What Spark's launcher adds on Java 17 (launcher/…/JavaModuleOptions.java): its code reflects into these. */
export const SPARK_JAVA_OPTIONS = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  '--add-modules=jdk.incubator.vector',
  ...[
    'java.lang',
    'java.lang.invoke',
    'java.lang.reflect',
    'java.io',
    'java.net',
    'java.nio',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'jdk.internal.ref',
    'sun.nio.ch',
    'sun.nio.cs',
    'sun.security.action',
    'sun.util.calendar',
  ].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
  '-Djdk.reflect.useDirectMethodHandle=false',
  '-Dio.netty.tryReflectionSetAccessible=true',
];

function sparkJvm(heapMb: number): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 128)}m`,
    ...SPARK_JAVA_OPTIONS,
    '-Djava.awt.headless=true',
  ];
}

/**
 * The environment of every Spark process. SPARK_SCALA_VERSION: without it the launcher looks for build
 * directories and every executor fails; SPARK_LOCAL_IP: web UIs and ephemeral ports bind 127.0.0.1, not
 * every interface; HADOOP_USER_NAME: HDFS sees the cluster's superuser, so Spark may write to the lake.
 */
export function sparkEnv(c: ClusterConfig): Record<string, string> {
  return {
    SPARK_HOME: sparkHome(c),
    SPARK_CONF_DIR: sparkConfDir(c),
    SPARK_SCALA_VERSION: '2.13',
    SPARK_LOCAL_IP: c.host,
    SPARK_LOCAL_DIRS: join(sparkDir(c), 'tmp'),
    HADOOP_USER_NAME: c.hdfs.user,
  };
}

/** The Spark Connect server's configuration (Spark reads spark.* system properties into its SparkConf). */
export function connectConf(c: ClusterConfig): Record<string, string> {
  const tag = `-Dlakestream.node=spark-executor "-Dlakestream.cluster=${c.dir}"`;
  return {
    'spark.master': sparkMasterUrl(c),
    'spark.app.name': 'lakestream Spark Connect',
    'spark.driver.host': c.host,
    'spark.driver.bindAddress': c.host,
    'spark.ui.enabled': 'false',
    'spark.connect.grpc.binding.address': c.host,
    'spark.connect.grpc.binding.port': String(c.spark.connectPort),
    'spark.executor.memory': `${c.spark.executorMemoryMb}m`,
    'spark.cores.max': String(c.spark.workerCores),
    // tagged like the nodes, so an executor left behind by a killed worker can be found by its command line
    'spark.executor.extraJavaOptions': tag,
    'spark.executorEnv.HADOOP_USER_NAME': c.hdfs.user,
    'spark.sql.extensions': 'io.delta.sql.DeltaSparkSessionExtension',
    'spark.sql.catalog.spark_catalog': 'org.apache.spark.sql.delta.catalog.DeltaCatalog',
    'spark.sql.session.timeZone': 'UTC',
    'spark.sql.warehouse.dir': join(sparkDir(c), 'warehouse'),
    // the cluster's HDFS keeps 2 replicas on its 2 DataNodes, and writes on with one of them down
    'spark.hadoop.dfs.replication': '2',
    'spark.hadoop.dfs.client.block.write.replace-datanode-on-failure.best-effort': 'true',
    // small machine: a handful of shuffle partitions instead of 200
    'spark.sql.shuffle.partitions': String(4 * c.spark.workerCores),
  };
}

/**
 * Where the master keeps its workers and applications, so a master restarted after a crash takes them
 * back: without it the Connect server's application stays cut off ("waiting for master to reconnect")
 * and every query hangs.
 */
export function masterRecoveryDir(c: ClusterConfig): string {
  return join(sparkDir(c), 'recovery');
}

export async function startSparkNode(c: ClusterConfig, node: SparkNode, cp: string): Promise<number> {
  const common = { dir: c.dir, node, classpath: cp, env: sparkEnv(c) };
  switch (node) {
    case 'spark-master':
      // with no worker and no driver left there is nothing to recover; a stale record would hold the
      // master in RECOVERING until it timed the dead out (60 s)
      if (alivePid(c.dir, 'spark-worker') === undefined && alivePid(c.dir, 'spark-connect') === undefined)
        await rm(masterRecoveryDir(c), { recursive: true, force: true });
      return startDaemon({
        ...common,
        mainClass: 'org.apache.spark.deploy.master.Master',
        args: [
          '--host',
          c.host,
          '--port',
          String(c.spark.masterPort),
          '--webui-port',
          String(c.spark.masterUiPort),
        ],
        jvm: [
          ...sparkJvm(c.heapMb['spark-master']),
          '-Dspark.master.rest.enabled=false',
          '-Dspark.deploy.recoveryMode=FILESYSTEM',
          `-Dspark.deploy.recoveryDirectory=${masterRecoveryDir(c)}`,
        ],
      });
    case 'spark-worker':
      return startDaemon({
        ...common,
        mainClass: 'org.apache.spark.deploy.worker.Worker',
        args: [
          sparkMasterUrl(c),
          '--host',
          c.host,
          '--cores',
          String(c.spark.workerCores),
          '--memory',
          `${c.spark.workerMemoryMb}m`,
          '--webui-port',
          String(c.spark.workerUiPort),
          '--work-dir',
          join(sparkDir(c), 'work'),
        ],
        jvm: sparkJvm(c.heapMb['spark-worker']),
      });
    case 'spark-connect':
      return startDaemon({
        ...common,
        mainClass: 'org.apache.spark.sql.connect.service.SparkConnectServer',
        args: [],
        jvm: [
          ...sparkJvm(c.heapMb['spark-connect']),
          ...Object.entries(connectConf(c)).map(([k, v]) => `-D${k}=${v}`),
        ],
      });
  }
}

export interface MasterWorker {
  id: string;
  webuiaddress: string;
  state: string;
  cores: number;
  coresused: number;
  memory: number;
  memoryused: number;
}

export interface MasterApp {
  id: string;
  name: string;
  cores: number;
  state: string;
}

export interface MasterState {
  status: string;
  workers: MasterWorker[];
  activeapps: MasterApp[];
}

/** The master's own view (its web UI's /json): ALIVE or not, the workers and the applications. */
export async function masterState(c: ClusterConfig): Promise<MasterState> {
  const url = `http://${c.host}:${c.spark.masterUiPort}/json/`;
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new LakestreamError('UNAVAILABLE', `the Spark master at ${url} answered ${res.status}`);
  return (await res.json()) as MasterState;
}

/** This cluster's worker as the master lists it (by its web UI port), if registered and alive. */
export function ourWorker(c: ClusterConfig, m: MasterState): MasterWorker | undefined {
  return m.workers.find((w) => w.webuiaddress.endsWith(`:${c.spark.workerUiPort}`) && w.state === 'ALIVE');
}

/** The Spark Connect server's application as the master lists it (RUNNING, or WAITING for executors). */
export function connectApp(c: ClusterConfig, m: MasterState): MasterApp | undefined {
  return m.activeapps.find((a) => a.name === connectConf(c)['spark.app.name']);
}

/** Whether the Connect server answers a real query (SELECT 1, through lakestream's Spark Connect client). */
export async function connectAnswers(c: ClusterConfig, timeoutMs = 10_000): Promise<boolean> {
  const client = await SparkConnectClient.connect(sparkConnectUrl(c), { timeoutMs });
  try {
    const t = await client.sql('SELECT 1 AS one', { signal: AbortSignal.timeout(timeoutMs) });
    return Number(t.getChild('one')?.get(0)) === 1;
  } finally {
    await client.close();
  }
}

/** Bytes in a node's log now: a wait for a log line reads only what comes after. */
export function logSize(c: ClusterConfig, node: SparkNode): number {
  try {
    return statSync(logFile(c.dir, node)).size;
  } catch {
    return 0;
  }
}

async function logSince(c: ClusterConfig, node: SparkNode, offset: number): Promise<string> {
  try {
    return (await readFile(logFile(c.dir, node), 'utf8')).slice(offset);
  } catch {
    return '';
  }
}

/**
 * Waits until a node does its job: the master is ALIVE, the worker registered with it, the Connect
 * server answering SELECT 1 — and, when it was just started (logOffset: where its log stood then), first
 * its start line, so a query does not go to a server still setting up.
 */
export async function waitSparkNode(
  c: ClusterConfig,
  node: SparkNode,
  timeoutMs: number,
  logOffset?: number,
): Promise<void> {
  const opts = { timeoutMs, dir: c.dir, node, intervalMs: 500 };
  switch (node) {
    case 'spark-master':
      await waitUntil(
        `the Spark master at ${sparkMasterUrl(c)} to be elected`,
        async () => (await portOpen(c.host, c.spark.masterPort)) && (await masterState(c)).status === 'ALIVE',
        opts,
      );
      return;
    case 'spark-worker':
      await waitUntil(
        `the Spark worker to register with ${sparkMasterUrl(c)}`,
        async () => ourWorker(c, await masterState(c)) !== undefined,
        opts,
      );
      return;
    case 'spark-connect':
      if (logOffset !== undefined)
        await waitUntil(
          `Spark Connect at ${sparkConnectUrl(c)} to start`,
          async () =>
            (await logSince(c, node, logOffset)).includes('Spark Connect server started') &&
            (await portOpen(c.host, c.spark.connectPort)),
          opts,
        );
      await waitUntil(
        `Spark Connect at ${sparkConnectUrl(c)} to answer SELECT 1`,
        () => connectAnswers(c),
        opts,
      );
      return;
  }
}
