// Scores month-total forecasts against the baselines per as-of day k: a rolling-origin backtest (train only
// on months before each evaluated month) or a fixed model on every complete month. No I/O.

import { BASELINES, type BaselineName } from './baselines.ts';
import { completeMonths, type DailyDataset, stateAt } from './dataset.ts';

const contextOf = (data: DailyDataset) => ({ holidays: data.holidays });

import { ErrorAccumulator, type ErrorSummary } from './metrics.ts';
import { DEFAULT_LAMBDA, predictWith, TrainingSet } from './model.ts';
import type { ConsumptionModel, MeterMonthState } from './state.ts';

/** The as-of days reported; 'last' is the last day that still has a day to predict (days in month − 1). */
export const EVAL_KS = [3, 7, 14, 21, 'last'] as const;
export type EvalK = (typeof EVAL_KS)[number];

export interface EvalRow {
  k: EvalK;
  /** meter-months scored by the model and the run-rate and blend baselines */
  n: number;
  model: ErrorSummary;
  runrate: ErrorSummary;
  blend: ErrorSummary;
  /** scored only where last year's month is complete, so its own n is smaller */
  same_month_last_year: ErrorSummary;
  /** the model on those same meter-months, for a like-for-like comparison with same_month_last_year */
  model_on_same_month_last_year_months: ErrorSummary;
}

export interface EvalReport {
  data: string;
  meters: number;
  /** distinct calendar months with at least one complete meter-month */
  months: number;
  mode: 'backtest' | 'model';
  model_version?: number;
  results: EvalRow[];
}

function kValue(k: EvalK, daysInMonth: number): number {
  return k === 'last' ? daysInMonth - 1 : k;
}

class RowAccumulator {
  readonly model = new ErrorAccumulator();
  readonly modelWhereSmly = new ErrorAccumulator();
  readonly baselines = {
    runrate: new ErrorAccumulator(),
    blend: new ErrorAccumulator(),
    same_month_last_year: new ErrorAccumulator(),
  } satisfies Record<BaselineName, ErrorAccumulator>;

  add(state: MeterMonthState, predicted: number, actual: number): void {
    this.model.add(predicted, actual);
    for (const name of Object.keys(this.baselines) as BaselineName[]) {
      const p = BASELINES[name](state);
      if (p !== undefined) this.baselines[name].add(p, actual);
    }
    if (state.sameMonthLastYearTotal !== undefined) this.modelWhereSmly.add(predicted, actual);
  }

  row(k: EvalK): EvalRow {
    return {
      k,
      n: this.model.count,
      model: this.model.summary(),
      runrate: this.baselines.runrate.summary(),
      blend: this.baselines.blend.summary(),
      same_month_last_year: this.baselines.same_month_last_year.summary(),
      model_on_same_month_last_year_months: this.modelWhereSmly.summary(),
    };
  }
}

export interface BacktestOptions {
  lambda?: number;
  onMonth?: (month: string, done: number, total: number) => void;
}

/**
 * Rolling origin: months in calendar order; each is predicted by a model fitted only on the complete
 * meter-months of earlier months (none at first: the model's prior), then added to the training data.
 */
export function backtest(data: DailyDataset, opts: BacktestOptions = {}): EvalReport {
  const all = completeMonths(data);
  const ctx = contextOf(data);
  const byMonth = new Map<string, typeof all>();
  for (const c of all) {
    let list = byMonth.get(c.month);
    if (!list) {
      list = [];
      byMonth.set(c.month, list);
    }
    list.push(c);
  }
  const rows = EVAL_KS.map(() => new RowAccumulator());
  // only the as-of days reported are fitted: k = 3, 7, 14, 21 and every possible last day
  const seen = new TrainingSet([3, 7, 14, 21, 27, 28, 29, 30]);
  let done = 0;
  for (const [month, list] of byMonth) {
    const fits = seen.fit(opts.lambda ?? DEFAULT_LAMBDA).fits;
    for (const c of list) {
      EVAL_KS.forEach((k, i) => {
        const state = stateAt(c.series, month, kValue(k, c.series.months.get(month)!.length), ctx);
        rows[i].add(state, predictWith(fits, state), c.actual);
      });
    }
    for (const c of list)
      seen.addClosedMonth(stateAt(c.series, month, c.series.months.get(month)!.length, ctx), c.actual);
    opts.onMonth?.(month, ++done, byMonth.size);
  }
  return {
    data: data.source,
    meters: data.meters.size,
    months: byMonth.size,
    mode: 'backtest',
    results: EVAL_KS.map((k, i) => rows[i].row(k)),
  };
}

/** Scores a trained model as it is on every complete meter-month of the data (meters it may never have seen). */
export function scoreModel(data: DailyDataset, model: ConsumptionModel): EvalReport {
  const all = completeMonths(data);
  const ctx = contextOf(data);
  const rows = EVAL_KS.map(() => new RowAccumulator());
  for (const c of all) {
    const dim = c.series.months.get(c.month)!.length;
    EVAL_KS.forEach((k, i) => {
      const state = stateAt(c.series, c.month, kValue(k, dim), ctx);
      rows[i].add(state, model.predict(state), c.actual);
    });
  }
  return {
    data: data.source,
    meters: data.meters.size,
    months: new Set(all.map((c) => c.month)).size,
    mode: 'model',
    model_version: model.version,
    results: EVAL_KS.map((k, i) => rows[i].row(k)),
  };
}

/** All complete months of the dataset as closed-month states, ready for TrainingStats / trainConsumptionModel. */
export function closedMonthsOf(data: DailyDataset): MeterMonthState[] {
  const ctx = contextOf(data);
  return completeMonths(data).map((c) =>
    stateAt(c.series, c.month, c.series.months.get(c.month)!.length, ctx),
  );
}
