// A member of a consumer group on the embedded log: rebalances on every poll, reads its own
// partitions from their positions, commits only what it is given.

import { LakestreamError } from '../../errors.ts';
import type { Consumer, ConsumerOptions, Message, PartitionOffset, TopicPartition } from '../transport.ts';
import { GroupMembership, ownerKey } from './group.ts';
import type { Heartbeats } from './heartbeats.ts';
import type { EmbeddedLog, StoredTopic } from './log.ts';
import { sqliteError } from './sqlite.ts';

export interface GroupTimings {
  /** A member silent this long is dead and its partitions go to the others. */
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** A member that has not polled for this long stops beating (Kafka's max.poll.interval.ms). */
  maxPollIntervalMs: number;
}

interface Owned {
  topic: StoredTopic;
  partition: number;
  position: number;
}

/** Longest sleep between two looks at the file while a poll waits (other processes' appends). */
const MAX_IDLE_MS = 25;

export class EmbeddedConsumer implements Consumer {
  private readonly log: EmbeddedLog;
  private readonly options: ConsumerOptions;
  private readonly topics: StoredTopic[];
  private readonly membership: GroupMembership;
  private readonly timings: GroupTimings;
  private readonly owned = new Map<string, Owned>();
  private readonly beats: { polled: () => void; remove: () => void };
  private readonly onClose: () => void;
  private nextFirst = 0;
  private closed = false;

  constructor(
    log: EmbeddedLog,
    options: ConsumerOptions,
    timings: GroupTimings,
    heartbeats: Heartbeats,
    onClose: () => void,
  ) {
    if (options.topics.length === 0)
      throw new LakestreamError('BAD_ARGUMENT', `consumer group ${options.group} names no topic`);
    this.log = log;
    this.options = options;
    this.timings = timings;
    this.onClose = onClose;
    this.topics = options.topics.map((name) => log.topic(name));
    this.membership = new GroupMembership(log, options.group, this.topics, timings.sessionTimeoutMs);
    this.membership.join();
    // The heartbeat thread keeps this member alive while the application works between polls.
    this.beats = heartbeats.add(options.group, this.membership.memberId);
  }

  async poll(maxMessages: number, timeoutMs: number): Promise<Message[]> {
    this.checkOpen();
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new LakestreamError('BAD_ARGUMENT', `poll needs maxMessages ≥ 1, got ${maxMessages}`);
    this.beats.polled();
    const deadline = Date.now() + Math.max(0, timeoutMs);
    let idle = 1;
    for (;;) {
      if (this.closed) return []; // closed while this poll waited
      await this.rebalance();
      if (this.closed) return [];
      let out: Message[];
      try {
        out = this.fetch(maxMessages);
      } catch (e) {
        throw sqliteError(e, this.log.db);
      }
      const left = deadline - Date.now();
      if (out.length > 0 || left <= 0) return out;
      await this.log.waitForAppend(Math.min(idle, left));
      idle = Math.min(idle * 2, MAX_IDLE_MS);
    }
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    this.checkOpen();
    if (offsets.length === 0) return;
    for (const o of offsets)
      if (!Number.isSafeInteger(o.offset) || o.offset < 0)
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `bad offset ${o.offset} to commit for ${o.topic}/${o.partition}`,
        );
    this.membership.commit(
      offsets.map((o) => ({ topic: this.log.topic(o.topic), partition: o.partition, offset: o.offset })),
    );
  }

