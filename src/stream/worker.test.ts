// The stream worker's takeover rules on the embedded transport, with a minimal workload (one row per
// message), so that what is tested is the worker and its manifests, not a workload's logic; how
// manifests left behind by other workers are judged; and the batch pipeline on its own (batch.ts).

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freshLake } from '../../test/lake/helpers.ts';
import { LakestreamError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { MemoryStore, type ObjectStore, withStoreRetries } from '../storage/index.ts';
import type { Message, Transport } from '../transport/index.ts';
import { openTransport, partitionOfKeyBytes } from '../transport/index.ts';
import { applyManifest } from './apply.ts';
import { commitBatch } from './batch.ts';
import { appIdFor, type Batch, ManifestStore } from './manifest.ts';
import { runWorker } from './worker.ts';
import { GroupOffsets, Outbox, type WorkerContext } from './worker-context.ts';
import { newStatus, PhaseClock, type WorkerStatus } from './worker-status.ts';
import type { Workload } from './workload.ts';

const TOPIC = 'events';
const TABLE = 'test/events';
const GROUP = 'g';

/** Every message becomes a row (partition, offset, key); no state beyond the counters. */
const workload: Workload = {
  name: 'events',
  topic: TOPIC,
  tables: [
    {
      path: TABLE,
      spec: {
        schema: [
          { name: 'partition', type: 'integer', nullable: false },
          { name: 'offset', type: 'long', nullable: false },
          { name: 'key', type: 'string' },
        ],
        partitionColumns: [],
      },
    },
  ],
  newProcessor() {
    let read = 0;
    return {
      process(msg, out) {
        read++;
        out.append(TABLE, { partition: msg.partition, offset: BigInt(msg.offset), key: msg.key });
      },
      flush() {},
      toJSON: () => ({}),
      counters: () => ({ read, accepted: read, quarantined: 0, duplicates: 0, byReason: {} }),
    };
  },
};

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of opened) await o.close();
});

/** An embedded transport with the events topic in 2 partitions, and an empty local lake. */
async function engines(): Promise<{ transport: Transport; lake: Lake }> {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-worker-test-'));
  const transport = await openTransport(`embedded:${dir}`);
  const lake = await freshLake('file');
  opened.push(transport, lake);
  await transport.ensureTopic(TOPIC, 2);
  return { transport, lake };
}

/** Per partition: [partition, rows, distinct offsets]. */
async function rowsPerPartition(lake: Lake): Promise<unknown[][]> {
  const r = await lake.query(
    `SELECT partition, count(*)::INTEGER AS n, count(DISTINCT "offset")::INTEGER AS d FROM test_events GROUP BY partition ORDER BY partition`,
  );
  return r.rows.map((x) => [x.partition, x.n, x.d]);
}

/** A key that the topic's 2 partitions put in `partition`. */
function keyFor(partition: number): string {
  for (let i = 0; ; i++) {
    const key = `k${i}`;
    if (partitionOfKeyBytes(new TextEncoder().encode(key), 2) === partition) return key;
  }
}

async function send(transport: Transport, partition: number, n: number): Promise<void> {
  const producer = await transport.producer();
  const key = keyFor(partition);
  await producer.send(
    TOPIC,
    Array.from({ length: n }, () => ({ key, value: new TextEncoder().encode('x') })),
  );
  await producer.close();
}

/** Polls until check() holds or `ms` have passed; whether it held. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (await check()) return true;
  return false;
}

/** Runs a worker until it has committed `batches` batches (or drained), within a deadline. */
async function runUntil(transport: Transport, lake: Lake, opts: { batches?: number; drain?: boolean }) {
  const stop = new AbortController();
  const deadline = AbortSignal.timeout(20_000);
  const status = await runWorker({
    transport,
    lake,
    workload,
    group: GROUP,
    drain: opts.drain,
    pollMs: 50,
    signal: AbortSignal.any([stop.signal, deadline]),
    onBatch: (s) => {
      if (opts.batches !== undefined && s.batches >= opts.batches) stop.abort();
    },
  });
  assert.equal(deadline.aborted, false, 'the worker finished before its deadline');
  return status;
}

