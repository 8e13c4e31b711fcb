import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../storage/index.ts';
import { loadModelJson } from '../registry.ts';
import { daysInMonth } from './calendar.ts';
import { ConsumptionModelReloader, learnClosedMonths, loadLatestConsumptionModel } from './lifecycle.ts';
import type { ConsumptionModelJson } from './model.ts';
import type { MeterMonthState } from './state.ts';

const closed = (meterId: string, month: string, level: number): MeterMonthState => ({
  meterId,
  month,
  daysInMonth: daysInMonth(month),
  daily: new Array(daysInMonth(month)).fill(level),
  prevMonthDailyMean: level,
});

test('with no model registered the worker predicts with the blend baseline, version 0', async () => {
  const model = await loadLatestConsumptionModel(new MemoryStore());
  assert.equal(model.version, 0);
  assert.equal(
    model.predict({ ...closed('a', '2013-04', 10), daily: [10, 10, 10], prevMonthDailyMean: 20 }),
    30 + 27 * 15,
  );
});

test('each closed month becomes a new version that has learned from it', async () => {
  const store = new MemoryStore();
  assert.equal(await learnClosedMonths(store, [closed('a', '2013-01', 10), closed('b', '2013-01', 5)]), 1);
  assert.equal(await learnClosedMonths(store, [closed('a', '2013-02', 11), closed('b', '2013-02', 6)]), 2);
  const v2 = await loadModelJson(store, 'consumption');
  assert.equal(v2?.version, 2);
  assert.deepEqual((v2!.model as ConsumptionModelJson).trainedOn, {
    firstMonth: '2013-01',
    lastMonth: '2013-02',
    meterMonths: 4,
  });
  assert.equal((v2!.metrics as { updatedFrom: number }).updatedFrom, 1);
});

test('a month with a missing day teaches nothing and registers no version', async () => {
  const store = new MemoryStore();
  const gap = closed('a', '2013-01', 10);
  gap.daily[4] = null;
  assert.equal(await learnClosedMonths(store, [gap]), undefined);
  assert.equal(await loadModelJson(store, 'consumption'), undefined);
});

test('the reloader picks up a new version without a restart', async () => {
  const store = new MemoryStore();
  const reloader = new ConsumptionModelReloader(store);
  assert.equal(reloader.current().version, 0);
  assert.equal(await reloader.refresh(), false);
  await learnClosedMonths(store, [closed('a', '2013-01', 10)]);
  assert.equal(await reloader.refresh(), true);
  assert.equal(reloader.current().version, 1);
  assert.equal(await reloader.refresh(), false, 'nothing new');
});
