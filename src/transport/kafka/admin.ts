// Topic and offset administration on Kafka: create/describe topics, end offsets (ListOffsets),
// a group's committed offsets (OffsetFetch).

import { Admin, type ClusterMetadata } from '@platformatic/kafka';
import { LakestreamError } from '../../errors.ts';
import type { PartitionOffset, TopicInfo } from '../transport.ts';
import { hasApiId, toLakestreamError, topicsInMetadataError, withDeadline } from './errors.ts';
import { checkTopicName, type KafkaSettings } from './url.ts';

/** Misconfiguration must surface within seconds (the transport's rule), not after the client's long retries. */
export const PROBE_TIMEOUT_MS = 5000;
/** How long reads and topic creation ride out a broker failover before reporting it. */
const FAILOVER_MS = 30_000;
/** Longest wait for a new topic's partitions to get leaders. */
const TOPIC_READY_MS = 15_000;

/** Topic-level settings lakestream wants on every topic it creates (and min.insync.replicas, below). */
const TOPIC_CONFIGS = [
  // An out-of-sync replica never becomes leader: no acknowledged message is lost to an election.
  { name: 'unclean.leader.election.enable', value: 'false' },
  // Room for a 1 MB reading batch plus record overhead (the broker default is ~1 MB per batch).
  { name: 'max.message.bytes', value: String(8 * 1024 * 1024) },
];

export class KafkaAdmin {
  readonly settings: KafkaSettings;
  readonly where: string;
  readonly client: Admin;

  constructor(settings: KafkaSettings) {
    this.settings = settings;
    this.where = `Kafka at ${settings.brokers.join(',')}`;
    this.client = new Admin({
      clientId: `${settings.clientId}-admin`,
      bootstrapBrokers: settings.brokers,
      connectTimeout: 3000,
      requestTimeout: 30_000,
      retries: 2,
      retryDelay: 500,
    });
  }

  /** Fresh cluster metadata, failing with UNAVAILABLE within seconds when no broker answers. */
  async metadata(topics: string[] = []): Promise<ClusterMetadata> {
    try {
      return await withDeadline(
        this.client.metadata({ topics, forceUpdate: true }),
        PROBE_TIMEOUT_MS,
        () =>
          new LakestreamError(
            'UNAVAILABLE',
            `no Kafka broker answered within ${PROBE_TIMEOUT_MS / 1000} s at ${this.settings.brokers.join(',')}`,
          ),
      );
    } catch (e) {
      throw toLakestreamError(e, this.where, topics.length === 1 ? topics[0] : undefined);
    }
  }

  /** One look at the topic (see describe). */
  private async describeOnce(topic: string): Promise<number | undefined> {
    try {
      const md = await this.metadata([topic]);
      return md.topics.get(topic)?.partitionsCount;
    } catch (e) {
      if (e instanceof LakestreamError && e.code === 'NOT_FOUND') return undefined;
      // A partition in a leader election still counts: the topic exists with that many partitions.
      const seen = topicsInMetadataError(e)?.find((t) => t.name === topic);
      if (seen) return seen.partitions;
      throw e;
    }
  }

  /** Partition count of an existing topic; NOT_FOUND naming it otherwise. */
  async partitions(topic: string): Promise<number> {
    checkTopicName(topic);
    const n = await this.describe(topic);
    if (n === undefined)
      throw new LakestreamError('NOT_FOUND', `topic "${topic}" does not exist (${this.where})`);
    return n;
  }

