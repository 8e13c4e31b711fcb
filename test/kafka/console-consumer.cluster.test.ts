// Interop: Kafka's own ConsoleConsumer (from the cluster's jars) reads what lakestream's producer
// writes to a readings topic — same partition for the key, and JSON that is a valid reading.
// The topic is a fresh one made like meters.readings, so other tests sharing the cluster's
// meters.readings never see these readings.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { runKafkaTool } from '../../src/cluster/tools.ts';
import { encodeReading, type Reading, validateReading } from '../../src/domain/meters/reading.ts';
import { TOPICS } from '../../src/domain/topics.ts';
import { openTransport, partitionForKey } from '../../src/transport/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';

const LONDON = resolve(
  import.meta.dirname,
  '../../../shared/data/meters/london/halfhourly_2013_20_households.csv.gz',
);

/** The first `n` half-hours of the London file as readings, under a meter id unique to this run. */
async function londonReadings(n: number, suffix: string): Promise<Reading[]> {
  const out: Reading[] = [];
  const lines = createInterface({ input: createReadStream(LONDON).pipe(createGunzip()) });
  for await (const line of lines) {
    const [id, tstp, kwh] = line.split(',');
    if (id === 'LCLid') continue;
    out.push({
      v: 1,
      meter_id: `${id}.${suffix}`,
      kind: 'electricity',
      ts: `${tstp.replace(' ', 'T').slice(0, 19)}+00:00`,
      value: Number(kwh),
      unit: 'kWh',
      type: 'interval',
      seq: out.length,
    });
    if (out.length === n) break;
  }
  lines.close();
  return out;
}

it("Kafka's console consumer reads lakestream's readings topic as valid schema-v1 JSON, keyed by meter_id", async () => {
  const cluster = await ensureCluster({ kafka: true });
  const t = await openTransport(cluster.kafkaUrl);
  const run = randomBytes(3).toString('hex');
  const topic = `${TOPICS.readings}.interop-${run}`;
  try {
    const { partitions } = await t.ensureTopic(topic);
    const readings = await londonReadings(96, `interop${run}`);
    const key = readings[0].meter_id;
    const partition = partitionForKey(key, partitions);
    const start = (await t.endOffsets(topic)).find((o) => o.partition === partition)!.offset;
    const p = await t.producer();
    await p.send(
      topic,
      readings.map((r) => ({ key: r.meter_id, value: encodeReading(r) })),
    );
    await p.close();

    // Read exactly that partition from where it ended before the send: the tool must find the key
    // in the partition Kafka's own partitioner would pick, and decode lakestream's compressed batches.
    const { stdout } = await runKafkaTool(
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      [
        '--bootstrap-server',
        cluster.kafkaBootstrap,
        '--topic',
        topic,
        '--partition',
        String(partition),
        '--offset',
        String(start),
        '--max-messages',
        String(readings.length * 4),
        '--timeout-ms',
        '8000',
        '--formatter-property',
        'print.key=true',
        '--formatter-property',
        'key.separator=\t',
      ],
      { timeoutMs: 120_000 },
    );
    const mine = stdout
      .split('\n')
      .filter((l) => l.startsWith(`${key}\t`))
      .map((l) => l.slice(key.length + 1));
    assert.equal(
      mine.length,
      readings.length,
      `the console consumer printed ${mine.length} of ${readings.length} readings`,
    );
    for (let i = 0; i < mine.length; i++) {
      const parsed = JSON.parse(mine[i]);
      const checked = validateReading(parsed, { now: Date.parse('2014-01-01T00:00:00Z') });
      assert.ok(checked.ok, `line ${i}: ${checked.ok ? '' : `${checked.reason}: ${checked.detail}`}`);
      assert.deepEqual(parsed, readings[i]);
    }
  } finally {
    await t.close();
  }
});