  seek(position: PartitionOffset): void {
    this.checkOpen();
    const topic = this.log.topic(position.topic);
    const owned = this.owned.get(ownerKey(topic.id, position.partition));
    if (!owned)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `cannot seek ${position.topic}/${position.partition}: it is not assigned to this member of group ${this.options.group}`,
      );
    if (!Number.isSafeInteger(position.offset) || position.offset < 0)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `bad offset ${position.offset} to seek in ${position.topic}/${position.partition}`,
      );
    owned.position = position.offset;
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()].map((o) => ({ topic: o.topic.name, partition: o.partition }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const mine = [...this.owned.values()];
    // onRevoke first, while the partitions are still ours, so the application can commit.
    if (mine.length > 0)
      await this.options.onRevoke?.(mine.map((o) => ({ topic: o.topic.name, partition: o.partition })));
    this.closed = true;
    this.beats.remove();
    this.owned.clear();
    if (this.log.db.isOpen) this.membership.leave();
    this.onClose();
  }

  private checkOpen(): void {
    if (this.closed)
      throw new LakestreamError('BAD_ARGUMENT', `the consumer of group ${this.options.group} is closed`);
  }

  /** Gives up what moved away or was taken, then claims what is free (see group.ts for the rules). */
  private async rebalance(): Promise<void> {
    this.membership.heartbeatIfDue(this.timings.heartbeatIntervalMs);
    const view = this.membership.view();
    const desired = this.membership.desired(view);
    const wanted = new Set<string>();
    for (const topic of this.topics)
      for (const p of desired.get(topic.name) ?? []) wanted.add(ownerKey(topic.id, p));

    const lost: Owned[] = [];
    const moved: Owned[] = [];
    for (const [key, o] of this.owned) {
      if (view.owners.get(key) !== this.membership.memberId) lost.push(o);
      else if (!wanted.has(key)) moved.push(o);
    }
    if (moved.length > 0) {
      await this.options.onRevoke?.(moved.map((o) => ({ topic: o.topic.name, partition: o.partition })));
      this.membership.release(moved);
      for (const o of moved) this.owned.delete(ownerKey(o.topic.id, o.partition));
    }
    if (lost.length > 0) {
      // Taken while this member looked dead (an event loop blocked past the session timeout):
      // its uncommitted work will be redone by the new owner, and commits for these now fail.
      for (const o of lost) this.owned.delete(ownerKey(o.topic.id, o.partition));
      await this.options.onRevoke?.(lost.map((o) => ({ topic: o.topic.name, partition: o.partition })));
    }

    const live = new Set(view.live.map((m) => m.id));
    const claimable = [];
    for (const topic of this.topics)
      for (const partition of desired.get(topic.name) ?? []) {
        const key = ownerKey(topic.id, partition);
        const owner = view.owners.get(key);
        if (this.owned.has(key)) continue;
        if (owner === undefined || owner === this.membership.memberId || !live.has(owner))
          claimable.push({ topic, partition });
      }
    if (claimable.length === 0) return;
    const taken = this.membership.claim(claimable);
    if (taken.length === 0) return;
    const startAt = new Map<string, number>();
    for (const topic of new Set(taken.map((t) => t.topic))) {
      const committed = this.log.committedOffsets(this.options.group, topic);
      const ends = this.log.endOffsets(topic);
      for (const t of taken.filter((x) => x.topic === topic)) {
        const c = committed.find((o) => o.partition === t.partition);
        const end = ends.find((o) => o.partition === t.partition)?.offset ?? 0;
        startAt.set(ownerKey(topic.id, t.partition), c ? c.offset : this.options.from === 'latest' ? end : 0);
      }
    }
    for (const t of taken) {
      const key = ownerKey(t.topic.id, t.partition);
      this.owned.set(key, { topic: t.topic, partition: t.partition, position: startAt.get(key) ?? 0 });
    }
    await this.options.onAssign?.(taken.map((t) => ({ topic: t.topic.name, partition: t.partition })));
  }

  /** Reads up to `max` messages, starting at a different partition each time so none starves. */
  private fetch(max: number): Message[] {
    const out: Message[] = [];
    const parts = [...this.owned.values()];
    if (parts.length === 0) return out;
    const ends = new Map<string, number>();
    for (const topic of new Set(parts.map((p) => p.topic)))
      for (const e of this.log.endOffsets(topic)) ends.set(ownerKey(topic.id, e.partition), e.offset);
    const first = this.nextFirst++ % parts.length;
    for (let i = 0; i < parts.length && out.length < max; i++) {
      const o = parts[(first + i) % parts.length];
      if (o.position >= (ends.get(ownerKey(o.topic.id, o.partition)) ?? 0)) continue;
      o.position = this.log.read(o.topic, o.partition, o.position, max, out);
    }
    return out;
  }
}
