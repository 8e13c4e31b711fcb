// The embedded log's storage operations on one SQLite connection: topics, appending batches,
// reading from an offset, end offsets and committed offsets. Group membership is in group.ts.

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { LakestreamError } from '../../errors.ts';
import type { Message, PartitionOffset, TopicInfo } from '../transport.ts';
import { decodeBatch, type EncodedMessage, encodeBatch, encodedSize } from './codec.ts';
import { openLogDatabase, type SyncMode, writeTransaction } from './sqlite.ts';

export interface StoredTopic extends TopicInfo {
  id: number;
}

/** A stored row holds at most this many messages or bytes, so a poll never decodes much it skips. */
const BATCH_MESSAGES = 1000;
const BATCH_BYTES = 1 << 20;
/** A send commits at least every this many bytes (see append). */
const TRANSACTION_BYTES = 8 << 20;

interface Chunk {
  partition: number;
  count: number;
  data: Uint8Array;
}

/** Kafka's legal topic names, so a topic name works on both transports. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Wakes consumers of this process when a producer of this process appends to the same file. */
const appendListeners = new Map<string, Set<() => void>>();

export class EmbeddedLog {
  readonly dir: string;
  readonly db: DatabaseSync;
  private readonly topicsByName = new Map<string, StoredTopic>();
  private readonly stmt: Record<string, StatementSync>;

  constructor(dir: string, sync: SyncMode = 'normal') {
    this.dir = dir;
    this.db = openLogDatabase(dir, sync);
    const q = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      topicByName: q('SELECT id, name, partitions FROM topics WHERE name = ?'),
      allTopics: q('SELECT id, name, partitions FROM topics ORDER BY name'),
      insertTopic: q(
        'INSERT INTO topics (name, partitions, created_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      insertPartition: q(
        'INSERT OR IGNORE INTO partitions (topic_id, partition, next_offset) VALUES (?, ?, 0)',
      ),
      nextOffset: q('SELECT next_offset FROM partitions WHERE topic_id = ? AND partition = ?'),
      setNextOffset: q('UPDATE partitions SET next_offset = ? WHERE topic_id = ? AND partition = ?'),
      endOffsets: q('SELECT partition, next_offset FROM partitions WHERE topic_id = ? ORDER BY partition'),
      insertBatch: q(
        'INSERT INTO batches (topic_id, partition, base_offset, end_offset, data) VALUES (?, ?, ?, ?, ?)',
      ),
      readBatches: q(
        'SELECT base_offset, data FROM batches WHERE topic_id = ? AND partition = ? AND end_offset > ? ORDER BY end_offset',
      ),
      committed: q(
        'SELECT partition, next_offset FROM group_offsets WHERE group_id = ? AND topic_id = ? ORDER BY partition',
      ),
      commit: q(
        `INSERT INTO group_offsets (group_id, topic_id, partition, next_offset, committed_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (group_id, topic_id, partition) DO UPDATE SET next_offset = excluded.next_offset,
         committed_ms = excluded.committed_ms`,
      ),
    };
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private checkOpen(): void {
    if (!this.db.isOpen) throw new LakestreamError('BAD_ARGUMENT', `the embedded log ${this.dir} was closed`);
  }

  ensureTopic(name: string, partitions: number): StoredTopic {
    if (!TOPIC_NAME.test(name))
      throw new LakestreamError('BAD_ARGUMENT', `bad topic name "${name}": use 1-249 of [a-zA-Z0-9._-]`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000)
      throw new LakestreamError('BAD_ARGUMENT', `bad partition count ${partitions} for topic ${name}`);
    const known = this.findTopic(name);
    if (known) return known;
    writeTransaction(this.db, () => {
      this.stmt.insertTopic.run(name, partitions, Date.now());
      const row = this.stmt.topicByName.get(name) as unknown as StoredTopic;
      for (let p = 0; p < row.partitions; p++) this.stmt.insertPartition.run(row.id, p);
    });
    return this.topic(name);
  }

  /** The topic, from cache or the file (another process may have created it); undefined if none. */
  findTopic(name: string): StoredTopic | undefined {
    this.checkOpen();
    const cached = this.topicsByName.get(name);
    if (cached) return cached;
    const row = this.stmt.topicByName.get(name) as StoredTopic | undefined;
    if (!row) return undefined;
    const topic = { id: row.id, name: row.name, partitions: row.partitions };
    this.topicsByName.set(name, topic);
    return topic;
  }

