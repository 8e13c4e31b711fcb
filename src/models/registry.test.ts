import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../storage/index.ts';
import { latestModelVersion, loadModelJson, registerModel } from './registry.ts';

test('a store with no model has no latest version and nothing to load', async () => {
  const store = new MemoryStore();
  assert.equal(await latestModelVersion(store, 'consumption'), undefined);
  assert.equal(await loadModelJson(store, 'consumption'), undefined);
});

test('registering twice gives versions 1 and 2, and LATEST names the second', async () => {
  const store = new MemoryStore();
  assert.equal(await registerModel(store, 'consumption', { w: 1 }, { mape: 10 }), 1);
  assert.equal(await registerModel(store, 'consumption', { w: 2 }, { mape: 9 }), 2);
  assert.equal(await latestModelVersion(store, 'consumption'), 2);
  assert.equal(new TextDecoder().decode(await store.get('models/consumption/LATEST')).trim(), '2');
  const latest = await loadModelJson(store, 'consumption');
  assert.deepEqual(latest?.model, { w: 2 });
  assert.equal((latest!.metrics as { mape: number }).mape, 9);
  assert.deepEqual((await loadModelJson(store, 'consumption', 1))?.model, { w: 1 });
});

test('concurrent registrations never share a version and LATEST ends on the highest', async () => {
  const store = new MemoryStore();
  const versions = await Promise.all(
    Array.from({ length: 8 }, (_, i) => registerModel(store, 'consumption', { i }, {})),
  );
  assert.deepEqual(
    [...versions].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.equal(await latestModelVersion(store, 'consumption'), 8);
  for (const v of versions) {
    const i = versions.indexOf(v);
    assert.deepEqual((await loadModelJson(store, 'consumption', v))?.model, { i });
  }
});

test('a bad model name is refused', async () => {
  await assert.rejects(registerModel(new MemoryStore(), '../x', {}, {}), /model name/);
});