test('a worker taking over keeps the newest manifest of every partition, also one found beside an older one', async () => {
  const { transport, lake } = await engines();

  // Batch 1 of both partitions in one manifest; then batch 2 of partition 1 alone, by a second worker.
  await send(transport, 0, 3);
  await send(transport, 1, 3);
  await runUntil(transport, lake, { batches: 1 });
  await send(transport, 1, 2);
  await runUntil(transport, lake, { batches: 1 });
  // A third worker finds partition 0's newest batch in the first manifest and partition 1's in the
  // second: adopting the first must not make it stand for partition 1 and delete the second.
  await send(transport, 0, 1);
  await runUntil(transport, lake, { batches: 1 });
  const snap = await lake.table(TABLE).snapshot();
  assert.equal(snap.txnVersions.get(appIdFor(GROUP, TOPIC, 1)), 2);

  // So the next owner resumes partition 1 after its batch 2, rather than retrying it forever.
  await send(transport, 1, 1);
  const last = await runUntil(transport, lake, { drain: true });
  assert.deepEqual(last.committed_offsets, [
    { topic: TOPIC, partition: 0, offset: 4 },
    { topic: TOPIC, partition: 1, offset: 6 },
  ]);
  assert.deepEqual(await rowsPerPartition(lake), [
    [0, 4, 4],
    [1, 6, 6],
  ]);
});

/** A manifest of batches of the events topic that adds no file (what is judged is its batch numbers). */
function batchOf(parts: { partition: number; last: number; seq: number }[]): Omit<Batch, 'id' | 'createdAt'> {
  return {
    worker: 'elsewhere',
    partitions: parts.map((p) => ({ topic: TOPIC, ...p })),
    tables: [{ path: TABLE, actions: [] }],
    messages: [],
  };
}

test('a fresh batch completed by the worker that took its partition over keeps its manifest; a batch that lost its number is deleted', async () => {
  const lake = await freshLake('file');
  opened.push(lake);
  await lake.table(TABLE).ensure(workload.tables[0].spec);
  const manifests = new ManifestStore(lake.store, workload.name, GROUP);
  const send = async () => {};

  // A zombie wrote batch 1 of partition 0; the new owner found its manifest and completed it first.
  const mine = await manifests.write(batchOf([{ partition: 0, last: 2, seq: 1 }]), {});
  await applyManifest(lake, GROUP, mine.manifest, send);
  await assert.rejects(
    applyManifest(lake, GROUP, mine.manifest, send, () => manifests.discard(mine.path)),
    (e: Error) => /completed by the worker that took the partition over/.test(e.message),
  );
  assert.ok(await lake.store.stat(mine.path), 'the manifest the lake records is kept');

  // Another batch with the same number (a different manifest) lost: nothing of it is kept.
  const other = await manifests.write(batchOf([{ partition: 0, last: 4, seq: 1 }]), {});
  await assert.rejects(
    applyManifest(lake, GROUP, other.manifest, send, () => manifests.discard(other.path)),
    (e: Error) => /already records batch 1 of g\/events\/0: another worker owns/.test(e.message),
  );
  assert.equal(await lake.store.stat(other.path), undefined, 'the losing manifest is deleted');
});

