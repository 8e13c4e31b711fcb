// Benchmark: lakestream's Kafka producer (acks=all, idempotent) against Kafka's own ProducerPerformance
// on the same local cluster, topic layout and message size, interleaved (ours, Java, ours, Java …) so a
// loaded machine weighs on both alike (goal: ≥ 1.0 × the Java producer with batches as large as ours,
// at the default codec); every codec runs both Java set-ups, so each row compares equal settings;
// then end-to-end latency from send to the consumer's committed offset.
//
// The cluster: LAKESTREAM_CLUSTER_DIR (default ./.lakestream/cluster), on the ports saved there by
// `cluster up --port-offset N`, or LAKESTREAM_PORT_OFFSET for a cluster this run starts.

import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { compressionsAlgorithms, createRecordsBatch, type MessageRecord } from '@platformatic/kafka';
import { clusterUp } from '../cluster/cluster.ts';
import { DEFAULT_CLUSTER_DIR } from '../cluster/config.ts';
import { alivePid } from '../cluster/processes.ts';
import { producerPerformance, runKafkaTool } from '../cluster/tools.ts';
import { encodeReading, type Reading } from '../domain/meters/reading.ts';
import { LakestreamError } from '../errors.ts';
import type { Message, Transport } from '../transport/index.ts';
import { type Compression, KafkaAdmin, openKafkaTransport, parseKafkaUrl } from '../transport/kafka/index.ts';
import { portOffsetFromEnv, procStat } from './processes.ts';

export interface KafkaBenchOptions {
  /** fewer messages, one compression (CI) */
  short?: boolean;
  /** codecs to run (`bench kafka lz4 snappy`); default: the default codec, then the others (--short: the default only) */
  args?: string[];
  /** print the result as JSON instead of a table */
  json?: boolean;
}

interface ProducerFigures {
  records: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  /** the 1-minute load average when the run started */
  load1: number;
  /** CPU (user + system) both brokers spent per message during the run: leader and follower work */
  brokersCpuUsPerMsg: number;
}

type JavaFigures = ProducerFigures & { p50Ms: number; p99Ms: number };

/** The median run (by msgs/s) and every run's msgs/s, in the order they ran. */
type Medians<F> = F & { runs: number[] };

type OurFigures = ProducerFigures & { cpuUsPerMsg: number };

export interface CompressionRow {
  compression: Compression;
  /** lakestream's producer; cpuUsPerMsg: this process's CPU (user + system) per message */
  lakestream: Medians<OurFigures>;
  /** ProducerPerformance with batches as large as lakestream's (batch.size 256 KB, linger.ms 20): equal settings */
  kafkaTuned: Medians<JavaFigures>;
  /** lakestream / kafkaTuned (medians): the figure the goal is about */
  ratioTuned: number;
  /** ProducerPerformance at the Java client's defaults (batch.size 16 KB, linger.ms 5) */
  kafkaProducerPerformance: Medians<JavaFigures>;
  /** lakestream / kafkaProducerPerformance (medians) */
  ratio: number;
}

/**
 * Where a record's CPU goes in this process, at one codec, without the network: the Kafka client's
 * encoding of one partition's batch (records, then compression, then the batch header and CRC), and
 * the compression alone. Medians of interleaved samples.
 */
export interface EncodingCost {
  compression: Compression;
  /** records in the batch: about one partition's share of a 900 KB request */
  recordsPerBatch: number;
  /** CPU µs per record for the whole batch encoding, compression included */
  batchUsPerRecord: number;
  /** CPU µs per record for the compression alone */
  compressUsPerRecord: number;
  /** uncompressed / compressed bytes of the batch's records */
  compressionRatio: number;
}

