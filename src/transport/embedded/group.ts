// Consumer groups across processes: members heartbeat into the log file; partitions are split
// among the live members by a pure function of the member list, and a partition changes hands
// only after its owner releases it (or dies), so two members never read it at the same time.
//
// Rules (the embedded equivalent of Kafka's group coordinator):
// - A member is live while its heartbeat is younger than the session timeout. Beats come from a
//   thread (heartbeat-thread.ts) while the member keeps polling, and from every poll.
// - Assignment: for each topic, its subscribers sorted by member id; partition p goes to
//   subscriber p mod n. Every member computes the same answer from the same table.
// - group_owners records who reads each partition. A member claims a partition only if it has no
//   owner or its owner is dead; it releases one (after onRevoke) when the assignment moves it.
// - Offsets can be committed only by the partition's owner.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { StatementSync } from 'node:sqlite';
import { LakestreamError } from '../../errors.ts';
import type { EmbeddedLog, StoredTopic } from './log.ts';
import { writeTransaction } from './sqlite.ts';

export interface Member {
  id: string;
  topics: string[];
}

/** The partitions `me` should own: per topic, partition p goes to subscriber p mod n (sorted by id). */
export function assignPartitions(
  members: Member[],
  me: string,
  topics: StoredTopic[],
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const topic of topics) {
    const subscribers = members
      .filter((m) => m.topics.includes(topic.name))
      .map((m) => m.id)
      .sort();
    const index = subscribers.indexOf(me);
    const mine: number[] = [];
    if (index >= 0) for (let p = index; p < topic.partitions; p += subscribers.length) mine.push(p);
    out.set(topic.name, mine);
  }
  return out;
}

export interface GroupView {
  live: Member[];
  /** "topicId/partition" → member id */
  owners: Map<string, string>;
}

export const ownerKey = (topicId: number, partition: number) => `${topicId}/${partition}`;

export class GroupMembership {
  readonly group: string;
  readonly memberId: string;
  private readonly log: EmbeddedLog;
  private readonly topics: StoredTopic[];
  private readonly sessionTimeoutMs: number;
  private readonly stmt: Record<string, StatementSync>;
  private lastHeartbeat = 0;

  constructor(log: EmbeddedLog, group: string, topics: StoredTopic[], sessionTimeoutMs: number) {
    if (group.length === 0)
      throw new LakestreamError('BAD_ARGUMENT', 'a consumer group id must not be empty');
    this.log = log;
    this.group = group;
    this.topics = topics;
    this.sessionTimeoutMs = sessionTimeoutMs;
    // Sortable and readable: who (host, pid) and a random part that keeps ids unique.
    this.memberId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const q = (sql: string) => log.db.prepare(sql);
    this.stmt = {
      heartbeat: q('UPDATE group_members SET heartbeat_ms = ? WHERE group_id = ? AND member_id = ?'),
      join: q(
        `INSERT INTO group_members (group_id, member_id, topics, heartbeat_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id, member_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms`,
      ),
      leave: q('DELETE FROM group_members WHERE group_id = ? AND member_id = ?'),
      members: q(
        'SELECT member_id, topics, heartbeat_ms FROM group_members WHERE group_id = ? ORDER BY member_id',
      ),
      owners: q('SELECT topic_id, partition, member_id FROM group_owners WHERE group_id = ?'),
      owner: q('SELECT member_id FROM group_owners WHERE group_id = ? AND topic_id = ? AND partition = ?'),
      claim: q(
        `INSERT INTO group_owners (group_id, topic_id, partition, member_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id, topic_id, partition) DO UPDATE SET member_id = excluded.member_id`,
      ),
      release: q(
        'DELETE FROM group_owners WHERE group_id = ? AND topic_id = ? AND partition = ? AND member_id = ?',
      ),
      releaseAll: q('DELETE FROM group_owners WHERE group_id = ? AND member_id = ?'),
      forgetDead: q('DELETE FROM group_members WHERE group_id = ? AND heartbeat_ms < ?'),
    };
  }

