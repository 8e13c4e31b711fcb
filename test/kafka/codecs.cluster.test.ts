// Interop at every codec `bench kafka` compares: what lakestream's producer writes with
// compression=lz4 (the default), snappy, zstd or none, Kafka's own ConsoleConsumer (the Java client)
// reads back record for record, and the broker's log holds batches of that codec (DumpLogSegments),
// so a codec is really used, not silently dropped to none.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { benchReadings } from '../../src/bench/kafka.ts';
import { consoleConsume, runKafkaTool } from '../../src/cluster/tools.ts';
import { openTransport } from '../../src/transport/index.ts';
import { type Compression, parseKafkaUrl } from '../../src/transport/kafka/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';

const READINGS = 3000;

/** The readings one run sends: 50 meters named for the run, as text for the console consumer's comparison. */
function readings(run: string): { key: string; value: string }[] {
  return benchReadings(READINGS, 50, `.${run}`).map((m) => ({
    key: m.key,
    value: new TextDecoder().decode(m.value),
  }));
}

/** The codec of every batch of a topic's logs on both brokers, as Kafka's DumpLogSegments prints it (one JVM). */
async function codecsInLogs(clusterDir: string, topic: string): Promise<Set<string>> {
  const files: string[] = [];
  for (const broker of ['broker-1', 'broker-2']) {
    const dataDir = join(clusterDir, 'kafka', 'data', broker);
    for (const d of readdirSync(dataDir).filter((d) => d.startsWith(`${topic}-`)))
      for (const f of readdirSync(join(dataDir, d)).filter((f) => f.endsWith('.log')))
        files.push(join(dataDir, d, f));
  }
  assert.ok(files.length > 0, `no log segment of ${topic} under ${clusterDir}`);
  const { stdout } = await runKafkaTool('org.apache.kafka.tools.DumpLogSegments', [
    '--files',
    files.join(','),
  ]);
  return new Set([...stdout.matchAll(/compresscodec: (\w+)/g)].map((m) => m[1].toLowerCase()));
}

describe("lakestream's producer at each codec, read by Kafka's Java consumer", () => {
  it('lz4 is the default codec of a kafka:// URL', () => {
    assert.equal(parseKafkaUrl('kafka://127.0.0.1:9092').compression, 'lz4');
  });

  for (const codec of ['lz4', 'snappy', 'zstd', 'none'] satisfies Compression[])
    it(`${codec}: the console consumer reads every record as sent, from batches compressed with ${codec}`, async () => {
      const cluster = await ensureCluster({ kafka: true });
      const t = await openTransport(`${cluster.kafkaUrl}?compression=${codec}`);
      const run = randomBytes(3).toString('hex');
      const topic = `test.codec-${codec}-${run}`;
      try {
        await t.ensureTopic(topic, 3);
        const sent = readings(run);
        const p = await t.producer();
        // one send of many records: multi-record batches per partition, as the stream's producer sends
        await p.send(
          topic,
          sent.map((m) => ({ key: m.key, value: new TextEncoder().encode(m.value) })),
        );
        await p.close();
        const lines = await consoleConsume({
          topic,
          bootstrap: cluster.kafkaBootstrap,
          maxMessages: sent.length,
          idleTimeoutMs: 20_000,
          printMetadata: true,
        });
        // "Partition:P\tOffset:O\tKEY\tVALUE"
        const got = lines
          .map((l) => l.split('\t'))
          .filter((f) => f.length === 4 && f[0].startsWith('Partition:'))
          .map(([, , key, value]) => `${key}\t${value}`)
          .sort();
        assert.equal(
          got.length,
          sent.length,
          `the console consumer printed ${got.length} of ${sent.length} records`,
        );
        assert.deepEqual(got, sent.map((m) => `${m.key}\t${m.value}`).sort());
        const inLog = await codecsInLogs(cluster.dir, topic);
        assert.deepEqual([...inLog], [codec], `batch codecs in the brokers' logs: ${[...inLog].join(', ')}`);
      } finally {
        await t.close();
      }
    });
});