export interface KafkaBenchResult {
  bench: 'kafka';
  bootstrap: string;
  partitions: number;
  replication: number;
  messageBytes: number;
  acks: 'all';
  /** lakestream's default compression (the kafka:// URL's default) */
  defaultCompression: Compression;
  /** the codec of the headline ratios: the default one, unless the run named others only */
  headlineCompression: Compression;
  /** rounds of (lakestream, ProducerPerformance tuned, ProducerPerformance) at each codec */
  rounds: number;
  /** one per codec, the default codec first */
  rows: CompressionRow[];
  /** per codec, the client's batch encoding and the compression in it, CPU per record (no network) */
  encoding: EncodingCost[];
  /** the headline: at the default codec, against ProducerPerformance with batches as large as lakestream's */
  ratioTuned: number;
  /** at the default codec, against ProducerPerformance at the Java client's defaults */
  ratio: number;
  /** for ratioTuned */
  goal: number;
  meetsGoal: boolean;
  /** 1-minute load average before the first run and after the last (the machine is shared) */
  loadAverage: { before: number; after: number };
  endToEnd: { messages: number; ratePerSec: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Kafka's own org.apache.kafka.tools.EndToEndLatency on the same cluster (one message at a time, send → consumed) */
  kafkaEndToEndLatency?: { messages: number; p50Ms: number; p99Ms: number };
  /** lakestream measured like that tool: one message at a time, send → polled */
  oneAtATime?: { messages: number; p50Ms: number; p99Ms: number };
  note: string;
}

const PARTITIONS = 6;
const REPLICATION = 2;
const GOAL = 1.0;
/**
 * Messages handed to one send() call, and sends kept outstanding (~1.8 MB; Java's producer may buffer
 * 32 MB). `lakestream produce` hands 5,000 at a time, one send after another.
 */
const CHUNK = 500;
const OUTSTANDING = 16;

const log = (line: string) => process.stderr.write(`[bench kafka] ${line}\n`);

/**
 * Realistic readings: `meters` meters (ids ending in `suffix`), half-hourly from 2013-01-01, in the
 * wire format of schema v1. The bench sends them; the codec interop test too.
 */
export function benchReadings(n: number, meters = 200, suffix = ''): { key: string; value: Uint8Array }[] {
  const out: { key: string; value: Uint8Array }[] = [];
  const start = Date.UTC(2013, 0, 1);
  for (let i = 0; i < n; i++) {
    const meter = `MAC${String(i % meters).padStart(6, '0')}${suffix}`;
    const r: Reading = {
      v: 1,
      meter_id: meter,
      kind: 'electricity',
      ts: new Date(start + Math.floor(i / meters) * 1_800_000).toISOString().replace('.000Z', '+00:00'),
      value: Math.round(Math.abs(Math.sin(i)) * 1000) / 1000,
      unit: 'kWh',
      type: 'interval',
      seq: Math.floor(i / meters),
    };
    out.push({ key: meter, value: encodeReading(r) });
  }
  return out;
}

/** Topics this run made, deleted at its end. */
const scratch: string[] = [];

async function freshTopic(t: Transport, tag: string): Promise<string> {
  const name = `bench.kafka.${tag}-${randomBytes(3).toString('hex')}`;
  scratch.push(name);
  await t.ensureTopic(name, PARTITIONS);
  return name;
}

const load1 = () => Math.round(loadavg()[0] * 100) / 100;
const clusterDir = () => process.env.LAKESTREAM_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR;

/** CPU seconds the two brokers have used so far. */
async function brokersCpu(): Promise<number> {
  let s = 0;
  for (const node of ['broker-1', 'broker-2'] as const)
    s += (await procStat(alivePid(clusterDir(), node)))?.cpuS ?? Number.NaN;
  return s;
}

const perMsgUs = (seconds: number, msgs: number) => Math.round((seconds / msgs) * 1e8) / 100;

async function lakestreamProducer(
  t: Transport,
  topic: string,
  msgs: { key: string; value: Uint8Array }[],
): Promise<ProducerFigures & { cpuUsPerMsg: number }> {
  const p = await t.producer();
  // warm-up: connections, metadata and the idempotent producer id
  await p.send(topic, msgs.slice(0, 10));
  const load = load1();
  const brokers = await brokersCpu();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < msgs.length) {
      const from = next;
      next += CHUNK;
      await p.send(topic, msgs.slice(from, from + CHUNK));
    }
  };
  await Promise.all(Array.from({ length: OUTSTANDING }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const brokersS = (await brokersCpu()) - brokers;
  await p.close();
  const bytes = msgs.reduce((s, m) => s + m.value.byteLength, 0);
  return {
    records: msgs.length,
    seconds,
    msgsPerSec: msgs.length / seconds,
    mbPerSec: bytes / seconds / 1024 / 1024,
    load1: load,
    brokersCpuUsPerMsg: perMsgUs(brokersS, msgs.length),
    cpuUsPerMsg: perMsgUs((used.user + used.system) / 1e6, msgs.length),
  };
}

/** The run with the median msgs/s (the lower middle one of an even count), with every run's msgs/s. */
export function median<F extends { msgsPerSec: number }>(runs: F[]): Medians<F> {
  const sorted = [...runs].sort((a, b) => a.msgsPerSec - b.msgsPerSec);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], runs: runs.map((r) => Math.round(r.msgsPerSec)) };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Sends at a steady rate while one group member polls and commits; latency = commit acknowledged − send. */
