// The local cluster's shape: node names, ports, heaps and its directory; saved in <dir>/cluster.json by `up`.

import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LakestreamError } from '../errors.ts';

export const DEFAULT_CLUSTER_DIR = './.lakestream/cluster';

export type KafkaNode = 'controller' | 'broker-1' | 'broker-2' | 'broker-3';
export type HdfsNode = 'namenode' | 'datanode-1' | 'datanode-2';
export type SparkNode = 'spark-master' | 'spark-worker' | 'spark-connect';
export type NodeName = KafkaNode | HdfsNode | SparkNode;
export type Part = 'kafka' | 'hdfs' | 'spark';

/** Every Kafka node a cluster may have; broker-3 only in a 3-broker cluster (`kafkaNodes`). */
export const KAFKA_NODES: readonly KafkaNode[] = ['controller', 'broker-1', 'broker-2', 'broker-3'];
const BROKERS: readonly KafkaNode[] = ['broker-1', 'broker-2', 'broker-3'];
export const HDFS_NODES: readonly HdfsNode[] = ['namenode', 'datanode-1', 'datanode-2'];
export const SPARK_NODES: readonly SparkNode[] = ['spark-master', 'spark-worker', 'spark-connect'];
export const ALL_NODES: readonly NodeName[] = [...KAFKA_NODES, ...HDFS_NODES, ...SPARK_NODES];
export const ALL_PARTS: readonly Part[] = ['kafka', 'hdfs', 'spark'];

export const PART_NODES: Record<Part, readonly NodeName[]> = {
  kafka: KAFKA_NODES,
  hdfs: HDFS_NODES,
  spark: SPARK_NODES,
};

export function partOf(node: NodeName): Part {
  return ALL_PARTS.find((p) => PART_NODES[p].includes(node))!;
}

export function isNodeName(s: string): s is NodeName {
  return (ALL_NODES as readonly string[]).includes(s);
}

export interface DataNodePorts {
  /** data transfer (dfs.datanode.address) */
  data: number;
  /** HTTP, where WebHDFS redirects reads and writes (dfs.datanode.http.address) */
  http: number;
  /** IPC (dfs.datanode.ipc.address) */
  ipc: number;
}

export interface ClusterConfig {
  /** absolute path of the directory holding data, logs, pid files */
  dir: string;
  host: '127.0.0.1';
  kafka: {
    controllerPort: number;
    /** broker-1, broker-2[, broker-3]: 2 brokers, or 3 (`up --brokers 3`) */
    brokerPorts: number[];
    /** partitions of the topics `up` creates */
    partitions: number;
  };
  hdfs: {
    rpcPort: number;
    httpPort: number;
    datanodes: [DataNodePorts, DataNodePorts];
    /** the HDFS superuser: owner of / and the user WebHDFS clients name (user.name) */
    user: string;
    replication: number;
  };
  spark: {
    /** the standalone master's RPC port (spark://127.0.0.1:7077) */
    masterPort: number;
    /** the master's web UI, whose /json answers health (the driver's UI is off) */
    masterUiPort: number;
    /** the worker's web UI; its RPC port is ephemeral, on 127.0.0.1 */
    workerUiPort: number;
    /** Spark Connect's gRPC port (sc://127.0.0.1:15002) */
    connectPort: number;
    workerCores: number;
    /** what the worker may give executors, in MB */
    workerMemoryMb: number;
    executorMemoryMb: number;
  };
  /** JVM heap per node, in MB (the machine has 2 cores and is shared: keep them small) */
  heapMb: Record<NodeName, number>;
}

export interface ConfigOverrides {
  dir?: string;
  portOffset?: number;
  controllerPort?: number;
  brokerPorts?: number[];
  /** 2 (default) or 3 brokers; the ports at the config's offset unless brokerPorts says */
  brokers?: number;
  partitions?: number;
  rpcPort?: number;
  httpPort?: number;
  hdfsUser?: string;
  /** the Spark executor's memory in MB (the worker offers at least as much) */
  sparkMemoryMb?: number;
}

/**
 * The largest port offset at which every port of a cluster (three brokers and Spark included) lies
 * below `port`: below the kernel's ephemeral range, no other program's connection can hold one when a
 * node starts or restarts.
 */
export function highestOffsetBelow(port: number): number {
  return port - 1 - Math.max(...clusterPorts(defaultConfig('/unused', 0)));
}

/** Every port a cluster's nodes listen on (a third broker's too). */
export function clusterPorts(c: ClusterConfig): number[] {
  return ALL_NODES.flatMap((n) => nodePorts(c, n));
}

