// The stream worker: poll a batch, process it message by message, write the lake exactly once
// (data files → manifest → table commits → the workload's derived rows → consumer offsets; see
// manifest.ts), report status.

import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, isLakestreamError, LakestreamError } from '../errors.ts';
import type { Lake } from '../lake/index.ts';
import type { Consumer, Message, Transport } from '../transport/transport.ts';
import { applyManifest, lostRace, recordedOf } from './apply.ts';
import { LatencyWindow } from './latency.ts';
import { type Batch, type Manifest, type ManifestPartition, ManifestStore } from './manifest.ts';
import { BatchOutputs, getOrCreate } from './outputs.ts';
import { prepareTableWrite } from './table-writes.ts';
import type { OutMessage, PartitionProcessor, Workload } from './workload.ts';

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
}

export interface WorkerStatus {
  worker: string;
  group: string;
  workload: string;
  updated_at: string;
  assigned: { topic: string; partition: number }[];
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
  committed_offsets: { topic: string; partition: number; offset: number }[];
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  model_version: number | null;
  quarantine_reasons: Record<string, number>;
  last_commit: { table: string; version: number; at: string } | null;
  batches: number;
  rows_written: number;
  /** where the time went, cumulative ms: poll, process (decode…gold logic), files (Parquet writes), manifest, commit (Delta log), offsets */
  timings_ms: Record<'poll' | 'process' | 'files' | 'manifest' | 'commit' | 'offsets', number>;
}

interface Owned {
  processor: PartitionProcessor;
  /** offsets at or below this are already in the lake */
  last: number;
  seq: number;
  /** the last batch was a drain's flush and nothing was read since: another flush would change nothing */
  flushed: boolean;
}