test('a worker taking over deletes a manifest that lost the race for its batch numbers rather than re-committing it', async () => {
  const { transport, lake } = await engines();
  await send(transport, 0, 3);
  await send(transport, 1, 3);
  await runUntil(transport, lake, { batches: 1 });
  await send(transport, 0, 3);
  // Left by a worker killed after losing: its batch 1 of partition 1 is another manifest's, so its
  // batch 2 of partition 0 (offsets 3 to 5) never landed. Re-committing it would skip those offsets.
  const manifests = new ManifestStore(lake.store, workload.name, GROUP);
  const lost = await manifests.write(
    batchOf([
      { partition: 0, last: 5, seq: 2 },
      { partition: 1, last: 2, seq: 1 },
    ]),
    {},
  );
  const last = await runUntil(transport, lake, { drain: true });
  assert.equal(await lake.store.stat(lost.path), undefined, 'the lost manifest is deleted');
  assert.deepEqual(last.committed_offsets, [
    { topic: TOPIC, partition: 0, offset: 6 },
    { topic: TOPIC, partition: 1, offset: 3 },
  ]);
  assert.deepEqual(await rowsPerPartition(lake), [
    [0, 6, 6],
    [1, 3, 3],
  ]);
});

test('of two manifests left with the same batch number, a worker taking over resumes from the one the lake recorded', async () => {
  const { transport, lake } = await engines();
  await lake.table(TABLE).ensure(workload.tables[0].spec);
  await send(transport, 0, 3);
  // Two workers raced for batch 1 of partition 0 and both died: the older manifest (found first)
  // says offsets 0–1, the one the lake recorded 0–2. Neither adds a file, so only the commit tells.
  const manifests = new ManifestStore(lake.store, workload.name, GROUP);
  await manifests.write(batchOf([{ partition: 0, last: 1, seq: 1 }]), {});
  await new Promise((r) => setTimeout(r, 5));
  const recorded = await manifests.write(batchOf([{ partition: 0, last: 2, seq: 1 }]), {});
  await applyManifest(lake, GROUP, recorded.manifest, async () => {});
  const last = await runUntil(transport, lake, { drain: true });
  assert.deepEqual(
    last.committed_offsets.filter((o) => o.partition === 0),
    [{ topic: TOPIC, partition: 0, offset: 3 }],
  );
  const rows = await lake.query('SELECT count(*)::INTEGER AS n FROM test_events');
  assert.equal(rows.rows[0].n, 0, 'offset 2 is not read again');
});

/** A worker's parts, holding partition 0 from its start (the batch pipeline without the loop). */
async function parts({ transport, lake }: { transport: Transport; lake: Lake }): Promise<WorkerContext> {
  await lake.table(TABLE).ensure(workload.tables[0].spec as never);
  const consumer = await transport.consumer({ group: GROUP, topics: [TOPIC] });
  const producer = await transport.producer();
  opened.push(consumer, producer);
  return {
    transport,
    lake,
    workload,
    group: GROUP,
    topic: TOPIC,
    worker: 'w',
    consumer,
    manifests: new ManifestStore(lake.store, workload.name, GROUP),
    owned: new Map([[0, { processor: workload.newProcessor(0), last: -1, seq: 0, flushed: false }]]),
    outbox: new Outbox(transport, producer, lake, workload),
    offsets: new GroupOffsets(consumer, TOPIC),
  };
}

/** Offsets 0 to n - 1 of partition 0, as a polled batch. */
function batchOfMessages(n: number): Map<number, Message[]> {
  const list = Array.from({ length: n }, (_, offset) => ({
    topic: TOPIC,
    partition: 0,
    offset,
    key: null,
    value: new Uint8Array(),
    timestamp: Date.now(),
  }));
  return new Map([[0, list]]);
}

const clock = () => new PhaseClock(newStatus('w', GROUP, workload.name).timings_ms);

test('a batch whose number the new owner of its partition committed first comes back lost, and leaves no manifest, row or position behind', async () => {
  const shared = await engines();
  const owner = await parts(shared);
  const zombie = await parts(shared);
  assert.equal((await commitBatch(owner, batchOfMessages(2), false, clock())).kind, 'committed');
  const manifests = await shared.lake.store.list(`_state/${workload.name}/${GROUP}/manifests/`);

  const r = await commitBatch(zombie, batchOfMessages(3), false, clock());

  assert.equal(r.kind, 'lost');
  assert.match(
    r.kind === 'lost' ? r.reason : '',
    /already records batch 1 of g\/events\/0: another worker owns/,
  );
  assert.deepEqual(await shared.lake.store.list(`_state/${workload.name}/${GROUP}/manifests/`), manifests);
  assert.deepEqual(await rowsPerPartition(shared.lake), [[0, 2, 2]], "only the owner's rows are in the lake");
  assert.equal(zombie.owned.get(0)?.last, -1, 'the partition does not move past the lost batch');
});

