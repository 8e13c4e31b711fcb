// Killing one of the two brokers (SIGKILL, as a crash) while readings stream: producers stall for
// the failover and go on; no acknowledged message is lost; the group's consumer carries on.
// Runs on a private Kafka cluster (own directory and ports) so other tests never see the outage.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { killNode } from '../../src/cluster/cluster.ts';
import type { Transport } from '../../src/transport/index.ts';
import { openTransport } from '../../src/transport/index.ts';
import { privateKafkaCluster } from '../helpers/cluster.ts';

const PORT_OFFSET = 1300; // brokers 10392 and 10394, controller 10393 (the HDFS outage test uses 1100)
const cluster = privateKafkaCluster('kafka-failover', PORT_OFFSET);

it('loses no acknowledged message when a broker is killed mid-stream, and the consumer goes on', async () => {
  const t: Transport = await openTransport(`kafka://${cluster.bootstrap}?session=6000`);
  const topic = 'failover.readings';
  try {
    await t.ensureTopic(topic, 6);
    const p = await t.producer();
    const c = await t.consumer({ group: 'failover', topics: [topic] });
    const acked = new Set<string>();
    const seen = new Set<string>();
    const errors: string[] = [];
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const batch = Array.from({ length: 100 }, () => `m${n++}`);
        try {
          await p.send(
            topic,
            batch.map((v) => ({ key: v, value: new TextEncoder().encode(v) })),
          );
          for (const v of batch) acked.add(v);
        } catch (e) {
          errors.push(String(e));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    let consuming = true;
    const consumer = (async () => {
      while (consuming) {
        const batch = await c.poll(1000, 200);
        for (const m of batch) seen.add(new TextDecoder().decode(m.value));
        const last = new Map<number, number>();
        for (const m of batch) last.set(m.partition, m.offset + 1);
        if (last.size > 0)
          await c.commit([...last].map(([partition, offset]) => ({ topic, partition, offset })));
      }
    })();
    const senders = Promise.all([sender(), sender(), sender(), sender()]);

    await new Promise((r) => setTimeout(r, 3000));
    const before = acked.size;
    assert.ok(before > 0, 'nothing was acknowledged before the kill');
    assert.ok(await killNode(cluster.dir, 'broker-2'), 'broker-2 was not running');
    const killedAt = Date.now();
    // go on until well after the failover: brokers notice a dead peer within ~10 s
    while (Date.now() - killedAt < 25_000 || acked.size < before + 1000) {
      assert.ok(
        Date.now() - killedAt < 90_000,
        `producing stalled: ${acked.size - before} acknowledged since the kill`,
      );
      await new Promise((r) => setTimeout(r, 500));
    }
    stop = true;
    await senders;
    await p.close();
    const deadline = Date.now() + 60_000;
    while ([...acked].some((v) => !seen.has(v)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    consuming = false;
    await consumer;
    await c.close();

    const lost = [...acked].filter((v) => !seen.has(v));
    assert.deepEqual(
      lost.slice(0, 10),
      [],
      `${lost.length} of ${acked.size} acknowledged messages never arrived`,
    );
    assert.deepEqual(errors, [], 'sends failed during the failover');
    assert.ok(acked.size > before + 1000, 'producing did not resume on the surviving broker');
  } finally {
    await t.close();
  }
});
