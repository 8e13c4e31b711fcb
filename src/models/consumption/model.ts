// The consumption model: per as-of day k, the remaining days' rate as a weighted sum of candidate rates
// (features.ts), the weights fitted by least absolute percentage error (lad.ts) and pulled toward a prior.
//
// Example for (meter-month, k): z = x · unobserved/actual, t = (actual − observed)/actual, so that
// |zβ − t| is the month total's absolute percentage error: the fit minimises MAPE directly.
// Prior (no data yet): w·(this month's weekday-adjusted mean) + (1−w)·(last year's same month, else half
// last month's mean, half last month's last week — each capped to ×2/÷2 of this month's mean), w = k/(k+8):
// a robust blend that leans on history early and becomes the run-rate late. The fit only corrects it; DEFAULT_LAMBDA keeps it close.
// Online update: each closed month's examples are added with IRLS weights from the current fit, and the
// weights re-solved (one IRLS step; a retrain from the lake redoes the full fit).

import { LakestreamError } from '../../errors.ts';
import { blend } from './baselines.ts';
import { FEATURE_NAMES, PREV_LAST_SHARE, prepare, totalFrom } from './features.ts';
import { addWeighted, ExampleSet, ladWeight, solveTowardPrior, type WeightedStats } from './lad.ts';
import type { ConsumptionModel, MeterMonthState } from './state.ts';

export const MODEL_KIND = 'consumption-lad-v1';
/** the longest month has 31 days; a model is fitted for k = 1 … 30 (at k = days in month the total is known) */
export const MAX_K = 30;
/** ridge pull toward the prior, in examples: out of time, weights far from the prior did not hold in backtests */
export const DEFAULT_LAMBDA = 100;
const PRIOR_DAYS = 8;
export const IRLS_ITERATIONS = 12;
const D = FEATURE_NAMES.length;

export interface KFit {
  coef: number[];
  /** training examples */
  n: number;
}

export interface ConsumptionModelJson {
  kind: typeof MODEL_KIND;
  features: string[];
  lambda: number;
  /** months the model has learned from, first and last ('YYYY-MM'), and how many meter-months */
  trainedOn: { firstMonth?: string; lastMonth?: string; meterMonths: number };
  /** per k (index k-1) */
  fits: KFit[];
  /** per k (index k-1): the last IRLS step's weighted statistics, for the online update */
  stats: WeightedStats[];
}

/** The prior's coefficients at k (see the header). */
export function priorCoef(k: number): number[] {
  const w = k / (k + PRIOR_DAYS);
  const b = new Array(D).fill(0);
  b[FEATURE_NAMES.indexOf('weekday_adjusted_mean')] = w;
  b[FEATURE_NAMES.indexOf('observed_mean_no_prev')] = 1 - w;
  b[FEATURE_NAMES.indexOf('prev_month_mean')] = (1 - w) * (1 - PREV_LAST_SHARE);
  b[FEATURE_NAMES.indexOf('prev_last7_mean')] = (1 - w) * PREV_LAST_SHARE;
  // when last year's month is known, its rate takes last month's place
  b[FEATURE_NAMES.indexOf('smly_minus_prev')] = 1 - w;
  return b;
}

/** The example of a closed month at k, or undefined when it has no percentage error (actual 0) or nothing left. */
function exampleAt(
  month: MeterMonthState,
  k: number,
  actual: number,
): { z: Float64Array; t: number } | undefined {
  const p = prepare({ ...month, daily: month.daily.slice(0, k) });
  if (!p || p.unobservedDays <= 0 || !(actual > 0)) return undefined;
  const scale = p.unobservedDays / actual;
  const z = p.x.map((v) => v * scale);
  return { z, t: (actual - p.observedSum) / actual };
}

/** The days of a closed month (every day complete), or undefined. */
function closedDays(month: MeterMonthState): number[] | undefined {
  const ok =
    month.daily.length === month.daysInMonth && month.daily.every((v) => v !== null && Number.isFinite(v));
  return ok ? (month.daily as number[]) : undefined;
}

/** Closed months collected for a full fit. `ks` limits which as-of days are kept (all by default). */
export class TrainingSet {
  readonly ks: number[];
  private readonly examples = new Map<number, ExampleSet>();
  private beta = new Map<number, number[]>();
  meterMonths = 0;
  firstMonth: string | undefined;
  lastMonth: string | undefined;

  constructor(ks: readonly number[] = Array.from({ length: MAX_K }, (_, i) => i + 1)) {
    this.ks = [...ks];
    for (const k of this.ks) this.examples.set(k, new ExampleSet(D));
  }