async function endToEnd(t: Transport, seconds: number, rate: number): Promise<KafkaBenchResult['endToEnd']> {
  const topic = await freshTopic(t, 'e2e');
  const group = `${topic}.group`;
  const consumer = await t.consumer({ group, topics: [topic] });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const total = Math.round(seconds * rate);
  let stop = false;
  let giveUp = false;
  const consume = (async () => {
    while (!giveUp) {
      const batch: Message[] = await consumer.poll(1000, 200);
      if (batch.length === 0) {
        if (stop && latencies.length >= total) break;
        continue;
      }
      const last = new Map<number, number>();
      for (const m of batch) last.set(m.partition, m.offset + 1);
      await consumer.commit([...last].map(([partition, offset]) => ({ topic, partition, offset })));
      const now = performance.now();
      for (const m of batch) {
        const at = sentAt.get(new TextDecoder().decode(m.value));
        if (at !== undefined) latencies.push(now - at);
      }
      if (stop && latencies.length >= total) break;
    }
  })();
  const p = await t.producer();
  const tick = 10; // ms between sends
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  const sends: Promise<void>[] = [];
  for (let sent = 0; sent < total; ) {
    const msgs = [];
    for (let i = 0; i < perTick && sent < total; i++, sent++) {
      const id = `e2e-${sent}`;
      sentAt.set(id, performance.now());
      msgs.push({ key: `m${sent % 50}`, value: new TextEncoder().encode(id) });
    }
    sends.push(p.send(topic, msgs));
    await new Promise((r) => setTimeout(r, tick));
  }
  await Promise.all(sends);
  stop = true;
  const timer = setTimeout(() => {
    giveUp = true;
  }, 30_000);
  await consume;
  clearTimeout(timer);
  await p.close();
  await consumer.close();
  latencies.sort((a, b) => a - b);
  return {
    messages: latencies.length,
    ratePerSec: rate,
    p50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
    maxMs: Math.round((latencies.at(-1) ?? Number.NaN) * 10) / 10,
  };
}

/** One message at a time, as Kafka's EndToEndLatency does: send, wait until polled, next. */
async function oneAtATime(
  t: Transport,
  n: number,
): Promise<{ messages: number; p50Ms: number; p99Ms: number }> {
  const topic = await freshTopic(t, 'one');
  const consumer = await t.consumer({ group: `${topic}.group`, topics: [topic], from: 'latest' });
  const p = await t.producer();
  while (consumer.assignment().length === 0) await consumer.poll(1, 100);
  await consumer.poll(1, 500); // positions resolved before the first timed send
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = performance.now();
    await p.send(topic, [{ key: `k${i}`, value: new TextEncoder().encode(String(i)) }]);
    for (let got = 0; got === 0; ) got = (await consumer.poll(1, 1000)).length;
    latencies.push(performance.now() - at);
  }
  await p.close();
  await consumer.close();
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { messages: n, p50Ms: r(percentile(latencies, 0.5)), p99Ms: r(percentile(latencies, 0.99)) };
}

