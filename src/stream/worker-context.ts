// What the stream worker's parts (takeover.ts, batch.ts, worker.ts) share: its engines, the
// partitions it owns, the outbox for other topics, and the group's committed offsets.

import { describeError, isLakestreamError } from '../errors.ts';
import type { Lake } from '../lake/index.ts';
import type { Consumer, Producer, Transport } from '../transport/index.ts';
import type { Batch, ManifestStore, StateRef } from './manifest.ts';
import { getOrCreate } from './outputs.ts';
import type { OutMessage, PartitionProcessor, Workload } from './workload.ts';

/** What a worker holds of a partition it owns. */
export interface Owned {
  processor: PartitionProcessor;
  /** offsets at or below this are already in the lake */
  last: number;
  seq: number;
  /** the last batch was a drain's flush and nothing was read since: another flush would change nothing */
  flushed: boolean;
  /** the state objects of the manifest the processor's state was restored from or last saved in */
  state?: StateRef;
}

export interface WorkerContext {
  transport: Transport;
  lake: Lake;
  workload: Workload;
  group: string;
  /** the workload's topic (the worker reads no other) */
  topic: string;
  worker: string;
  consumer: Consumer;
  manifests: ManifestStore;
  /** partition → what this worker holds of it */
  owned: Map<number, Owned>;
  outbox: Outbox;
  offsets: GroupOffsets;
}

/** Sends messages to other topics (quarantine, predictions): at least once, after the lake commits. */
export class Outbox {
  private readonly transport: Transport;
  private readonly producer: Producer;
  private readonly lake: Lake;
  private readonly workload: Workload;
  private readonly ensured = new Set<string>();

  constructor(transport: Transport, producer: Producer, lake: Lake, workload: Workload) {
    this.transport = transport;
    this.producer = producer;
    this.lake = lake;
    this.workload = workload;
  }

  async sendAll(messages: OutMessage[]): Promise<void> {
    const byTopic = new Map<string, { key: string | null; value: Uint8Array }[]>();
    for (const x of messages) getOrCreate(byTopic, x.topic, () => []).push({ key: x.key, value: x.value });
    for (const [t, list] of byTopic) {
      if (!this.ensured.has(t)) {
        await this.transport.ensureTopic(t);
        this.ensured.add(t);
      }
      await this.producer.send(t, list);
    }
  }

  /** A committed batch's messages (kept base64 in its manifest). */
  readonly send = (m: Batch): Promise<void> =>
    this.sendAll(
      m.messages.map((x) => ({
        topic: x.topic,
        key: x.key,
        value: new Uint8Array(Buffer.from(x.value, 'base64')),
      })),
    );

  /** The workload's derivations over what a committed batch wrote (fleet totals), then their messages. */
  async afterCommit(m: Batch): Promise<void> {
    if (this.workload.afterCommit) await this.sendAll(await this.workload.afterCommit(this.lake, m.tables));
  }
}

/** The consumer group's committed offsets of the worker's topic, as far as this worker knows them. */
export class GroupOffsets {
  private readonly consumer: Consumer;
  private readonly topic: string;
  /** partition → the offset the group commit holds */
  private readonly committed = new Map<number, number>();

  constructor(consumer: Consumer, topic: string) {
    this.consumer = consumer;
    this.topic = topic;
  }

  /**
   * Commits "next offset to read" for partitions. A refusal because the group moved them (or a
   * rebalance was under way) loses nothing: the lake holds the batch, its manifest tells the owner
   * where to resume, and an idle worker commits its positions again (`behind`).
   */
  async commit(offsets: { partition: number; offset: number }[]): Promise<void> {
    try {
      await this.consumer.commit(offsets.map((o) => ({ topic: this.topic, ...o })));
      for (const o of offsets) this.committed.set(o.partition, o.offset);
    } catch (e) {
      if (!(isLakestreamError(e) && (e.code === 'CONFLICT' || e.retriable))) throw e;
      process.stderr.write(`\noffsets not committed (${describeError(e)}); will retry when idle\n`);
    }
  }

  /** The owned partitions whose group commit is not just after what the lake holds. */
  behind(owned: Map<number, Owned>): { partition: number; offset: number }[] {
    return [...owned]
      .filter(([p, o]) => this.committed.get(p) !== o.last + 1 && o.last >= 0)
      .map(([partition, o]) => ({ partition, offset: o.last + 1 }));
  }
}