  /** Adds a closed month (`daily` holds every day; a month with a missing day is skipped: its total is unknown). */
  addClosedMonth(month: MeterMonthState, actualTotal?: number): boolean {
    const days = closedDays(month);
    if (!days) return false;
    const actual = actualTotal ?? days.reduce((a, b) => a + b, 0);
    for (const k of this.ks) {
      if (k >= month.daysInMonth) continue;
      const e = exampleAt(month, k, actual);
      if (e) this.examples.get(k)!.push(e.z, e.t);
    }
    this.meterMonths++;
    if (this.firstMonth === undefined || month.month < this.firstMonth) this.firstMonth = month.month;
    if (this.lastMonth === undefined || month.month > this.lastMonth) this.lastMonth = month.month;
    return true;
  }

  /** Fits every k by IRLS (warm-started from the previous fit, so refitting after each month is cheap). */
  fit(lambda = DEFAULT_LAMBDA, iterations?: number): ConsumptionModelJson {
    const fits: KFit[] = [];
    const stats: WeightedStats[] = [];
    for (let k = 1; k <= MAX_K; k++) {
      const set = this.examples.get(k);
      const prior = priorCoef(k);
      if (!set || set.length === 0) {
        fits.push({ coef: prior, n: 0 });
        stats.push({ dim: D, gram: new Array(D * D).fill(0), zt: new Array(D).fill(0), n: 0 });
        continue;
      }
      const warm = this.beta.get(k);
      const r = set.fitLad(prior, lambda, warm ?? prior, iterations ?? (warm ? 3 : IRLS_ITERATIONS));
      this.beta.set(k, r.beta);
      fits.push({ coef: r.beta, n: set.length });
      stats.push(r.stats);
    }
    return {
      kind: MODEL_KIND,
      features: [...FEATURE_NAMES],
      lambda,
      trainedOn: { firstMonth: this.firstMonth, lastMonth: this.lastMonth, meterMonths: this.meterMonths },
      fits,
      stats,
    };
  }
}

/** Trains a model from closed months (each a MeterMonthState holding every day of its month). */
export function trainConsumptionModel(
  closedMonths: Iterable<MeterMonthState>,
  opts: { lambda?: number } = {},
): ConsumptionModelJson {
  const set = new TrainingSet();
  for (const m of closedMonths) set.addClosedMonth(m);
  return set.fit(opts.lambda);
}

/**
 * The online update after a month closes: the model having also learned from `closedMonths`.
 * Register the result as the next version.
 */
export function updateConsumptionModel(
  model: ConsumptionModelJson,
  closedMonths: Iterable<MeterMonthState>,
): ConsumptionModelJson {
  const stats = model.stats.map((s) => ({ dim: s.dim, gram: s.gram.slice(), zt: s.zt.slice(), n: s.n }));
  let { firstMonth, lastMonth, meterMonths } = model.trainedOn;
  for (const m of closedMonths) {
    const days = closedDays(m);
    if (!days) continue;
    const actual = days.reduce((a, b) => a + b, 0);
    for (let k = 1; k < m.daysInMonth && k <= MAX_K; k++) {
      const e = exampleAt(m, k, actual);
      if (e) addWeighted(stats[k - 1], e.z, e.t, ladWeight(e.z, e.t, model.fits[k - 1].coef));
    }
    meterMonths++;
    if (firstMonth === undefined || m.month < firstMonth) firstMonth = m.month;
    if (lastMonth === undefined || m.month > lastMonth) lastMonth = m.month;
  }
  const fits = stats.map((s, i) => ({ coef: solveTowardPrior(s, priorCoef(i + 1), model.lambda), n: s.n }));
  return { ...model, trainedOn: { firstMonth, lastMonth, meterMonths }, fits, stats };
}

export function predictWith(fits: readonly KFit[], state: MeterMonthState): number {
  const p = prepare(state);
  if (!p) return blend(state);
  if (p.unobservedDays <= 0) return p.observedSum;
  const k = Math.min(MAX_K, Math.max(1, state.daily.length));
  const coef = fits[k - 1]?.coef ?? priorCoef(k);
  let rate = 0;
  for (let j = 0; j < D; j++) rate += coef[j] * p.x[j];
  return totalFrom(p, rate);
}

function isModelJson(json: object): json is ConsumptionModelJson {
  const j = json as Partial<ConsumptionModelJson>;
  return (
    j.kind === MODEL_KIND && Array.isArray(j.fits) && Array.isArray(j.features) && j.fits.length === MAX_K
  );
}

/** Loads a model saved by `toJSON` (or by train); refuses one whose features differ from this code's. */
export function loadConsumptionModel(json: object, version: number): ConsumptionModel {
  if (!isModelJson(json))
    throw new LakestreamError(
      'BAD_INPUT',
      `model version ${version} is not a ${MODEL_KIND} model (kind ${String((json as { kind?: unknown }).kind)})`,
    );
  if (json.features.length !== D || json.features.some((f, i) => f !== FEATURE_NAMES[i]))
    throw new LakestreamError(
      'UNSUPPORTED',
      `model version ${version} was trained with other features than this lakestream computes`,
    );
  const fits = json.fits;
  return { version, predict: (state) => predictWith(fits, state), toJSON: () => json };
}