async function kafkaEndToEndLatency(t: Transport, bootstrap: string, n: number, bytes: number) {
  const topic = await freshTopic(t, 'java-e2e');
  const { stdout } = await runKafkaTool(
    'org.apache.kafka.tools.EndToEndLatency',
    [
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--num-records',
      String(n),
      '--producer-acks',
      'all',
      '--record-size',
      String(bytes),
    ],
    { timeoutMs: 300_000 },
  );
  const m = /50th = ([\d.]+), 99th = ([\d.]+)/.exec(stdout);
  return m ? { messages: n, p50Ms: Number(m[1]), p99Ms: Number(m[2]) } : undefined;
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** CPU µs per call of f, over about `ms` of calls. */
function cpuPerCall(f: () => unknown, ms: number): number {
  for (let i = 0; i < 5; i++) f();
  const c0 = cpuUs();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < ms) {
    f();
    calls++;
  }
  return (cpuUs() - c0) / calls;
}

/** {@link EncodingCost} of each codec: `samples` interleaved rounds, the median of each figure. */
export function encodingCosts(
  msgs: { key: string; value: Uint8Array }[],
  codecs: Compression[],
  opts: { recordsPerBatch?: number; samples?: number; ms?: number } = {},
): EncodingCost[] {
  const n = Math.min(opts.recordsPerBatch ?? 1000, msgs.length);
  const now = BigInt(Date.now());
  const records: MessageRecord[] = msgs.slice(0, n).map((m) => ({
    topic: 'bench',
    partition: 0,
    key: Buffer.from(m.key),
    value: Buffer.from(m.value),
    headers: new Map(),
    timestamp: now,
  }));
  const raw = createRecordsBatch(records, {}).buffer;
  const batch = new Map<Compression, number[]>();
  const compress = new Map<Compression, number[]>();
  const sizes = new Map<Compression, number>();
  for (let s = 0; s < (opts.samples ?? 3); s++)
    for (const c of codecs) {
      const algorithm = compressionsAlgorithms[c];
      batch.set(c, [
        ...(batch.get(c) ?? []),
        cpuPerCall(() => createRecordsBatch(records, { compression: c }), opts.ms ?? 300) / n,
      ]);
      // 'none' is never called by the client: nothing is compressed
      compress.set(c, [
        ...(compress.get(c) ?? []),
        c === 'none' ? 0 : cpuPerCall(() => algorithm.compressSync(raw), opts.ms ?? 300) / n,
      ]);
      sizes.set(c, c === 'none' ? raw.length : algorithm.compressSync(raw).length);
    }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return codecs.map((c) => ({
    compression: c,
    recordsPerBatch: n,
    batchUsPerRecord: r3(mid(batch.get(c)!)),
    compressUsPerRecord: r3(mid(compress.get(c)!)),
    compressionRatio: Math.round((raw.length / sizes.get(c)!) * 10) / 10,
  }));
}

/** lakestream's default codec: the kafka:// URL's default. */
const DEFAULT_COMPRESSION: Compression = parseKafkaUrl('kafka://127.0.0.1:9092').compression;

const CODECS: readonly Compression[] = ['lz4', 'snappy', 'zstd', 'none'];

/** The codecs a run measures: those named, else the default one then the others (--short: the default only). */
export function benchCodecs(named: string[], short: boolean): Compression[] {
  for (const c of named)
    if (!(CODECS as readonly string[]).includes(c))
      throw new LakestreamError('BAD_ARGUMENT', `bench kafka measures ${CODECS.join(', ')}, not "${c}"`);
  if (named.length > 0) return [...new Set(named as Compression[])];
  return [DEFAULT_COMPRESSION, ...(short ? [] : CODECS.filter((c) => c !== DEFAULT_COMPRESSION))];
}

/** The Java producer with batches as large as lakestream's: the equal-settings comparison. */
const TUNED = { 'batch.size': '262144', 'linger.ms': '20' };

