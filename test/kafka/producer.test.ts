// The Kafka producer on topics it did not create: big sends still fit the brokers' default limits.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { openTransport } from '../../src/transport/open.ts';
import { ensureCluster } from '../helpers/cluster.ts';

it('sends 5 MB in one call to a one-partition topic made with the brokers’ defaults (1 MB batches)', async () => {
  const cluster = await ensureCluster({ kafka: true });
  const topic = `defaults-${randomBytes(3).toString('hex')}`;
  // Made by Kafka's defaults, as another tool would make it: max.message.bytes ~1 MB per batch.
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: cluster.kafkaBootstrap.split(',') });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 2 });
  await admin.close();
  const t = await openTransport(cluster.kafkaUrl);
  try {
    const n = 20_000;
    const p = await t.producer();
    await p.send(
      topic,
      // random bytes: incompressible, so the batch stays 5 MB on the wire
      Array.from({ length: n }, (_, i) => ({ key: `k${i % 7}`, value: new Uint8Array(randomBytes(250)) })),
    );
    await p.close();
    assert.deepEqual(await t.endOffsets(topic), [{ topic, partition: 0, offset: n }]);
  } finally {
    await t.close();
  }
});
