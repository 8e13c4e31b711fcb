// Batch manifests: the write-ahead record that makes a stream worker's writes exactly once.
//
// A batch writes its data files first, then its partitions' state objects (below), then ONE
// manifest (atomic put: the commit point) naming, for every table, the actions to commit and the
// transport offsets they cover, and for each partition the state objects that make up its state
// after the batch. Then it commits the tables (each commit carries a txn action per partition:
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
//
// Incremental state. A partition's state is not in the manifest but in objects of its own, written
// before the manifest (an object no manifest names is garbage, never read):
//   <base>/state/<topic>/<partition>/<batch number, 12 digits>-<manifest id>.snap   the whole state
//   <base>/state/<topic>/<partition>/<batch number, 12 digits>-<manifest id>.delta  what changed since
//                                                                     the partition's previous batch
// and the manifest names, per partition, its chain: the newest snapshot and the deltas after it in
// batch-number order (the last one the batch's own). A batch writes a delta when the workload can
// make one (PartitionProcessor.deltaText) and a snapshot when the partition has no chain yet (a
// fresh partition, or one restored from a manifest of the older format), every
// `snapshotEvery` batches of the partition (default 16: a takeover reads at most 15 deltas), or
// once the chain's deltas would exceed `maxDeltaBytes` (default 64 MiB: a takeover never reads much
// more than that beyond the snapshot, and a partition whose every batch changes most of its state
// goes back to snapshots). A snapshot larger than `maxDeltaBytes` (a partition of ~100,000 meters
// and more) is amortised by bytes instead: its chain takes deltas, whatever their number, until
// they would add up to more than the snapshot itself — so snapshots never cost more than the
// deltas they save writing (a snapshot is O(all meters), a delta O(meters touched): counting
// batches made each reading's share of the snapshots grow with the partition), and a takeover
// reads at most twice the snapshot's bytes. The manifest stays small, its put stays the commit point, and a chain is
// only ever extended from the manifest the lake recorded (a worker resumes from it or wrote it), so
// the chains of a partition's recorded manifests share their objects up to each one's batch.
// Names say what they hold, so a takeover lists the manifests folder once and reads only the
// newest manifest of each partition it takes, then that manifest's snapshot and deltas: a manifest
// is named `<id>~<topic>~<partition>s<batch>_<partition>s<batch>….json` (`<id>.json` when that
// would be too long for a file name, or written before names said so: those are read to know).
// Manifests of the older format carry the whole state inline (`states`): still read, and the
// partition's next batch writes a snapshot.
// A worker that commits a snapshot deletes the chain it replaces (it knows it: the chain it extended
// until then); the sweep deletes, per partition, the state objects up to its newest recorded batch
// that no manifest at or after that batch names (chains replaced by a newer snapshot, objects of
// batches that lost their race or whose worker died before the manifest), never one a kept
// manifest from that batch on still names, nor anything newer (a batch being written).

import { randomUUID } from 'node:crypto';
import { isLakestreamError, LakestreamError } from '../errors.ts';
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
  /** the objects holding the partition's state after the batch (none: no state, or `states` of the older format) */
  state?: StateRef;
}

/** A partition's state after a batch: a snapshot and the deltas after it, as names in the partition's state folder. */
export interface StateRef {
  snapshot: string;
  /** in batch-number order; the last one is the batch's own (none: the snapshot is) */
  deltas: string[];
  /** bytes of the deltas */
  deltaBytes: number;
  /** bytes of the snapshot (none: written before the policy looked at it; counted as small) */
  snapshotBytes?: number;
}

export interface ManifestTable {
  path: string;
  actions: Action[];
}

/** What committing a batch needs (the state objects it names are for a takeover). */
export interface Batch {
  id: string;
  worker: string;
  createdAt: string;
  partitions: ManifestPartition[];
  tables: ManifestTable[];
  /** messages for other topics, sent after the commits (base64 values) */
  messages: { topic: string; key: string | null; value: string }[];
}

export interface Manifest extends Batch {
  /** the older format: partition number → the workload's whole state after this batch, inline */
  states?: Record<string, unknown>;
}

/** A partition's state to save with a batch. */
export interface StateToSave {
  /** the chain the state extends: the one it was restored from or last saved in (none: a snapshot is written) */
  chain?: StateRef;
  /** the whole state as JSON text (or its UTF-8 bytes) */
  snapshot(): string | Uint8Array;
  /** what changed since the chain's last object, as JSON text (none: the workload saves whole states only) */
  delta?(): string;
}

