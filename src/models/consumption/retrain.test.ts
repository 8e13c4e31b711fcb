import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../storage/index.ts';
import { latestModelVersion, readRetrain, registerModel } from '../registry.ts';
import { MonthlyRetrainer } from './retrain.ts';

function counting(store: MemoryStore) {
  const calls: number[] = [];
  const retrain = async () => {
    calls.push(1);
    return registerModel(store, 'consumption', { n: calls.length }, {});
  };
  return { calls, retrain };
}

test('a month retrained once is not retrained again, also by a restarted worker', async () => {
  const store = new MemoryStore();
  const { calls, retrain } = counting(store);
  const first = new MonthlyRetrainer(store, retrain);
  await first.afterMonthClosed('2013-03');
  await first.idle();
  await first.afterMonthClosed('2013-03');
  await first.idle();
  assert.equal(calls.length, 1);
  assert.deepEqual(
    { ...(await readRetrain(store, 'consumption')), at: undefined },
    { month: '2013-03', ok: true, version: 1, at: undefined },
  );
  const restarted = new MonthlyRetrainer(store, retrain);
  await restarted.afterMonthClosed('2013-03');
  await restarted.idle();
  assert.equal(calls.length, 1, 'the restart read the record and did not retrain March');
  await restarted.afterMonthClosed('2013-04');
  await restarted.idle();
  assert.equal(calls.length, 2);
  assert.equal(await latestModelVersion(store, 'consumption'), 2);
});

test('a failed retrain keeps the previous model live and records why', async () => {
  const store = new MemoryStore();
  await registerModel(store, 'consumption', { n: 1 }, {});
  const failing = new MonthlyRetrainer(store, async () => {
    throw new Error('no complete month in the lake');
  });
  await failing.afterMonthClosed('2013-05');
  await failing.idle();
  assert.equal(await latestModelVersion(store, 'consumption'), 1);
  const rec = await readRetrain(store, 'consumption');
  assert.equal(rec?.ok, false);
  assert.equal(rec?.month, '2013-05');
  assert.match(rec?.error ?? '', /no complete month/);
  // a restart tries the failed month again
  const { calls, retrain } = counting(store);
  const restarted = new MonthlyRetrainer(store, retrain);
  await restarted.afterMonthClosed('2013-05');
  await restarted.idle();
  assert.equal(calls.length, 1);
  assert.equal((await readRetrain(store, 'consumption'))?.ok, true);
});
