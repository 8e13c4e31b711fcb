// The Kafka transport: topics on a real cluster, an idempotent acks=all producer, consumer groups
// with manual commits. Opened from `kafka://HOST:PORT[,HOST:PORT]`.

import { LakestreamError } from '../../errors.ts';
import {
  type Consumer,
  type ConsumerOptions,
  DEFAULT_PARTITIONS,
  type PartitionOffset,
  type Producer,
  type TopicInfo,
  type Transport,
} from '../transport.ts';
import { KafkaAdmin } from './admin.ts';
import { KafkaConsumer } from './consumer.ts';
import { KafkaProducer } from './producer.ts';
import { type KafkaSettings, parseKafkaUrl } from './url.ts';

export class KafkaTransport implements Transport {
  readonly url: string;
  readonly settings: KafkaSettings;
  private readonly admin: KafkaAdmin;
  private readonly brokerCount: number;
  private readonly producers = new Set<KafkaProducer>();
  private readonly consumers = new Set<KafkaConsumer>();
  private closed = false;

  constructor(url: string, settings: KafkaSettings, admin: KafkaAdmin, brokerCount: number) {
    this.url = url;
    this.settings = settings;
    this.admin = admin;
    this.brokerCount = brokerCount;
  }

  ensureTopic(name: string, partitions = DEFAULT_PARTITIONS): Promise<TopicInfo> {
    this.checkOpen();
    return this.admin.ensureTopic(name, partitions, this.brokerCount);
  }

  listTopics(): Promise<TopicInfo[]> {
    this.checkOpen();
    return this.admin.listTopics();
  }

  async producer(): Promise<Producer> {
    this.checkOpen();
    const p: KafkaProducer = new KafkaProducer(this.settings, this.admin, () => this.producers.delete(p));
    this.producers.add(p);
    return p;
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    this.checkOpen();
    // An unknown topic fails here, naming it, instead of a group that silently gets nothing.
    for (const t of options.topics) await this.admin.partitions(t);
    const c = await KafkaConsumer.open(this.settings, options, () => this.consumers.delete(c));
    this.consumers.add(c);
    return c;
  }

  endOffsets(topic: string): Promise<PartitionOffset[]> {
    this.checkOpen();
    return this.admin.endOffsets(topic);
  }

  committedOffsets(group: string, topic: string): Promise<PartitionOffset[]> {
    this.checkOpen();
    return this.admin.committedOffsets(group, topic);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.consumers]) await c.close().catch(() => {});
    for (const p of [...this.producers]) await p.close().catch(() => {});
    await this.admin.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new LakestreamError('BAD_ARGUMENT', `the transport ${this.url} is closed`);
  }
}

/**
 * Opens `kafka://HOST:PORT[,HOST:PORT][?replication=N&compression=lz4|zstd|snappy|gzip|none&linger=MS&session=MS&client=ID]`.
 * Asks the brokers for the cluster's metadata first, so a wrong address fails here (UNAVAILABLE, within ~5 s).
 */
export async function openKafkaTransport(url: string): Promise<Transport> {
  const settings = parseKafkaUrl(url);
  const admin = new KafkaAdmin(settings);
  try {
    const md = await admin.metadata();
    return new KafkaTransport(url, settings, admin, md.brokers.size);
  } catch (e) {
    await admin.close();
    throw e;
  }
}
