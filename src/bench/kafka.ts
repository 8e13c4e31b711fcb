// Benchmark: lakestream's Kafka producer (acks=all, idempotent) against Kafka's own ProducerPerformance
// on the same local cluster, topic layout and message size (goal: ratio ≥ 0.6); then end-to-end
// latency from send to the consumer's committed offset.

import { randomBytes } from 'node:crypto';
import { clusterUp } from '../cluster/cluster.ts';
import { producerPerformance, runKafkaTool } from '../cluster/tools.ts';
import { encodeReading, type Reading } from '../domain/meters/reading.ts';
import type { Message, Transport } from '../transport/index.ts';
import { type Compression, KafkaAdmin, openKafkaTransport, parseKafkaUrl } from '../transport/kafka/index.ts';

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
}

interface CompressionRow {
  compression: Compression;
  lakestream: ProducerFigures;
  /** ProducerPerformance at the Java client's defaults (batch.size 16 KB, linger.ms 5) */
  kafkaProducerPerformance: ProducerFigures & { p50Ms: number; p99Ms: number };
  ratio: number;
  /** full runs, lz4 only: ProducerPerformance with batches as large as lakestream's (batch.size 256 KB, linger.ms 20) */
  kafkaTuned?: ProducerFigures & { p50Ms: number; p99Ms: number };
  ratioTuned?: number;
}

export interface KafkaBenchResult {
  bench: 'kafka';
  bootstrap: string;
  partitions: number;
  replication: number;
  messageBytes: number;
  acks: 'all';
  rows: CompressionRow[];
  /** the ratio at lakestream's default compression (lz4) */
  ratio: number;
  goal: number;
  meetsGoal: boolean;
  endToEnd: { messages: number; ratePerSec: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Kafka's own org.apache.kafka.tools.EndToEndLatency on the same cluster (one message at a time, send → consumed) */
  kafkaEndToEndLatency?: { messages: number; p50Ms: number; p99Ms: number };
  /** lakestream measured like that tool: one message at a time, send → polled */
  oneAtATime?: { messages: number; p50Ms: number; p99Ms: number };
  note: string;
}

const PARTITIONS = 6;
const REPLICATION = 2;
const GOAL = 0.6;
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

async function lakestreamProducer(
  t: Transport,
  topic: string,
  msgs: { key: string; value: Uint8Array }[],
): Promise<ProducerFigures> {
  const p = await t.producer();
  // warm-up: connections, metadata and the idempotent producer id
  await p.send(topic, msgs.slice(0, 10));
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
  await p.close();
  const bytes = msgs.reduce((s, m) => s + m.value.byteLength, 0);
  return {
    records: msgs.length,
    seconds,
    msgsPerSec: msgs.length / seconds,
    mbPerSec: bytes / seconds / 1024 / 1024,
  };
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
  const compressions: Compression[] = opts.short ? ['lz4'] : ['lz4', 'zstd', 'snappy', 'none'];
  log('starting (or checking) the local Kafka cluster: lakestream cluster up --kafka');
  const up = await clusterUp({ dir: process.env.LAKESTREAM_CLUSTER_DIR, parts: ['kafka'], log });
  const bootstrap = up.kafkaBootstrap;
  const msgs = readings(records);
  const messageBytes = Math.round(msgs.reduce((s, m) => s + m.value.byteLength, 0) / msgs.length);
  const rows: CompressionRow[] = [];
  for (const compression of compressions) {
    const t = await openKafkaTransport(
      `kafka://${bootstrap}?compression=${compression}&replication=${REPLICATION}`,
    );
    try {
      const ours = await freshTopic(t, `lakestream-${compression}`);
      const theirs = await freshTopic(t, `java-${compression}`);
      log(`${compression}: lakestream producer, ${records} readings of ~${messageBytes} B, acks=all`);
      const lakestream = await lakestreamProducer(t, ours, msgs);
      log(
        `${compression}: lakestream ${Math.round(lakestream.msgsPerSec)} msgs/s; now Kafka's ProducerPerformance`,
      );
      const java = async (topic: string, extra: Record<string, string>) => {
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
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
        };
      };
      const kafkaProducerPerformance = await java(theirs, {});
      const ratio = lakestream.msgsPerSec / kafkaProducerPerformance.msgsPerSec;
      log(
        `${compression}: ProducerPerformance ${Math.round(kafkaProducerPerformance.msgsPerSec)} msgs/s → ratio ${ratio.toFixed(2)}`,
      );
      const row: CompressionRow = { compression, lakestream, kafkaProducerPerformance, ratio };
      if (!opts.short && compression === 'lz4') {
        row.kafkaTuned = await java(await freshTopic(t, 'java-tuned'), {
          'batch.size': '262144',
          'linger.ms': '20',
        });
        row.ratioTuned = lakestream.msgsPerSec / row.kafkaTuned.msgsPerSec;
        log(
          `lz4: ProducerPerformance tuned ${Math.round(row.kafkaTuned.msgsPerSec)} msgs/s → ratio ${row.ratioTuned.toFixed(2)}`,
        );
      }
      rows.push(row);
    } finally {
      await t.close();
    }
  }
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
  const main = rows.find((r) => r.compression === 'lz4') ?? rows[0];
  const result: KafkaBenchResult = {
    bench: 'kafka',
    bootstrap,
    partitions: PARTITIONS,
    replication: REPLICATION,
    messageBytes,
    acks: 'all',
    rows,
    ratio: Math.round(main.ratio * 100) / 100,
    goal: GOAL,
    meetsGoal: main.ratio >= GOAL,
    endToEnd: e2e,
    oneAtATime: single,
    kafkaEndToEndLatency: javaSingle,
    note:
      'lakestream keys every reading by meter_id (murmur2); ProducerPerformance sends unkeyed random payloads of the same size. ' +
      `lakestream sends ${CHUNK}-message chunks with ${OUTSTANDING} outstanding; both idempotent with acks=all on the same 2 brokers.`,
  };
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatKafkaBench(result));
  return result;
}

export function formatKafkaBench(r: KafkaBenchResult): string {
  const lines = [
    `Kafka producer, acks=all, ${r.partitions} partitions × RF ${r.replication}, ~${r.messageBytes} B readings (${r.bootstrap})`,
    '',
    'compression   lakestream msgs/s   ProducerPerformance msgs/s   ratio',
  ];
  for (const row of r.rows)
    lines.push(
      `${row.compression.padEnd(14)}${String(Math.round(row.lakestream.msgsPerSec)).padStart(17)}   ${String(Math.round(row.kafkaProducerPerformance.msgsPerSec)).padStart(26)}   ${row.ratio.toFixed(2).padStart(5)}`,
    );
  for (const row of r.rows)
    if (row.kafkaTuned && row.ratioTuned !== undefined)
      lines.push(
        `${`${row.compression} (Java batch.size 256 KB, linger 20 ms)`.padEnd(46)}${String(Math.round(row.kafkaTuned.msgsPerSec)).padStart(12)}   ${row.ratioTuned.toFixed(2).padStart(5)}`,
      );
  lines.push(
    '',
    `ratio at lz4: ${r.ratio.toFixed(2)} (goal ≥ ${r.goal}: ${r.meetsGoal ? 'met' : 'NOT met'})`,
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