test('a batch of a partition the worker owns commits its rows and moves the partition on', async () => {
  const ctx = await parts(await engines());

  const r = await commitBatch(ctx, batchOfMessages(3), false, clock());

  assert.deepEqual(r.kind === 'committed' ? r.rows : r, 3);
  assert.deepEqual({ last: ctx.owned.get(0)?.last, seq: ctx.owned.get(0)?.seq }, { last: 2, seq: 1 });
  assert.deepEqual(await rowsPerPartition(ctx.lake), [[0, 3, 3]]);
});

test('a batch with nothing newer than what the lake holds writes nothing', async () => {
  const ctx = await parts(await engines());
  ctx.owned.get(0)!.last = 5;

  assert.deepEqual(await commitBatch(ctx, batchOfMessages(3), false, clock()), { kind: 'nothing' });
});

/**
 * A lake whose store refuses writes as WebHDFS does while the NameNode is in safe mode (webhdfs/errors.ts)
 * whenever `safe` is set, behind the store's retries; the worker's status files are spared so a test can
 * read what the worker says while it waits.
 */
async function safeModeLake() {
  const inner = new MemoryStore();
  const gate = { safe: false };
  const safeMode = (path: string) =>
    new LakestreamError(
      'UNAVAILABLE',
      `NameNode at nn:1 is in safe mode: cannot CREATE /${path} until it leaves (retry later). Name node is in safe mode.`,
      { retriable: true },
    );
  const write =
    <A extends [string, ...unknown[]], T>(f: (...a: A) => Promise<T>) =>
    (...a: A): Promise<T> =>
      gate.safe && !a[0].startsWith('_status/') ? Promise.reject(safeMode(a[0])) : f(...a);
  const gated: ObjectStore = {
    url: inner.url,
    list: (p) => inner.list(p),
    get: (p) => inner.get(p),
    stat: (p) => inner.stat(p),
    localPath: (p) => inner.localPath(p),
    put: write((p: string, d: Uint8Array) => inner.put(p, d)),
    putIfAbsent: write((p: string, d: Uint8Array) => inner.putIfAbsent(p, d)),
    rename: write((a: string, b: string) => inner.rename(a, b)),
    delete: write((p: string) => inner.delete(p)),
    close: () => inner.close(),
  };
  const lake = new Lake(withStoreRetries(gated, { log: () => {} }));
  opened.push(lake);
  const statusOf = async (worker: string) =>
    JSON.parse(new TextDecoder().decode(await inner.get(`_status/workers/${worker}.json`))) as WorkerStatus;
  return { lake, gate, statusOf };
}

/** Starts worker w1; `batches()` is how many batches it has committed so far. */
function startW1(transport: Transport, lake: Lake) {
  const stop = new AbortController();
  let batches = 0;
  const running = runWorker({
    transport,
    lake,
    workload,
    group: GROUP,
    workerId: 'w1',
    pollMs: 50,
    signal: stop.signal,
    onBatch: (s) => {
      batches = s.batches;
    },
  });
  return { stop, running, batches: () => batches };
}

