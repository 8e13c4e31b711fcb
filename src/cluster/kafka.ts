// Kafka in KRaft mode from Apache's jars: 1 dedicated controller + 2 (or 3) brokers on 127.0.0.1, their
// properties, storage format, start, health (brokers registered) and the workloads' topics.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { TOPICS } from '../domain/topics.ts';
import { LakestreamError } from '../errors.ts';
import {
  type ClusterConfig,
  type KafkaNode,
  kafkaBootstrap,
  kafkaNodes,
  nodePort,
  topicDurability,
} from './config.ts';
import { alivePid, portOpen, runJava, startDaemon, waitUntil } from './processes.ts';

/** node.id per node; unique across roles. The controller alone is the metadata quorum, so losing a broker keeps it. */
export const KAFKA_NODE_IDS: Record<KafkaNode, number> = {
  controller: 1,
  'broker-1': 2,
  'broker-2': 3,
  'broker-3': 4,
};

/** Every topic the workloads use; `up` creates them (replication factor 2, or 3 with 3 brokers). */
export const CLUSTER_TOPICS: readonly string[] = Object.values(TOPICS);

export function kafkaDir(c: ClusterConfig): string {
  return join(c.dir, 'kafka');
}

function propertiesPath(c: ClusterConfig, node: KafkaNode): string {
  return join(kafkaDir(c), `${node}.properties`);
}

function log4jPath(c: ClusterConfig): string {
  return join(kafkaDir(c), 'log4j2.properties');
}

/** Topic defaults the issues ask for. The controller applies them when it creates a topic (and, since
 *  Kafka 4.1, the cluster-level min ISR comes from the active controller), so every node carries them. */
function topicDefaults(c: ClusterConfig): Record<string, string | number | boolean> {
  const { replication, minInsync } = topicDurability(c);
  return {
    // 2 brokers: 1, not 2 (an acks=all producer would stall while one of the two is down);
    // 3 brokers: 2, so an acknowledged write is on two brokers and one may die (topicDurability)
    'min.insync.replicas': minInsync,
    'unclean.leader.election.enable': false,
    // the default 3 cannot be met by two brokers and would break consumer groups and transactions
    'offsets.topic.replication.factor': replication,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': minInsync,
    'share.coordinator.state.topic.replication.factor': replication,
    'share.coordinator.state.topic.min.isr': minInsync,
    // topics are created on purpose (by `up` or the transport's ensureTopic); a typo should fail
    'auto.create.topics.enable': false,
  };
}

export function kafkaProperties(
  c: ClusterConfig,
  node: KafkaNode,
): Record<string, string | number | boolean> {
  const h = c.host;
  const common = {
    'node.id': KAFKA_NODE_IDS[node],
    // static quorum: one voter, the dedicated controller
    'controller.quorum.voters': `${KAFKA_NODE_IDS.controller}@${h}:${c.kafka.controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': join(kafkaDir(c), 'data', node),
    ...topicDefaults(c),
  };
  if (node === 'controller')
    return {
      'process.roles': 'controller',
      ...common,
      // topic creation defaults belong to the controller in KRaft (brokers warn they ignore them in 5.0)
      'num.partitions': c.kafka.partitions,
      'default.replication.factor': topicDurability(c).replication,
      listeners: `CONTROLLER://${h}:${c.kafka.controllerPort}`,
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT',
    };
  const port = nodePort(c, node);
  return {
    'process.roles': 'broker',
    ...common,
    listeners: `PLAINTEXT://${h}:${port}`,
    'advertised.listeners': `PLAINTEXT://${h}:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    // tests and demos form groups often; the 3 s default only slows them
    'group.initial.rebalance.delay.ms': 0,
    // a broker gives up (exits) when the controller does not answer in time; on a small, busy machine
    // the controller may start slower than the brokers started beside it (default 60 s)
    'initial.broker.registration.timeout.ms': 300_000,
  };
}

const LOG4J2 = `# Kafka node logging (log4j 2; Kafka 4 ignores log4j 1 .properties files)
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server
logger.server.level = info
logger.controller.name = org.apache.kafka.controller
logger.controller.level = info
`;

export async function writeKafkaConfig(c: ClusterConfig): Promise<void> {
  await mkdir(kafkaDir(c), { recursive: true });
  await writeFile(log4jPath(c), LOG4J2);
  for (const node of kafkaNodes(c)) {
    const props = kafkaProperties(c, node);
    const text = Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    await writeFile(propertiesPath(c, node), `# written by lakestream cluster up\n${text}\n`);
  }
}

