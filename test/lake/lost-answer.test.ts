// A commit whose put-if-absent fails without an answer (a timeout after the write, or before it):
// the commit file decides, so a landed commit is reported committed and never written twice.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LakestreamError } from '../../src/errors.ts';
import { Lake } from '../../src/lake/index.ts';
import type { PutIfAbsentResult } from '../../src/storage/index.ts';
import { MemoryStore } from '../../src/storage/memory.ts';
import { READINGS, readings } from './helpers.ts';

/** A real in-memory store whose next commit put fails with a timeout, after or before writing. */
class TimeoutOnce extends MemoryStore {
  mode: 'after-write' | 'before-write' | 'off' = 'off';
  override async putIfAbsent(path: string, data: Uint8Array): Promise<PutIfAbsentResult> {
    const mode = this.mode;
    if (mode === 'off' || !path.endsWith('.json')) return super.putIfAbsent(path, data);
    this.mode = 'off';
    if (mode === 'after-write') await super.putIfAbsent(path, data);
    throw new LakestreamError('TIMEOUT', `no answer from the store for ${path}`);
  }
}

test('a commit that landed before the store timed out is reported committed, once', async () => {
  const store = new TimeoutOnce();
  const lake = new Lake(store);
  const t = lake.table('t');
  await t.create(READINGS);
  store.mode = 'after-write';
  assert.deepEqual(await t.write(readings(4)), { status: 'committed', version: 1 });
  const h = await t.history();
  assert.deepEqual(
    h.map((e) => e.operation),
    ['WRITE', 'CREATE TABLE'],
  );
  assert.equal(
    (await new Lake(new MemoryStore(store.url.slice('memory:'.length))).table('t').snapshot()).numRecords,
    4,
  );
});

test('a commit that never landed fails with the store error and leaves the table unchanged', async () => {
  const store = new TimeoutOnce();
  const lake = new Lake(store);
  const t = lake.table('t');
  await t.create(READINGS);
  store.mode = 'before-write';
  await assert.rejects(t.write(readings(4)), (e) => e instanceof LakestreamError && e.code === 'TIMEOUT');
  assert.equal((await t.snapshot()).version, 0);
  assert.deepEqual(await t.write(readings(2)), { status: 'committed', version: 1 });
});
