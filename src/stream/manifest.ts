// Batch manifests: the write-ahead record that makes a stream worker's writes exactly once.
//
// A batch writes its data files first, then ONE manifest (atomic put) naming, for every table,
// the actions to commit and the transport offsets they cover, plus each partition's state after
// the batch. Then it commits the tables (each commit carries a txn action per partition:
// appId "<group>/<topic>/<partition>", version = the partition's batch number) and only then the
// consumer offsets. (A batch number rather than the offset: a drain flush adds rows without
// consuming a message, and still needs a version of its own.)
// A worker that takes over a partition loads the newest manifest holding it (highest batch number),
// re-commits whatever of it the tables do not record yet (txn versions tell), and resumes from its
// offsets and state.
// Two workers may hold one partition for a moment (one missed a rebalance). Every batch commits the
// workload's first table first, even with no rows: there the second to arrive finds its batch number
// recorded, commits nothing anywhere, deletes its manifest and starts again from the lake — unless
// the commit that recorded it names its own manifest (the other worker found the manifest and
// completed it), which then stays. A manifest whose worker died after losing that race is known by
// its batch numbers: the first table records some of them but not all (a batch records all of its
// numbers there in one commit); the next owner deletes it instead of committing it (see apply.ts).
// A committing worker deletes the manifests its batch supersedes when it owns all of their
// partitions; what that leaves (a manifest spanning partitions now owned by different workers, a
// dead worker's) goes in a periodic sweep: a manifest is deleted once each of its partitions has a
// recorded manifest with a higher batch number and each of its tables records its batch.

import { randomUUID } from 'node:crypto';
import type { Action } from '../lake/index.ts';
import type { ObjectStore } from '../storage/index.ts';

export interface ManifestPartition {
  topic: string;
  partition: number;
  /** last offset the batch consumed */
  last: number;
  /** the partition's batch number: the txn version the tables record for it */
  seq: number;
  /** the batch ended with a drain's flush: the open days are in the lake as they stand */
  flushed?: boolean;
}

export interface ManifestTable {
  path: string;
  actions: Action[];
}

export interface Manifest {
  id: string;
  worker: string;
  createdAt: string;
  partitions: ManifestPartition[];
  tables: ManifestTable[];
  /** messages for other topics, sent after the commits (base64 values) */
  messages: { topic: string; key: string | null; value: string }[];
  /** partition number → the workload's state after this batch */
  states: Record<string, unknown>;
}

/** A manifest without the partitions' states: what committing it needs (the states are for a takeover). */
export type Batch = Omit<Manifest, 'states'>;

export function appIdFor(group: string, topic: string, partition: number): string {
  return `${group}/${topic}/${partition}`;
}

/** The batch number a table records for a txn appId (undefined: none). */
export type RecordedBatch = (table: string, appId: string) => Promise<number | undefined>;

/** How often a committing worker sweeps the manifests no owner needs. */
const SWEEP_INTERVAL_MS = 60_000;

export class ManifestStore {
  private readonly store: ObjectStore;
  private readonly dir: string;
  private readonly group: string;
  private readonly recorded: RecordedBatch | undefined;
  private lastSweep = 0;
  /** "topic/partition" → the newest manifest holding it (as far as this worker knows); only moves forward */
  private readonly latestByPartition = new Map<string, { path: string; seq: number }>();
  /** manifest path → the partitions it holds ("topic/partition") */
  private readonly partitionsOf = new Map<string, string[]>();

  /** With `recorded`, `committed` also sweeps (every minute) the manifests no owner needs. */
  constructor(store: ObjectStore, workload: string, group: string, recorded?: RecordedBatch) {
    this.store = store;
    this.dir = `_state/${workload}/${encodeURIComponent(group)}/manifests`;
    this.group = group;
    this.recorded = recorded;
  }

  /**
   * Writes a batch's manifest. The states come as JSON text (a workload may keep the text of state
   * that did not change since the last batch: the state is most of a manifest's bytes).
   */
  async write(
    m: Omit<Batch, 'id' | 'createdAt'>,
    states: Record<string, string>,
  ): Promise<{ path: string; manifest: Batch }> {
    // Names sort by time, so listing returns the oldest first.
    const id = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
    const manifest: Batch = { id, createdAt: new Date().toISOString(), ...m };
    const head = JSON.stringify(manifest);
    const stateText = Object.entries(states)
      .map(([p, text]) => `${JSON.stringify(p)}:${text}`)
      .join(',');
    const path = `${this.dir}/${id}.json`;
    await this.store.put(path, new TextEncoder().encode(`${head.slice(0, -1)},"states":{${stateText}}}`));
    return { path, manifest };
  }

