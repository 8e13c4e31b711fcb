// Incremental state in manifests (issue 17 item 1): a partition's state saved as a snapshot and
// deltas; a worker killed after any batch — between a delta and the next snapshot too — resumes
// with exactly the state of a worker that never died (meters and cluster-trace); a takeover reads
// only the manifest and state objects of the partitions it takes; the sweep keeps the chain the
// newest recorded manifest needs and drops the ones a newer snapshot replaced; a missing or
// corrupt state object is an error that names it; manifests of the older format are still read.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TOPICS } from '../../src/domain/topics.ts';
import type { Lake } from '../../src/lake/index.ts';
import type { ObjectInfo, ObjectStore } from '../../src/storage/index.ts';
import { applyManifest } from '../../src/stream/apply.ts';
import { commitBatch } from '../../src/stream/batch.ts';
import { type Batch, ManifestStore, type StatePolicy, type StateRef } from '../../src/stream/manifest.ts';
import { followAssignment } from '../../src/stream/takeover.ts';
import { GroupOffsets, Outbox, type WorkerContext } from '../../src/stream/worker-context.ts';
import { newStatus, PhaseClock } from '../../src/stream/worker-status.ts';
import type { PartitionProcessor, Workload } from '../../src/stream/workload.ts';
import type { Consumer, Message, Producer, Transport } from '../../src/transport/index.ts';
import { clusterTraceWorkload } from '../../src/workloads/cluster-trace/workload.ts';
import { metersWorkload } from '../../src/workloads/meters/workload.ts';
import { freshLake } from '../lake/helpers.ts';

const GROUP = 'g';
const opened: Lake[] = [];
after(async () => {
  for (const l of opened) await l.close();
});

async function lakeFor(workload: Workload): Promise<Lake> {
  const lake = await freshLake('file');
  opened.push(lake);
  for (const t of workload.tables) await lake.table(t.path).ensure(t.spec);
  return lake;
}

/** A transport, consumer and producer that hold nothing: what the batch pipeline asks of them here. */
function stubs(topic: string, assigned: number[]) {
  const transport = {
    ensureTopic: async () => ({}),
    committedOffsets: async () => [],
  } as unknown as Transport;
  const consumer = {
    assignment: () => assigned.map((partition) => ({ topic, partition })),
    seek: () => {},
    commit: async () => {},
  } as unknown as Consumer;
  const producer = { send: async () => {}, close: async () => {} } as unknown as Producer;
  return { transport, consumer, producer };
}

/** A new worker (nothing owned yet) for the partitions `assigned`, over `store` (the lake's by default). */
function worker(
  lake: Lake,
  workload: Workload,
  assigned: number[],
  policy: Partial<StatePolicy>,
  store: ObjectStore = lake.store,
): WorkerContext {
  const { transport, consumer, producer } = stubs(workload.topic, assigned);
  return {
    transport,
    lake,
    workload,
    group: GROUP,
    topic: workload.topic,
    worker: 'w',
    consumer,
    manifests: new ManifestStore(
      store,
      workload.name,
      GROUP,
      (table, appId) => lake.table(table).txnVersion(appId),
      policy,
    ),
    owned: new Map(),
    outbox: new Outbox(transport, producer, lake, workload),
    offsets: new GroupOffsets(consumer, workload.topic),
  };
}

const clock = () => new PhaseClock(newStatus('w', GROUP, 'x').timings_ms);

/** Commits one batch (partition → messages) and checks it did. */
async function commit(ctx: WorkerContext, batch: Map<number, Message[]>, flush = false): Promise<void> {
  const r = await commitBatch(ctx, batch, flush, clock());
  assert.equal(r.kind, 'committed', JSON.stringify(r));
}

/** Messages of `topic` with their offsets per partition, split by `partitionOf`. */
function messages(topic: string, values: { key: string; value: string }[], partitions: number) {
  const next = new Array(partitions).fill(0);
  return values.map(({ key, value }, i) => {
    const partition = i % partitions;
    return {
      topic,
      partition,
      offset: next[partition]++,
      key,
      value: new TextEncoder().encode(value),
      timestamp: 0,
    } satisfies Message;
  });
}

const json = (p: PartitionProcessor) => JSON.parse(JSON.stringify(p.toJSON()));

/**
 * Runs `msgs` through batches of `size`, killing the worker after every batch and taking the
 * partitions over with a new one; before each batch the new worker's state must equal the state of
 * a processor that saw the same messages and never stopped. Ends with a drain's flush.
 * Returns the chains the kills resumed from.
 */
