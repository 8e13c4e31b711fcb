// A Kafka consumer group member: the client keeps the membership (join, heartbeats, rebalances);
// this class owns positions and fetching, so seek and revocation take effect at once and nothing
// is ever committed that the application did not commit itself.

import {
  ConnectionPool,
  type GroupAssignment,
  IS_CONTROL,
  Consumer as KafkaClientConsumer,
} from '@platformatic/kafka';
import { LakestreamError } from '../../errors.ts';
import type { Consumer, ConsumerOptions, Message, PartitionOffset, TopicPartition } from '../transport.ts';
import { hasApiId, toLakestreamError, withDeadline } from './errors.ts';
import type { KafkaSettings } from './url.ts';

interface Owned {
  topic: string;
  partition: number;
  /** next offset to fetch; undefined until resolved from the group's commit (or `from`) */
  position?: bigint;
  /** false until onAssign has run and the position is known */
  ready: boolean;
  /** bumped by seek and resets, so a fetch answered after them is dropped */
  epoch: number;
}

/** The broker holds an empty fetch this long; short, so seeks and rebalances apply quickly. */
const FETCH_WAIT_MS = 500;
const FETCH_MAX_BYTES = 16 * 1024 * 1024;
const PARTITION_MAX_BYTES = 2 * 1024 * 1024;
/** Backpressure: no fetch while this many messages wait for poll. */
const MAX_BUFFERED = 20_000;
const RETRY_DELAY_MS = 500;
/** Fetching that keeps failing this long is reported by poll (a broker failover takes ~10-20 s). */
const FAILING_FOR_MS = 60_000;
const HEARTBEAT_MS = 1000;
/** Longest wait for leaving the group and closing connections. */
const LEAVE_TIMEOUT_MS = 5000;
/** How long commit retries a failing-over coordinator before reporting it. */
const COMMIT_RETRY_MS = 30_000;
const REBALANCE_TIMEOUT_MS = 30_000;

type FetchResponse = Awaited<ReturnType<KafkaClientConsumer['fetch']>>;

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const EMPTY = new Uint8Array(0);

export class KafkaConsumer implements Consumer {
  private readonly options: ConsumerOptions;
  private readonly settings: KafkaSettings;
  private readonly client: KafkaClientConsumer<Buffer, Buffer, Buffer, Buffer>;
  /** fetches get their own connections: a long fetch must not delay heartbeats and commits */
  private readonly pool: ConnectionPool;
  private readonly where: string;
  private readonly onClose: () => void;
  private readonly owned = new Map<string, Owned>();
  /** fetched, not yet polled: buffer[head..] */
  private buffer: Message[] = [];
  private head = 0;
  private readonly fetching = new Set<number>();
  private waiters: (() => void)[] = [];
  /** onRevoke/onAssign and position lookups run one after another, in rebalance order */
  private callbacks: Promise<void> = Promise.resolve();
  private failure: LakestreamError | undefined;
  private failingSince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private resolving = false;
  private closed = false;
  private closing = false;

  private constructor(settings: KafkaSettings, options: ConsumerOptions, onClose: () => void) {
    this.settings = settings;
    this.options = options;
    this.onClose = onClose;
    this.where = `group "${options.group}" on Kafka at ${settings.brokers.join(',')}`;
    this.client = new KafkaClientConsumer({
      clientId: `${settings.clientId}-consumer`,
      bootstrapBrokers: settings.brokers,
      groupId: options.group,
      // Offsets are committed only by commit(): exactly once into the lake (DESIGN.md).
      autocommit: false,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: HEARTBEAT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      connectTimeout: 3000,
      retryDelay: 500,
    });
    this.pool = new ConnectionPool(`${settings.clientId}-fetch`, {
      connectTimeout: 3000,
      requestTimeout: 30_000,
    });
    this.client.on('consumer:group:join', (p) => this.onAssignment(p.assignments ?? []));
    // The client reports a failed re-join here; an unhandled 'error' event would kill the process.
    this.client.on('error', (e: Error) => this.groupFailed(e));
  }

