// Benchmark: lakestream's Kafka producer (acks=all, idempotent) against Kafka's own ProducerPerformance
// on the same local cluster, topic layout and message size, interleaved (ours, Java, ours, Java …) so a
// loaded machine weighs on both alike (goal: ≥ 1.0 × the Java producer with batches as large as ours);
// then end-to-end latency from send to the consumer's committed offset.

import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { clusterUp } from '../cluster/cluster.ts';
import { DEFAULT_CLUSTER_DIR } from '../cluster/config.ts';
import { alivePid } from '../cluster/processes.ts';
import { producerPerformance, runKafkaTool } from '../cluster/tools.ts';
import { encodeReading, type Reading } from '../domain/meters/reading.ts';
import type { Message, Transport } from '../transport/index.ts';
import { type Compression, KafkaAdmin, openKafkaTransport, parseKafkaUrl } from '../transport/kafka/index.ts';
import { procStat } from './processes.ts';

export interface KafkaBenchOptions {
  /** fewer messages, one compression (CI) */
  short?: boolean;
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

interface CompressionRow {
  compression: Compression;
  /** lakestream's producer; cpuUsPerMsg: this process's CPU (user + system) per message */
  lakestream: Medians<ProducerFigures> & { cpuUsPerMsg: number };
  /** ProducerPerformance at the Java client's defaults (batch.size 16 KB, linger.ms 5) */
  kafkaProducerPerformance: Medians<JavaFigures>;
  ratio: number;
  /** at the default codec: ProducerPerformance with batches as large as lakestream's (batch.size 256 KB, linger.ms 20) */
  kafkaTuned?: Medians<JavaFigures>;
  ratioTuned?: number;
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
  /** rounds of (lakestream, ProducerPerformance tuned, ProducerPerformance) at the default codec; other codecs run once */
  rounds: number;
  rows: CompressionRow[];
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
/** Messages handed to one send() call, and sends kept outstanding (as `lakestream produce` does). */
const CHUNK = 500;
const OUTSTANDING = 8;

const log = (line: string) => process.stderr.write(`[bench kafka] ${line}\n`);

/** Realistic readings: 200 meters, half-hourly, in the wire format of schema v1. */
function readings(n: number): { key: string; value: Uint8Array }[] {
  const out: { key: string; value: Uint8Array }[] = [];
  const start = Date.UTC(2013, 0, 1);
  for (let i = 0; i < n; i++) {
    const meter = `MAC${String(i % 200).padStart(6, '0')}`;
    const r: Reading = {
      v: 1,
      meter_id: meter,
      kind: 'electricity',
      ts: new Date(start + Math.floor(i / 200) * 1_800_000).toISOString().replace('.000Z', '+00:00'),
      value: Math.round(Math.abs(Math.sin(i)) * 1000) / 1000,
      unit: 'kWh',
      type: 'interval',
      seq: Math.floor(i / 200),
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
function median<F extends { msgsPerSec: number }>(runs: F[]): Medians<F> {
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

export async function runKafkaBench(opts: KafkaBenchOptions = {}): Promise<KafkaBenchResult> {
  const records = opts.short ? 100_000 : 400_000;
  const rounds = opts.short ? 2 : 3;
  const defaultCompression = parseKafkaUrl('kafka://127.0.0.1:9092').compression;
  const others: Compression[] = ['lz4', 'zstd', 'snappy', 'none'].filter(
    (c): c is Compression => c !== defaultCompression,
  );
  const compressions: Compression[] = [defaultCompression, ...(opts.short ? [] : others)];
  log('starting (or checking) the local Kafka cluster: lakestream cluster up --kafka');
  const up = await clusterUp({ dir: process.env.LAKESTREAM_CLUSTER_DIR, parts: ['kafka'], log });
  const bootstrap = up.kafkaBootstrap;
  const msgs = readings(records);
  const messageBytes = Math.round(msgs.reduce((s, m) => s + m.value.byteLength, 0) / msgs.length);
  const rows: CompressionRow[] = [];
  const loadBefore = load1();
  for (const compression of compressions) {
    const t = await openKafkaTransport(
      `kafka://${bootstrap}?compression=${compression}&replication=${REPLICATION}`,
    );
    try {
      const java = async (extra: Record<string, string>): Promise<JavaFigures> => {
        const topic = await freshTopic(t, `java-${compression}`);
        const load = load1();
        const brokers = await brokersCpu();
        const r = await producerPerformance({
          topic,
          numRecords: records,
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
      // At the default codec the Java producer also runs with batches as large as ours; each round
      // runs all of them back to back, so load from the machine's other users falls on every one.
      const tuned = compression === defaultCompression;
      const ours: (ProducerFigures & { cpuUsPerMsg: number })[] = [];
      const theirs: JavaFigures[] = [];
      const theirsTuned: JavaFigures[] = [];
      for (let round = 1; round <= (tuned ? rounds : 1); round++) {
        const tag = tuned ? ` (round ${round} of ${rounds})` : '';
        log(`${compression}${tag}: lakestream producer, ${records} readings of ~${messageBytes} B, acks=all`);
        const o = await lakestreamProducer(t, await freshTopic(t, `lakestream-${compression}`), msgs);
        ours.push(o);
        log(
          `${compression}${tag}: lakestream ${Math.round(o.msgsPerSec)} msgs/s (${o.cpuUsPerMsg} µs CPU/msg, brokers ${o.brokersCpuUsPerMsg}, load ${o.load1}); now Kafka's ProducerPerformance`,
        );
        if (tuned) {
          theirsTuned.push(await java({ 'batch.size': '262144', 'linger.ms': '20' }));
          log(
            `${compression}${tag}: ProducerPerformance with batch.size 256 KB, linger.ms 20: ${Math.round(theirsTuned.at(-1)!.msgsPerSec)} msgs/s`,
          );
        }
        theirs.push(await java({}));
        log(
          `${compression}${tag}: ProducerPerformance at its defaults: ${Math.round(theirs.at(-1)!.msgsPerSec)} msgs/s`,
        );
      }
      const lakestream = median(ours);
      const kafkaProducerPerformance = median(theirs);
      const row: CompressionRow = {
        compression,
        lakestream,
        kafkaProducerPerformance,
        ratio: lakestream.msgsPerSec / kafkaProducerPerformance.msgsPerSec,
      };
      if (tuned) {
        row.kafkaTuned = median(theirsTuned);
        row.ratioTuned = lakestream.msgsPerSec / row.kafkaTuned.msgsPerSec;
      }
      log(
        `${compression}: medians → ratio ${row.ratio.toFixed(2)}${row.ratioTuned === undefined ? '' : `, against the tuned Java producer ${row.ratioTuned.toFixed(2)}`}`,
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
  const main = rows[0];
  const ratioTuned = main.ratioTuned ?? Number.NaN;
  const result: KafkaBenchResult = {
    bench: 'kafka',
    bootstrap,
    partitions: PARTITIONS,
    replication: REPLICATION,
    messageBytes,
    acks: 'all',
    defaultCompression,
    rounds,
    rows,
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
      `Figures are medians of ${rounds} interleaved rounds at the default codec (one run at the others).`,
  };
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatKafkaBench(result));
  return result;
}

export function formatKafkaBench(r: KafkaBenchResult): string {
  const n = (x: number) => String(Math.round(x));
  const lines = [
    `Kafka producer, acks=all, ${r.partitions} partitions × RF ${r.replication}, ~${r.messageBytes} B readings (${r.bootstrap})`,
    `medians of ${r.rounds} interleaved rounds at ${r.defaultCompression} (one run at the other codecs); load average ${r.loadAverage.before} → ${r.loadAverage.after}`,
    '',
    'compression   lakestream msgs/s (CPU µs/msg)   ProducerPerformance msgs/s   ratio',
  ];
  for (const row of r.rows)
    lines.push(
      `${row.compression.padEnd(14)}${n(row.lakestream.msgsPerSec).padStart(17)} (${row.lakestream.cpuUsPerMsg.toFixed(1).padStart(5)})       ${n(row.kafkaProducerPerformance.msgsPerSec).padStart(20)}   ${row.ratio.toFixed(2).padStart(5)}`,
    );
  for (const row of r.rows)
    if (row.kafkaTuned && row.ratioTuned !== undefined)
      lines.push(
        `${`${row.compression} (Java batch.size 256 KB, linger 20 ms)`.padEnd(57)}${n(row.kafkaTuned.msgsPerSec).padStart(12)}   ${row.ratioTuned.toFixed(2).padStart(5)}`,
      );
  const main = r.rows[0];
  lines.push(
    `runs (msgs/s): lakestream ${main.lakestream.runs.join(', ')}; Java tuned ${main.kafkaTuned?.runs.join(', ') ?? '-'}; Java defaults ${main.kafkaProducerPerformance.runs.join(', ')}`,
    `brokers' CPU per message at ${r.defaultCompression} (median runs): lakestream ${main.lakestream.brokersCpuUsPerMsg} µs, Java tuned ${main.kafkaTuned?.brokersCpuUsPerMsg ?? '-'} µs, Java defaults ${main.kafkaProducerPerformance.brokersCpuUsPerMsg} µs`,
    '',
    `ratio at ${r.defaultCompression} against the tuned Java producer: ${r.ratioTuned.toFixed(2)} (goal ≥ ${r.goal}: ${r.meetsGoal ? 'met' : 'NOT met'}); at the Java defaults: ${r.ratio.toFixed(2)}`,
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
  await runKafkaBench({ short: process.argv.includes('--short'), json: process.argv.includes('--json') });