export async function runWorker(opts: WorkerOptions): Promise<WorkerStatus> {
  const { transport, lake, workload, group } = opts;
  const topic = workload.topic;
  const worker = opts.workerId ?? `${hostname()}-${process.pid}`;
  const maxBatch = opts.maxBatch ?? 50_000;
  const pollMs = opts.pollMs ?? 200;
  const manifests = new ManifestStore(lake.store, workload.name, group);
  const latency = new LatencyWindow(10_000);
  const tables = new Map(workload.tables.map((t) => [t.path, t]));
  for (const t of workload.tables) await lake.table(t.path).ensure(t.spec as never);
  await transport.ensureTopic(topic);

  const owned = new Map<number, Owned>();
  const status: WorkerStatus = {
    worker,
    group,
    workload: workload.name,
    updated_at: new Date().toISOString(),
    assigned: [],
    read: 0,
    accepted: 0,
    quarantined: 0,
    duplicates: 0,
    committed_offsets: [],
    latency_ms: { p50: null, p95: null, p99: null },
    model_version: null,
    quarantine_reasons: {},
    last_commit: null,
    batches: 0,
    rows_written: 0,
    timings_ms: { poll: 0, process: 0, files: 0, manifest: 0, commit: 0, offsets: 0 },
  };
  let mark = performance.now();
  /** adds the time since the last mark to a phase */
  const lap = (phase: keyof WorkerStatus['timings_ms']) => {
    const now = performance.now();
    status.timings_ms[phase] += now - mark;
    mark = now;
  };

  const consumer: Consumer = await transport.consumer({ group, topics: [topic] });
  const producer = await transport.producer();
  const ensured = new Set<string>();
  /** Sends messages (quarantine, predictions): at least once, after the lake commits. */
  const sendAll = async (messages: OutMessage[]) => {
    const byTopic = new Map<string, { key: string | null; value: Uint8Array }[]>();
    for (const x of messages) getOrCreate(byTopic, x.topic, () => []).push({ key: x.key, value: x.value });
    for (const [t, list] of byTopic) {
      if (!ensured.has(t)) {
        await transport.ensureTopic(t);
        ensured.add(t);
      }
      await producer.send(t, list);
    }
  };
  const send = (m: Batch) =>
    sendAll(
      m.messages.map((x) => ({
        topic: x.topic,
        key: x.key,
        value: new Uint8Array(Buffer.from(x.value, 'base64')),
      })),
    );
  /** The workload's derivations over what a committed batch wrote (fleet totals), then their messages. */
  const afterCommit = async (m: Batch) => {
    if (workload.afterCommit) await sendAll(await workload.afterCommit(lake, m.tables));
  };
  let lastStatusWrite = 0;
  const writeStatus = async (force = false) => {
    const now = Date.now();
    if (!force && now - lastStatusWrite < 2000) return;
    lastStatusWrite = now;
    refreshCounters(status, owned, workload);
    await lake.store
      .put(`_status/workers/${worker}.json`, new TextEncoder().encode(JSON.stringify(status)))
      .catch(() => {});
  };

  /**
   * Takes over partitions: completes their newest manifest, restores their state, and moves the
   * read position to just after it (or to the group's committed offset when there is none).
   */
  const adopt = async (partitions: number[]): Promise<void> => {
    if (partitions.length === 0) return;
    const found = await manifests.latestFor(topic, partitions, (p, candidates) =>
      recordedOf(lake, group, topic, p, candidates),
    );
    const pending = new Map<string, Manifest>();
    for (const v of found.values()) pending.set(v.path, v.manifest);
    const lost: string[] = [];
    for (const [path, m] of pending) if (await lostRace(lake, group, m)) lost.push(path);
    if (lost.length > 0) {
      for (const path of lost) {
        process.stderr.write(`\n${path} lost the race for its batch numbers: deleted; looking again\n`);
        await manifests.discard(path);
      }
      manifests.forget(topic, partitions);
      return adopt(partitions);
    }
    const committed = await transport.committedOffsets(group, topic);
    // (latestFor has noted each as the newest of the partitions it was found for, and of no other.)
    for (const m of pending.values()) {
      await applyManifest(lake, group, m, send);
      await afterCommit(m);
    }
    for (const p of partitions) {
      const m = found.get(p)?.manifest;
      const mp = m?.partitions.find((q) => q.topic === topic && q.partition === p);
      owned.set(p, {
        processor: workload.newProcessor(p, m?.states[String(p)]),
        last: mp?.last ?? -1,
        seq: mp?.seq ?? 0,
        flushed: mp?.flushed === true,
      });
      const from = mp ? mp.last + 1 : (committed.find((c) => c.partition === p)?.offset ?? 0);
      consumer.seek({ topic, partition: p, offset: from });
    }
  };

  /** Follows the consumer's assignment; returns the partitions adopted now. */
  const syncAssignment = async (): Promise<Set<number>> => {
    const now = new Set(
      consumer
        .assignment()
        .filter((tp) => tp.topic === topic)
        .map((tp) => tp.partition),
    );
    const lost = [...owned.keys()].filter((p) => !now.has(p));
    for (const p of lost) owned.delete(p);
    manifests.forget(topic, lost);
    const fresh = [...now].filter((p) => !owned.has(p));
    await adopt(fresh);
    status.assigned = [...owned.keys()].sort((a, b) => a - b).map((partition) => ({ topic, partition }));
    return new Set(fresh);
  };

  /** The offsets this worker's group commit holds, as far as it knows. */
  const groupCommitted = new Map<number, number>();
  /**
   * Commits "next offset to read" for partitions. A refusal because the group moved them (or a
   * rebalance was under way) loses nothing: the lake holds the batch, its manifest tells the owner
   * where to resume, and an idle worker commits its positions again (see below).
   */
  const commitOffsets = async (offsets: { partition: number; offset: number }[]) => {
    try {
      await consumer.commit(offsets.map((o) => ({ topic, ...o })));
      for (const o of offsets) groupCommitted.set(o.partition, o.offset);
    } catch (e) {
      if (!(isLakestreamError(e) && (e.code === 'CONFLICT' || e.retriable))) throw e;
      process.stderr.write(`\noffsets not committed (${describeError(e)}); will retry when idle\n`);
    }
  };

  /** After a failed batch: forget every partition, so the next poll adopts them again from the lake. */
  let failures = 0;
  const recover = async (e: unknown) => {
    failures++;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
    process.stderr.write(
      `\nbatch not committed: ${describeError(e)}\nresuming from the lake's last manifest in ${(delay / 1000).toFixed(1)} s\n`,
    );
    manifests.forget(topic, [...owned.keys()]);
    owned.clear();
    // a stop request ends the wait (the loop then sees it)
    await sleep(delay, undefined, { signal: opts.signal }).catch(() => {});
  };

  const commitBatch = async (batch: Map<number, Message[]>, flush: boolean) => {
    const out = new BatchOutputs();
    const parts: ManifestPartition[] = [];
    for (const [p, msgs] of batch) {
      const o = owned.get(p);
      if (!o) continue;
      let last = o.last;
      for (const msg of msgs) {
        if (msg.offset <= o.last) continue; // already in the lake (a replay after a crash)
        o.processor.process(msg, out);
        last = msg.offset;
      }
      // a drain over nothing new after a drain writes no new table version
      if (last === o.last && (!flush || o.flushed)) continue;
      if (flush) o.processor.flush(out);
      parts.push({ topic, partition: p, last, seq: o.seq + 1, ...(flush ? { flushed: true } : {}) });
    }
    lap('process');
    if (parts.length === 0) return;
    const prefix = `w${parts.map((q) => q.partition).join('_')}-`;
    // The tables' files are written concurrently (DuckDB works off the main thread, so one table's
    // COPY overlaps the next one's staging); the actions keep the tables' order.
    const tableActions: { path: string; actions: object[] }[] = await Promise.all(
      out.tables().map(async (path) => {
        const t = tables.get(path);
        if (!t)
          throw new LakestreamError('INTERNAL', `workload ${workload.name} wrote to unknown table ${path}`);
        const rows = out.rowsFor(path);
        const actions = await prepareTableWrite(lake, {
          table: lake.table(path),
          rows,
          replaced: out.replaced.get(path),
          keyColumns: t.keyColumns,
          filePrefix: prefix,
        });
        status.rows_written += rows.length;
        return { path, actions };
      }),
    );
    // The workload's first table is every batch's first commit, even with nothing to add: two
    // workers holding the same batch number of a partition (one of them a zombie that missed a
    // rebalance) meet there, and the loser stops before it has committed anything anywhere.
    const lease = workload.tables[0].path;
    const leaseAt = tableActions.findIndex((t) => t.path === lease);
    const [leaseActions] = leaseAt >= 0 ? tableActions.splice(leaseAt, 1) : [{ path: lease, actions: [] }];
    tableActions.unshift(leaseActions);
    const messages = [...out.messages].flatMap(([t, list]) =>
      list.map((m) => ({ topic: t, key: m.key, value: Buffer.from(m.value).toString('base64') })),
    );
    lap('files');
    const states: Record<string, string> = {};
    for (const q of parts) {
      const processor = owned.get(q.partition)!.processor;
      states[String(q.partition)] = processor.toJSONText?.() ?? JSON.stringify(processor.toJSON());
    }
    const { path, manifest } = await manifests.write(
      { worker, partitions: parts, tables: tableActions, messages },
      states,
    );
    lap('manifest');
    const commits = await applyManifest(lake, group, manifest, send, () => manifests.discard(path));
    await afterCommit(manifest);
    lap('commit');
    if (commits.length > 0) status.last_commit = commits[commits.length - 1];
    await commitOffsets(parts.map((q) => ({ partition: q.partition, offset: q.last + 1 })));
    await manifests.committed(path, manifest);
    lap('offsets');
    const doneAt = Date.now();
    for (const q of parts) {
      const o = owned.get(q.partition)!;
      o.last = q.last;
      o.seq = q.seq;
      o.flushed = q.flushed === true;
    }
    for (const msgs of batch.values()) for (const m of msgs) latency.add(doneAt - m.timestamp);
    status.batches++;
    status.committed_offsets = [...owned].map(([partition, o]) => ({ topic, partition, offset: o.last + 1 }));
    status.latency_ms = latency.percentiles();
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
      mark = performance.now();
      let msgs: Message[];
      try {
        msgs = await consumer.poll(maxBatch, pollMs);
        if (msgs.length > 0) opts.onPoll?.(msgs);
        const adopted = await syncAssignment();
        // Messages polled before a partition was adopted (and its position moved) are read again.
        if (adopted.size > 0) msgs = msgs.filter((m) => !adopted.has(m.partition));
        lap('poll');
        if (msgs.length > 0) {
          const batch = new Map<number, Message[]>();
          for (const m of msgs) getOrCreate(batch, m.partition, () => []).push(m);
          await commitBatch(batch, false);
          failures = 0;
        }
      } catch (e) {
        // A store or broker outage, or another worker that committed these partitions meanwhile
        // (this one was a zombie): nothing of the batch is trusted; start again from the lake.
        if (!(isLakestreamError(e) && (e.retriable || e.code === 'CONFLICT'))) throw e;
        await recover(e);
        continue;
      }
      if (msgs.length > 0) {
        refreshCounters(status, owned, workload);
        opts.onBatch?.(status);
        await writeStatus();
        continue;
      }
      // Idle: make sure the group's committed offsets match what the lake holds (a commit refused
      // during a rebalance is made good here, so lag reads zero once everything is in the lake).
      const behind = [...owned].filter(([p, o]) => groupCommitted.get(p) !== o.last + 1 && o.last >= 0);
      if (behind.length > 0 && Date.now() - lastIdleCommit > 2000) {
        lastIdleCommit = Date.now();
        await commitOffsets(behind.map(([partition, o]) => ({ partition, offset: o.last + 1 })));
      }
      const draining = typeof opts.drain === 'function' ? opts.drain() : opts.drain === true;
      if (draining && owned.size > 0 && (await caughtUp(transport, topic, owned))) {
        await commitBatch(new Map([...owned.keys()].map((p) => [p, []])), true);
        break;
      }
      if (draining && owned.size === 0 && consumer.assignment().length === 0) {
        // nothing assigned to this member: nothing to drain
        const ends = await transport.endOffsets(topic);
        if (ends.every((e) => e.offset === 0)) break;
      }
      await writeStatus();
    }
  } finally {
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

function refreshCounters(status: WorkerStatus, owned: Map<number, Owned>, workload: Workload): void {
  let read = 0;
  let accepted = 0;
  let quarantined = 0;
  let duplicates = 0;
  const reasons: Record<string, number> = {};
  for (const o of owned.values()) {
    const c = o.processor.counters();
    read += c.read;
    accepted += c.accepted;
    quarantined += c.quarantined;
    duplicates += c.duplicates;
    for (const [r, n] of Object.entries(c.byReason)) reasons[r] = (reasons[r] ?? 0) + n;
  }
  Object.assign(status, {
    read,
    accepted,
    quarantined,
    duplicates,
    quarantine_reasons: reasons,
    updated_at: new Date().toISOString(),
  });
  status.model_version = workload.modelVersion?.() ?? status.model_version;
}
