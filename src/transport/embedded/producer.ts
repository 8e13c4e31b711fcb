// The embedded producer: partitions by key (Kafka's murmur2), appends each send in one durable
// transaction.

import { LakestreamError } from '../../errors.ts';
import { partitionOfKeyBytes } from '../murmur2.ts';
import type { OutgoingMessage, Producer } from '../transport.ts';
import type { EncodedMessage } from './codec.ts';
import type { EmbeddedLog } from './log.ts';

export class EmbeddedProducer implements Producer {
  private readonly log: EmbeddedLog;
  /** Null-keyed messages of one send stick to one partition, the next send takes the next (Kafka's sticky partitioner). */
  private sticky = Math.floor(Math.random() * 1_000_000);
  private closed = false;

  constructor(log: EmbeddedLog) {
    this.log = log;
  }

  async send(topicName: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new LakestreamError('BAD_ARGUMENT', `send to ${topicName} on a closed producer`);
    const topic = this.log.topic(topicName);
    if (messages.length === 0) return;
    const now = Date.now();
    const nullPartition = this.sticky++ % topic.partitions;
    const byPartition = new Map<number, EncodedMessage[]>();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (!(m.value instanceof Uint8Array))
        throw new LakestreamError('BAD_ARGUMENT', `message ${i} of a send to ${topicName} has no byte value`);
      const keyBytes = m.key === null || m.key === undefined ? null : Buffer.from(m.key, 'utf8');
      const partition = keyBytes === null ? nullPartition : partitionOfKeyBytes(keyBytes, topic.partitions);
      let list = byPartition.get(partition);
      if (!list) {
        list = [];
        byPartition.set(partition, list);
      }
      list.push({ keyBytes, value: m.value, timestamp: m.timestamp ?? now });
    }
    this.log.append(topic, byPartition);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
