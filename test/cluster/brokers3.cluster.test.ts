// Issue 16 item 6: `cluster up --brokers 3` — three brokers, topics with replication factor 3 and
// min.insync.replicas 2. With one broker killed an acks=all send still succeeds; with two killed it
// fails with NOT_ENOUGH_REPLICAS instead of keeping the message on one broker only.
// Runs on a private cluster (own directory and ports), started and stopped here.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { killNode } from '../../src/cluster/cluster.ts';
import { describeTopics, registeredBrokers, withAdmin } from '../../src/cluster/kafka.ts';
import { isLakestreamError } from '../../src/errors.ts';
import { openTransport } from '../../src/transport/open.ts';
import type { Producer, Transport } from '../../src/transport/transport.ts';
import { privateKafkaCluster } from '../helpers/cluster.ts';

const PORT_OFFSET = 1500; // brokers 10592, 10594, 10596, controller 10593 (failover uses 1300, HDFS outages 1100)
const TOPIC = 'meters.readings';
const cluster = privateKafkaCluster('3-brokers', PORT_OFFSET, { brokers: 3 });
const log = (line: string) => process.stderr.write(`[3-brokers] ${line}\n`);

describe('a 3-broker cluster (cluster up --brokers 3)', { timeout: 600_000 }, () => {
  let transport: Transport;
  let producer: Producer;
  const one = (v: string) => [{ key: v, value: new TextEncoder().encode(v) }];

  before(async () => {
    transport = await openTransport(`kafka://${cluster.bootstrap}`);
    producer = await transport.producer();
  });

  after(async () => {
    await producer?.close().catch(() => {});
    await transport?.close().catch(() => {});
  });

  it('registers three brokers and creates the topics with replication factor 3 and min.insync.replicas 2', async () => {
    assert.deepEqual(await registeredBrokers(cluster.config), [2, 3, 4]);
    const [t] = await describeTopics(cluster.config, [TOPIC]);
    assert.equal(t.replicationFactor, 3);
    assert.equal(t.underReplicated, 0);
    const [described] = await withAdmin(cluster.config, (admin) =>
      admin.describeConfigs({
        resources: [{ resourceType: 2, resourceName: TOPIC, configurationKeys: ['min.insync.replicas'] }],
      }),
    );
    assert.equal(described.configs.find((c) => c.name === 'min.insync.replicas')?.value, '2');
  });

  it('acknowledges an acks=all send with one broker killed', async () => {
    await producer.send(TOPIC, one('before'));
    assert.ok(await killNode(cluster.dir, 'broker-1'));
    await producer.send(TOPIC, one('one broker down'));
  });

  it('refuses an acks=all send with NOT_ENOUGH_REPLICAS when two brokers are killed', async () => {
    assert.ok(await killNode(cluster.dir, 'broker-2'));
    const t0 = Date.now();
    await assert.rejects(
      producer.send(TOPIC, one('two brokers down')),
      (e) => isLakestreamError(e, 'UNAVAILABLE') && /NOT_ENOUGH_REPLICAS/.test(e.message),
    );
    log(`refused after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