/** When a partition's state is saved whole rather than as a delta (see the header). */
export interface StatePolicy {
  /** a snapshot every this many batches of a partition */
  snapshotEvery: number;
  /** a snapshot once the deltas since the last one would exceed this many bytes */
  maxDeltaBytes: number;
}

export const DEFAULT_STATE_POLICY: StatePolicy = { snapshotEvery: 16, maxDeltaBytes: 64 * 1024 * 1024 };

/** A partition's restored state: the snapshot (or older inline state) and the deltas to apply to it, in order. */
export interface RestoredState {
  saved: unknown;
  deltas: unknown[];
  chain: StateRef | undefined;
}

export function appIdFor(group: string, topic: string, partition: number): string {
  return `${group}/${topic}/${partition}`;
}

/** The batch number a table records for a txn appId (undefined: none). */
export type RecordedBatch = (table: string, appId: string) => Promise<number | undefined>;

/** Longest manifest file name that lists its partitions (file systems allow 255 bytes). */
const MAX_NAME = 200;

/** topic, partition and batch number a manifest's name says it holds; undefined: the name does not say. */
export function manifestNameHolds(
  path: string,
): { topic: string; partition: number; seq: number }[] | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.json$/, '');
  const parts = name.split('~');
  if (parts.length < 3 || parts.length % 2 === 0) return undefined;
  const out: { topic: string; partition: number; seq: number }[] = [];
  for (let i = 1; i < parts.length; i += 2) {
    const topic = decodeURIComponent(parts[i]);
    for (const ps of parts[i + 1].split('_')) {
      const m = /^(\d+)s(\d+)$/.exec(ps);
      if (!m) return undefined;
      out.push({ topic, partition: Number(m[1]), seq: Number(m[2]) });
    }
  }
  return out;
}

function manifestName(id: string, partitions: ManifestPartition[]): string {
  const byTopic = new Map<string, string[]>();
  for (const p of partitions) {
    const list = byTopic.get(p.topic) ?? [];
    list.push(`${p.partition}s${p.seq}`);
    byTopic.set(p.topic, list);
  }
  const named = [id, ...[...byTopic].flatMap(([t, list]) => [encodeName(t), list.join('_')])].join('~');
  return `${named.length <= MAX_NAME ? named : id}.json`;
}

/** A topic in an object name: URI-encoded, and no '~' (the names' separator). */
const encodeName = (t: string) => encodeURIComponent(t).replace(/~/g, '%7E');

/** A state object's name: batch number and manifest id, and what it is. */
function stateName(seq: number, id: string, kind: 'snap' | 'delta'): string {
  return `${String(seq).padStart(12, '0')}-${id}.${kind}`;
}