/** The three producers measured in a round. */
export type BenchSide = 'lakestream' | 'tuned' | 'defaults';

/**
 * Who runs when in round `round` (from 1): the equal-settings pair swaps places every round, so over
 * an even number of rounds each side runs first (on the brokers as the previous run left them) as often
 * as the other.
 */
export function roundOrder(round: number): BenchSide[] {
  return round % 2 === 1 ? ['lakestream', 'tuned', 'defaults'] : ['tuned', 'lakestream', 'defaults'];
}

/** One codec's row: the median run of each side, and the ratios of those medians. */
export function compressionRow(
  compression: Compression,
  ours: OurFigures[],
  tuned: JavaFigures[],
  defaults: JavaFigures[],
): CompressionRow {
  const lakestream = median(ours);
  const kafkaTuned = median(tuned);
  const kafkaProducerPerformance = median(defaults);
  return {
    compression,
    lakestream,
    kafkaTuned,
    ratioTuned: lakestream.msgsPerSec / kafkaTuned.msgsPerSec,
    kafkaProducerPerformance,
    ratio: lakestream.msgsPerSec / kafkaProducerPerformance.msgsPerSec,
  };
}

export async function runKafkaBench(opts: KafkaBenchOptions = {}): Promise<KafkaBenchResult> {
  const records = opts.short ? 100_000 : 400_000;
  const rounds = opts.short ? 2 : 6;
  const warmupRecords = records / 4;
  const defaultCompression = DEFAULT_COMPRESSION;
  const compressions = benchCodecs(opts.args ?? [], opts.short === true);
  log('starting (or checking) the local Kafka cluster: lakestream cluster up --kafka');
  const up = await clusterUp({
    dir: process.env.LAKESTREAM_CLUSTER_DIR,
    portOffset: portOffsetFromEnv(),
    parts: ['kafka'],
    log,
  });
  const bootstrap = up.kafkaBootstrap;
  const msgs = benchReadings(records);
  const messageBytes = Math.round(msgs.reduce((s, m) => s + m.value.byteLength, 0) / msgs.length);
  log(`the client's batch encoding at ${compressions.join(', ')}, CPU per record, no network`);
  const encoding = encodingCosts(msgs, compressions);
  const rows: CompressionRow[] = [];
  const loadBefore = load1();
  for (const compression of compressions) {
    const t = await openKafkaTransport(
      `kafka://${bootstrap}?compression=${compression}&replication=${REPLICATION}`,
    );
    try {
      const java = async (extra: Record<string, string>, numRecords = records): Promise<JavaFigures> => {
        const topic = await freshTopic(t, `java-${compression}`);
        const load = load1();
        const brokers = await brokersCpu();
        const r = await producerPerformance({
          topic,
          numRecords,
          recordSize: messageBytes,
          bootstrap,
          producerProps: {
            acks: 'all',
            'enable.idempotence': 'true',
            'compression.type': compression,
            ...extra,
          },
        });
        return {
          records: r.records,
          seconds: r.records / r.recordsPerSec,
          msgsPerSec: r.recordsPerSec,
          mbPerSec: r.mbPerSec,
          load1: load,
          // includes the tool's start and metadata requests: a little above the sends alone
          brokersCpuUsPerMsg: perMsgUs((await brokersCpu()) - brokers, r.records),
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
        };
      };
      // Each round runs ours and both Java set-ups back to back, so load from the machine's other
      // users falls on every one of them alike. The brokers are fresh JVMs: whichever side ran first
      // met them colder (their JIT still compiling the produce path), so one untimed warm-up round
      // runs first and each round after it changes who goes first (roundOrder).
      const ours: OurFigures[] = [];
      const theirs: JavaFigures[] = [];
      const theirsTuned: JavaFigures[] = [];
      log(`${compression}: warm-up round (${warmupRecords} messages each, not counted)`);
      await lakestreamProducer(
        t,
        await freshTopic(t, `lakestream-${compression}`),
        msgs.slice(0, warmupRecords),
      );
      await java(TUNED, warmupRecords);
      for (let round = 1; round <= rounds; round++) {
        const tag = ` (round ${round} of ${rounds})`;
        for (const side of roundOrder(round)) {
          if (side === 'lakestream') {
            const o = await lakestreamProducer(t, await freshTopic(t, `lakestream-${compression}`), msgs);
            ours.push(o);
            log(
              `${compression}${tag}: lakestream producer, ${records} readings of ~${messageBytes} B, acks=all: ${Math.round(o.msgsPerSec)} msgs/s (${o.cpuUsPerMsg} µs CPU/msg, brokers ${o.brokersCpuUsPerMsg}, load ${o.load1})`,
            );
          } else if (side === 'tuned') {
            theirsTuned.push(await java(TUNED));
            log(
              `${compression}${tag}: ProducerPerformance with batch.size 256 KB, linger.ms 20: ${Math.round(theirsTuned.at(-1)!.msgsPerSec)} msgs/s (brokers ${theirsTuned.at(-1)!.brokersCpuUsPerMsg})`,
            );
          } else {
            theirs.push(await java({}));
            log(
              `${compression}${tag}: ProducerPerformance at its defaults: ${Math.round(theirs.at(-1)!.msgsPerSec)} msgs/s`,
            );
          }
        }
      }
      const row = compressionRow(compression, ours, theirsTuned, theirs);
      log(
        `${compression}: medians → against the tuned Java producer ${row.ratioTuned.toFixed(2)}, against its defaults ${row.ratio.toFixed(2)}`,
      );
      rows.push(row);
    } finally {
      await t.close();
    }
  }
  const loadAfter = load1();
  log('end-to-end latency: send → poll → commit acknowledged');
  const t = await openKafkaTransport(`kafka://${bootstrap}`);
  let e2e: KafkaBenchResult['endToEnd'];
  let single: KafkaBenchResult['oneAtATime'];
  let javaSingle: KafkaBenchResult['kafkaEndToEndLatency'];
  try {
    e2e = await endToEnd(t, opts.short ? 3 : 8, 2000);
    const n = opts.short ? 200 : 1000;
    log(`latency one message at a time (${n}): lakestream, then Kafka's EndToEndLatency`);
    single = await oneAtATime(t, n);
    javaSingle = await kafkaEndToEndLatency(t, bootstrap, n, messageBytes).catch((e) => {
      log(`EndToEndLatency failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
      return undefined;
    });
  } finally {
    await t.close();
  }
  // Benchmark topics are scratch: remove them so repeated runs do not fill the brokers' disks.
  const admin = new KafkaAdmin(parseKafkaUrl(`kafka://${bootstrap}`));
  await admin.client.deleteTopics({ topics: scratch.splice(0) }).catch(() => {});
  await admin.close();
  const main = rows.find((r) => r.compression === defaultCompression) ?? rows[0];
  const ratioTuned = main.ratioTuned;
  const result: KafkaBenchResult = {
    bench: 'kafka',
    bootstrap,
    partitions: PARTITIONS,
    replication: REPLICATION,
    messageBytes,
    acks: 'all',
    defaultCompression,
    headlineCompression: main.compression,
    rounds,
    rows,
    encoding,
    ratioTuned: Math.round(ratioTuned * 100) / 100,
    ratio: Math.round(main.ratio * 100) / 100,
    goal: GOAL,
    meetsGoal: ratioTuned >= GOAL,
    loadAverage: { before: loadBefore, after: loadAfter },
    endToEnd: e2e,
    oneAtATime: single,
    kafkaEndToEndLatency: javaSingle,
    note:
      'lakestream keys every reading by meter_id (murmur2); ProducerPerformance sends unkeyed random payloads of the same size. ' +
      `lakestream sends ${CHUNK}-message chunks with ${OUTSTANDING} outstanding; both idempotent with acks=all on the same 2 brokers. ` +
      `Figures are medians of ${rounds} interleaved rounds per codec after an untimed warm-up round, the equal-settings pair swapping places every round; the tuned Java producer (batch.size 256 KB, linger.ms 20) is the equal-settings comparison.`,
  };
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatKafkaBench(result));
  return result;
}

export function formatKafkaBench(r: KafkaBenchResult): string {
  const n = (x: number) => String(Math.round(x));
  const lines = [
    `Kafka producer, acks=all, ${r.partitions} partitions × RF ${r.replication}, ~${r.messageBytes} B readings (${r.bootstrap})`,
    `medians of ${r.rounds} interleaved rounds per codec; load average ${r.loadAverage.before} → ${r.loadAverage.after}`,
    `Java tuned: batch.size 256 KB, linger.ms 20 (as large as lakestream's batches); Java defaults: 16 KB, 5 ms`,
    '',
    'codec      lakestream msgs/s (CPU µs/msg)   Java tuned   ratio   Java defaults   ratio',
  ];
  for (const row of r.rows)
    lines.push(
      `${`${row.compression}${row.compression === r.defaultCompression ? '*' : ''}`.padEnd(11)}${n(row.lakestream.msgsPerSec).padStart(22)} (${row.lakestream.cpuUsPerMsg.toFixed(1).padStart(5)})${n(row.kafkaTuned.msgsPerSec).padStart(13)}${row.ratioTuned.toFixed(2).padStart(8)}${n(row.kafkaProducerPerformance.msgsPerSec).padStart(16)}${row.ratio.toFixed(2).padStart(8)}`,
    );
  const main = r.rows.find((row) => row.compression === r.headlineCompression) ?? r.rows[0];
  const at =
    r.headlineCompression === r.defaultCompression
      ? `${r.defaultCompression} (the default codec)`
      : `${r.headlineCompression} (not the default codec, ${r.defaultCompression})`;
  lines.push(
    `* the default codec. Runs at ${r.headlineCompression} (msgs/s): lakestream ${main.lakestream.runs.join(', ')}; Java tuned ${main.kafkaTuned.runs.join(', ')}; Java defaults ${main.kafkaProducerPerformance.runs.join(', ')}`,
    `brokers' CPU per message at ${r.headlineCompression} (median runs): lakestream ${main.lakestream.brokersCpuUsPerMsg} µs, Java tuned ${main.kafkaTuned.brokersCpuUsPerMsg} µs, Java defaults ${main.kafkaProducerPerformance.brokersCpuUsPerMsg} µs`,
    ...r.encoding.map(
      (e) =>
        `${e.compression.padEnd(7)} the client's batch encoding (${e.recordsPerBatch} records): ${e.batchUsPerRecord.toFixed(3)} µs CPU/record, of which compression ${e.compressUsPerRecord.toFixed(3)} (${e.compression === 'none' ? 'uncompressed' : `${e.compressionRatio}× smaller`})`,
    ),
    '',
    `ratio at ${at} against the tuned Java producer: ${r.ratioTuned.toFixed(2)} (goal ≥ ${r.goal}: ${r.meetsGoal ? 'met' : 'NOT met'}); against the Java defaults: ${r.ratio.toFixed(2)}`,
    `end to end (send → committed), ${r.endToEnd.messages} msgs at ${r.endToEnd.ratePerSec}/s: p50 ${r.endToEnd.p50Ms} ms, p99 ${r.endToEnd.p99Ms} ms, max ${r.endToEnd.maxMs} ms`,
  );
  if (r.oneAtATime)
    lines.push(
      `one at a time (send → polled), lakestream: p50 ${r.oneAtATime.p50Ms} ms, p99 ${r.oneAtATime.p99Ms} ms`,
    );
  if (r.kafkaEndToEndLatency)
    lines.push(
      `one at a time, Kafka's EndToEndLatency:      p50 ${r.kafkaEndToEndLatency.p50Ms} ms, p99 ${r.kafkaEndToEndLatency.p99Ms} ms`,
    );
  return lines.join('\n');
}

if (import.meta.main)
  await runKafkaBench({
    short: process.argv.includes('--short'),
    json: process.argv.includes('--json'),
    args: process.argv.slice(2).filter((a) => !a.startsWith('--')),
  });
