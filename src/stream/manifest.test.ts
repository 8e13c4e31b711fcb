// The manifest sweep (issue 16 item 7): manifests of batches every table records and no owner may
// still need are deleted; the newest recorded manifest of each partition, and anything a takeover
// may still complete or judge, stay.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshLake } from '../../test/lake/helpers.ts';
import { applyManifest } from './apply.ts';
import { type Batch, ManifestStore, type StateRef } from './manifest.ts';

const TOPIC = 'events';
const TABLE = 'test/events';
const GROUP = 'g';

function batchOf(parts: { partition: number; seq: number }[]): Omit<Batch, 'id' | 'createdAt'> {
  return {
    worker: 'elsewhere',
    partitions: parts.map((p) => ({ topic: TOPIC, last: p.seq, ...p })),
    tables: [{ path: TABLE, actions: [] }],
    messages: [],
  };
}

test('a sweep deletes the manifests whose batches are recorded and superseded by recorded ones, and keeps the rest', async () => {
  const lake = await freshLake('file');
  await lake.table(TABLE).ensure({
    schema: [{ name: 'x', type: 'integer' }],
    partitionColumns: [],
  });
  const manifests = new ManifestStore(lake.store, 'events', GROUP);
  const send = async () => {};
  const written = async (parts: { partition: number; seq: number }[], commit: boolean) => {
    const w = await manifests.write(batchOf(parts), {});
    if (commit) await applyManifest(lake, GROUP, w.manifest, send);
    return w.path;
  };
  // one worker owned partitions 0 and 1; after a rebalance two workers own one each
  const both = await written(
    [
      { partition: 0, seq: 1 },
      { partition: 1, seq: 1 },
    ],
    true,
  );
  const p0 = await written([{ partition: 0, seq: 2 }], true);
  const p1 = await written([{ partition: 1, seq: 2 }], true);
  const p1Newest = await written([{ partition: 1, seq: 3 }], true);
  // a zombie that lost batch 3 of partition 1 and died: its batch 3 of partition 0 never landed
  const zombie = await written(
    [
      { partition: 0, seq: 3 },
      { partition: 1, seq: 3 },
    ],
    false,
  );
  // partition 2: the newest manifest is not committed yet (its worker died mid-commit)
  const p2Done = await written([{ partition: 2, seq: 1 }], true);
  const p2Pending = await written([{ partition: 2, seq: 2 }], false);

  const deleted = await manifests.sweep((table, appId) => lake.table(table).txnVersion(appId));
  assert.deepEqual(deleted.sort(), [both, p1].sort());
  for (const kept of [p0, p1Newest, zombie, p2Done, p2Pending])
    assert.ok(await lake.store.stat(kept), `${kept} is kept`);
  assert.deepEqual(
    await manifests.sweep((table, appId) => lake.table(table).txnVersion(appId)),
    [],
    'idempotent',
  );
  await lake.close();
});

test('a snapshot larger than maxDeltaBytes takes deltas until they would outweigh it, however many batches; a small one keeps the batch count', async () => {
  const lake = await freshLake('file');
  const kinds = async (snapshotBytes: number, deltaBytes: number, batches: number) => {
    const manifests = new ManifestStore(lake.store, `events${snapshotBytes}`, GROUP, undefined, {
      snapshotEvery: 3,
      maxDeltaBytes: 50,
    });
    const snapshot = 'x'.repeat(snapshotBytes);
    const delta = 'd'.repeat(deltaBytes);
    let chain: StateRef | undefined;
    const out: string[] = [];
    for (let seq = 1; seq <= batches; seq++) {
      const w = await manifests.write(batchOf([{ partition: 0, seq }]), {
        0: { chain, snapshot: () => snapshot, delta: () => delta },
      });
      chain = w.manifest.partitions[0].state;
      out.push(chain!.deltas.length === 0 ? 'snap' : 'delta');
      if (chain!.deltas.length === 0) assert.equal(chain!.snapshotBytes, snapshotBytes);
      assert.ok(chain!.deltaBytes <= Math.max(50, snapshotBytes), 'the deltas never outweigh the bound');
    }
    return out;
  };
  // 200 B of snapshot: deltas of 30 B until a seventh would make 210 B > 200 B (the count of 3 no longer applies)
  assert.deepEqual(await kinds(200, 30, 14), [
    'snap',
    ...['delta', 'delta', 'delta', 'delta', 'delta', 'delta'],
    'snap',
    ...['delta', 'delta', 'delta', 'delta', 'delta', 'delta'],
  ]);
  // 40 B of snapshot (≤ maxDeltaBytes): a snapshot every 3 batches, as before
  assert.deepEqual(await kinds(40, 10, 7), ['snap', 'delta', 'delta', 'snap', 'delta', 'delta', 'snap']);
  // and the 50 B of deltas still bound a small snapshot's chain
  assert.deepEqual(await kinds(40, 30, 4), ['snap', 'delta', 'snap', 'delta']);
});
