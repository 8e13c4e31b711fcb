// What a commit does when another writer took its version: retry, skip, or report a conflict.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddFile } from './actions.ts';
import { resolveAgainst } from './transaction.ts';

const add = (path: string, day: string): { add: AddFile } => ({
  add: { path, partitionValues: { day }, size: 1, modificationTime: 0, dataChange: true },
});

test('a blind append retries after any concurrent append', () => {
  const r = resolveAgainst([{ commitInfo: {} }, add('a', 'd1')], 5, {
    removes: new Set(),
    changesMetadata: false,
  });
  assert.deepEqual(r, { kind: 'retry' });
});

test('a commit whose txn the winner already recorded is skipped', () => {
  const winner = [add('a', 'd1'), { txn: { appId: 'g/t/0', version: 9 } }];
  assert.deepEqual(
    resolveAgainst(winner, 5, {
      removes: new Set(),
      changesMetadata: false,
      txn: { appId: 'g/t/0', version: 9 },
    }),
    {
      kind: 'skip',
      reason: 'txn-already-applied',
    },
  );
  assert.deepEqual(
    resolveAgainst(winner, 5, {
      removes: new Set(),
      changesMetadata: false,
      txn: { appId: 'g/t/0', version: 10 },
    }),
    { kind: 'retry' },
  );
});

test('removing a file the winner removed is a conflict naming the file and version', () => {
  const r = resolveAgainst([{ remove: { path: 'x.parquet', dataChange: true } }], 7, {
    removes: new Set(['x.parquet']),
    changesMetadata: false,
  });
  assert.equal(r.kind, 'conflict');
  assert.match(r.kind === 'conflict' ? r.reason : '', /version 7 removed x\.parquet/);
});

test('a rewrite conflicts with a concurrent append into what it rewrites, not with other partitions', () => {
  const intent = {
    removes: new Set<string>(),
    changesMetadata: false,
    removeWhere: (f: AddFile) => f.partitionValues.day === 'd1',
  };
  assert.equal(resolveAgainst([add('b', 'd1')], 3, intent).kind, 'conflict');
  assert.equal(resolveAgainst([add('c', 'd2')], 3, intent).kind, 'retry');
});

test('a concurrent metadata change conflicts with everything', () => {
  const r = resolveAgainst([{ metaData: {} }], 2, { removes: new Set(), changesMetadata: false });
  assert.equal(r.kind, 'conflict');
});