async function killedAfterEveryBatch(
  workload: () => Promise<Workload>,
  msgs: Message[],
  partitions: number,
  size: number,
): Promise<StateRef[]> {
  const w = await workload();
  const lake = await lakeFor(w);
  const policy = { snapshotEvery: 5 };
  const all = [...Array(partitions).keys()];
  const reference = await workload();
  const never = new Map(all.map((p) => [p, reference.newProcessor(p)]));
  const sink = { append() {}, upsert() {}, send() {} } as never;
  const resumedFrom: StateRef[] = [];
  for (let from = 0; ; from += size) {
    const ctx = worker(lake, await workload(), all, policy);
    const taken = await followAssignment(ctx);
    assert.equal(taken.kind, 'adopted');
    for (const p of all) {
      const o = ctx.owned.get(p)!;
      if (o.state) resumedFrom.push(o.state);
      assert.deepEqual(json(o.processor), json(never.get(p)!), `partition ${p} after ${from} messages`);
    }
    const slice = msgs.slice(from, from + size);
    const batch = new Map(all.map((p) => [p, slice.filter((m) => m.partition === p)]));
    for (const m of slice) never.get(m.partition)!.process(m, sink);
    if (slice.length > 0) await commit(ctx, batch);
    else {
      await commit(ctx, batch, true);
      for (const p of all)
        assert.ok(ctx.owned.get(p)!.state!.deltas.length > 0, 'the flush is saved as a delta');
      for (const p of never.values()) p.flush(sink);
      const last = worker(lake, await workload(), all, policy);
      await followAssignment(last);
      for (const p of all)
        assert.deepEqual(
          json(last.owned.get(p)!.processor),
          json(never.get(p)!),
          `partition ${p} after the flush`,
        );
      return resumedFrom;
    }
  }
}

const noEnrichment = { household: () => undefined, calendarOf: () => undefined, inSample: () => false };

/** Half-hourly readings of a few meters over 10 days across a month's end: electricity and water. */
function meterReadings(): { key: string; value: string }[] {
  const start = Date.parse('2013-01-26T00:00:00Z');
  const out: { key: string; value: string }[] = [];
  const register = new Map<string, number>();
  for (let i = 0; i < 48 * 10; i++)
    for (const [id, kind] of [
      ['E1', 'electricity'],
      ['E2', 'electricity'],
      ['E3', 'electricity'],
      ['W1', 'water'],
      ['W2', 'water'],
    ] as const) {
      if (id === 'E3' && i < 48 * 3) continue; // a meter that appears later
      const ts = new Date(start + i * 1_800_000).toISOString();
      const water = kind === 'water';
      const r = (register.get(id) ?? 1000) + ((i * 7) % 11);
      register.set(id, r);
      const reading = {
        v: 1,
        meter_id: id,
        kind,
        ts,
        value: water ? r : 0.2 + (i % 5) * 0.1,
        unit: water ? 'L' : 'kWh',
        type: water ? 'cumulative' : 'interval',
        seq: i,
      };
      out.push({ key: id, value: JSON.stringify(reading) });
      if (i % 97 === 5) out.push({ key: id, value: JSON.stringify(reading) }); // a duplicate
    }
  // a late reading of a closed day, one past retention, and one that is not a reading
  const late = (ts: string) =>
    JSON.stringify({
      v: 1,
      meter_id: 'E1',
      kind: 'electricity',
      ts,
      value: 0.7,
      unit: 'kWh',
      type: 'interval',
      seq: 9,
    });
  out.splice(out.length - 400, 0, { key: 'E1', value: late('2013-02-02T10:15:00Z') });
  out.splice(out.length - 300, 0, { key: 'E1', value: late('2013-01-26T10:15:00Z') });
  out.splice(out.length - 200, 0, { key: 'E1', value: '{"v":1,"meter_id":"E1"' });
  return out;
}