/**
 * A warning when ports of the parts lie in the kernel's ephemeral range (`range`): an outgoing
 * connection of any program, or a listener on port 0 (Spark's driver), may hold one when its node
 * starts or restarts, and the node then fails to bind (seen with Spark Connect at offset 21,500).
 */
export function ephemeralPortsWarning(
  c: ClusterConfig,
  parts: readonly Part[],
  range: [number, number] | undefined,
): string | undefined {
  if (!range) return undefined;
  const nodes = parts.flatMap((p) => (p === 'kafka' ? kafkaNodes(c) : PART_NODES[p]));
  const inRange = nodes.flatMap((n) =>
    nodePorts(c, n)
      .filter((p) => p >= range[0] && p <= range[1])
      .map((p) => `${p} (${n})`),
  );
  if (inRange.length === 0) return undefined;
  const highest = highestOffsetBelow(range[0]);
  return (
    `warning: port${inRange.length > 1 ? 's' : ''} ${inRange.join(', ')} in the kernel's ephemeral range ` +
    `${range[0]}-${range[1]}, where other programs' connections take their ports: a node may fail to bind ` +
    `when it starts or restarts${highest >= 0 ? `; a --port-offset of ${highest} or less keeps every port below it` : ''}`
  );
}

export function defaultConfig(dir: string = DEFAULT_CLUSTER_DIR, portOffset = 0): ClusterConfig {
  const p = (n: number) => n + portOffset;
  return {
    dir: resolve(dir),
    host: '127.0.0.1',
    kafka: { controllerPort: p(9093), brokerPorts: [p(9092), p(9094)], partitions: 6 },
    hdfs: {
      rpcPort: p(8020),
      httpPort: p(9870),
      datanodes: [
        { data: p(9866), http: p(9864), ipc: p(9867) },
        { data: p(9876), http: p(9874), ipc: p(9877) },
      ],
      // fixed, not $USER: the same on every machine (CI runs as root); the OS user is a superuser too (core-site)
      user: 'lakestream',
      replication: 2,
    },
    spark: {
      masterPort: p(7077),
      masterUiPort: p(8080),
      workerUiPort: p(8081),
      connectPort: p(15002),
      workerCores: 2,
      workerMemoryMb: 2048,
      executorMemoryMb: 1024,
    },
    heapMb: {
      controller: 512,
      'broker-1': 1024,
      'broker-2': 1024,
      'broker-3': 1024,
      namenode: 1024,
      'datanode-1': 512,
      'datanode-2': 512,
      'spark-master': 256,
      'spark-worker': 256,
      // the driver: Spark Connect sessions, query planning, results on their way to the client
      'spark-connect': 1024,
    },
  };
}

export function configPath(dir: string): string {
  return join(resolve(dir), 'cluster.json');
}

/** The configuration `up` saved in `dir`, or undefined when the cluster was never started there. */
export function loadConfig(dir: string): ClusterConfig | undefined {
  let text: string;
  try {
    text = readFileSync(configPath(dir), 'utf8');
  } catch {
    return undefined;
  }
  let c: ClusterConfig;
  try {
    c = JSON.parse(text) as ClusterConfig;
  } catch (e) {
    throw new LakestreamError('BAD_INPUT', `cluster configuration ${configPath(dir)} is not valid JSON`, {
      cause: e,
    });
  }
  // a cluster.json from before Spark joined: Spark's ports at the offset its Kafka ports have
  const d = defaultConfig(dir, c.kafka.controllerPort - 9093);
  return { ...c, spark: c.spark ?? d.spark, heapMb: { ...d.heapMb, ...c.heapMb }, dir: resolve(dir) };
}

/** The saved configuration (or the defaults) with the given overrides applied. */
export function resolveConfig(o: ConfigOverrides): ClusterConfig {
  const dir = o.dir ?? DEFAULT_CLUSTER_DIR;
  const base =
    o.portOffset !== undefined ? defaultConfig(dir, o.portOffset) : (loadConfig(dir) ?? defaultConfig(dir));
  const c: ClusterConfig = structuredClone(base);
  if (o.controllerPort !== undefined) c.kafka.controllerPort = o.controllerPort;
  if (o.brokers !== undefined && o.brokers !== 2 && o.brokers !== 3)
    throw new LakestreamError('BAD_ARGUMENT', `the cluster has 2 or 3 brokers, not ${o.brokers}`);
  if (o.brokers !== undefined && o.brokerPorts === undefined)
    c.kafka.brokerPorts = [9092, 9094, 9096]
      .slice(0, o.brokers)
      .map((p) => p + c.kafka.controllerPort - 9093);
  if (o.brokerPorts !== undefined) c.kafka.brokerPorts = o.brokerPorts;
  if (c.kafka.brokerPorts.length < 2 || c.kafka.brokerPorts.length > 3)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `the cluster has 2 or 3 brokers, not ${c.kafka.brokerPorts.length}`,
    );
  if (o.partitions !== undefined) c.kafka.partitions = o.partitions;
  if (o.rpcPort !== undefined) c.hdfs.rpcPort = o.rpcPort;
  if (o.httpPort !== undefined) c.hdfs.httpPort = o.httpPort;
  if (o.hdfsUser !== undefined) c.hdfs.user = o.hdfsUser;
  if (o.sparkMemoryMb !== undefined) {
    c.spark.executorMemoryMb = o.sparkMemoryMb;
    c.spark.workerMemoryMb = Math.max(c.spark.workerMemoryMb, o.sparkMemoryMb);
  }
  return c;
}

