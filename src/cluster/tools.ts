// Apache's own command-line tools from the cluster's jars, for acceptance tests and benchmarks that want
// an independent witness: Kafka's ConsoleConsumer and ProducerPerformance, Hadoop's FsShell (`hdfs dfs`).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import { hdfsClasspath, kafkaClasspath } from './cluster.ts';
import { type ClusterConfig, DEFAULT_CLUSTER_DIR, kafkaBootstrap, loadConfig } from './config.ts';
import { hdfsJvm } from './hdfs.ts';
import { jarCacheRoot } from './jars.ts';
import { withAdmin } from './kafka.ts';
import { runJava } from './processes.ts';

function configIn(dir: string): ClusterConfig {
  const c = loadConfig(dir);
  if (!c)
    throw new LakestreamError(
      'NOT_FOUND',
      `no cluster in ${dir}: run "lakestream cluster up --dir ${dir}" first`,
    );
  return c;
}

// Tools log to stderr at WARN, so their stdout is only their output (log4j 2's default would print to stdout).
const TOOLS_LOG4J2 = `status = error
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = ERR
`;

async function kafkaToolJvm(): Promise<string[]> {
  const file = join(jarCacheRoot(), 'kafka-tools-log4j2.properties');
  await mkdir(jarCacheRoot(), { recursive: true });
  await writeFile(file, TOOLS_LOG4J2);
  return ['-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${file}`];
}

/** Runs any Kafka tool class (e.g. org.apache.kafka.tools.TopicCommand) with the cluster's Kafka jars. */
export async function runKafkaTool(
  mainClass: string,
  args: string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return runJava({
    classpath: await kafkaClasspath(),
    mainClass,
    args,
    jvm: await kafkaToolJvm(),
    timeoutMs: opts.timeoutMs,
    what: `${mainClass.split('.').pop()} ${args.join(' ')}`,
  });
}

export interface ConsoleConsumeOptions {
  topic: string;
  /** default: the brokers of the cluster in `dir` */
  bootstrap?: string;
  dir?: string;
  /** stop after this many messages */
  maxMessages?: number;
  /** stop when no message arrives for this long (default 10 s) */
  idleTimeoutMs?: number;
  /** default true */
  fromBeginning?: boolean;
  group?: string;
  /** print key, partition and offset before each value (tab-separated) */
  printMetadata?: boolean;
}

/**
 * Reads a topic with Kafka's own org.apache.kafka.tools.consumer.ConsoleConsumer and returns its lines
 * (values as UTF-8 text; with printMetadata: "Partition:P\tOffset:O\tKEY\tVALUE").
 */
export async function consoleConsume(o: ConsoleConsumeOptions): Promise<string[]> {
  const bootstrap = o.bootstrap ?? kafkaBootstrap(configIn(o.dir ?? DEFAULT_CLUSTER_DIR));
  const args = [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    o.topic,
    '--timeout-ms',
    String(o.idleTimeoutMs ?? 10_000),
  ];
  if (o.fromBeginning ?? true) args.push('--from-beginning');
  if (o.maxMessages !== undefined) args.push('--max-messages', String(o.maxMessages));
  if (o.group !== undefined) args.push('--group', o.group);
  if (o.printMetadata)
    for (const p of ['print.partition=true', 'print.offset=true', 'print.key=true'])
      args.push('--formatter-property', p);
  const { stdout } = await runKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', args);
  return stdout.split('\n').filter((l) => l.length > 0);
}

export interface ProducerPerformanceOptions {
  topic: string;
  numRecords: number;
  recordSize: number;
  /** records per second; -1 (default) for as fast as possible */
  throughput?: number;
  bootstrap?: string;
  dir?: string;
  /** producer settings, e.g. { acks: 'all', 'linger.ms': '5' } (default acks=all, idempotence on) */
  producerProps?: Record<string, string>;
}

export interface ProducerPerformanceResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** the tool's whole output */
  output: string;
}

/** Kafka's own producer benchmark (org.apache.kafka.tools.ProducerPerformance), its summary parsed. */
export async function producerPerformance(o: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  const bootstrap = o.bootstrap ?? kafkaBootstrap(configIn(o.dir ?? DEFAULT_CLUSTER_DIR));
  // the brokers do not create topics on demand, and the tool would wait max.block.ms on every record
  const topics = await withAdmin(bootstrap, (admin) => admin.listTopics());
  if (!topics.includes(o.topic))
    throw new LakestreamError(
      'NOT_FOUND',
      `topic ${o.topic} does not exist on ${bootstrap}; create it first`,
    );
  const props = { acks: 'all', 'enable.idempotence': 'true', ...o.producerProps };
  const { stdout } = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    o.topic,
    '--num-records',
    String(o.numRecords),
    '--record-size',
    String(o.recordSize),
    '--throughput',
    String(o.throughput ?? -1),
    '--command-property',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ]);
  return parseProducerPerformance(stdout);
}

/** Parses the last line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P ms 50th, … 99.9th." */
export function parseProducerPerformance(output: string): ProducerPerformanceResult {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      output,
    );
  if (!m)
    throw new LakestreamError(
      'BAD_INPUT',
      `no summary line in ProducerPerformance's output:\n${output.slice(-1500)}`,
    );
  const n = m.slice(1).map(Number);
  return {
    records: n[0],
    recordsPerSec: n[1],
    mbPerSec: n[2],
    avgLatencyMs: n[3],
    maxLatencyMs: n[4],
    p50Ms: n[5],
    p95Ms: n[6],
    p99Ms: n[7],
    p999Ms: n[8],
    output,
  };
}

/**
 * Hadoop's FsShell (what `hdfs dfs …` runs) against the cluster in `dir`, as its HDFS user unless `user`
 * is given; e.g. fsShell(['-ls', '-R', '/lakestream']). Returns stdout; rejects with stderr on failure.
 */
export async function fsShell(
  args: string[],
  opts: { dir?: string; user?: string; timeoutMs?: number } = {},
): Promise<string> {
  const c = configIn(opts.dir ?? DEFAULT_CLUSTER_DIR);
  const { stdout } = await runJava({
    classpath: await hdfsClasspath(c),
    mainClass: 'org.apache.hadoop.fs.FsShell',
    args,
    jvm: [...hdfsJvm(512), '-XX:TieredStopAtLevel=1'],
    // simple authentication: the client is whoever HADOOP_USER_NAME says
    env: { HADOOP_USER_NAME: opts.user ?? c.hdfs.user },
    timeoutMs: opts.timeoutMs ?? 120_000,
    what: `hdfs dfs ${args.join(' ')}`,
  });
  return stdout;
}