  /**
   * The newest manifest (highest batch number) for each of the given partitions. Two manifests with
   * one partition's same batch number exist only when two workers raced for it and the loser died
   * before it could delete its own: `pick` chooses then (the one the tables record).
   */
  async latestFor(
    topic: string,
    partitions: number[],
    pick: (
      partition: number,
      candidates: { path: string; manifest: Manifest }[],
    ) => Promise<{ path: string; manifest: Manifest }>,
  ): Promise<Map<number, { path: string; manifest: Manifest }>> {
    const newest = new Map<number, { path: string; manifest: Manifest }[]>();
    const want = new Set(partitions);
    const files = (await this.store.list(`${this.dir}/`)).filter((f) => f.path.endsWith('.json'));
    for (const f of files) {
      let m: Manifest;
      try {
        m = JSON.parse(new TextDecoder().decode(await this.store.get(f.path))) as Manifest;
      } catch {
        continue; // deleted meanwhile by the worker that owns it
      }
      for (const p of m.partitions) {
        if (p.topic !== topic || !want.has(p.partition)) continue;
        const prev = newest.get(p.partition);
        const prevSeq = prev ? seqOf(prev[0].manifest, topic, p.partition) : -1;
        if (p.seq > prevSeq) newest.set(p.partition, [{ path: f.path, manifest: m }]);
        else if (p.seq === prevSeq) prev!.push({ path: f.path, manifest: m });
      }
    }
    const found = new Map<number, { path: string; manifest: Manifest }>();
    for (const [p, candidates] of newest)
      found.set(p, candidates.length === 1 ? candidates[0] : await pick(p, candidates));
    for (const [p, v] of found) {
      this.note(topic, p, v.path, v.manifest);
      this.partitionsOf.set(
        v.path,
        v.manifest.partitions.map((q) => `${q.topic}/${q.partition}`),
      );
    }
    return found;
  }

  /**
   * Records a batch this worker committed as the newest manifest of its partitions and deletes
   * older manifests that no partition needs any more. A manifest may hold partitions another
   * worker owns now (it was written before a rebalance): it is deleted only when every one of its
   * partitions is this worker's and has a newer manifest — otherwise the other owner may still need it.
   */
  async committed(path: string, manifest: Batch): Promise<void> {
    const superseded = new Set<string>();
    for (const p of manifest.partitions) {
      const prev = this.latestByPartition.get(`${p.topic}/${p.partition}`);
      if (this.note(p.topic, p.partition, path, manifest) && prev && prev.path !== path)
        superseded.add(prev.path);
    }
    this.partitionsOf.set(
      path,
      manifest.partitions.map((p) => `${p.topic}/${p.partition}`),
    );
    for (const old of superseded) {
      const parts = this.partitionsOf.get(old);
      const unneeded = parts?.every((k) => {
        const latest = this.latestByPartition.get(k);
        return latest !== undefined && latest.path !== old;
      });
      if (unneeded) {
        await this.store.delete(old);
        this.partitionsOf.delete(old);
      }
    }
    if (this.recorded && Date.now() - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = Date.now();
      await this.sweep(this.recorded);
    }
  }

  /**
   * Deletes every manifest that no owner may still need: each of its partitions has a manifest with a
   * higher batch number that the lake records (a takeover resumes from that one), and each of its
   * tables records its batch (nothing of it is left to complete). Returns the paths deleted.
   */
  async sweep(recorded: RecordedBatch): Promise<string[]> {
    const all: { path: string; m: Batch }[] = [];
    for (const f of await this.store.list(`${this.dir}/`)) {
      if (!f.path.endsWith('.json')) continue;
      try {
        all.push({ path: f.path, m: JSON.parse(new TextDecoder().decode(await this.store.get(f.path))) });
      } catch {
        // deleted meanwhile, or being written: the next sweep sees it
      }
    }
    const cache = new Map<string, Promise<number>>();
    const rec = (table: string, p: ManifestPartition) => {
      const appId = appIdFor(this.group, p.topic, p.partition);
      const k = `${table}\n${appId}`;
      if (!cache.has(k))
        cache.set(
          k,
          recorded(table, appId).then((v) => v ?? -1),
        );
      return cache.get(k)!;
    };
    // per partition, the highest batch number of a manifest the lake records (its first table does);
    // a manifest that lost the race for its numbers is not one (the next owner deletes it)
    const newest = new Map<string, number>();
    for (const { m } of all)
      for (const p of m.partitions) {
        const k = `${p.topic}/${p.partition}`;
        if (m.tables.length > 0 && (await rec(m.tables[0].path, p)) >= p.seq)
          newest.set(k, Math.max(newest.get(k) ?? -1, p.seq));
      }
    const deleted: string[] = [];
    for (const { path, m } of all) {
      if (!m.partitions.every((p) => p.seq < (newest.get(`${p.topic}/${p.partition}`) ?? -1))) continue;
      let complete = true;
      for (const t of m.tables)
        for (const p of m.partitions) if (complete) complete = (await rec(t.path, p)) >= p.seq;
      if (!complete) continue;
      await this.store.delete(path);
      this.partitionsOf.delete(path);
      deleted.push(path);
    }
    return deleted;
  }

  /** Deletes a manifest none of whose batches any table records (its worker lost the race for them). */
  async discard(path: string): Promise<void> {
    await this.store.delete(path);
    this.partitionsOf.delete(path);
  }

  /** Forgets partitions this worker no longer owns (their manifests stay for the next owner). */
  forget(topic: string, partitions: number[]): void {
    for (const p of partitions) this.latestByPartition.delete(`${topic}/${p}`);
  }

  /**
   * Notes `m` as the newest manifest of a partition unless a manifest with a higher batch number of
   * it is known (a manifest found on takeover may be the newest for one of its partitions only: it
   * must not stand for the others, or their newer manifests would look superseded and be deleted).
   */
  private note(topic: string, partition: number, path: string, m: Batch): boolean {
    const key = `${topic}/${partition}`;
    const seq = seqOf(m, topic, partition);
    const known = this.latestByPartition.get(key);
    if (known && known.path !== path && known.seq >= seq) return false;
    this.latestByPartition.set(key, { path, seq });
    return true;
  }
}

function seqOf(m: Batch, topic: string, partition: number): number {
  return m.partitions.find((q) => q.topic === topic && q.partition === partition)?.seq ?? -1;
}