describe('incremental state: a worker killed after any batch resumes exactly', () => {
  it('meters: snapshot + deltas give the state of a worker that never died', async () => {
    const msgs = messages(TOPICS.readings, meterReadings(), 2);
    const workload = async () => {
      const w = metersWorkload({ store: (await freshLake('memory')).store, enrichment: noEnrichment });
      return { ...w, afterCommit: undefined, refresh: undefined };
    };
    const resumed = await killedAfterEveryBatch(workload, msgs, 2, 300);
    assert.ok(
      resumed.some((c) => c.deltas.length >= 2),
      'some kills fell between a delta and the next snapshot',
    );
    assert.ok(
      resumed.some((c) => c.deltas.length === 0),
      'some resumed from a snapshot alone',
    );
  });

  it('cluster-trace: snapshot + deltas give the state of a worker that never died', async () => {
    const lines: { key: string; value: string }[] = [];
    const te = (t: number, job: number, task: number, machine: string, type: number) =>
      `${t},,${job},${task},${machine},${type},u,1,2,0.1,0.2,0.001,0`;
    const row = (table: string, r: string, n: number) => ({
      key: String(n),
      value: JSON.stringify({ v: 1, table, src: `part-00000.csv.gz:${n}`, row: r }),
    });
    let n = 0;
    for (let i = 0; i < 600; i++) {
      const t = 600_000_000 + i * 2_000_000;
      const job = 100 + (i % 37);
      const task = i % 5;
      // submit, schedule, then finish or fail (a failed task is submitted again: the same key anew)
      lines.push(row('task_events', te(t, job, task, '', 0), n++));
      lines.push(row('task_events', te(t + 500_000, job, task, String(i % 7), 1), n++));
      if (i % 3 !== 0)
        lines.push(row('task_events', te(t + 900_000, job, task, String(i % 7), i % 4 === 1 ? 3 : 4), n++));
      if (i % 50 === 0) {
        const machine = `${t},${i % 7},${i % 100 === 0 ? 1 : 0},p1,0.5,0.25`;
        lines.push(row('machine_events', machine, n++));
      }
    }
    lines.push(row('task_events', 'not,a,row', n++));
    const msgs = messages(TOPICS.traceEvents, lines, 2);
    const workload = async () => {
      const lake = await freshLake('memory');
      return clusterTraceWorkload({ lake });
    };
    const resumed = await killedAfterEveryBatch(workload, msgs, 2, 250);
    assert.ok(resumed.some((c) => c.deltas.length >= 2));
  });
});

/** A store that counts the gets and lists under a prefix. */
class CountingStore implements ObjectStore {
  readonly gets: string[] = [];
  readonly lists: string[] = [];
  private readonly inner: ObjectStore;
  constructor(inner: ObjectStore) {
    this.inner = inner;
  }
  get url() {
    return this.inner.url;
  }
  list(prefix: string): Promise<ObjectInfo[]> {
    this.lists.push(prefix);
    return this.inner.list(prefix);
  }
  get(path: string) {
    this.gets.push(path);
    return this.inner.get(path);
  }
  stat = (p: string) => this.inner.stat(p);
  put = (p: string, d: Uint8Array) => this.inner.put(p, d);
  putIfAbsent = (p: string, d: Uint8Array) => this.inner.putIfAbsent(p, d);
  rename = (a: string, b: string) => this.inner.rename(a, b);
  delete = (p: string) => this.inner.delete(p);
  localPath = (p: string) => this.inner.localPath(p);
  close = () => this.inner.close();
}

/** A workload whose state is a sum per key, saved whole or as the keys changed; one row per message. */
function sums(): Workload {
  const table = 'test/sums';
  return {
    name: 'sums',
    topic: 'sums',
    tables: [
      {
        path: table,
        spec: { schema: [{ name: 'offset', type: 'long', nullable: false }], partitionColumns: [] },
      },
    ],
    newProcessor(_p, saved) {
      const state = new Map<string, number>(Object.entries((saved ?? {}) as Record<string, number>));
      const changed = new Set<string>();
      let read = 0;
      return {
        process(msg, out) {
          read++;
          const k = msg.key ?? '';
          state.set(k, (state.get(k) ?? 0) + 1);
          changed.add(k);
          out.append(table, { offset: BigInt(msg.offset) });
        },
        flush() {},
        toJSON: () => Object.fromEntries(state),
        deltaText: () => JSON.stringify(Object.fromEntries([...changed].map((k) => [k, state.get(k)]))),
        saved: () => changed.clear(),
        applyDelta: (d) => {
          for (const [k, v] of Object.entries(d as Record<string, number>)) state.set(k, v);
        },
        counters: () => ({ read, accepted: read, quarantined: 0, duplicates: 0, byReason: {} }),
      };
    },
  };
}

function batchOf(partition: number, from: number, n: number, keys = 3): Map<number, Message[]> {
  const list = Array.from({ length: n }, (_, i) => ({
    topic: 'sums',
    partition,
    offset: from + i,
    key: `k${(from + i) % keys}`,
    value: new Uint8Array(),
    timestamp: 0,
  }));
  return new Map([[partition, list]]);
}

