// The transport: topics of keyed, partitioned, durable messages, producers, and consumer groups
// with committed offsets. Implementations: embedded (node:sqlite, one machine) and kafka.
//
// Rules every implementation keeps (the shared suite in ./suite.ts checks each):
// - A message's partition is a pure function of its key and the topic's partition count
//   (null key: any partition). Order is kept within a partition.
// - Offsets are per partition, start at 0 and grow by one per message (Kafka may leave gaps
//   after transaction markers; consumers must not assume +1).
// - Producer.send resolves only once every message is durable (acks=all); then it is never lost.
// - A consumer group shares a topic's partitions among its members; a member that leaves or dies
//   gives its partitions to the others. onAssign/onRevoke tell the member what it owns.
// - poll returns messages after the group's committed offset (or the seek position); commit
//   stores "next offset to read" per partition. Nothing is committed implicitly.
// - Misconfiguration (no server, unknown topic) fails within seconds with a LakestreamError.

export interface OutgoingMessage {
  key: string | null;
  value: Uint8Array;
  /** milliseconds since the epoch; defaults to now */
  timestamp?: number;
}

export interface Message {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Uint8Array;
  timestamp: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  offset: number;
}

export interface TopicInfo {
  name: string;
  partitions: number;
}

export interface Producer {
  /** Resolves when every message is acknowledged by all in-sync replicas. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  group: string;
  topics: string[];
  /** where to start with no committed offset; default 'earliest' */
  from?: 'earliest' | 'latest';
  onAssign?: (partitions: TopicPartition[]) => void | Promise<void>;
  onRevoke?: (partitions: TopicPartition[]) => void | Promise<void>;
}

export interface Consumer {
  /** Up to `maxMessages` messages from the assigned partitions, waiting at most `timeoutMs` for the first. */
  poll(maxMessages: number, timeoutMs: number): Promise<Message[]>;
  /** Commits "next offset to read" for each partition. */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Moves the read position of an assigned partition (used to skip what the lake already holds). */
  seek(position: PartitionOffset): void;
  assignment(): TopicPartition[];
  close(): Promise<void>;
}

export interface Transport {
  readonly url: string;
  /** Creates the topic if missing (idempotent); returns its partition count. */
  ensureTopic(name: string, partitions?: number): Promise<TopicInfo>;
  listTopics(): Promise<TopicInfo[]>;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<Consumer>;
  /** Offset after the last message of each partition (the "high watermark"). */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** The group's committed offsets for a topic (partitions without a commit are omitted). */
  committedOffsets(group: string, topic: string): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}

export const DEFAULT_PARTITIONS = 6;
