// The Kafka durability a fault run has, and what it shows while brokers are down: the replication
// factor and min.insync.replicas READ BACK from the cluster for the run's readings topic (not echoed
// from a flag), and — with brokers down — how many replicas stay in sync and whether an acks=all write
// is accepted. That last is asked with a probe of the run's own (a few acks=all sends to a probe topic
// of the same durability, bounded in time), not read from the bench producer's end offsets: that
// producer may itself be in retry or refreshing metadata, and its offsets then stand still for seconds.

import { Producer } from '@platformatic/kafka';
import { withAdmin } from '../cluster/kafka.ts';
import { describeError } from '../errors.ts';
import { apiIds, kafkaMessage, PRODUCER_ACKS } from '../transport/kafka/index.ts';
import { sleep } from './progress.ts';

export interface Durability {
  /** brokers registered with the controller */
  brokers: number;
  /** the fewest replicas of any partition of the readings topic */
  replication_factor: number;
  /** the readings topic's min.insync.replicas, as the cluster describes it */
  min_insync_replicas: number;
  /** what the bench producer asks for: all = every in-sync replica has a write before it is acknowledged */
  producer_acks: string;
}

export interface WhileDown {
  /** the fewest in-sync replicas of any readings partition, as the surviving brokers tell; null with none left */
  in_sync_while_down: number | null;
  /** the probe's acks=all sends were acknowledged */
  accepts_writes_while_down: boolean;
  /** why the probe's sends were refused (e.g. NOT_ENOUGH_REPLICAS); empty when accepted */
  refused_with: string;
  /** seconds from the fault until the surviving brokers' metadata dropped the down ones from every ISR; null when it did not within the wait */
  noticed_s: number | null;
}

/** How long to wait for the controller to fence the down brokers (its session timeout is 9 s) before measuring anyway. */
export const NOTICE_TIMEOUT_MS = 45_000;
/** The probe's whole budget: a refusal comes at once, an acknowledgement within a request or two. */
const PROBE_TIMEOUT_MS = 20_000;

function acksName(acks: number): string {
  return acks === -1 ? 'all' : String(acks);
}

/** Replication factor and min.insync.replicas of `topic`, asked of the cluster. */
export async function readDurability(
  bootstrap: string,
  topic: string,
): Promise<Durability & { partitions: number }> {
  return withAdmin(bootstrap, async (admin) => {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    if (!t) throw new Error(`topic ${topic} is not in the cluster's metadata`);
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['min.insync.replicas'] }],
    });
    const minIsr = described?.configs.find((c) => c.name === 'min.insync.replicas')?.value;
    return {
      // the brokers the cluster's metadata lists (all are up when this is asked)
      brokers: md.brokers.size,
      replication_factor: Math.min(...t.partitions.filter(Boolean).map((p) => p.replicas.length)),
      min_insync_replicas: Number(minIsr),
      producer_acks: acksName(PRODUCER_ACKS),
      partitions: t.partitionsCount,
    };
  });
}

/** Creates the probe topic with the readings topic's partitions, replication factor and min ISR. */
export async function createProbeTopic(
  bootstrap: string,
  topic: string,
  d: { partitions: number; replication_factor: number; min_insync_replicas: number },
): Promise<void> {
  await withAdmin(bootstrap, async (admin) => {
    await admin.createTopics({
      topics: [topic],
      partitions: d.partitions,
      replicas: d.replication_factor,
      configs: [
        { name: 'min.insync.replicas', value: String(d.min_insync_replicas) },
        { name: 'unclean.leader.election.enable', value: 'false' },
      ],
    });
    // the first probe must not meet a topic without leaders (nor one the brokers do not know yet)
    for (let i = 0; i < 100; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
      const t = md?.topics.get(topic);
      if (t && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p && p.leader >= 0))
        return;
      await sleep(200);
    }
    throw new Error(`probe topic ${topic} has partitions without a leader`);
  });
}

/** The in-sync replicas of every partition of `topic`, by broker id, from the brokers at `bootstrap`. */
async function isrs(bootstrap: string, topic: string): Promise<number[][]> {
  return withAdmin(bootstrap, async (admin) => {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    return t ? t.partitions.filter(Boolean).map((p) => [...p.isr]) : [];
  });
}

/** Sends one acks=all message to every partition of the probe topic; resolves to '' when all were acknowledged, else why not. */
export async function probeWrites(bootstrap: string, topic: string, partitions: number): Promise<string> {
  const producer = new Producer({
    clientId: 'lakestream-durability-probe',
    bootstrapBrokers: bootstrap.split(','),
    acks: PRODUCER_ACKS,
    connectTimeout: 3000,
    timeout: 5000,
    // a refusal (NOT_ENOUGH_REPLICAS) is retriable to the client: a few tries, then the answer
    retries: 2,
    retryDelay: 500,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const sent = producer
      .send({
        // here, not only in the options: @platformatic/kafka 2.12 takes a send's acks from the send's
        // own options and, for a producer that is not idempotent, sends acks=1 when they have none
        acks: PRODUCER_ACKS,
        messages: Array.from({ length: partitions }, (_, partition) => ({
          topic,
          partition,
          key: Buffer.from('probe'),
          value: Buffer.from(new Date().toISOString()),
        })),
      })
      .then(() => '');
    const timedOut = new Promise<string>((r) => {
      timer = setTimeout(() => r(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
    });
    return await Promise.race([sent, timedOut]).catch((e) => {
      const ids = [...new Set(apiIds(e))];
      return ids.length > 0 ? ids.join(', ') : kafkaMessage(e);
    });
  } catch (e) {
    return describeError(e);
  } finally {
    clearTimeout(timer);
    await producer.close(true).catch(() => {});
  }
}

/**
 * With the brokers `downIds` down: waits (bounded) until the surviving brokers' metadata has dropped
 * them from every in-sync replica set of `topic` — the controller fences a silent broker after its
 * session timeout — then records the fewest in-sync replicas and probes an acks=all write.
 */
export async function measureWhileDown(o: {
  /** the brokers still up, host:port,… (empty when none is) */
  survivors: string;
  /** every broker of the cluster, for the probe when none survives (it must then fail) */
  allBrokers: string;
  downIds: number[];
  readingsTopic: string;
  probeTopic: string;
  partitions: number;
}): Promise<WhileDown> {
  const t0 = Date.now();
  let noticed_s: number | null = null;
  let last: number[][] = [];
  if (o.survivors) {
    while (Date.now() - t0 < NOTICE_TIMEOUT_MS) {
      last = await isrs(o.survivors, o.readingsTopic).catch(() => last);
      if (last.length > 0 && last.every((isr) => isr.every((id) => !o.downIds.includes(id)))) {
        noticed_s = Number(((Date.now() - t0) / 1000).toFixed(1));
        break;
      }
      await sleep(1000);
    }
  }
  const refused = await probeWrites(o.survivors || o.allBrokers, o.probeTopic, o.partitions);
  return {
    in_sync_while_down: last.length > 0 ? Math.min(...last.map((isr) => isr.length)) : null,
    accepts_writes_while_down: refused === '',
    refused_with: refused,
    noticed_s,
  };
}