  join(): void {
    writeTransaction(this.log.db, () =>
      this.stmt.join.run(
        this.group,
        this.memberId,
        JSON.stringify(this.topics.map((t) => t.name)),
        Date.now(),
      ),
    );
    this.lastHeartbeat = Date.now();
  }

  /** Refreshes the heartbeat; rejoins if others removed this member as dead. */
  heartbeat(now = Date.now()): void {
    const changed = writeTransaction(
      this.log.db,
      () => this.stmt.heartbeat.run(now, this.group, this.memberId).changes,
    );
    if (Number(changed) === 0) this.join();
    this.lastHeartbeat = now;
  }

  heartbeatIfDue(intervalMs: number): void {
    const now = Date.now();
    if (now - this.lastHeartbeat >= intervalMs) this.heartbeat(now);
  }

  view(now = Date.now()): GroupView {
    const rows = this.stmt.members.all(this.group) as {
      member_id: string;
      topics: string;
      heartbeat_ms: number;
    }[];
    const live = rows
      .filter((r) => r.heartbeat_ms >= now - this.sessionTimeoutMs)
      .map((r) => ({ id: r.member_id, topics: JSON.parse(r.topics) as string[] }));
    const owners = new Map<string, string>();
    for (const r of this.stmt.owners.all(this.group) as {
      topic_id: number;
      partition: number;
      member_id: string;
    }[])
      owners.set(ownerKey(r.topic_id, r.partition), r.member_id);
    return { live, owners };
  }

  desired(view: GroupView): Map<string, number[]> {
    return assignPartitions(view.live, this.memberId, this.topics);
  }

  /**
   * Takes the partitions that are still free or held by a dead member (checked again inside the
   * transaction); returns those taken. Forgets dead members on the way.
   */
  claim(wanted: { topic: StoredTopic; partition: number }[]): { topic: StoredTopic; partition: number }[] {
    return writeTransaction(this.log.db, () => {
      const now = Date.now();
      this.stmt.forgetDead.run(this.group, now - this.sessionTimeoutMs);
      const live = new Set(
        (this.stmt.members.all(this.group) as { member_id: string }[]).map((r) => r.member_id),
      );
      const taken = [];
      for (const w of wanted) {
        const row = this.stmt.owner.get(this.group, w.topic.id, w.partition) as
          | { member_id: string }
          | undefined;
        if (row && row.member_id !== this.memberId && live.has(row.member_id)) continue;
        this.stmt.claim.run(this.group, w.topic.id, w.partition, this.memberId);
        taken.push(w);
      }
      return taken;
    });
  }

  release(parts: { topic: StoredTopic; partition: number }[]): void {
    writeTransaction(this.log.db, () => {
      for (const p of parts) this.stmt.release.run(this.group, p.topic.id, p.partition, this.memberId);
    });
  }

  /** Commits offsets of partitions this member owns; CONFLICT if one was given to another member. */
  commit(offsets: { topic: StoredTopic; partition: number; offset: number }[]): void {
    writeTransaction(this.log.db, () => {
      for (const o of offsets) {
        const row = this.stmt.owner.get(this.group, o.topic.id, o.partition) as
          | { member_id: string }
          | undefined;
        if (row?.member_id !== this.memberId)
          throw new LakestreamError(
            'CONFLICT',
            `cannot commit offset ${o.offset} of ${o.topic.name}/${o.partition} for group ${this.group}: ` +
              `the partition is ${row ? `owned by member ${row.member_id}` : 'not assigned'}, not by ${this.memberId}`,
          );
        this.log.storeCommit(this.group, o.topic, o.partition, o.offset);
      }
    });
  }

  leave(): void {
    writeTransaction(this.log.db, () => {
      this.stmt.releaseAll.run(this.group, this.memberId);
      this.stmt.leave.run(this.group, this.memberId);
    });
  }
}
