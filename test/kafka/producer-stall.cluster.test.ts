// Issue 16 item 5, the producer stall: the resilience runs of 2026-12-05 saw a send never acknowledged
// and never failed after a broker restart. This loops that scenario — four producers sending while a
// broker is SIGKILLed and restarted, in turn, several times — on a private cluster, and checks that every
// send settles in bounded time (none hangs until the send deadline) and no acknowledged message is lost.
// Before the fix the same loop left 4 sends unsettled for 120 s in 1 of 2 runs (see the Kafka README).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { killNode, startNode } from '../../src/cluster/cluster.ts';
import { isLakestreamError } from '../../src/errors.ts';
import type { KafkaProducer } from '../../src/transport/kafka/producer.ts';
import { openTransport } from '../../src/transport/open.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { privateKafkaCluster } from '../helpers/cluster.ts';
import { assertAllArrived } from '../helpers/kafka-lost.ts';

const PORT_OFFSET = 1700; // brokers 10792 and 10794, controller 10793 (3 brokers use 1500, failover 1300)
const CYCLES = Number(process.env.LAKESTREAM_STALL_CYCLES ?? 4);
const DOWN_MS = 20_000;
/** a send slower than this is what the bench's watchdog called a stall */
const STALL_MS = 100_000;
const cluster = privateKafkaCluster('kafka-stall', PORT_OFFSET);
/** a message keyed and valued by its id */
const keyed = (id: string) => ({ key: id, value: new TextEncoder().encode(id) });
const log = (line: string) => process.stderr.write(`[kafka-stall] ${line}\n`);

it(`settles every send in bounded time through ${CYCLES} broker kill/restart cycles, and loses no acknowledged message`, {
  timeout: 900_000,
}, async () => {
  const t: Transport = await openTransport(`kafka://${cluster.bootstrap}`);
  const topic = 'stall.readings';
  try {
    await t.ensureTopic(topic, 6);
    const p = (await t.producer()) as KafkaProducer;
    const acked = new Set<string>();
    const failed: string[] = [];
    let slowest = 0;
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const ids = Array.from({ length: 50 }, () => `m${n++}`);
        const t0 = Date.now();
        try {
          await p.send(topic, ids.map(keyed));
          for (const v of ids) acked.add(v);
        } catch (e) {
          // a failover the client gave up on is an error the caller sees and retries; a hang is not
          failed.push(isLakestreamError(e) ? `${e.code}: ${e.message}` : String(e));
        }
        slowest = Math.max(slowest, Date.now() - t0);
        await sleep(20);
      }
    };
    const senders = Promise.all([sender(), sender(), sender(), sender()]);
    for (let c = 0; c < CYCLES; c++) {
      await sleep(8000);
      const node = c % 2 === 0 ? 'broker-1' : 'broker-2';
      log(`cycle ${c + 1}: kill ${node} (${acked.size} acknowledged)`);
      assert.ok(await killNode(cluster.dir, node), `${node} was not running`);
      await sleep(DOWN_MS);
      await startNode(cluster.dir, node, { log });
    }
    await sleep(20_000); // the restarted broker takes its leaderships back meanwhile
    stop = true;
    await senders;
    await p.close();
    log(
      `${acked.size} acknowledged, slowest send ${slowest} ms, ${failed.length} failed (${failed.slice(0, 2).join(' | ')}), ${p.stalls} request(s) the client left unsettled sent again`,
    );
    assert.ok(slowest < STALL_MS, `a send took ${slowest} ms`);
    assert.deepEqual(
      failed.filter((f) => f.startsWith('TIMEOUT')),
      [],
      'sends that hung until their deadline',
    );

    await assertAllArrived(t, topic, acked, 'stall-check');
  } finally {
    await t.close();
  }
});
