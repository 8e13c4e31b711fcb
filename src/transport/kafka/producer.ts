// The Kafka producer: idempotent, acks=all, compressed, keyed with Kafka's own murmur2 partitioner,
// and pipelined — sends made while a request is in flight are merged into the next request. Retries
// inside the client are bounded, so a send is acknowledged or fails; never neither.

import {
  compatibilityPartitioner,
  Producer as KafkaClientProducer,
  type MessageToProduce,
} from '@platformatic/kafka';
import { LakestreamError } from '../../errors.ts';
import { murmur2, toPositive } from '../murmur2.ts';
import type { OutgoingMessage, Producer } from '../transport.ts';
import type { KafkaAdmin } from './admin.ts';
import { requireKafkaClientPatch } from './client-patch.ts';
import { toLakestreamError, withDeadline } from './errors.ts';
import { checkTopicName, type KafkaSettings } from './url.ts';

type Record = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

interface Pending {
  records: Record[];
  bytes: number;
  topic: string;
  /** smallest and largest record timestamp (ms) */
  minTs: bigint;
  maxTs: bigint;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** acks=all (-1): a send resolves once every in-sync replica has it (the bench reports it beside the topics' min ISR). */
export const PRODUCER_ACKS = -1;
/** Requests in flight at once; more sends wait and are merged (the client allows one per broker when idempotent). */
const MAX_IN_FLIGHT = 2;
/** Upper bound of one merged request; under the brokers' default 1 MB per-partition batch limit. */
const MAX_REQUEST_BYTES = 900 * 1024;
/** A send that is not acknowledged by then fails (the client retries broker failovers until then). */
const SEND_TIMEOUT_MS = 120_000;
/**
 * Retries of one request inside the client, `retryDelay` apart (250 ms doubling to 2 s: ~44 s of
 * waiting in all), enough to ride out a leader failover. The client's idempotent producer retries
 * FOREVER when none is given (@platformatic/kafka 2.12 sets Number.MAX_SAFE_INTEGER): a retriable
 * error that persists (NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, NOT_LEADER…) then left a send neither
 * acknowledged nor failed — the producer stall of issue 16 (README "The producer stall").
 */
const CLIENT_RETRIES = 24;
/**
 * A safety net: a request the client has neither acknowledged nor failed by then (past its retries)
 * is sent again once on a fresh client.
 */
const REQUEST_STALL_MS = 75_000;
/** Fresh clients tried for one request before its send fails with TIMEOUT. */
const MAX_STALL_RESENDS = 1;
const RECORD_OVERHEAD = 70;
/**
 * Widest spread of timestamps in one request. A record stores its timestamp as a delta from its
 * batch's first one, and @platformatic/kafka 2.12 encodes deltas beyond ±2^31 ms wrongly (its
 * 64-bit zigzag shifts by 31), so records ~25 days apart never share a request.
 */
const MAX_TIMESTAMP_SPAN = 2n ** 30n;
/** Keys whose bytes and hash are kept; past this many the cache starts afresh (a bound, not an LRU). */
const KEY_CACHE_SIZE = 100_000;

export class KafkaProducer implements Producer {
  private client: KafkaClientProducer<Buffer, Buffer, Buffer, Buffer>;
  /** requests the client left unsettled for REQUEST_STALL_MS and that were sent again */
  stalls = 0;
  private readonly admin: KafkaAdmin;
  private readonly settings: KafkaSettings;
  /** partition count of each topic sent to, read once (a topic the brokers lack fails with its name) */
  private readonly partitionCounts = new Map<string, number>();
  /**
   * Each key's UTF-8 bytes and Kafka's partition hash (positive murmur2, the client takes it modulo
   * the partition count). Keys repeat — a meter sends thousands of readings — and the client's own
   * partitioner hashed every record again: 8 % of the producer's CPU in a profile of `bench kafka`.
   */
  private readonly keys = new Map<string, { bytes: Buffer; hash: number }>();
  private readonly queue: Pending[] = [];
  private readonly onClose: () => void;
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  private closed = false;

  constructor(settings: KafkaSettings, admin: KafkaAdmin, onClose: () => void) {
    this.settings = settings;
    this.admin = admin;
    this.onClose = onClose;
    requireKafkaClientPatch();
    this.client = this.newClient();
  }

  private newClient(): KafkaClientProducer<Buffer, Buffer, Buffer, Buffer> {
    return new KafkaClientProducer({
      clientId: `${this.settings.clientId}-producer`,
      bootstrapBrokers: this.settings.brokers,
      // Idempotence: the broker drops a retried batch it already has, so a retry never duplicates.
      // The client then sends acks=all (-1): a send resolves once every in-sync replica has it.
      idempotent: true,
      acks: PRODUCER_ACKS,
      compression: this.settings.compression,
      // Java-compatible murmur2 (sign bit cleared), so keys land where Kafka's own clients put them.
      partitioner: compatibilityPartitioner,
      connectTimeout: 3000,
      retries: CLIENT_RETRIES,
      retryDelay: (_client, _operation, attempt) => Math.min(2000, 250 * 2 ** (attempt - 1)),
    });
  }

  /**
   * Sends one request; when the client leaves it unsettled for REQUEST_STALL_MS, replaces the client
   * (the stuck one is closed, not awaited) and sends it again. The request may have landed before
   * it stuck: the new client has a new producer id, so the broker cannot drop the copy — the stream's
   * (meter_id, ts) dedupe does. A copy beats a reading never acknowledged.
   */
  private async sendBounded(records: Record[], topic: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const client = this.client;
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((r) => {
        timer = setTimeout(() => r('stalled'), REQUEST_STALL_MS);
      });
      try {
        const sent = client.send({ messages: records }).then(() => 'sent' as const);
        if ((await Promise.race([sent, stalled])) === 'sent') return;
      } finally {
        clearTimeout(timer);
      }
      this.stalls++;
      if (attempt > MAX_STALL_RESENDS)
        throw new LakestreamError(
          'TIMEOUT',
          `${records.length} message(s) to topic "${topic}": the Kafka client at ${this.settings.brokers.join(',')} left the request unsettled for ${REQUEST_STALL_MS / 1000} s, ${attempt} time(s)`,
        );
      process.stderr.write(
        `\nKafka producer: a request to topic "${topic}" unsettled for ${REQUEST_STALL_MS / 1000} s; sending it again on a fresh client\n`,
      );
      // the other request in flight may have replaced it already
      if (this.client === client) {
        this.client = this.newClient();
        client.close(true).catch(() => {});
      }
    }
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `the Kafka producer to ${this.settings.brokers.join(',')} is closed`,
      );
    checkTopicName(topic);
    // The client would wait forever for an unknown topic to appear: check it once, fail with its name.
    if (!this.partitionCounts.has(topic)) this.partitionCounts.set(topic, await this.admin.partitions(topic));
    if (messages.length === 0) return;
    const now = BigInt(Date.now());
    // A big send is cut into requests of at most MAX_REQUEST_BYTES, queued in order: a topic made
    // with the brokers' defaults refuses a batch over ~1 MB per partition.
    const chunks: Promise<void>[] = [];
    let records: Record[] = [];
    let bytes = 0;
    let minTs = 0n;
    let maxTs = 0n;
    const cut = () => {
      if (records.length === 0) return;
      const pending = { records, bytes, topic, minTs, maxTs } as const;
      chunks.push(new Promise<void>((resolve, reject) => this.queue.push({ ...pending, resolve, reject })));
      records = [];
      bytes = 0;
    };
    for (const m of messages) {
      const value = Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength);
      const k = m.key === null ? undefined : this.keyOf(m.key);
      const key = k?.bytes;
      const size = value.byteLength + (key?.byteLength ?? 0) + RECORD_OVERHEAD;
      const timestamp = m.timestamp === undefined ? now : BigInt(Math.trunc(m.timestamp));
      if (records.length > 0) {
        const lo = timestamp < minTs ? timestamp : minTs;
        const hi = timestamp > maxTs ? timestamp : maxTs;
        if (bytes + size > MAX_REQUEST_BYTES || hi - lo >= MAX_TIMESTAMP_SPAN) cut();
      }
      if (records.length === 0) {
        minTs = timestamp;
        maxTs = timestamp;
      } else {
        if (timestamp < minTs) minTs = timestamp;
        if (timestamp > maxTs) maxTs = timestamp;
      }
      // A given partition skips the client's partitioner; a null key keeps it (partition 0, as before).
      records.push(
        k === undefined
          ? { topic, key, value, timestamp }
          : { topic, key, value, timestamp, partition: k.hash },
      );
      bytes += size;
    }
    cut();
    const done = Promise.all(chunks).then(() => {});
    this.schedule();
    return withDeadline(
      done,
      SEND_TIMEOUT_MS,
      () =>
        new LakestreamError(
          'TIMEOUT',
          `${messages.length} message(s) to topic "${topic}" not acknowledged by ${this.settings.brokers.join(',')} within ${SEND_TIMEOUT_MS / 1000} s`,
        ),
    );
  }

  private keyOf(key: string): { bytes: Buffer; hash: number } {
    let k = this.keys.get(key);
    if (k === undefined) {
      if (this.keys.size >= KEY_CACHE_SIZE) this.keys.clear();
      const bytes = Buffer.from(key, 'utf8');
      k = { bytes, hash: toPositive(murmur2(bytes)) };
      this.keys.set(key, k);
    }
    return k;
  }

  /** Sends at once when nothing is in flight; otherwise lets sends pile up (linger) into one request. */
  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= MAX_IN_FLIGHT) return;
    if (this.inFlight === 0 || this.settings.lingerMs === 0 || this.queuedBytes() >= MAX_REQUEST_BYTES) {
      this.flush();
      return;
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      this.flush();
    }, this.settings.lingerMs);
  }

  private queuedBytes(): number {
    let n = 0;
    for (const p of this.queue) n += p.bytes;
    return n;
  }

  private flush(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const batch: Pending[] = [this.queue.shift()!];
      let bytes = batch[0].bytes;
      let minTs = batch[0].minTs;
      let maxTs = batch[0].maxTs;
      while (this.queue.length > 0) {
        const next = this.queue[0];
        const lo = next.minTs < minTs ? next.minTs : minTs;
        const hi = next.maxTs > maxTs ? next.maxTs : maxTs;
        if (bytes + next.bytes > MAX_REQUEST_BYTES || hi - lo >= MAX_TIMESTAMP_SPAN) break;
        this.queue.shift();
        batch.push(next);
        bytes += next.bytes;
        minTs = lo;
        maxTs = hi;
      }
      this.inFlight++;
      this.sendBounded(
        batch.length === 1 ? batch[0].records : batch.flatMap((p) => p.records),
        batch[0].topic,
      )
        .then(
          () => {
            for (const p of batch) p.resolve();
          },
          (e) => {
            for (const p of batch)
              p.reject(
                toLakestreamError(
                  e,
                  `sending to topic "${p.topic}" on Kafka at ${this.settings.brokers.join(',')}`,
                  p.topic,
                ),
              );
          },
        )
        .finally(() => {
          this.inFlight--;
          this.schedule();
          if (this.inFlight === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
        });
    }
  }

  /** Waits until every accepted send is acknowledged or failed, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    // A request the client never settles (seen after broker restarts) must not keep the process
    // from ending: wait at most as long as a send may take, then close anyway; those sends have
    // already failed with TIMEOUT to their callers.
    if (this.inFlight > 0 || this.queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idle.push(r)),
        new Promise<void>((r) => {
          timer = setTimeout(r, SEND_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const p of this.queue.splice(0))
      p.reject(
        new LakestreamError(
          'UNAVAILABLE',
          `the Kafka producer to ${this.settings.brokers.join(',')} closed before sending to topic "${p.topic}"`,
        ),
      );
    await this.client.close(true).catch(() => {});
    this.onClose();
  }
}