describe('incremental state: objects', () => {
  it('a takeover lists the manifests once and reads only the newest manifest and the chain of the partitions it takes', async () => {
    const w = sums();
    const lake = await lakeFor(w);
    const policy = { snapshotEvery: 3 };
    const writer = worker(lake, w, [0, 1, 2], policy);
    await followAssignment(writer);
    for (let b = 0; b < 5; b++) for (const p of [0, 1, 2]) await commit(writer, batchOf(p, b * 4, 4));
    const chain = writer.owned.get(1)!.state!;
    assert.equal(chain.deltas.length, 1, 'partition 1 is a snapshot and a delta');

    const counting = new CountingStore(lake.store);
    const taker = worker(lake, w, [1], policy, counting);
    assert.equal((await followAssignment(taker)).kind, 'adopted');

    const state = counting.gets.filter((p) => p.startsWith('_state/'));
    const manifest = state.filter((p) => p.includes('/manifests/'));
    assert.equal(manifest.length, 1, `one manifest read: ${manifest}`);
    assert.match(manifest[0], /~sums~1s5\.json$/, 'the name says partition 1, batch 5');
    assert.deepEqual(
      state.filter((p) => !p.includes('/manifests/')),
      [chain.snapshot, ...chain.deltas].map((n) => taker.manifests.statePath('sums', 1, n)),
      'the snapshot, then the delta',
    );
    assert.deepEqual(
      counting.lists.filter((p) => p.startsWith('_state/')),
      ['_state/sums/g/manifests/'],
    );
    assert.deepEqual(taker.owned.get(1)!.processor.toJSON(), writer.owned.get(1)!.processor.toJSON());
  });

  it('the sweep keeps the chain the newest recorded manifest needs and drops the chains a newer snapshot replaced', async () => {
    const w = sums();
    const lake = await lakeFor(w);
    const recorded = (table: string, appId: string) => lake.table(table).txnVersion(appId);
    const manifests = new ManifestStore(lake.store, w.name, GROUP, undefined, { snapshotEvery: 3 });
    const send = async () => {};
    const state: Record<string, number> = {};
    let chain: StateRef | undefined;
    /** A batch of partition 0 that adds 1 to key `k`, written (and committed unless `pending`). */
    const batch = async (seq: number, k: string, pending = false) => {
      state[k] = (state[k] ?? 0) + 1;
      const snapshot = JSON.stringify(state);
      const delta = JSON.stringify({ [k]: state[k] });
      const m: Omit<Batch, 'id' | 'createdAt'> = {
        worker: 'w',
        partitions: [{ topic: 'sums', partition: 0, last: seq, seq }],
        tables: [{ path: 'test/sums', actions: [] }],
        messages: [],
      };
      const written = await manifests.write(m, {
        0: { chain, snapshot: () => snapshot, delta: () => delta },
      });
      if (!pending) await applyManifest(lake, GROUP, written.manifest, send);
      chain = written.manifest.partitions[0].state;
      return written;
    };
    const objects = async () =>
      (await lake.store.list('_state/sums/g/state/')).map((f) => f.path.slice(f.path.lastIndexOf('/') + 1));
    const m1 = await batch(1, 'a');
    const m2 = await batch(2, 'b');
    const m3 = await batch(3, 'a');
    assert.deepEqual(m3.manifest.partitions[0].state?.deltas.length, 2);
    const before = await objects();
    assert.deepEqual((await manifests.sweep(recorded)).sort(), [m1.path, m2.path].sort());
    assert.deepEqual(await objects(), before, 'the chain of batch 3 (snapshot 1, deltas 2 and 3) is kept');

    const m4 = await batch(4, 'c');
    assert.deepEqual(m4.manifest.partitions[0].state?.deltas, [], 'batch 4 is a snapshot');
    // a worker that died after writing its state object but before its manifest
    await lake.store.put(
      manifests.statePath('sums', 0, '000000000004-000000000000001-dead.delta'),
      new Uint8Array([1]),
    );
    const m5 = await batch(5, 'a', true); // written, not committed yet: the next owner completes it
    const deleted = await manifests.sweep(recorded);
    assert.deepEqual(
      deleted.filter((p) => p.includes('/manifests/')),
      [m3.path],
    );
    assert.deepEqual(
      await objects(),
      [m4.manifest.partitions[0].state!.snapshot, ...m5.manifest.partitions[0].state!.deltas],
      'the replaced chain and the dead batch are gone; the chain of batch 4 and the pending batch 5 stay',
    );

    const taker = worker(lake, w, [0], {});
    await followAssignment(taker);
    assert.deepEqual(taker.owned.get(0)!.processor.toJSON(), { a: 3, b: 1, c: 1 });
    assert.equal(taker.owned.get(0)!.seq, 5);
  });

  it('a missing or corrupt delta stops the takeover with an error naming it', async () => {
    const w = sums();
    const lake = await lakeFor(w);
    const writer = worker(lake, w, [0], { snapshotEvery: 4 });
    await followAssignment(writer);
    for (let b = 0; b < 3; b++) await commit(writer, batchOf(0, b * 2, 2));
    const chain = writer.owned.get(0)!.state!;
    const delta = writer.manifests.statePath('sums', 0, chain.deltas[0]);

    await lake.store.put(delta, new TextEncoder().encode('{"k0":'));
    await assert.rejects(followAssignment(worker(lake, w, [0], {})), (e: Error) => {
      assert.match(e.message, /stream state corrupt: delta .* is not valid JSON/);
      assert.ok(e.message.includes(delta), e.message);
      return true;
    });
    await lake.store.delete(delta);
    await assert.rejects(followAssignment(worker(lake, w, [0], {})), (e: Error) => {
      assert.match(e.message, /stream state missing: delta /);
      assert.ok(e.message.includes(delta), e.message);
      assert.ok(e.message.includes('batch 3'), e.message);
      return true;
    });
  });

  it('a manifest of the older format (whole state inline, a name without partitions) is still read, and the next batch writes a snapshot', async () => {
    const w = sums();
    const lake = await lakeFor(w);
    const old = {
      id: '001700000000000-0d1b2c3e-0000-4000-8000-000000000000',
      worker: 'old',
      createdAt: new Date(0).toISOString(),
      partitions: [{ topic: 'sums', partition: 0, last: 9, seq: 7 }],
      tables: [{ path: 'test/sums', actions: [] }],
      messages: [],
      states: { 0: { k0: 4, k1: 6 } },
    };
    await lake.store.put(
      `_state/sums/g/manifests/${old.id}.json`,
      new TextEncoder().encode(JSON.stringify(old)),
    );
    const ctx = worker(lake, w, [0], {});
    await followAssignment(ctx);
    const o = ctx.owned.get(0)!;
    assert.deepEqual([o.processor.toJSON(), o.last, o.seq, o.state], [{ k0: 4, k1: 6 }, 9, 7, undefined]);
    await commit(ctx, batchOf(0, 10, 1));
    assert.deepEqual(ctx.owned.get(0)!.state?.deltas, []);
    const again = worker(lake, w, [0], {});
    await followAssignment(again);
    assert.deepEqual(again.owned.get(0)!.processor.toJSON(), { k0: 4, k1: 7 });
  });
});