/** The batch number of a state object's name (undefined: not a state object). */
function stateSeq(name: string): number | undefined {
  const m = /^(\d{12})-.+\.(snap|delta)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** How often a committing worker sweeps the manifests no owner needs. */
const SWEEP_INTERVAL_MS = 60_000;

/** What a worker knows of a partition's newest manifest. */
interface Latest {
  path: string;
  seq: number;
  state?: StateRef;
}

export class ManifestStore {
  private readonly store: ObjectStore;
  private readonly dir: string;
  private readonly stateDir: string;
  private readonly group: string;
  private readonly recorded: RecordedBatch | undefined;
  private readonly policy: StatePolicy;
  private lastSweep = 0;
  /** "topic/partition" → the newest manifest holding it (as far as this worker knows); only moves forward */
  private readonly latestByPartition = new Map<string, Latest>();
  /** manifest path → the partitions it holds ("topic/partition") */
  private readonly partitionsOf = new Map<string, string[]>();

  /** With `recorded`, `committed` also sweeps (every minute) the manifests no owner needs. */
  constructor(
    store: ObjectStore,
    workload: string,
    group: string,
    recorded?: RecordedBatch,
    policy: Partial<StatePolicy> = {},
  ) {
    this.store = store;
    const base = `_state/${workload}/${encodeURIComponent(group)}`;
    this.dir = `${base}/manifests`;
    this.stateDir = `${base}/state`;
    this.group = group;
    this.recorded = recorded;
    this.policy = { ...DEFAULT_STATE_POLICY, ...policy };
  }

  /** Where a state object of a partition lives. */
  statePath(topic: string, partition: number, name: string): string {
    return `${this.stateDir}/${encodeName(topic)}/${partition}/${name}`;
  }

  /**
   * Writes a batch's partitions' state objects (a snapshot or a delta each, see the header), then its
   * manifest naming them. `states` maps a partition number to its state (JSON text: a snapshot).
   * Returns the manifest with each partition's chain; `bytes` is what was written.
   */
  async write(
    m: Omit<Batch, 'id' | 'createdAt'>,
    states: Record<string, string | StateToSave>,
  ): Promise<{ path: string; manifest: Batch; bytes: number }> {
    // Names sort by time, so listing returns the oldest first.
    const id = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
    let bytes = 0;
    const partitions = await Promise.all(
      m.partitions.map(async (q) => {
        const given = states[String(q.partition)];
        if (given === undefined) return q;
        const st: StateToSave = typeof given === 'string' ? { snapshot: () => given } : given;
        const { ref, data, name } = this.chooseState(q.seq, id, st);
        await this.store.put(this.statePath(q.topic, q.partition, name), data);
        bytes += data.length;
        return { ...q, state: ref };
      }),
    );
    const manifest: Batch = { id, createdAt: new Date().toISOString(), ...m, partitions };
    const data = enc.encode(JSON.stringify(manifest));
    const path = `${this.dir}/${manifestName(id, partitions)}`;
    await this.store.put(path, data);
    return { path, manifest, bytes: bytes + data.length };
  }

  /** A snapshot or a delta for a partition's batch, by the policy. */
  private chooseState(
    seq: number,
    id: string,
    st: StateToSave,
  ): { ref: StateRef; data: Uint8Array; name: string } {
    const c = st.chain;
    const { snapshotEvery, maxDeltaBytes } = this.policy;
    // a snapshot larger than maxDeltaBytes is amortised by bytes, not batches (see the header)
    const big = (c?.snapshotBytes ?? 0) > maxDeltaBytes;
    if (c && st.delta && (big || c.deltas.length + 1 < snapshotEvery)) {
      const data = enc.encode(st.delta());
      if (c.deltaBytes + data.length <= (big ? c.snapshotBytes! : maxDeltaBytes)) {
        const name = stateName(seq, id, 'delta');
        const ref: StateRef = {
          snapshot: c.snapshot,
          deltas: [...c.deltas, name],
          deltaBytes: c.deltaBytes + data.length,
          ...(c.snapshotBytes !== undefined ? { snapshotBytes: c.snapshotBytes } : {}),
        };
        return { ref, data, name };
      }
    }
    const name = stateName(seq, id, 'snap');
    const whole = st.snapshot();
    const data = typeof whole === 'string' ? enc.encode(whole) : whole;
    return { ref: { snapshot: name, deltas: [], deltaBytes: 0, snapshotBytes: data.length }, data, name };
  }

  /**
   * The newest manifest (highest batch number) for each of the given partitions. Lists the manifests
   * once and reads only the newest of each partition by its name (and those whose names do not say).
   * Two manifests with one partition's same batch number exist only when two workers raced for it and
   * the loser died before it could delete its own: `pick` chooses then (the one the tables record).
   */
  async latestFor(
    topic: string,
    partitions: number[],
    pick: (
      partition: number,
      candidates: { path: string; manifest: Manifest }[],
    ) => Promise<{ path: string; manifest: Manifest }>,
  ): Promise<Map<number, { path: string; manifest: Manifest }>> {
    for (let attempt = 1; ; attempt++) {
      const newest = await this.newestFor(topic, partitions, attempt >= 5);
      if (!newest) continue; // one was deleted meanwhile (a newer one replaced it): list again
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
  }

  /** The manifests with each partition's highest batch number; undefined when one vanished while read. */
  private async newestFor(
    topic: string,
    partitions: number[],
    last: boolean,
  ): Promise<Map<number, { path: string; manifest: Manifest }[]> | undefined> {
    const want = new Set(partitions);
    const named = new Map<number, { path: string; seq: number }[]>();
    const unnamed: string[] = [];
    for (const f of await this.store.list(`${this.dir}/`)) {
      if (!f.path.endsWith('.json')) continue;
      const holds = manifestNameHolds(f.path);
      if (!holds) unnamed.push(f.path);
      else
        for (const h of holds)
          if (h.topic === topic && want.has(h.partition)) {
            const list = named.get(h.partition) ?? [];
            list.push({ path: f.path, seq: h.seq });
            named.set(h.partition, list);
          }
    }
    const read = new Map<string, Manifest | undefined>();
    const get = async (path: string) => {
      if (!read.has(path)) read.set(path, await this.read(path));
      return read.get(path);
    };
    // manifests whose names do not say what they hold (the older format): read to know
    for (const path of unnamed) {
      const m = await get(path);
      for (const q of m?.partitions ?? [])
        if (q.topic === topic && want.has(q.partition)) {
          const list = named.get(q.partition) ?? [];
          list.push({ path, seq: q.seq });
          named.set(q.partition, list);
        }
    }
    const newest = new Map<number, { path: string; manifest: Manifest }[]>();
    for (const [p, list] of named) {
      const top = Math.max(...list.map((x) => x.seq));
      const candidates: { path: string; manifest: Manifest }[] = [];
      for (const x of list.filter((y) => y.seq === top)) {
        const m = await get(x.path);
        if (!m) {
          if (unnamed.includes(x.path)) continue; // read above, gone since
          if (last) throw new LakestreamError('UNAVAILABLE', `manifest ${x.path} keeps vanishing while read`);
          return undefined;
        }
        if (seqOf(m, topic, p) !== top)
          throw new LakestreamError(
            'CORRUPT_TABLE',
            `manifest ${x.path}: its name says batch ${top} of ${topic} partition ${p}, its content does not`,
          );
        candidates.push({ path: x.path, manifest: m });
      }
      if (candidates.length > 0) newest.set(p, candidates);
    }
    return newest;
  }

  /** A manifest, or undefined when it is gone (deleted meanwhile by the worker that superseded it). */
  private async read(path: string): Promise<Manifest | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(path);
    } catch (e) {
      if (isLakestreamError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    try {
      return JSON.parse(dec.decode(bytes)) as Manifest;
    } catch (e) {
      throw new LakestreamError('CORRUPT_TABLE', `manifest ${path} is not valid JSON`, { cause: e });
    }
  }

  /** Whether a manifest newer than batch `seq` of a partition exists now (its name says so, or its content). */
  async hasNewer(topic: string, partition: number, seq: number): Promise<boolean> {
    const newest = await this.newestFor(topic, [partition], false);
    const top = newest?.get(partition)?.[0];
    return newest === undefined || (top !== undefined && seqOf(top.manifest, topic, partition) > seq);
  }

  /**
   * A partition's state as a manifest holds it: its snapshot and deltas read in batch-number order
   * (or the older format's inline state). A state object that is missing or is not JSON is an error
   * naming it (CORRUPT_TABLE): the partition cannot be resumed exactly without it.
   */
  async loadState(
    topic: string,
    partition: number,
    found: { path: string; manifest: Manifest },
  ): Promise<RestoredState> {
    const q = found.manifest.partitions.find((x) => x.topic === topic && x.partition === partition);
    if (!q?.state) return { saved: found.manifest.states?.[String(partition)], deltas: [], chain: undefined };
    const ref = q.state;
    const load = async (name: string, what: string): Promise<unknown> => {
      const path = this.statePath(topic, partition, name);
      const where = `${what} ${path} of ${topic} partition ${partition}, named by manifest ${found.path} (batch ${q.seq})`;
      let bytes: Uint8Array;
      try {
        bytes = await this.store.get(path);
      } catch (e) {
        if (isLakestreamError(e, 'NOT_FOUND'))
          throw new LakestreamError('CORRUPT_TABLE', `stream state missing: ${where}`, { cause: e });
        throw e;
      }
      try {
        return JSON.parse(dec.decode(bytes));
      } catch (e) {
        throw new LakestreamError('CORRUPT_TABLE', `stream state corrupt: ${where} is not valid JSON`, {
          cause: e,
        });
      }
    };
    const saved = await load(ref.snapshot, 'snapshot');
    const deltas: unknown[] = [];
    for (const d of ref.deltas) deltas.push(await load(d, 'delta'));
    return { saved, deltas, chain: ref };
  }

  /**
   * Records a batch this worker committed as the newest manifest of its partitions and deletes
   * older manifests that no partition needs any more. A manifest may hold partitions another
   * worker owns now (it was written before a rebalance): it is deleted only when every one of its
   * partitions is this worker's and has a newer manifest — otherwise the other owner may still need it.
   * A partition whose state the batch saved as a snapshot no longer needs the chain it extended until then.
   */
  async committed(path: string, manifest: Batch): Promise<void> {
    const superseded = new Set<string>();
    const replaced: string[] = [];
    for (const p of manifest.partitions) {
      const prev = this.latestByPartition.get(`${p.topic}/${p.partition}`);
      if (!this.note(p.topic, p.partition, path, manifest) || !prev || prev.path === path) continue;
      superseded.add(prev.path);
      if (p.state && p.state.deltas.length === 0 && prev.state && prev.state.snapshot !== p.state.snapshot)
        for (const name of [prev.state.snapshot, ...prev.state.deltas])
          replaced.push(this.statePath(p.topic, p.partition, name));
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
    for (const s of replaced) await this.store.delete(s);
    if (this.recorded && Date.now() - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = Date.now();
      await this.sweep(this.recorded);
    }
  }

  /**
   * Deletes every manifest that no owner may still need: each of its partitions has a manifest with a
   * higher batch number that the lake records (a takeover resumes from that one), and each of its
   * tables records its batch (nothing of it is left to complete). Then the state objects no chain
   * needs (see the header). Returns the paths deleted.
   */
  async sweep(recorded: RecordedBatch): Promise<string[]> {
    const all: { path: string; m: Manifest }[] = [];
    let vanished = false;
    for (const f of await this.store.list(`${this.dir}/`)) {
      if (!f.path.endsWith('.json')) continue;
      try {
        const m = await this.read(f.path);
        if (m) all.push({ path: f.path, m });
        else vanished = true;
      } catch {
        vanished = true; // the next sweep sees it
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
    const kept: Manifest[] = [];
    for (const { path, m } of all) {
      let drop = m.partitions.every((p) => p.seq < (newest.get(`${p.topic}/${p.partition}`) ?? -1));
      for (const t of m.tables)
        for (const p of m.partitions) if (drop) drop = (await rec(t.path, p)) >= p.seq;
      if (!drop) {
        kept.push(m);
        continue;
      }
      await this.store.delete(path);
      this.partitionsOf.delete(path);
      deleted.push(path);
    }
    // A manifest that vanished while read may have been the newest of a partition: its chain is not
    // known, so no state object is judged this time.
    if (!vanished) deleted.push(...(await this.sweepState(newest, kept)));
    return deleted;
  }

  /**
   * Deletes the state objects of each partition up to its newest recorded batch that no kept manifest
   * from that batch on names. (Chains only grow from the recorded manifest, so what a later batch
   * needs of them is named by the newest recorded one.)
   */
  private async sweepState(newest: Map<string, number>, kept: Manifest[]): Promise<string[]> {
    const needed = new Set<string>();
    for (const m of kept)
      for (const p of m.partitions) {
        const top = newest.get(`${p.topic}/${p.partition}`);
        if (!p.state || top === undefined || p.seq < top) continue;
        for (const name of [p.state.snapshot, ...p.state.deltas])
          needed.add(this.statePath(p.topic, p.partition, name));
      }
    const deleted: string[] = [];
    for (const f of await this.store.list(`${this.stateDir}/`)) {
      const rel = f.path.slice(this.stateDir.length + 1).split('/');
      if (rel.length !== 3) continue;
      const seq = stateSeq(rel[2]);
      const top = newest.get(`${decodeURIComponent(rel[0])}/${rel[1]}`);
      if (seq === undefined || top === undefined || seq > top || needed.has(f.path)) continue;
      await this.store.delete(f.path);
      deleted.push(f.path);
    }
    return deleted;
  }

  /**
   * Deletes a manifest none of whose batches any table records (its worker lost the race for them),
   * and the state objects it wrote itself (its chains' older objects are the recorded manifests').
   */
  async discard(path: string, manifest?: Batch): Promise<void> {
    await this.store.delete(path);
    this.partitionsOf.delete(path);
    const id = manifest?.id ?? path.slice(path.lastIndexOf('/') + 1).split(/[~.]/)[0];
    const holds = manifest?.partitions ?? manifestNameHolds(path) ?? [];
    for (const p of holds)
      for (const kind of ['snap', 'delta'] as const)
        await this.store.delete(this.statePath(p.topic, p.partition, stateName(p.seq, id, kind)));
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
    const q = m.partitions.find((x) => x.topic === topic && x.partition === partition);
    const seq = q?.seq ?? -1;
    const known = this.latestByPartition.get(key);
    if (known && known.path !== path && known.seq >= seq) return false;
    this.latestByPartition.set(key, { path, seq, state: q?.state });
    return true;
  }
}

function seqOf(m: Batch, topic: string, partition: number): number {
  return m.partitions.find((q) => q.topic === topic && q.partition === partition)?.seq ?? -1;
}
