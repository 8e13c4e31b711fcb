import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baselineModel, blend, runRate, sameMonthLastYear } from './baselines.ts';
import type { MeterMonthState } from './state.ts';

const april = (daily: (number | null)[], extra: Partial<MeterMonthState> = {}): MeterMonthState => ({
  meterId: 'm1',
  month: '2013-04',
  daysInMonth: 30,
  daily,
  ...extra,
});

test('run-rate is the mean of the observed days times the days in the month', () => {
  assert.equal(runRate(april([10, 12, 14])), 360);
});

test('missing days are left out of the run-rate mean', () => {
  assert.equal(runRate(april([10, null, 14])), 360);
});

test("blend adds the remaining days at the average of the observed mean and last month's mean", () => {
  // observed 36 + 27 days × (12 + 8) / 2
  assert.equal(blend(april([10, 12, 14], { prevMonthDailyMean: 8 })), 36 + 27 * 10);
});

test('without last month the blend is the run-rate', () => {
  assert.equal(blend(april([10, 12, 14])), 360);
});

test('same month last year is that total, or nothing when unknown', () => {
  assert.equal(sameMonthLastYear(april([1, 2, 3], { sameMonthLastYearTotal: 300 })), 300);
  assert.equal(sameMonthLastYear(april([1, 2, 3])), undefined);
});

test('the baseline model is the blend at version 0', () => {
  const m = baselineModel();
  assert.equal(m.version, 0);
  assert.equal(m.predict(april([10, 12, 14], { prevMonthDailyMean: 8 })), 306);
});
