// The batch pipeline on its own: a batch whose partition another worker has moved on comes back as a
// lost value (not an exception) and leaves nothing behind; a batch of a partition it owns commits.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freshLake } from '../../test/lake/helpers.ts';
import type { Lake } from '../lake/index.ts';
import { openTransport } from '../transport/open.ts';
import type { Message, Transport } from '../transport/transport.ts';
import { commitBatch } from './batch.ts';
import { ManifestStore } from './manifest.ts';
import { GroupOffsets, Outbox, type WorkerContext } from './worker-context.ts';
import { newStatus, PhaseClock } from './worker-status.ts';
import type { Workload } from './workload.ts';

const TOPIC = 'events';
const TABLE = 'test/events';
const GROUP = 'g';

/** Every message becomes a row (offset); no state beyond the counters. */
const workload: Workload = {
  name: 'events',
  topic: TOPIC,
  tables: [
    {
      path: TABLE,
      spec: { schema: [{ name: 'offset', type: 'long', nullable: false }], partitionColumns: [] },
    },
  ],
  newProcessor() {
    let read = 0;
    return {
      process(msg, out) {
        read++;
        out.append(TABLE, { offset: BigInt(msg.offset) });
      },
      flush() {},
      toJSON: () => ({}),
      counters: () => ({ read, accepted: read, quarantined: 0, duplicates: 0, byReason: {} }),
    };
  },
};

const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of opened.reverse()) await o.close();
});

/** An embedded transport with the topic in one partition, and an empty local lake. */
async function engines(): Promise<{ transport: Transport; lake: Lake }> {
  const transport = await openTransport(
    `embedded:${await mkdtemp(join(tmpdir(), 'lakestream-batch-test-'))}`,
  );
  const lake = await freshLake('file');
  opened.push(transport, lake);
  await transport.ensureTopic(TOPIC, 1);
  await lake.table(TABLE).ensure(workload.tables[0].spec as never);
  return { transport, lake };
}

/** A worker's parts, holding partition 0 from its start. */
async function worker({ transport, lake }: { transport: Transport; lake: Lake }): Promise<WorkerContext> {
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

function messages(n: number): Map<number, Message[]> {
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
  const owner = await worker(shared);
  const zombie = await worker(shared);
  assert.equal((await commitBatch(owner, messages(2), false, clock())).kind, 'committed');
  const manifests = await shared.lake.store.list(`_state/${workload.name}/${GROUP}/manifests/`);

  const r = await commitBatch(zombie, messages(3), false, clock());

  assert.equal(r.kind, 'lost');
  assert.match(
    r.kind === 'lost' ? r.reason : '',
    /already records batch 1 of g\/events\/0: another worker owns/,
  );
  assert.deepEqual(await shared.lake.store.list(`_state/${workload.name}/${GROUP}/manifests/`), manifests);
  const rows = await shared.lake.query('SELECT count(*)::INTEGER AS n FROM test_events');
  assert.equal(rows.rows[0].n, 2, "only the owner's rows are in the lake");
  assert.equal(zombie.owned.get(0)?.last, -1, 'the partition does not move past the lost batch');
});

test('a batch of a partition the worker owns commits its rows and moves the partition on', async () => {
  const ctx = await worker(await engines());

  const r = await commitBatch(ctx, messages(3), false, clock());

  assert.equal(r.kind, 'committed');
  assert.equal(r.kind === 'committed' ? r.rows : 0, 3);
  assert.deepEqual({ last: ctx.owned.get(0)?.last, seq: ctx.owned.get(0)?.seq }, { last: 2, seq: 1 });
  const rows = await ctx.lake.query('SELECT count(*)::INTEGER AS n FROM test_events');
  assert.equal(rows.rows[0].n, 3);
});

test('a batch with nothing newer than what the lake holds writes nothing', async () => {
  const ctx = await worker(await engines());
  ctx.owned.get(0)!.last = 5;

  assert.deepEqual(await commitBatch(ctx, messages(3), false, clock()), { kind: 'nothing' });
});
