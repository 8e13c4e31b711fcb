import assert from 'node:assert/strict';
import { test } from 'node:test';
import { daysInMonth } from './calendar.ts';
import { FEATURE_NAMES, prepare } from './features.ts';
import { loadConsumptionModel, trainConsumptionModel, updateConsumptionModel } from './model.ts';
import type { MeterMonthState } from './state.ts';

function month(m: string, perDay: (d: number) => number, prev?: number): MeterMonthState {
  const n = daysInMonth(m);
  return {
    meterId: 'x',
    month: m,
    daysInMonth: n,
    daily: Array.from({ length: n }, (_, i) => perDay(i + 1)),
    prevMonthDailyMean: prev,
  };
}

test('weekday mix: a meter busier at weekends is expected higher when more weekend days remain', () => {
  // June 2013 starts on a Saturday; this meter uses 20 kWh on weekend days and 10 on weekdays
  const s = month('2013-06', (d) => ([1, 2, 8, 9, 15, 16, 22, 23, 29, 30].includes(d) ? 20 : 10));
  const after7 = prepare({ ...s, daily: s.daily.slice(0, 7) })!;
  const adjusted = after7.x[FEATURE_NAMES.indexOf('weekday_adjusted_mean')];
  const mean = 90 / 7;
  const trueRest = (8 * 20 + 15 * 10) / 23; // 8 of the 23 remaining days are weekend days, 2 of the 7 seen
  assert.ok(adjusted > mean && adjusted < trueRest, `${mean} < ${adjusted} < ${trueRest}`);
  assert.equal(after7.unobservedDays, 23);
  assert.equal(after7.observedSum, 90);
  const flat = prepare({ ...month('2013-06', () => 10), daily: new Array(7).fill(10) })!;
  assert.equal(flat.x[FEATURE_NAMES.indexOf('weekday_adjusted_mean')], 10, 'a flat meter stays flat');
});

test('a model trained on flat meters predicts a flat month exactly', () => {
  const months = ['2013-01', '2013-02', '2013-03', '2013-04'].flatMap((m) =>
    [5, 10, 20].map((level) => ({ ...month(m, () => level, level), meterId: `m${level}` })),
  );
  const json = trainConsumptionModel(months);
  const model = loadConsumptionModel(json, 3);
  const may = month('2013-05', () => 7, 7);
  for (const k of [3, 14, 30]) {
    const p = model.predict({ ...may, daily: may.daily.slice(0, k) });
    assert.ok(Math.abs(p - 7 * 31) < 0.5, `k=${k}: ${p}`);
  }
  assert.equal(model.version, 3);
  assert.equal(model.predict(may), 7 * 31, 'at the last day the total is known');
});

test('an online update learns from a closed month and counts it', () => {
  const base = trainConsumptionModel([month('2013-01', () => 10, 10)]);
  const updated = updateConsumptionModel(base, [month('2013-02', () => 12, 10)]);
  assert.equal(updated.trainedOn.meterMonths, 2);
  assert.equal(updated.trainedOn.lastMonth, '2013-02');
  assert.notDeepEqual(updated.fits[2].coef, base.fits[2].coef);
});

test('loading something that is not a consumption model fails clearly', () => {
  assert.throws(() => loadConsumptionModel({ kind: 'other' }, 4), /version 4 is not a/);
});