  async ensureTopic(name: string, partitions: number, brokers: number): Promise<TopicInfo> {
    checkTopicName(name);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `topic "${name}" needs a partition count ≥ 1, got ${partitions}`,
      );
    const existing = await this.describe(name);
    if (existing !== undefined) return { name, partitions: existing };
    const replicas = Math.min(this.settings.replication ?? (brokers >= 3 ? 3 : 2), Math.max(1, brokers));
    // acks=all waits for the in-sync replicas: with 2 replicas, 1 keeps producing while one broker is
    // down; with 3, 2 puts every acknowledged message on two brokers and still allows one down
    const minInsync = { name: 'min.insync.replicas', value: replicas >= 3 ? '2' : '1' };
    try {
      await this.client.createTopics({
        topics: [name],
        partitions,
        replicas,
        configs: [minInsync, ...TOPIC_CONFIGS],
      });
    } catch (e) {
      // Another process created it first: keep its partition count (ensureTopic is idempotent).
      if (!hasApiId(e, 'TOPIC_ALREADY_EXISTS'))
        throw toLakestreamError(e, `creating topic "${name}" on ${this.where}`);
    }
    return { name, partitions: await this.waitForLeaders(name) };
  }

  /** Waits until every partition of a (new) topic has a leader, so the first send does not stall. */
  private async waitForLeaders(name: string): Promise<number> {
    const deadline = Date.now() + TOPIC_READY_MS;
    for (;;) {
      const md = await this.metadata([name]).catch((e) => {
        if (e instanceof LakestreamError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      });
      const t = md?.topics.get(name);
      if (t && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p && p.leader >= 0))
        return t.partitionsCount;
      if (Date.now() > deadline)
        throw new LakestreamError(
          'TIMEOUT',
          `topic "${name}" was created but its partitions have no leader after ${TOPIC_READY_MS / 1000} s (${this.where})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async listTopicsOnce(): Promise<TopicInfo[]> {
    const visible = (ts: { name: string; partitions: number; internal?: boolean }[]) =>
      ts
        .filter((t) => !t.internal && !t.name.startsWith('__') && t.partitions > 0)
        .map((t) => ({ name: t.name, partitions: t.partitions }))
        .sort((a, b) => a.name.localeCompare(b.name));
    let names: string[];
    try {
      names = await withDeadline(
        this.client.listTopics({ includeInternals: false }),
        PROBE_TIMEOUT_MS * 2,
        () =>
          new LakestreamError(
            'UNAVAILABLE',
            `no Kafka broker answered at ${this.settings.brokers.join(',')}`,
          ),
      );
    } catch (e) {
      // Some partition (of any topic) is electing a leader: the answer still lists every topic.
      const seen = topicsInMetadataError(e);
      if (seen) return visible(seen);
      throw toLakestreamError(e, this.where);
    }
    names = names.filter((n) => !n.startsWith('__'));
    if (names.length === 0) return [];
    try {
      const md = await this.metadata(names);
      return visible(names.map((name) => ({ name, partitions: md.topics.get(name)?.partitionsCount ?? 0 })));
    } catch (e) {
      const seen = topicsInMetadataError(e);
      if (seen) return visible(seen);
      throw e;
    }
  }

  private async endOffsetsOnce(topic: string): Promise<PartitionOffset[]> {
    const n = await this.partitions(topic);
    try {
      const listed = await this.client.listOffsets({
        topics: [
          {
            name: topic,
            partitions: Array.from({ length: n }, (_, i) => ({ partitionIndex: i, timestamp: -1n })),
          },
        ],
        // READ_UNCOMMITTED gives the high watermark: lakestream's producers are not transactional.
        isolationLevel: 0,
      });
      const parts = listed.find((t) => t.name === topic)?.partitions ?? [];
      return parts
        .map((p) => ({ topic, partition: p.partitionIndex, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toLakestreamError(e, `end offsets of topic "${topic}" on ${this.where}`, topic);
    }
  }

  private async committedOffsetsOnce(group: string, topic: string): Promise<PartitionOffset[]> {
    const n = await this.partitions(topic);
    try {
      const res = await this.client.listConsumerGroupOffsets({
        groups: [
          {
            groupId: group,
            topics: [{ name: topic, partitionIndexes: Array.from({ length: n }, (_, i) => i) }],
          },
        ],
      });
      const out: PartitionOffset[] = [];
      for (const g of res)
        for (const t of g.topics)
          for (const p of t.partitions)
            if (t.name === topic && p.committedOffset >= 0n)
              out.push({ topic, partition: p.partitionIndex, offset: Number(p.committedOffset) });
      return out.sort((a, b) => a.partition - b.partition);
    } catch (e) {
      throw toLakestreamError(
        e,
        `committed offsets of group "${group}" on topic "${topic}" (${this.where})`,
        topic,
      );
    }
  }

  /** The topic's partition count, or undefined when it does not exist. */
  describe(topic: string): Promise<number | undefined> {
    return this.retrying(() => this.describeOnce(topic));
  }

  listTopics(): Promise<TopicInfo[]> {
    return this.retrying(() => this.listTopicsOnce());
  }

  endOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.retrying(() => this.endOffsetsOnce(topic));
  }

  committedOffsets(group: string, topic: string): Promise<PartitionOffset[]> {
    return this.retrying(() => this.committedOffsetsOnce(group, topic));
  }

  /**
   * Repeats `work` while it fails with a retriable error (a broker restarting, a leader election),
   * for up to FAILOVER_MS. The first contact in openKafkaTransport is not retried: a wrong address
   * must fail within seconds.
   */
  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + FAILOVER_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (e) {
        if (!(e instanceof LakestreamError) || !e.retriable || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
      }
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}
