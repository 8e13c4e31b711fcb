// The embedded transport: a durable log in one SQLite file under a directory (`embedded:DIR`),
// shared by every process on this machine that opens the same directory.

import { isAbsolute, resolve } from 'node:path';
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
import { EmbeddedConsumer, type GroupTimings } from './consumer.ts';
import { Heartbeats } from './heartbeats.ts';
import { EmbeddedLog } from './log.ts';
import { EmbeddedProducer } from './producer.ts';
import { truncateCommitted } from './retention.ts';
import type { SyncMode } from './sqlite.ts';

export interface EmbeddedOptions {
  /** A consumer silent this long is dead and its partitions go to the others (default 3000 ms). */
  sessionTimeoutMs?: number;
  /** When a send or commit reaches the disk (default 'normal': survives any process crash). */
  sync?: SyncMode;
  /** A consumer that does not poll for this long gives up its partitions (default 300000 ms, as Kafka). */
  maxPollIntervalMs?: number;
}

export class EmbeddedTransport implements Transport {
  readonly url: string;
  readonly dir: string;
  private readonly log: EmbeddedLog;
  private readonly timings: GroupTimings;
  private readonly consumers = new Set<EmbeddedConsumer>();
  private heartbeats: Heartbeats | undefined;

  constructor(dir: string, options: EmbeddedOptions = {}) {
    this.dir = resolve(dir);
    this.url = `embedded:${this.dir}`;
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
    if (!(sessionTimeoutMs >= 100))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `session timeout ${sessionTimeoutMs} ms is too short (≥ 100 ms)`,
      );
    this.timings = {
      sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(30, Math.floor(sessionTimeoutMs / 4)),
      maxPollIntervalMs: options.maxPollIntervalMs ?? 300_000,
    };
    if (options.sync !== undefined && options.sync !== 'normal' && options.sync !== 'full')
      throw new LakestreamError('BAD_ARGUMENT', `sync must be normal or full, not ${options.sync}`);
    this.log = new EmbeddedLog(this.dir, options.sync);
  }

  async ensureTopic(name: string, partitions = DEFAULT_PARTITIONS): Promise<TopicInfo> {
    const t = this.log.ensureTopic(name, partitions);
    return { name: t.name, partitions: t.partitions };
  }

  async listTopics(): Promise<TopicInfo[]> {
    return this.log.listTopics();
  }

  async producer(): Promise<Producer> {
    return new EmbeddedProducer(this.log);
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    this.heartbeats ??= new Heartbeats({
      dir: this.dir,
      intervalMs: this.timings.heartbeatIntervalMs,
      maxPollIntervalMs: this.timings.maxPollIntervalMs,
    });
    const c: EmbeddedConsumer = new EmbeddedConsumer(this.log, options, this.timings, this.heartbeats, () =>
      this.consumers.delete(c),
    );
    this.consumers.add(c);
    return c;
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.log.endOffsets(this.log.topic(topic));
  }

  async committedOffsets(group: string, topic: string): Promise<PartitionOffset[]> {
    return this.log.committedOffsets(group, this.log.topic(topic));
  }

  /**
   * Retention: deletes the messages every group that consumes a topic has committed past, so a
   * long run does not grow the file forever. Returns how many messages were deleted.
   */
  async truncate(): Promise<number> {
    return truncateCommitted(this.log);
  }

  async close(): Promise<void> {
    for (const c of [...this.consumers]) await c.close();
    await this.heartbeats?.stop();
    this.heartbeats = undefined;
    this.log.close();
  }
}

/**
 * `embedded:DIR[?sync=normal|full&sessionTimeoutMs=N]`; DIR is relative to the working directory
 * or absolute (`embedded:///abs/dir` also works). Options given in code win over the URL's.
 */
export async function openEmbeddedTransport(url: string, options: EmbeddedOptions = {}): Promise<Transport> {
  if (!url.startsWith('embedded:'))
    throw new LakestreamError('BAD_ARGUMENT', `not an embedded transport URL: ${url} (use embedded:DIR)`);
  const rest = url.slice('embedded:'.length);
  const q = rest.indexOf('?');
  let dir = q >= 0 ? rest.slice(0, q) : rest;
  const fromUrl: EmbeddedOptions = {};
  for (const [name, value] of new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '')) {
    if (name === 'sync') fromUrl.sync = value as SyncMode;
    else if (name === 'sessionTimeoutMs' && /^\d+$/.test(value)) fromUrl.sessionTimeoutMs = Number(value);
    else
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `unknown or bad option ${name}=${value} in ${url} (known: sync=normal|full, sessionTimeoutMs=N)`,
      );
  }
  if (dir.startsWith('//')) dir = dir.slice(2);
  if (dir === '')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `the transport URL ${url} names no directory (use embedded:DIR)`,
    );
  return new EmbeddedTransport(isAbsolute(dir) ? dir : resolve(dir), { ...fromUrl, ...options });
}
