// The worker compacts the small files its batches wrote: fewer live files, the same rows exactly
// once, and a reader of a version from before the compaction still reads what it read.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freshLake } from '../../test/lake/helpers.ts';
import { type Field, type Lake, withDuck } from '../lake/index.ts';
import { openTransport, partitionOfKeyBytes, type Transport } from '../transport/index.ts';
import { DEFAULT_COMPACTION, writerPartitions } from './compact.ts';
import { runWorker } from './worker.ts';
import type { Workload } from './workload.ts';

const TOPIC = 'events';
const TABLE = 'test/events';
const KEYED = 'test/keyed';
const SCHEMA: Field[] = [
  { name: 'partition', type: 'integer', nullable: false },
  { name: 'offset', type: 'long', nullable: false },
];

/** Every message becomes a row (partition, offset). */
const workload: Workload = {
  name: 'events',
  topic: TOPIC,
  tables: [
    { path: TABLE, spec: { schema: SCHEMA, partitionColumns: [] } },
    // rows replaced by key (copy-on-write): never compacted by the worker
    { path: KEYED, spec: { schema: SCHEMA, partitionColumns: [] }, keyColumns: ['partition', 'offset'] },
  ],
  newProcessor() {
    let read = 0;
    return {
      process(msg, out) {
        read++;
        out.append(TABLE, { partition: msg.partition, offset: BigInt(msg.offset) });
        out.append(KEYED, { partition: msg.partition, offset: BigInt(msg.offset) });
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

async function engines(): Promise<{ transport: Transport; lake: Lake }> {
  const transport = await openTransport(
    `embedded:${await mkdtemp(join(tmpdir(), 'lakestream-compact-test-'))}`,
  );
  const lake = await freshLake('file');
  opened.push(transport, lake);
  await transport.ensureTopic(TOPIC, 2);
  return { transport, lake };
}

async function send(transport: Transport, partition: number, n: number): Promise<void> {
  let key = '';
  for (let i = 0; ; i++)
    if (partitionOfKeyBytes(new TextEncoder().encode(`k${i}`), 2) === partition) {
      key = `k${i}`;
      break;
    }
  const producer = await transport.producer();
  await producer.send(
    TOPIC,
    Array.from({ length: n }, () => ({ key, value: new TextEncoder().encode('x') })),
  );
  await producer.close();
}

async function rows(lake: Lake, version?: number): Promise<unknown[]> {
  return withDuck(async (conn) => {
    await lake.table(TABLE).createView(conn, 'ev', version);
    const r = await conn.runAndReadAll(
      'SELECT partition, count(*)::INTEGER AS n, count(DISTINCT "offset")::INTEGER AS d FROM ev GROUP BY ALL ORDER BY 1',
    );
    return r.getRowsJson();
  });
}

test('stream files are named by the partitions they were written for; the default policy is the one the README gives', () => {
  assert.deepEqual(DEFAULT_COMPACTION, { everyBatches: 16, minFiles: 8 });
  assert.deepEqual(writerPartitions('day=2013-01-01/w0_3-2f1c.zstd.parquet'), [0, 3]);
  assert.deepEqual(writerPartitions('w1-c-2f1c.zstd.parquet'), [1]);
  assert.equal(writerPartitions('part-2f1c.zstd.parquet'), undefined);
  assert.equal(writerPartitions('x/aw1-2f1c.zstd.parquet'), undefined);
});

test('the worker compacts its small files between batches: fewer files, the same rows once, older versions intact', async () => {
  const { transport, lake } = await engines();
  const table = lake.table(TABLE);
  let batches = 0;
  // Runs a worker until everything sent so far is committed.
  const run = (compaction: { everyBatches: number; minFiles: number }) => {
    const deadline = AbortSignal.timeout(60_000);
    return runWorker({
      transport,
      lake,
      workload,
      group: 'g',
      pollMs: 20,
      maxBatch: 10,
      compaction,
      drain: true,
      signal: deadline,
      onBatch: (s) => {
        batches = s.batches;
      },
    });
  };
  // Without compaction: a file per batch.
  for (let i = 0; i < 6; i++) {
    await send(transport, 0, 10);
    await send(transport, 1, 10);
  }
  await run({ everyBatches: 0, minFiles: 2 });
  const before = await table.snapshot();
  const keyedBefore = await lake.table(KEYED).snapshot();
  const rowsBefore = await rows(lake);
  assert.ok(before.files.length >= 6, `${before.files.length} files after ${batches} batches`);
  assert.ok(before.files.every((f) => writerPartitions(f.path) !== undefined));
  // With compaction after every 2 batches, once 3 small files are there.
  for (let i = 0; i < 6; i++) {
    await send(transport, 0, 10);
    await send(transport, 1, 10);
  }
  const status = await run({ everyBatches: 2, minFiles: 3 });
  const after = await table.snapshot();
  const ops = (await table.history()).map((h) => h.operation);
  assert.ok(ops.includes('OPTIMIZE'), ops.join(', '));
  assert.ok(status.timings_ms.compact > 0);
  assert.ok(
    after.files.length < before.files.length,
    `${after.files.length} files after compaction, ${before.files.length} before`,
  );
  assert.deepEqual(await rows(lake), [
    [0, 120, 120],
    [1, 120, 120],
  ]);
  assert.ok(after.files.every((f) => f.dataChange === false || f.path.startsWith('w')));
  // the keyed table keeps a file per batch
  const keyed = lake.table(KEYED);
  assert.ok(!(await keyed.history()).some((h) => h.operation === 'OPTIMIZE'));
  assert.ok((await keyed.snapshot()).files.length > keyedBefore.files.length);
  // a reader that began before the compaction still reads its version
  assert.deepEqual(await rows(lake, before.version), rowsBefore);
});