test('a worker whose lake store waits out safe mode says so in its status, then commits what it held, once', async () => {
  const { transport } = await engines();
  const { lake, gate, statusOf: statusOfWorker } = await safeModeLake();
  const statusOf = () => statusOfWorker('w1');

  const { stop, running, batches } = startW1(transport, lake);
  try {
    await send(transport, 0, 3);
    assert.ok(await waitFor(() => batches() >= 1, 20_000), 'the first batch commits');
    gate.safe = true;
    await send(transport, 0, 2);
    assert.ok(
      await waitFor(async () => {
        const s = await statusOf().catch(() => undefined);
        return /^storage unavailable, retrying: NameNode at nn:1 is in safe mode/.test(
          s?.blocked?.reason ?? '',
        );
      }, 20_000),
      'the status says the worker waits for the NameNode to leave safe mode',
    );
    assert.equal(batches(), 1, 'nothing is committed while it waits');
    gate.safe = false;
    assert.ok(await waitFor(() => batches() >= 2, 30_000), 'the held batch commits once safe mode ends');
    assert.ok(
      await waitFor(async () => (await statusOf()).blocked === null, 20_000),
      'the status no longer says blocked',
    );
  } finally {
    stop.abort();
    await running;
  }
  assert.deepEqual(await rowsPerPartition(lake), [[0, 5, 5]]);
  // the status carries the worker's own memory figures (the soak judges its live heap by them)
  const { memory } = await statusOf();
  assert.equal(memory?.pid, process.pid);
  assert.ok(memory.rss_mib > 0 && memory.heap_used_mib > 0, JSON.stringify(memory));
  // and the parts that tell V8's heap from memory outside it (issue 17)
  assert.ok(memory.heap_total_mib >= memory.heap_used_mib, JSON.stringify(memory));
  assert.ok(memory.external_mib > 0 && memory.array_buffers_mib >= 0, JSON.stringify(memory));
  if (process.platform === 'linux') assert.ok(memory.rss_anon_mib! > 0 && memory.rss_file_mib! > 0);
});

test('a worker stopped while its batch waits for storage ends at once, and the next one commits that batch, once', async () => {
  const { transport } = await engines();
  const { lake, gate, statusOf } = await safeModeLake();
  const { stop, running, batches } = startW1(transport, lake);
  await send(transport, 0, 3);
  assert.ok(await waitFor(() => batches() >= 1, 20_000), 'the first batch commits');
  gate.safe = true;
  await send(transport, 0, 2);
  assert.ok(
    await waitFor(
      async () => /^storage unavailable/.test((await statusOf('w1')).blocked?.reason ?? ''),
      20_000,
    ),
    'the worker waits for the store',
  );
  stop.abort();
  // the store would retry for five minutes: the stop must not wait for that
  const ended = await Promise.race([
    running.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 60_000).unref()),
  ]);
  assert.equal(ended, true, 'the worker ended well before its store would have given up');
  assert.equal(batches(), 1, 'the held batch was not committed');

  gate.safe = false;
  await runUntil(transport, lake, { drain: true });
  assert.deepEqual(await rowsPerPartition(lake), [[0, 5, 5]], 'the next worker commits the held rows, once');
});

test("a worker on a lake without manifests starts at the group's committed offsets, and --drain ends there", async () => {
  const { transport, lake } = await engines();
  await send(transport, 0, 3);
  await send(transport, 1, 2);
  await runUntil(transport, lake, { drain: true });
  assert.deepEqual(await rowsPerPartition(lake), [
    [0, 3, 3],
    [1, 2, 2],
  ]);
  // the same group on a fresh lake: nothing to read past its committed offsets, so the drain ends
  // (it waited for offset 0 to be covered, forever)
  const other = await freshLake('file');
  opened.push(other);
  await runUntil(transport, other, { drain: true });
  // and what arrives next is read from there: offsets 3 and 4 of partition 0, nothing before them
  await send(transport, 0, 2);
  await runUntil(transport, other, { drain: true });
  const r = await other.query(`SELECT partition, "offset" FROM test_events ORDER BY partition, "offset"`);
  assert.deepEqual(
    r.rows.map((x) => [x.partition, Number(x.offset)]),
    [
      [0, 3],
      [0, 4],
    ],
  );
});