/** The cluster id all nodes are formatted with, made once per cluster directory. */
async function clusterId(c: ClusterConfig): Promise<string> {
  const file = join(kafkaDir(c), 'cluster-id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  // Kafka's Uuid: 16 random bytes, base64url without padding; one starting with '-' would read as a flag
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  await writeFile(file, `${id}\n`);
  return id;
}

function isFormatted(c: ClusterConfig, node: KafkaNode): boolean {
  return existsSync(join(kafkaDir(c), 'data', node, 'meta.properties'));
}

/** Formats the storage of every node not formatted yet, in parallel (each is a JVM start). */
export async function formatKafka(c: ClusterConfig, cp: string, log: (s: string) => void): Promise<void> {
  const todo = kafkaNodes(c).filter((n) => !isFormatted(c, n));
  if (todo.length === 0) return;
  const id = await clusterId(c);
  log(`formatting Kafka storage (${todo.join(', ')}) …`);
  await Promise.all(
    todo.map((node) =>
      runJava({
        classpath: cp,
        mainClass: 'kafka.tools.StorageTool',
        // --ignore-formatted: a node formatted by an earlier, interrupted `up` is left as it is
        args: ['format', '-t', id, '-c', propertiesPath(c, node), '--ignore-formatted'],
        jvm: ['-Xmx256m', `-Dlog4j2.configurationFile=${log4jPath(c)}`, '-XX:TieredStopAtLevel=1'],
        what: `formatting Kafka storage of ${node}`,
      }),
    ),
  );
}

export function kafkaJvm(c: ClusterConfig, node: KafkaNode): string[] {
  const heap = c.heapMb[node];
  return [
    `-Xmx${heap}m`,
    `-Xms${Math.min(heap, 256)}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jPath(c)}`,
  ];
}

export function startKafkaNode(c: ClusterConfig, node: KafkaNode, cp: string): Promise<number> {
  return startDaemon({
    dir: c.dir,
    node,
    classpath: cp,
    mainClass: 'kafka.Kafka',
    args: [propertiesPath(c, node)],
    jvm: kafkaJvm(c, node),
  });
}

/** Runs `f` with an admin client of the cluster (or of a bootstrap list) and closes it. */
export async function withAdmin<T>(c: ClusterConfig | string, f: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({
    clientId: 'lakestream-cluster',
    bootstrapBrokers: (typeof c === 'string' ? c : kafkaBootstrap(c)).split(','),
    timeout: 5000,
    retries: 1,
    retryDelay: 200,
  });
  try {
    return await f(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Broker ids the cluster's metadata lists (brokers registered with the controller and not fenced). */
export async function registeredBrokers(c: ClusterConfig, via?: number): Promise<number[]> {
  const ports = via === undefined ? c.kafka.brokerPorts : [via];
  const up = await Promise.all(ports.map((p) => portOpen(c.host, p, 1000)));
  if (!up.some(Boolean)) return [];
  const bootstrap = ports
    .filter((_, i) => up[i])
    .map((p) => `${c.host}:${p}`)
    .join(',');
  return withAdmin(bootstrap, async (admin) => {
    const md = await admin.metadata({ topics: [], forceUpdate: true });
    return [...md.brokers.keys()].sort((a, b) => a - b);
  });
}

export async function waitKafkaNode(c: ClusterConfig, node: KafkaNode, timeoutMs: number): Promise<void> {
  const port = nodePort(c, node);
  await waitUntil(`${node} to listen on ${c.host}:${port}`, () => portOpen(c.host, port), {
    timeoutMs,
    dir: c.dir,
    node,
  });
  if (node === 'controller') return;
  const id = KAFKA_NODE_IDS[node];
  // asked of the broker itself: the others may still list a killed broker's old registration
  await waitUntil(
    `${node} (node ${id}) to register with the controller`,
    async () => (await registeredBrokers(c, port)).includes(id),
    { timeoutMs, dir: c.dir, node, intervalMs: 500 },
  );
}

export interface TopicState {
  name: string;
  partitions: number;
  /** the smallest replica count over the partitions */
  replicationFactor: number;
  /** partitions whose in-sync replicas are fewer than their replicas */
  underReplicated: number;
  /** partitions without a leader */
  offline: number;
}

export async function describeTopics(
  c: ClusterConfig,
  names: readonly string[] = CLUSTER_TOPICS,
): Promise<TopicState[]> {
  // only brokers that answer: with one down, a client bootstrapped on both can fail on the dead one
  const open = await Promise.all(c.kafka.brokerPorts.map((p) => portOpen(c.host, p, 1000)));
  const live = c.kafka.brokerPorts.filter((_, i) => open[i]).map((p) => `${c.host}:${p}`);
  return withAdmin(live.length > 0 ? live.join(',') : c, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const wanted = names.filter((n) => existing.has(n));
    if (wanted.length === 0) return [];
    const md = await admin.metadata({ topics: wanted, forceUpdate: true });
    return wanted.map((name) => {
      const t = md.topics.get(name)!;
      const parts = t.partitions.filter(Boolean);
      return {
        name,
        partitions: t.partitionsCount,
        replicationFactor: Math.min(...parts.map((p) => p.replicas.length)),
        underReplicated: parts.filter((p) => p.isr.length < p.replicas.length).length,
        offline: parts.filter((p) => p.leader < 0).length,
      };
    });
  });
}

/** Creates the workloads' topics that are missing: `partitions` each, replicated as topicDurability says. */
export async function ensureTopics(c: ClusterConfig, log: (s: string) => void): Promise<string[]> {
  return withAdmin(c, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = CLUSTER_TOPICS.filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    const { replication, minInsync } = topicDurability(c);
    log(
      `creating topics ${missing.join(', ')} (${c.kafka.partitions} partitions, replication factor ${replication}, min.insync.replicas ${minInsync})`,
    );
    try {
      await admin.createTopics({
        topics: missing,
        partitions: c.kafka.partitions,
        replicas: replication,
        configs: [
          { name: 'min.insync.replicas', value: String(minInsync) },
          { name: 'unclean.leader.election.enable', value: 'false' },
        ],
      });
    } catch (e) {
      // a concurrent `up` may have created some of them; anything else is a real failure
      const now = new Set(await admin.listTopics());
      if (!missing.every((t) => now.has(t)))
        throw new LakestreamError(
          'UNAVAILABLE',
          `cannot create topics ${missing.join(', ')} on ${kafkaBootstrap(c)}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
    }
    return missing;
  });
}

export function kafkaNodeAlive(c: ClusterConfig, node: KafkaNode): boolean {
  return alivePid(c.dir, node) !== undefined;
}
