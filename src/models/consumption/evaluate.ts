// Scores month-total forecasts against the baselines per as-of day k, out of sample, by two protocols:
// households never seen (train on half the households, score the other half) and months after the
// training window (train on every household's months before a cut-off, score the months from it).
// Each row: MAPE of the model and of each baseline, the meter-months scored, and bootstrap 95 %
// intervals (households resampled, or months when there are few households) of the model's MAPE and of its difference to the best baseline. No I/O.

import { BASELINES, type BaselineName } from './baselines.ts';
import { bootstrapMape, type HouseholdSums } from './bootstrap.ts';
import { addMonths } from './calendar.ts';
import { completeMonths, type DailyDataset, stateAt } from './dataset.ts';
import { ErrorAccumulator, type ErrorSummary } from './metrics.ts';
import { DEFAULT_LAMBDA, type KFit, predictWith, TrainingSet } from './model.ts';
import type { ConsumptionModel, MeterMonthState } from './state.ts';

const contextOf = (data: DailyDataset) => ({ holidays: data.holidays });

/** The as-of days reported; 'last' is the last day that still has a day to predict (days in month − 1). */
export const EVAL_KS = [3, 7, 14, 21, 'last'] as const;
export type EvalK = (typeof EVAL_KS)[number];
/** the as-of days a backtest fits: the reported ones and every possible last day */
const FIT_KS = [3, 7, 14, 21, 27, 28, 29, 30];

/** the baselines that predict every meter-month (same month last year needs last year's month) */
const FULL_BASELINES = ['runrate', 'blend'] as const;

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
  /** the baseline with the lowest MAPE on every meter-month, and the model's MAPE over its */
  best_baseline: (typeof FULL_BASELINES)[number];
  ratio_to_best: number;
  /** bootstrap 95 % intervals: the model's MAPE, and model MAPE − best baseline MAPE (negative: the model is better) */
  ci95: { model_mape: [number, number]; model_minus_best: [number, number] };
}

export interface ProtocolReport {
  protocol: 'households_never_seen' | 'months_after_training';
  description: string;
  trained_on: { meters: number; meter_months: number; first_month?: string; last_month?: string };
  scored: { meters: number; meter_months: number; first_month?: string; last_month?: string };
  results: EvalRow[];
}

export interface EvalReport {
  data: string;
  meters: number;
  /** distinct calendar months with at least one complete meter-month */
  months: number;
  mode: 'backtest' | 'model';
  model_version?: number;
  /** mode 'model': the model as it is on every complete meter-month */
  results?: EvalRow[];
  /** mode 'backtest': each protocol, or null with the reason it cannot run on this data */
  protocols?: {
    households_never_seen: ProtocolReport | { skipped: string };
    months_after_training: ProtocolReport | { skipped: string };
  };
}

function kValue(k: EvalK, daysInMonth: number): number {
  return k === 'last' ? daysInMonth - 1 : k;
}

type Method = 'model' | BaselineName;

/** fewer households than this are too few to resample: meter-months are drawn instead */
const MIN_HOUSEHOLDS_TO_DRAW = 10;

class RowAccumulator {
  readonly acc = {
    model: new ErrorAccumulator(),
    runrate: new ErrorAccumulator(),
    blend: new ErrorAccumulator(),
    same_month_last_year: new ErrorAccumulator(),
  } satisfies Record<Method, ErrorAccumulator>;
  readonly modelWhereSmly = new ErrorAccumulator();
  /** per meter-month: its household and the APEs of the model and the full baselines */
  private readonly scored: { meter: string; model: number; runrate: number; blend: number }[] = [];

  add(state: MeterMonthState, predicted: number, actual: number): void {
    if (!(actual > 0) || !Number.isFinite(predicted)) return;
    this.acc.model.add(predicted, actual);
    const ape = (p: number) => (Math.abs(p - actual) / actual) * 100;
    const rec = { meter: state.meterId, model: ape(predicted), runrate: 0, blend: 0 };
    for (const name of Object.keys(BASELINES) as BaselineName[]) {
      const p = BASELINES[name](state);
      if (p === undefined) continue;
      this.acc[name].add(p, actual);
      if (name !== 'same_month_last_year') rec[name] = ape(p);
    }
    this.scored.push(rec);
    if (state.sameMonthLastYearTotal !== undefined) this.modelWhereSmly.add(predicted, actual);
  }

  /**
   * What the bootstrap draws: households (their months are not independent), or single meter-months
   * when there are too few households for that (one house over many months).
   */
  private units(best: 'runrate' | 'blend'): HouseholdSums[] {
    const byMeter = new Map<string, HouseholdSums>();
    for (const r of this.scored) {
      const h = byMeter.get(r.meter) ?? { model: 0, other: 0, n: 0 };
      h.model += r.model;
      h.other += r[best];
      h.n++;
      byMeter.set(r.meter, h);
    }
    if (byMeter.size >= MIN_HOUSEHOLDS_TO_DRAW) return [...byMeter.values()];
    return this.scored.map((r) => ({ model: r.model, other: r[best], n: 1 }));
  }

