// The obvious rules the model must beat (defined in shared/data/README.md), and the blend as model v0.
//
// run-rate = mean of the observed days × days in month
// blend    = observed + remaining days × (average of the run-rate's daily mean and last month's daily mean)
// same month last year = last year's total of this month (undefined when unknown)

import { type ConsumptionModel, type MeterMonthState, observed } from './state.ts';

export function runRate(state: MeterMonthState): number {
  const o = observed(state);
  if (o.n === 0)
    return state.prevMonthDailyMean !== undefined ? state.prevMonthDailyMean * state.daysInMonth : 0;
  return (o.sum / o.n) * state.daysInMonth;
}

export function blend(state: MeterMonthState): number {
  const o = observed(state);
  const prev = state.prevMonthDailyMean;
  if (o.n === 0) return prev !== undefined ? prev * state.daysInMonth : 0;
  const rate = o.sum / o.n;
  // Missing days of the month so far count as remaining: they are estimated like the future ones.
  const remaining = state.daysInMonth - o.n;
  return o.sum + remaining * (prev === undefined ? rate : (rate + prev) / 2);
}

export function sameMonthLastYear(state: MeterMonthState): number | undefined {
  return state.sameMonthLastYearTotal;
}

export const BASELINES = {
  runrate: runRate,
  blend,
  same_month_last_year: sameMonthLastYear,
} as const satisfies Record<string, (s: MeterMonthState) => number | undefined>;

export type BaselineName = keyof typeof BASELINES;

/** The blend baseline as a model, version 0: what predicts before any model is registered. */
export function baselineModel(): ConsumptionModel {
  return {
    version: 0,
    predict: blend,
    toJSON: () => ({ kind: 'baseline-blend', version: 0 }),
  };
}
