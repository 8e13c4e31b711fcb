// The stream worker's loop: poll a batch, take over newly assigned partitions (takeover.ts), write
// the batch exactly once (batch.ts), start again from the lake after an outage or a lost batch, and
// report status (worker-status.ts).

import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, isLakestreamError } from '../errors.ts';
import { duckMemoryBytes, type Lake } from '../lake/index.ts';
import { stopWaitingOn, storeWaits } from '../storage/index.ts';
import type { Message, Transport } from '../transport/index.ts';
import { commitBatch } from './batch.ts';
import { type CompactionPolicy, compactOwnFiles, DEFAULT_COMPACTION } from './compact.ts';
import { LatencyWindow } from './latency.ts';
import { ManifestStore, type StatePolicy } from './manifest.ts';
import { watchMemory } from './memory.ts';
import { getOrCreate } from './outputs.ts';
import { followAssignment } from './takeover.ts';
import { GroupOffsets, Outbox, type Owned, type WorkerContext } from './worker-context.ts';
import {
  newStatus,
  PhaseClock,
  refreshCounters,
  type WorkerStatus,
  writeWorkerStatus,
} from './worker-status.ts';
import { ensureTables, type Workload } from './workload.ts';

export type { WorkerStatus };

export interface WorkerOptions {
  transport: Transport;
  lake: Lake;
  workload: Workload;
  group: string;
  /** exit once everything produced so far is committed (a function: from when it returns true) */
  drain?: boolean | (() => boolean);
  maxBatch?: number;
  pollMs?: number;
  workerId?: string;
  signal?: AbortSignal;
  onBatch?: (s: WorkerStatus) => void;
  /** every poll's messages as the transport handed them over, before anything filters or dedupes them */
  onPoll?: (msgs: Message[]) => void;
  /** when a partition's state is saved whole rather than as a delta (default DEFAULT_STATE_POLICY) */
  statePolicy?: Partial<StatePolicy>;
  /** when the worker compacts the small files its batches wrote (default DEFAULT_COMPACTION) */
  compaction?: Partial<CompactionPolicy>;
}

/**
 * Runs a worker until `opts.signal` aborts (or it has drained). A stop while a batch waits out a storage
 * outage abandons that batch at once — as a kill would, and as safely: the next owner resumes from the lake.
 */
export function runWorker(opts: WorkerOptions): Promise<WorkerStatus> {
  return stopWaitingOn(opts.signal, () => work(opts));
}