describe('incremental state: when a snapshot is written', () => {
  /** Writes batches 1… of partition 0 with deltas of the given sizes; returns each batch's chain. */
  async function chains(manifests: ManifestStore, deltaSizes: number[]): Promise<StateRef[]> {
    let chain: StateRef | undefined;
    const out: StateRef[] = [];
    for (const [i, size] of deltaSizes.entries()) {
      const m: Omit<Batch, 'id' | 'createdAt'> = {
        worker: 'w',
        partitions: [{ topic: 'sums', partition: 0, last: i, seq: i + 1 }],
        tables: [],
        messages: [],
      };
      const w = await manifests.write(m, {
        0: { chain, snapshot: () => '{}', delta: () => 'x'.repeat(size) },
      });
      chain = w.manifest.partitions[0].state!;
      out.push(chain);
    }
    return out;
  }

  it('by default every 16 batches of a partition (at most 15 deltas after a snapshot)', async () => {
    const lake = await freshLake('memory');
    opened.push(lake);
    const got = await chains(new ManifestStore(lake.store, 'sums', GROUP), new Array(33).fill(10));
    assert.deepEqual(
      got.map((c, i) => (c.deltas.length === 0 ? i + 1 : 0)).filter((n) => n > 0),
      [1, 17, 33],
    );
    assert.equal(Math.max(...got.map((c) => c.deltas.length)), 15);
  });

  it('by default once the deltas since the last snapshot would pass 64 MiB', async () => {
    const lake = await freshLake('memory');
    opened.push(lake);
    const mib = 1024 * 1024;
    const got = await chains(new ManifestStore(lake.store, 'sums', GROUP), [1, 40 * mib, 24 * mib, 1, 1]);
    assert.deepEqual(
      got.map((c) => c.deltas.length),
      [0, 1, 2, 0, 1],
      '40 + 24 MiB is 64 MiB: a delta; one byte more is a snapshot',
    );
  });
});