  topic(name: string): StoredTopic {
    const t = this.findTopic(name);
    if (!t)
      throw new LakestreamError(
        'NOT_FOUND',
        `topic ${name} does not exist in the embedded log ${this.dir} (create it first; topics are not auto-created)`,
      );
    return t;
  }

  listTopics(): TopicInfo[] {
    this.checkOpen();
    return (this.stmt.allTopics.all() as unknown as StoredTopic[]).map((r) => ({
      name: r.name,
      partitions: r.partitions,
    }));
  }

  /**
   * Appends each partition's messages (in order within a partition); returns when all are stored.
   * A large send is split into transactions of at most TRANSACTION_BYTES, so no process holds the
   * write lock long enough to starve the others' heartbeats and commits.
   */
  append(topic: StoredTopic, byPartition: Map<number, EncodedMessage[]>): void {
    // Encode before taking the write lock, so other processes wait only for the inserts.
    const chunks: Chunk[] = [];
    for (const [partition, messages] of byPartition) {
      let from = 0;
      while (from < messages.length) {
        let to = from;
        let bytes = 0;
        while (to < messages.length && to - from < BATCH_MESSAGES) {
          const size = encodedSize(messages[to]);
          if (to > from && bytes + size > BATCH_BYTES) break;
          bytes += size;
          to++;
        }
        chunks.push({ partition, count: to - from, data: encodeBatch(messages, from, to) });
        from = to;
      }
    }
    for (let first = 0; first < chunks.length; ) {
      let last = first;
      let bytes = chunks[first].data.byteLength;
      while (last + 1 < chunks.length && bytes + chunks[last + 1].data.byteLength <= TRANSACTION_BYTES)
        bytes += chunks[++last].data.byteLength;
      this.appendChunks(topic, chunks, first, last + 1);
      first = last + 1;
    }
    for (const wake of appendListeners.get(this.dir) ?? []) wake();
  }

  private appendChunks(topic: StoredTopic, chunks: Chunk[], from: number, to: number): void {
    writeTransaction(this.db, () => {
      const next = new Map<number, number>();
      for (let i = from; i < to; i++) {
        const c = chunks[i];
        let base = next.get(c.partition);
        if (base === undefined) {
          const row = this.stmt.nextOffset.get(topic.id, c.partition) as { next_offset: number } | undefined;
          if (!row)
            throw new LakestreamError(
              'INTERNAL',
              `partition ${topic.name}/${c.partition} is missing its row`,
            );
          base = row.next_offset;
        }
        this.stmt.insertBatch.run(topic.id, c.partition, base, base + c.count, c.data);
        next.set(c.partition, base + c.count);
      }
      for (const [partition, offset] of next) this.stmt.setNextOffset.run(offset, topic.id, partition);
    });
  }

  /** Appends to `out` up to `max` messages of one partition from offset `from`; returns the next position. */
  read(topic: StoredTopic, partition: number, from: number, max: number, out: Message[]): number {
    let position = from;
    // Rows are fetched one by one from the cursor, so a small poll never loads batches it does not need.
    for (const row of this.stmt.readBatches.iterate(topic.id, partition, position) as Iterable<{
      base_offset: number;
      data: Uint8Array;
    }>) {
      position = decodeBatch(row.data, row.base_offset, position, topic.name, partition, max, out);
      if (out.length >= max) break;
    }
    return position;
  }

  endOffsets(topic: StoredTopic): PartitionOffset[] {
    return (this.stmt.endOffsets.all(topic.id) as { partition: number; next_offset: number }[]).map((r) => ({
      topic: topic.name,
      partition: r.partition,
      offset: r.next_offset,
    }));
  }

  committedOffsets(group: string, topic: StoredTopic): PartitionOffset[] {
    return (this.stmt.committed.all(group, topic.id) as { partition: number; next_offset: number }[]).map(
      (r) => ({
        topic: topic.name,
        partition: r.partition,
        offset: r.next_offset,
      }),
    );
  }

  /** Stores offsets; call inside a write transaction that has checked the member owns them. */
  storeCommit(group: string, topic: StoredTopic, partition: number, offset: number): void {
    this.stmt.commit.run(group, topic.id, partition, offset, Date.now());
  }

  /** Resolves after `ms`, or sooner when this process appends to the same log. */
  waitForAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let listeners = appendListeners.get(this.dir);
      if (!listeners) {
        listeners = new Set();
        appendListeners.set(this.dir, listeners);
      }
      const done = () => {
        clearTimeout(timer);
        listeners.delete(done);
        if (listeners.size === 0) appendListeners.delete(this.dir);
        resolve();
      };
      const timer = setTimeout(done, ms);
      listeners.add(done);
    });
  }
}