  row(k: EvalK): EvalRow {
    const s = {
      model: this.acc.model.summary(),
      runrate: this.acc.runrate.summary(),
      blend: this.acc.blend.summary(),
      same_month_last_year: this.acc.same_month_last_year.summary(),
    };
    const best = s.runrate.mape <= s.blend.mape ? 'runrate' : 'blend';
    const ci = bootstrapMape(this.units(best));
    return {
      k,
      n: this.acc.model.count,
      ...s,
      model_on_same_month_last_year_months: this.modelWhereSmly.summary(),
      best_baseline: best,
      ratio_to_best: s.model.mape / s[best].mape,
      ci95: { model_mape: ci.model, model_minus_best: ci.diff },
    };
  }
}

type Complete = ReturnType<typeof completeMonths>;

/** Scores `predict` on meter-months at every reported k. */
function scoreAll(data: DailyDataset, months: Complete, predict: (s: MeterMonthState) => number): EvalRow[] {
  const ctx = contextOf(data);
  const rows = EVAL_KS.map(() => new RowAccumulator());
  for (const c of months) {
    const dim = c.series.months.get(c.month)!.length;
    EVAL_KS.forEach((k, i) => {
      const state = stateAt(c.series, c.month, kValue(k, dim), ctx);
      rows[i].add(state, predict(state), c.actual);
    });
  }
  return EVAL_KS.map((k, i) => rows[i].row(k));
}

function fitOn(data: DailyDataset, months: Complete, lambda: number): KFit[] {
  const ctx = contextOf(data);
  const set = new TrainingSet(FIT_KS);
  for (const c of months)
    set.addClosedMonth(stateAt(c.series, c.month, c.series.months.get(c.month)!.length, ctx), c.actual);
  return set.fit(lambda).fits;
}

function span(months: Complete) {
  const ms = months.map((c) => c.month).sort();
  return {
    meters: new Set(months.map((c) => c.series.meterId)).size,
    meter_months: months.length,
    first_month: ms[0],
    last_month: ms.at(-1),
  };
}

export interface BacktestOptions {
  lambda?: number;
  /** months-after-training: the first scored month (default: the last 12 months of the data are scored) */
  cutoff?: string;
}

/** The households in sorted order, every second one held out (never trained on). */
export function heldOutHouseholds(data: DailyDataset): Set<string> {
  return new Set([...data.meters.keys()].sort().filter((_, i) => i % 2 === 1));
}

/** Train on every other household, score the rest: the model never saw the households it predicts. */
export function householdsNeverSeen(
  data: DailyDataset,
  opts: BacktestOptions = {},
): ProtocolReport | { skipped: string } {
  const held = heldOutHouseholds(data);
  const all = completeMonths(data);
  const train = all.filter((c) => !held.has(c.series.meterId));
  const test = all.filter((c) => held.has(c.series.meterId));
  if (train.length === 0 || test.length === 0)
    return { skipped: `${data.meters.size} meter(s): no household left to hold out or to train on` };
  const fits = fitOn(data, train, opts.lambda ?? DEFAULT_LAMBDA);
  return {
    protocol: 'households_never_seen',
    description: 'trained on the households of even rank (sorted ids), scored on the others',
    trained_on: span(train),
    scored: span(test),
    results: scoreAll(data, test, (s) => predictWith(fits, s)),
  };
}

/** Train on every household's months before the cut-off, score the months from it. */
export function monthsAfterTraining(
  data: DailyDataset,
  opts: BacktestOptions = {},
): ProtocolReport | { skipped: string } {
  const all = completeMonths(data);
  if (all.length === 0) return { skipped: 'no complete month' };
  const cutoff = opts.cutoff ?? addMonths(all.at(-1)!.month, -11);
  const train = all.filter((c) => c.month < cutoff);
  const test = all.filter((c) => c.month >= cutoff);
  if (train.length === 0 || test.length === 0)
    return { skipped: `no complete month ${train.length === 0 ? 'before' : 'from'} the cut-off ${cutoff}` };
  const fits = fitOn(data, train, opts.lambda ?? DEFAULT_LAMBDA);
  return {
    protocol: 'months_after_training',
    description: `trained on every household's months before ${cutoff}, scored on the months from ${cutoff}`,
    trained_on: span(train),
    scored: span(test),
    results: scoreAll(data, test, (s) => predictWith(fits, s)),
  };
}

/** What a report says of its data: the file, how many meters and how many complete months. */
function dataSummary(
  data: DailyDataset,
  all = completeMonths(data),
): Pick<EvalReport, 'data' | 'meters' | 'months'> {
  return {
    data: data.source,
    meters: data.meters.size,
    months: new Set(all.map((c) => c.month)).size,
  };
}

/** Both out-of-sample protocols. */
export function backtest(data: DailyDataset, opts: BacktestOptions = {}): EvalReport {
  return {
    ...dataSummary(data),
    mode: 'backtest',
    protocols: {
      households_never_seen: householdsNeverSeen(data, opts),
      months_after_training: monthsAfterTraining(data, opts),
    },
  };
}

/** Scores a trained model as it is on every complete meter-month of the data (meters it may never have seen). */
export function scoreModel(data: DailyDataset, model: ConsumptionModel): EvalReport {
  const all = completeMonths(data);
  return {
    ...dataSummary(data, all),
    mode: 'model',
    model_version: model.version,
    results: scoreAll(data, all, (s) => model.predict(s)),
  };
}

/** All complete months of the dataset as closed-month states, ready for TrainingStats / trainConsumptionModel. */
export function closedMonthsOf(data: DailyDataset): MeterMonthState[] {
  const ctx = contextOf(data);
  return completeMonths(data).map((c) =>
    stateAt(c.series, c.month, c.series.months.get(c.month)!.length, ctx),
  );
}
