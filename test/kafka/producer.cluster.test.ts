// The Kafka producer on topics it did not create: big sends still fit the brokers' default limits.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { openTransport, type Producer, partitionForKey } from '../../src/transport/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';

/**
 * Runs `send` against a fresh one-partition topic made by Kafka's defaults, as another tool would
 * make it (max.message.bytes ~1 MB per batch), then returns the topic's end offset.
 */
async function onDefaultsTopic(
  prefix: string,
  send: (p: Producer, topic: string) => Promise<void>,
): Promise<{ topic: string; offsets: unknown }> {
  const cluster = await ensureCluster({ kafka: true });
  const topic = `${prefix}-${randomBytes(3).toString('hex')}`;
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: cluster.kafkaBootstrap.split(',') });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 2 });
  await admin.close();
  const t = await openTransport(cluster.kafkaUrl);
  try {
    const p = await t.producer();
    await send(p, topic);
    await p.close();
    return { topic, offsets: await t.endOffsets(topic) };
  } finally {
    await t.close();
  }
}

/** `n` messages of 250 random bytes: incompressible, so a batch stays its size on the wire */
const incompressible = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    key: `k${(from + i) % 7}`,
    value: new Uint8Array(randomBytes(250)),
  }));

it('sends 5 MB in one call to a one-partition topic made with the brokers’ defaults (1 MB batches)', async () => {
  const n = 20_000;
  const { topic, offsets } = await onDefaultsTopic('defaults', (p, topic) =>
    p.send(topic, incompressible(n)),
  );
  assert.deepEqual(offsets, [{ topic, partition: 0, offset: n }]);
});

it('merges sends in flight only while each partition’s batch stays under the brokers’ 1 MB (a one-partition topic, defaults)', async () => {
  // eight sends of ~0.8 MB at once: each fits a batch, any two merged would not
  const each = 2_500;
  const { topic, offsets } = await onDefaultsTopic('merged', async (p, topic) => {
    await Promise.all(Array.from({ length: 8 }, (_, s) => p.send(topic, incompressible(each, s * each))));
  });
  assert.deepEqual(offsets, [{ topic, partition: 0, offset: 8 * each }]);
});

it('keeps every message’s own timestamp when one send, or sends in flight together, span years', async () => {
  const cluster = await ensureCluster({ kafka: true });
  const topic = `stamps-${randomBytes(3).toString('hex')}`;
  const t = await openTransport(cluster.kafkaUrl);
  try {
    await t.ensureTopic(topic, 2);
    const day = 86_400_000;
    const stamps = [
      Date.UTC(2013, 0, 1),
      Date.now(),
      Date.UTC(2013, 0, 1) + 40 * day,
      Date.UTC(1990, 5, 1),
      Date.now() - 30 * day,
    ];
    const p = await t.producer();
    const one = p.send(
      topic,
      stamps.map((ts, i) => ({ key: `k${i % 2}`, value: new TextEncoder().encode(`a${i}`), timestamp: ts })),
    );
    // sent while the first is in flight: merged into later requests with other timestamps
    const more = stamps.map((ts, i) =>
      p.send(topic, [{ key: `k${i % 2}`, value: new TextEncoder().encode(`b${i}`), timestamp: ts }]),
    );
    await Promise.all([one, ...more]);
    await p.close();
    const c = await t.consumer({ group: `g-${topic}`, topics: [topic] });
    const got = new Map<string, number>();
    const deadline = Date.now() + 30_000;
    while (got.size < 2 * stamps.length && Date.now() < deadline)
      for (const m of await c.poll(100, 500)) got.set(new TextDecoder().decode(m.value), m.timestamp);
    await c.close();
    for (let i = 0; i < stamps.length; i++) {
      assert.equal(got.get(`a${i}`), stamps[i], `timestamp of a${i}`);
      assert.equal(got.get(`b${i}`), stamps[i], `timestamp of b${i}`);
    }
  } finally {
    await t.close();
  }
});

it('puts every key in the partition Kafka’s own partitioner picks, the first time it is sent and again from the producer’s key cache', async () => {
  const cluster = await ensureCluster({ kafka: true });
  const topic = `keys-${randomBytes(3).toString('hex')}`;
  const t = await openTransport(cluster.kafkaUrl);
  try {
    await t.ensureTopic(topic, 6);
    const keys = Array.from({ length: 3000 }, (_, i) => `MAC${String(i).padStart(6, '0')}-é${i % 7}`);
    const p = await t.producer();
    for (const round of ['first', 'again'])
      await p.send(
        topic,
        keys.map((key) => ({ key, value: new TextEncoder().encode(`${round}:${key}`) })),
      );
    await p.close();
    const c = await t.consumer({ group: `g-${topic}`, topics: [topic] });
    const seen = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    while (seen.size < 2 * keys.length && Date.now() < deadline)
      for (const m of await c.poll(5000, 500)) {
        assert.equal(m.partition, partitionForKey(m.key!, 6), `partition of ${m.key}`);
        seen.set(new TextDecoder().decode(m.value), m.partition);
      }
    await c.close();
    assert.equal(seen.size, 2 * keys.length);
    for (const key of keys) assert.equal(seen.get(`again:${key}`), seen.get(`first:${key}`));
  } finally {
    await t.close();
  }
});