export async function saveConfig(c: ClusterConfig): Promise<void> {
  await mkdir(c.dir, { recursive: true });
  await writeFile(configPath(c.dir), `${JSON.stringify(c, null, 2)}\n`);
}

/** The brokers of this cluster: broker-1 and broker-2, and broker-3 in a 3-broker cluster. */
export function brokerNodes(c: ClusterConfig): KafkaNode[] {
  return BROKERS.slice(0, c.kafka.brokerPorts.length);
}

/** The controller and the brokers of this cluster. */
export function kafkaNodes(c: ClusterConfig): KafkaNode[] {
  return ['controller', ...brokerNodes(c)];
}

/**
 * Topic durability: with 3 brokers, replication factor 3 and min.insync.replicas 2 (an acks=all write
 * is on 2 brokers before it is acknowledged, and one broker may die); with 2, factor 2 and min ISR 1
 * (writes go on with one broker down, acknowledged by that one alone).
 */
export function topicDurability(c: ClusterConfig): { replication: number; minInsync: number } {
  return c.kafka.brokerPorts.length >= 3
    ? { replication: 3, minInsync: 2 }
    : { replication: 2, minInsync: 1 };
}

/** `127.0.0.1:9092,127.0.0.1:9094` */
export function kafkaBootstrap(c: ClusterConfig): string {
  return c.kafka.brokerPorts.map((p) => `${c.host}:${p}`).join(',');
}

/** `http://127.0.0.1:9870` — WebHDFS lives under /webhdfs/v1 there. */
export function webhdfsUrl(c: ClusterConfig): string {
  return `http://${c.host}:${c.hdfs.httpPort}`;
}

/** `sc://127.0.0.1:15002`, what a Spark Connect client dials */
export function sparkConnectUrl(c: ClusterConfig): string {
  return `sc://${c.host}:${c.spark.connectPort}`;
}

/** `spark://127.0.0.1:7077` */
export function sparkMasterUrl(c: ClusterConfig): string {
  return `spark://${c.host}:${c.spark.masterPort}`;
}

/** The port that tells whether a node is up. */
export function nodePort(c: ClusterConfig, node: NodeName): number {
  switch (node) {
    case 'controller':
      return c.kafka.controllerPort;
    case 'broker-1':
      return c.kafka.brokerPorts[0];
    case 'broker-2':
      return c.kafka.brokerPorts[1];
    case 'broker-3':
      return c.kafka.brokerPorts[2] ?? c.kafka.brokerPorts[1] + 2;
    case 'namenode':
      return c.hdfs.httpPort;
    case 'datanode-1':
      return c.hdfs.datanodes[0].http;
    case 'datanode-2':
      return c.hdfs.datanodes[1].http;
    case 'spark-master':
      return c.spark.masterPort;
    case 'spark-worker':
      return c.spark.workerUiPort;
    case 'spark-connect':
      return c.spark.connectPort;
  }
}

/** Every port a node binds, so `up` can tell when another process holds one. */
export function nodePorts(c: ClusterConfig, node: NodeName): number[] {
  switch (node) {
    case 'namenode':
      return [c.hdfs.rpcPort, c.hdfs.httpPort];
    case 'datanode-1':
    case 'datanode-2': {
      const d = c.hdfs.datanodes[node === 'datanode-1' ? 0 : 1];
      return [d.data, d.http, d.ipc];
    }
    case 'spark-master':
      return [c.spark.masterPort, c.spark.masterUiPort];
    default:
      return [nodePort(c, node)];
  }
}

/** The parts `--kafka`, `--hdfs`, `--spark` name; none named means all of them. */
export function partsFromFlags(values: { kafka?: boolean; hdfs?: boolean; spark?: boolean }): Part[] {
  const named = ALL_PARTS.filter((p) => values[p]);
  return named.length > 0 ? named : [...ALL_PARTS];
}