  static async open(
    settings: KafkaSettings,
    options: ConsumerOptions,
    onClose: () => void,
  ): Promise<KafkaConsumer> {
    if (options.topics.length === 0)
      throw new LakestreamError('BAD_ARGUMENT', `consumer group "${options.group}" names no topic`);
    const c = new KafkaConsumer(settings, options, onClose);
    c.client.topics.trackAll(...options.topics);
    // A fresh cluster creates __consumer_offsets on the first join and a failover moves the
    // coordinator: both answer NOT_COORDINATOR for a while, so transient errors are retried.
    const deadline = Date.now() + REBALANCE_TIMEOUT_MS + 10_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await withDeadline(
          c.client.joinGroup({
            sessionTimeout: settings.sessionTimeoutMs,
            heartbeatInterval: HEARTBEAT_MS,
            rebalanceTimeout: REBALANCE_TIMEOUT_MS,
          }),
          Math.max(1000, deadline - Date.now()),
          () =>
            new LakestreamError(
              'TIMEOUT',
              `joining ${c.where} took longer than ${REBALANCE_TIMEOUT_MS / 1000 + 10} s`,
            ),
        );
        break;
      } catch (e) {
        const err = toLakestreamError(e, `joining ${c.where}`);
        if (err.retriable && err.code !== 'TIMEOUT' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
          continue;
        }
        await c.shutdown(false);
        throw err;
      }
    }
    return c;
  }

  async poll(maxMessages: number, timeoutMs: number): Promise<Message[]> {
    this.checkOpen();
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new LakestreamError('BAD_ARGUMENT', `poll needs maxMessages ≥ 1, got ${maxMessages}`);
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      await this.callbacks;
      if (this.closed) return [];
      if (this.failure) {
        const f = this.failure;
        this.failure = undefined;
        throw f;
      }
      if (this.buffered() > 0) {
        const out = this.buffer.slice(this.head, this.head + maxMessages);
        this.head += out.length;
        if (this.head === this.buffer.length) {
          this.buffer = [];
          this.head = 0;
        } else if (this.head > 4096 && this.head * 2 > this.buffer.length) {
          this.buffer = this.buffer.slice(this.head);
          this.head = 0;
        }
        this.fetch();
        return out;
      }
      this.fetch();
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    this.checkOpen();
    if (offsets.length === 0) return;
    for (const o of offsets) {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0)
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `bad offset ${o.offset} to commit for ${o.topic}/${o.partition}`,
        );
      // After a rebalance the partition belongs to another member, which restarts from the
      // group's commit (or the lake's txn versions); an old owner's commit could move it back.
      if (!this.owned.has(key(o.topic, o.partition)))
        throw new LakestreamError(
          'CONFLICT',
          `cannot commit offset ${o.offset} of ${o.topic}/${o.partition} for ${this.where}: the partition is not assigned to this member (the group rebalanced)`,
        );
    }
    // A broker failover moves the group coordinator: retry what is transient (the client looks the
    // coordinator up again), as long as the partitions are still ours.
    const deadline = Date.now() + COMMIT_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.commit({
          offsets: offsets.map((o) => ({
            topic: o.topic,
            partition: o.partition,
            offset: BigInt(o.offset),
            leaderEpoch: -1,
          })),
        });
        return;
      } catch (e) {
        const err = toLakestreamError(e, `committing offsets of ${this.where}`);
        if (!err.retriable || Date.now() > deadline || this.closing) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
        for (const o of offsets)
          if (!this.owned.has(key(o.topic, o.partition)))
            throw new LakestreamError(
              'CONFLICT',
              `cannot commit offset ${o.offset} of ${o.topic}/${o.partition} for ${this.where}: the partition moved to another member while the cluster failed over`,
              { cause: e },
            );
      }
    }
  }

  seek(position: PartitionOffset): void {
    this.checkOpen();
    const owned = this.owned.get(key(position.topic, position.partition));
    if (!owned)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `cannot seek ${position.topic}/${position.partition}: it is not assigned to this member of ${this.where}`,
      );
    if (!Number.isSafeInteger(position.offset) || position.offset < 0)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `bad offset ${position.offset} to seek in ${position.topic}/${position.partition}`,
      );
    owned.position = BigInt(position.offset);
    owned.epoch++;
    this.drop(owned);
    this.fetch();
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()].map((o) => ({ topic: o.topic, partition: o.partition }));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.callbacks.catch(() => {});
    const mine = this.assignment();
    // onRevoke first, while the partitions are still ours, so the application can commit.
    try {
      if (mine.length > 0) await this.options.onRevoke?.(mine);
    } finally {
      await this.shutdown();
    }
  }

  /** `registered`: false when open() fails, before the transport knows this consumer. */
  private async shutdown(registered = true): Promise<void> {
    this.closed = true;
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.owned.clear();
    this.buffer = [];
    this.head = 0;
    this.wake();
    // Leaving the group hands the partitions over now rather than after the session timeout.
    // Bounded: with the brokers gone the client would retry for a while; the session timeout then
    // frees the partitions anyway.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, LEAVE_TIMEOUT_MS);
      this.client.leaveGroup(true, () => {
        clearTimeout(t);
        resolve();
      });
    });
    await withDeadline(
      this.client.close(true),
      LEAVE_TIMEOUT_MS,
      () => new LakestreamError('TIMEOUT', 'close'),
    ).catch(() => {});
    await withDeadline(
      this.pool.close(),
      LEAVE_TIMEOUT_MS,
      () => new LakestreamError('TIMEOUT', 'close'),
    ).catch(() => {});
    if (registered) this.onClose();
  }

  private checkOpen(): void {
    if (this.closing) throw new LakestreamError('BAD_ARGUMENT', `the consumer of ${this.where} is closed`);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private buffered(): number {
    return this.buffer.length - this.head;
  }

  private drop(owned: Owned): void {
    const rest = this.buffer.slice(this.head);
    if (rest.some((m) => m.topic === owned.topic && m.partition === owned.partition))
      this.buffer = rest.filter((m) => m.topic !== owned.topic || m.partition !== owned.partition);
    else this.buffer = rest;
    this.head = 0;
  }

  /** A new generation: give up what moved away, take what is new (only the difference is reported). */
  private onAssignment(assignments: GroupAssignment[]): void {
    if (this.closing) return;
    const mine = new Set(this.options.topics);
    const next = new Map<string, TopicPartition>();
    for (const a of assignments)
      if (mine.has(a.topic))
        for (const p of a.partitions) next.set(key(a.topic, p), { topic: a.topic, partition: p });
    const revoked: TopicPartition[] = [];
    for (const [k, o] of this.owned)
      if (!next.has(k)) {
        this.owned.delete(k);
        this.drop(o);
        revoked.push({ topic: o.topic, partition: o.partition });
      }
    const added: Owned[] = [];
    for (const [k, tp] of next)
      if (!this.owned.has(k)) {
        const o: Owned = { ...tp, ready: false, epoch: 0 };
        this.owned.set(k, o);
        added.push(o);
      }
    if (revoked.length === 0 && added.length === 0) return;
    this.callbacks = this.callbacks
      .then(async () => {
        if (revoked.length > 0) await this.options.onRevoke?.(revoked);
        if (added.length > 0) {
          await this.options.onAssign?.(added.map((o) => ({ topic: o.topic, partition: o.partition })));
          try {
            await this.resolvePositions(added.filter((o) => this.owned.get(key(o.topic, o.partition)) === o));
          } finally {
            // still without a position after a failure: fetch() resolves it again
            for (const o of added) o.ready = true;
          }
        }
      })
      .catch((e) => {
        if (!this.closing) this.failure = toLakestreamError(e, `rebalancing ${this.where}`);
      })
      .finally(() => {
        this.wake();
        this.fetch();
      });
  }

  /** Starts partitions without a position (no seek in onAssign) at the group's commit, else at `from`. */
  private async resolvePositions(parts: Owned[]): Promise<void> {
    const todo = parts.filter((o) => o.position === undefined);
    if (todo.length === 0 || this.closing) return;
    const byTopic = new Map<string, number[]>();
    for (const o of todo) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.partition]);
    const epochs = new Map(todo.map((o) => [o, o.epoch]));
    const committed = await this.client.listCommittedOffsets({
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const missing: Owned[] = [];
    for (const o of todo) {
      const c = committed.get(o.topic)?.[o.partition];
      if (o.epoch !== epochs.get(o)) continue;
      if (c !== undefined && c >= 0n) o.position = c;
      else missing.push(o);
    }
    if (missing.length > 0) await this.resetPositions(missing, epochs);
  }

  /** The start or end of each partition, as `from` says (no commit, or the committed offset is gone). */
  private async resetPositions(parts: Owned[], epochs: Map<Owned, number>): Promise<void> {
    const topics = [...new Set(parts.map((o) => o.topic))];
    const partitions: { [topic: string]: number[] } = {};
    for (const o of parts) partitions[o.topic] = [...(partitions[o.topic] ?? []), o.partition];
    const ends = await this.client.listOffsets({
      topics,
      partitions,
      timestamp: this.options.from === 'latest' ? -1n : -2n,
    });
    for (const o of parts) {
      const at = ends.get(o.topic)?.[o.partition];
      if (o.epoch === epochs.get(o) && at !== undefined && at >= 0n) o.position = at;
    }
  }

  /** Starts a fetch on every leader that has ready partitions and none in flight (unless the buffer is full). */
  private fetch(): void {
    if (this.closed || this.retryTimer || this.buffered() >= MAX_BUFFERED) return;
    const unresolved = [...this.owned.values()].filter((o) => o.ready && o.position === undefined);
    if (unresolved.length > 0 && !this.resolving) {
      this.resolving = true;
      this.resolvePositions(unresolved)
        .catch((e) => this.fetchFailed(e))
        .finally(() => {
          this.resolving = false;
          this.fetch();
        });
    }
    const ready = [...this.owned.values()].filter((o) => o.ready && o.position !== undefined);
    if (ready.length === 0) return;
    this.client.metadata({ topics: this.options.topics }).then(
      (md) => {
        if (this.closed) return;
        const byNode = new Map<number, Owned[]>();
        for (const o of ready) {
          const leader = md.topics.get(o.topic)?.partitions[o.partition]?.leader;
          if (leader === undefined || leader < 0 || this.fetching.has(leader)) continue;
          byNode.set(leader, [...(byNode.get(leader) ?? []), o]);
        }
        const ids = new Map<string, string>();
        for (const t of this.options.topics) {
          const id = md.topics.get(t)?.id;
          if (id) ids.set(id, t);
        }
        for (const [node, parts] of byNode) this.fetchFrom(node, parts, ids);
      },
      (e) => this.fetchFailed(e),
    );
  }

  private fetchFrom(node: number, parts: Owned[], ids: Map<string, string>): void {
    this.fetching.add(node);
    const asked = new Map(parts.map((o) => [o, { position: o.position!, epoch: o.epoch }]));
    const idOf = new Map([...ids].map(([id, name]) => [name, id]));
    const topics = new Map<string, Owned[]>();
    for (const o of parts) topics.set(o.topic, [...(topics.get(o.topic) ?? []), o]);
    this.client
      .fetch({
        node,
        connectionPool: this.pool,
        maxWaitTime: FETCH_WAIT_MS,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        topics: [...topics].map(([topic, ps]) => ({
          topicId: idOf.get(topic)!,
          partitions: ps.map((o) => ({
            partition: o.partition,
            fetchOffset: o.position!,
            partitionMaxBytes: PARTITION_MAX_BYTES,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        })),
      })
      .then(
        (response) => {
          this.failingSince = undefined;
          this.accept(response, asked, ids);
        },
        (e) => {
          // A partial failure still carries the other partitions' records.
          const response = (e as { response?: FetchResponse }).response;
          if (response?.responses) this.accept(response, asked, ids);
          this.fetchFailed(e);
        },
      )
      .finally(() => {
        this.fetching.delete(node);
        this.fetch();
      });
  }

  /** Buffers the records of partitions still owned and not moved (seek) since the fetch was sent. */
  private accept(
    response: FetchResponse,
    asked: Map<Owned, { position: bigint; epoch: number }>,
    ids: Map<string, string>,
  ): void {
    if (this.closed) return;
    let added = 0;
    for (const t of response.responses) {
      const topic = ids.get(t.topicId) ?? t.topicId;
      for (const p of t.partitions) {
        const o = this.owned.get(key(topic, p.partitionIndex));
        const sent = o && asked.get(o);
        if (!o || !sent || o.epoch !== sent.epoch || o.position !== sent.position) continue;
        if (p.errorCode === 1) {
          // OFFSET_OUT_OF_RANGE: the position fell off the log (retention); restart as `from` says.
          o.position = undefined;
          o.epoch++;
          this.resetPositions([o], new Map([[o, o.epoch]])).catch((e) => this.fetchFailed(e));
          continue;
        }
        if (p.errorCode !== 0 || !p.records) continue;
        let next = sent.position;
        for (const batch of p.records) {
          const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (end > next) next = end;
          if (batch.attributes & IS_CONTROL) continue; // transaction markers take offsets but carry no message
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < sent.position) continue; // a compressed batch starts before the asked offset
            this.buffer.push({
              topic,
              partition: p.partitionIndex,
              offset: Number(offset),
              key: r.key ? r.key.toString('utf8') : null,
              value: r.value ?? EMPTY,
              timestamp: Number(batch.firstTimestamp + r.timestampDelta),
            });
            added++;
          }
        }
        o.position = next;
      }
    }
    if (added > 0) this.wake();
  }

  private fetchFailed(e: unknown): void {
    if (this.closed) return;
    if (hasApiId(e, 'OFFSET_OUT_OF_RANGE') && !hasApiId(e, 'NOT_LEADER_OR_FOLLOWER')) return; // handled per partition
    // Leadership moved or a broker went away: forget the cached leaders and try again shortly.
    this.client.clearMetadata();
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince > FAILING_FOR_MS) {
      this.failure = toLakestreamError(e, `fetching for ${this.where}`);
      this.failingSince = undefined;
      this.wake();
    }
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      this.fetch();
    }, RETRY_DELAY_MS);
  }

  private groupFailed(e: Error): void {
    if (this.closing) return;
    const err = toLakestreamError(e, `rebalancing ${this.where}`);
    if (err.code === 'NOT_FOUND') {
      this.failure = err;
      this.wake();
      return;
    }
    // The client gave up re-joining (e.g. the coordinator moved with a broker): try again.
    setTimeout(() => {
      if (this.closing) return;
      this.client
        .joinGroup({
          sessionTimeout: this.settings.sessionTimeoutMs,
          heartbeatInterval: HEARTBEAT_MS,
          rebalanceTimeout: REBALANCE_TIMEOUT_MS,
        })
        .catch((again) => this.groupFailed(again));
    }, RETRY_DELAY_MS * 2).unref();
  }
}