async function work(opts: WorkerOptions): Promise<WorkerStatus> {
  const { transport, lake, workload, group } = opts;
  const topic = workload.topic;
  const worker = opts.workerId ?? `${hostname()}-${process.pid}`;
  const maxBatch = opts.maxBatch ?? 50_000;
  const pollMs = opts.pollMs ?? 200;
  const latency = new LatencyWindow(10_000);
  const compaction = { ...DEFAULT_COMPACTION, ...opts.compaction };
  let sinceCompaction = 0;
  await ensureTables(lake, workload);
  await transport.ensureTopic(topic);

  const status = newStatus(worker, group, workload.name);
  const clock = new PhaseClock(status.timings_ms);
  // DuckDB's own figure needs a query: sampled beside each status write, the report carries the last one
  let duckBytes: number | null = null;
  const memory = watchMemory(() => duckBytes);
  const consumer = await transport.consumer({ group, topics: [topic] });
  const producer = await transport.producer();
  const owned = new Map<number, Owned>();
  const ctx: WorkerContext = {
    transport,
    lake,
    workload,
    group,
    topic,
    worker,
    consumer,
    manifests: new ManifestStore(
      lake.store,
      workload.name,
      group,
      (table, appId) => lake.table(table).txnVersion(appId),
      opts.statePolicy,
    ),
    owned,
    outbox: new Outbox(transport, producer, lake, workload),
    offsets: new GroupOffsets(consumer, topic),
  };
  const countNow = () =>
    refreshCounters(
      status,
      [...owned.values()].map((o) => o.processor),
      workload.modelVersion?.(),
    );
  let lastStatusWrite = 0;
  // One status write at a time: during an outage a write waits in the store's retries, and the
  // writes of every 2 s must not pile up behind it (a forced one waits for it, then writes).
  let statusInFlight: Promise<void> | undefined;
  const writeStatus = async (force = false) => {
    if (statusInFlight && !force) return;
    await statusInFlight;
    const now = Date.now();
    if (!force && now - lastStatusWrite < 2000) return;
    lastStatusWrite = now;
    countNow();
    status.memory = memory.report();
    duckMemoryBytes().then(
      (b) => {
        duckBytes = b;
      },
      () => {},
    );
    statusInFlight = writeWorkerStatus(lake.store, status).finally(() => {
      statusInFlight = undefined;
    });
    await statusInFlight;
  };

  // While a batch waits in the lake store's retries (the NameNode down or in safe mode), the loop
  // cannot say so: this does, in the status (written as soon as the store takes writes again).
  const STORE_BLOCKED = 'storage unavailable, retrying: ';
  const watchStore = setInterval(() => {
    const [wait] = storeWaits();
    if (wait) {
      status.blocked = {
        reason: `${STORE_BLOCKED}${wait.reason}`,
        since: status.blocked?.since ?? wait.since,
      };
      writeStatus().catch(() => {});
    } else if (status.blocked?.reason.startsWith(STORE_BLOCKED)) status.blocked = null;
  }, 1000);
  watchStore.unref();

  /** After a failed or lost batch: forget every partition, so the next poll adopts them again from the lake. */
  let failures = 0;
  const recover = async (why: string) => {
    failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
    process.stderr.write(
      `\nbatch not committed: ${why}\nresuming from the lake's last manifest in ${(delay / 1000).toFixed(1)} s\n`,
    );
    ctx.manifests.forget(topic, [...owned.keys()]);
    owned.clear();
    status.blocked = { reason: why, since: status.blocked?.since ?? new Date().toISOString() };
    await writeStatus(true);
    // a stop request ends the wait (the loop then sees it)
    await sleep(delay, undefined, { signal: opts.signal }).catch(() => {});
  };

  /** Writes a batch; false when it was lost to another worker (the worker then starts again from the lake). */
  const write = async (batch: Map<number, Message[]>, flush: boolean): Promise<boolean> => {
    const r = await commitBatch(ctx, batch, flush, clock);
    if (r.kind === 'lost') {
      await recover(r.reason);
      return false;
    }
    if (r.kind === 'nothing') return true;
    const doneAt = Date.now();
    if (r.commits.length > 0) status.last_commit = r.commits[r.commits.length - 1];
    status.rows_written += r.rows;
    status.manifest_bytes += r.manifestBytes;
    for (const msgs of batch.values()) for (const m of msgs) latency.add(doneAt - m.timestamp);
    status.batches++;
    status.committed_offsets = [...owned].map(([partition, o]) => ({ topic, partition, offset: o.last + 1 }));
    status.latency_ms = latency.percentiles();
    if (compaction.everyBatches > 0 && ++sinceCompaction >= compaction.everyBatches) {
      sinceCompaction = 0;
      for (const c of await compactOwnFiles(lake, workload, owned.keys(), compaction))
        if (c.status === 'failed' || c.status === 'conflict')
          process.stderr.write(`\ncompaction of ${c.table} ${c.status}: ${c.detail}\n`);
      clock.lap('compact');
    }
    return true;
  };

  let lastRefresh = 0;
  let lastIdleCommit = 0;
  try {
    while (!opts.signal?.aborted) {
      if (workload.refresh && Date.now() - lastRefresh > 5000) {
        lastRefresh = Date.now();
        await workload.refresh().catch((e) => console.error(`model refresh failed: ${describeError(e)}`));
        status.model_version = workload.modelVersion?.() ?? null;
      }
      clock.start();
      let msgs: Message[];
      try {
        msgs = await consumer.poll(maxBatch, pollMs);
        if (msgs.length > 0) opts.onPoll?.(msgs);
        const taken = await followAssignment(ctx);
        if (taken.kind === 'lost') {
          await recover(taken.reason);
          continue;
        }
        status.assigned = [...owned.keys()].sort((a, b) => a - b).map((partition) => ({ topic, partition }));
        // Messages polled before a partition was adopted (and its position moved) are read again.
        if (taken.partitions.size > 0) msgs = msgs.filter((m) => !taken.partitions.has(m.partition));
        clock.lap('poll');
        if (msgs.length > 0) {
          const batch = new Map<number, Message[]>();
          for (const m of msgs) getOrCreate(batch, m.partition, () => []).push(m);
          if (!(await write(batch, false))) continue;
          failures = 0;
          status.blocked = null;
        }
      } catch (e) {
        // Stopped while the batch waited out an outage: it is given up, as a kill would (the loop ends).
        if (opts.signal?.aborted && isLakestreamError(e)) {
          process.stderr.write(`\nbatch given up on stopping: ${describeError(e)}\n`);
          break;
        }
        // A store or broker outage: nothing of the batch is trusted; start again from the lake.
        if (!(isLakestreamError(e) && e.retriable)) throw e;
        await recover(describeError(e));
        continue;
      }
      if (msgs.length > 0) {
        countNow();
        opts.onBatch?.(status);
        await writeStatus();
        continue;
      }
      // Idle: make sure the group's committed offsets match what the lake holds (a commit refused
      // during a rebalance is made good here, so lag reads zero once everything is in the lake).
      const behind = ctx.offsets.behind(owned);
      if (behind.length > 0 && Date.now() - lastIdleCommit > 2000) {
        lastIdleCommit = Date.now();
        await ctx.offsets.commit(behind);
      }
      const draining = typeof opts.drain === 'function' ? opts.drain() : opts.drain === true;
      if (draining && owned.size > 0 && (await caughtUp(transport, topic, owned))) {
        if (await write(new Map([...owned.keys()].map((p) => [p, []])), true)) break;
        continue;
      }
      if (draining && owned.size === 0 && consumer.assignment().length === 0) {
        // nothing assigned to this member: nothing to drain
        const ends = await transport.endOffsets(topic);
        if (ends.every((e) => e.offset === 0)) break;
      }
      await writeStatus();
    }
  } finally {
    clearInterval(watchStore);
    memory.stop();
    await writeStatus(true);
    await consumer.close();
    await producer.close();
  }
  return status;
}

async function caughtUp(transport: Transport, topic: string, owned: Map<number, Owned>): Promise<boolean> {
  const ends = await transport.endOffsets(topic);
  return ends
    .filter((e) => owned.has(e.partition))
    .every((e) => owned.get(e.partition)!.last + 1 >= e.offset);
}
