// Measures candidate features for the consumption forecast (issue 15 item 6) the way tuning may: on the
// training window only (the months before `model evaluate`'s cut-off), by its two protocols run inside
// the window — households never seen (the window's households of even rank against the others) and its
// last six months after the months before them. Each idea adds one column to prepare()'s features; the
// column's coefficient is fitted with the others (the same LAD fit, prior 0 for it, DEFAULT_LAMBDA).
// Prints, per idea and protocol, the model's MAPE and its ratio to the best baseline (run-rate or blend)
// at k = 3, 7, 14, 21. `--scored` also prints the whole file's protocols (what `model evaluate` scores:
// shown to report, never to choose). The idea 'none' is the shipped model: its `--scored` figures equal
// `model evaluate --json`'s. 'oracle-fleet' is a bound, not a feature: it reads the scored months'
// own future (the fleet's remaining-days rate over its observed rate in that very month).
// Usage: npx node scripts/forecast-ideas.ts [DAILY_FILE] [--cutoff YYYY-MM] [--scored] [--only IDEA,…]
//          [--lambda L] [--new-lambdas L1,L2,…]   (base columns' λ; the added column's λ grid, chosen on the window)

import { blend, runRate } from '../src/models/consumption/baselines.ts';
import { addMonths } from '../src/models/consumption/calendar.ts';
import { completeMonths, type DailyDataset, stateAt } from '../src/models/consumption/dataset.ts';
import { heldOutHouseholds } from '../src/models/consumption/evaluate.ts';
import { FEATURE_NAMES, type Prepared, prepare, totalFrom } from '../src/models/consumption/features.ts';
import { readDailyFile } from '../src/models/consumption/index.ts';
import { ExampleSet } from '../src/models/consumption/lad.ts';
import { attachLondonMetadata } from '../src/models/consumption/metadata.ts';
import { DEFAULT_LAMBDA, IRLS_ITERATIONS, priorCoef } from '../src/models/consumption/model.ts';
import type { MeterMonthState } from '../src/models/consumption/state.ts';

export const KS = [3, 7, 14, 21];
const VALIDATION_MONTHS = 6;
const D = FEATURE_NAMES.length;

type Complete = ReturnType<typeof completeMonths>[number];
/** what an idea may learn from: the dataset and which (meter, month) are training months */
export interface Split {
  data: DailyDataset;
  trains: (meter: string, month: string) => boolean;
  /** the meters whose days up to the as-of day the predictor may see (the stream sees every meter's) */
  visible: (meter: string) => boolean;
}
/** an idea: one more feature column, given the split it is learned in */
export type Idea = (split: Split) => (state: MeterMonthState, p: Prepared) => number;

const clamp = (v: number) => Math.min(2, Math.max(0.5, v));
const meanOf = (days: readonly (number | null)[], from: number, to: number) => {
  let s = 0;
  let n = 0;
  for (let d = from; d <= to && d <= days.length; d++) {
    const v = days[d - 1];
    if (v !== null && v !== undefined) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : undefined;
};

/**
 * Per key (calendar month, or year-month for the oracle) and k: Σ remaining days' kWh over Σ observed
 * mean × remaining days, over the months `use` admits.
 */
function driftTable(split: Split, key: (month: string) => string, use: (c: Complete) => boolean) {
  const sums = new Map<string, { num: number[]; den: number[] }>();
  for (const c of completeMonths(split.data)) {
    if (!use(c)) continue;
    const days = c.series.months.get(c.month) as number[];
    const kk = key(c.month);
    const t = sums.get(kk) ?? { num: new Array(31).fill(0), den: new Array(31).fill(0) };
    sums.set(kk, t);
    let s = 0;
    for (let k = 1; k < days.length; k++) {
      s += days[k - 1];
      t.num[k] += c.actual - s;
      t.den[k] += (s / k) * (days.length - k);
    }
  }
  return (month: string, k: number) => {
    const t = sums.get(key(month));
    return t && t.den[k] > 0 ? t.num[k] / t.den[k] : 1;
  };
}

/** The meter's coefficient of variation over last month's days and this month's so far, capped at 2. */
function volatility(s: MeterMonthState): number {
  const days: number[] = [];
  for (const v of [...(s.prevMonthDaily ?? []), ...s.daily]) if (v !== null && v !== undefined) days.push(v);
  if (days.length < 2) return 0;
  const m = days.reduce((a, b) => a + b, 0) / days.length;
  if (!(m > 0)) return 0;
  const sd = Math.sqrt(days.reduce((a, b) => a + (b - m) ** 2, 0) / (days.length - 1));
  return Math.min(2, sd / m);
}

export const IDEAS: Record<string, Idea> = {
  none: () => () => 0,
  // (b) the training months' typical drift within the calendar month: mean × (ratio − 1)
  'seasonal-drift': (split) => {
    const r = driftTable(
      split,
      (m) => m.slice(5, 7),
      (c) => split.trains(c.series.meterId, c.month),
    );
    return (s, p) => p.x[0] * (r(s.month, s.daily.length) - 1);
  },
  // (c) the meter's own month last year: its remaining days' rate over its first k days' rate
  'own-last-year-shape': (split) => (s, p) => {
    const ly = split.data.meters.get(s.meterId)?.months.get(addMonths(s.month, -12));
    const k = s.daily.length;
    const a = ly && meanOf(ly, 1, k);
    const b = ly && meanOf(ly, k + 1, ly.length);
    return a && b ? p.x[0] * (clamp(b / a) - 1) : 0;
  },
  // (d) the fleet's move so far: the visible meters' mean of days 1…k over their last month's mean, applied to history
  'fleet-so-far': (split) => {
    const cache = new Map<string, number | undefined>();
    const ratio = (month: string, k: number) => {
      const key = `${month} ${k}`;
      if (!cache.has(key)) {
        let a = 0;
        let b = 0;
        for (const m of split.data.meters.values()) {
          if (!split.visible(m.meterId)) continue;
          const cur = m.months.get(month);
          const prev = m.months.get(addMonths(month, -1));
          const ca = cur && meanOf(cur, 1, k);
          const pb = prev && meanOf(prev, 1, prev.length);
          if (ca === undefined || pb === undefined) continue;
          a += ca;
          b += pb;
        }
        cache.set(key, b > 0 ? a / b : undefined);
      }
      return cache.get(key);
    };
    return (s, p) => {
      const f = ratio(s.month, s.daily.length);
      if (f === undefined || s.prevMonthDailyMean === undefined) return 0;
      return (0.5 * p.x[2] + 0.5 * p.x[11]) * (clamp(f) - 1);
    };
  },
  // the meter's volatility (coefficient of variation of its days this month and last) times history's
  // distance from this month's mean: lets a volatile meter lean more on history than a steady one
  'volatility-x-history': () => (s, p) => {
    const history = s.prevMonthDailyMean === undefined ? p.x[0] : 0.5 * p.x[2] + 0.5 * p.x[11];
    return volatility(s) * (history - p.x[0]);
  },
  // the same volatility times the median's distance from the mean: a skewed, volatile meter's typical day
  'volatility-x-median': () => (s, p) => volatility(s) * (p.x[4] - p.x[0]),
  // a bound, not a feature: the fleet's true remaining-days rate over its observed rate in the scored month itself
  'oracle-fleet': (split) => {
    const r = driftTable(
      split,
      (m) => m,
      () => true,
    );
    return (s, p) => p.x[0] * (r(s.month, s.daily.length) - 1);
  },
};

export interface Scores {
  model: number[];
  ratio: number[];
}

/**
 * The fit's ridge: the base columns' λ toward their prior, and the added column's own λ toward 0
 * (`newLambda`, by default the same λ). The penalty is λ·diag(weighted Gram)/n (lad.ts): with IRLS weights
 * 1/|residual| it grows as the fit improves, so at λ = 100 a new column is held near 0 even when it is good.
 */
export interface Ridge {
  lambda: number;
  newLambda?: number;
}

function run(split: Split, train: Complete[], test: Complete[], idea: Idea, ridge: Ridge): Scores {
  const { lambda } = ridge;
  const scale = [...new Array(D).fill(1), (ridge.newLambda ?? lambda) / lambda];
  const extra = idea(split);
  const ctx = { holidays: split.data.holidays };
  const fits = new Map<number, number[]>();
  for (const k of KS) {
    const set = new ExampleSet(D + 1);
    for (const c of train) {
      const s = stateAt(c.series, c.month, k, ctx);
      const p = prepare(s);
      if (!p || p.unobservedDays <= 0 || !(c.actual > 0)) continue;
      const perShare = p.unobservedDays / c.actual;
      set.push(
        [...p.x, extra(s, p)].map((v) => v * perShare),
        (c.actual - p.observedSum) / c.actual,
      );
    }
    const prior = [...priorCoef(k), 0];
    fits.set(k, set.fitLad(prior, lambda, prior, IRLS_ITERATIONS, scale).beta);
  }
  const out: Scores = { model: [], ratio: [] };
  for (const k of KS) {
    const beta = fits.get(k)!;
    let model = 0;
    let rr = 0;
    let bl = 0;
    let n = 0;
    for (const c of test) {
      if (!(c.actual > 0)) continue;
      const s = stateAt(c.series, c.month, k, ctx);
      const p = prepare(s);
      let predicted: number;
      if (!p) predicted = blend(s);
      else if (p.unobservedDays <= 0) predicted = p.observedSum;
      else {
        const z = [...p.x, extra(s, p)];
        let rate = 0;
        for (let j = 0; j < z.length; j++) rate += beta[j] * z[j];
        predicted = totalFrom(p, rate);
      }
      const ape = (v: number) => (Math.abs(v - c.actual) / c.actual) * 100;
      model += ape(predicted);
      rr += ape(runRate(s));
      bl += ape(blend(s));
      n++;
    }
    out.model.push(model / n);
    out.ratio.push(model / Math.min(rr, bl));
  }
  return out;
}

/** The dataset without its months from `month` on. */
export function before(d: DailyDataset, month: string): DailyDataset {
  const meters = new Map(
    [...d.meters].map(([id, s]) => [id, { ...s, months: new Map([...s.months].filter(([m]) => m < month)) }]),
  );
  return { ...d, meters };
}

/** Both protocols on `d`, the second scoring the months from `from`. */
export function protocols(
  d: DailyDataset,
  from: string,
  idea: Idea,
  ridge: number | Ridge = DEFAULT_LAMBDA,
): { unseen: Scores; later: Scores } {
  const r: Ridge = typeof ridge === 'number' ? { lambda: ridge } : ridge;
  const all = completeMonths(d);
  const held = heldOutHouseholds(d);
  const unseen = run(
    { data: d, trains: (m) => !held.has(m), visible: (m) => !held.has(m) },
    all.filter((c) => !held.has(c.series.meterId)),
    all.filter((c) => held.has(c.series.meterId)),
    idea,
    r,
  );
  const later = run(
    { data: d, trains: (_m, month) => month < from, visible: () => true },
    all.filter((c) => c.month < from),
    all.filter((c) => c.month >= from),
    idea,
    r,
  );
  return { unseen, later };
}

async function main() {
  const args = process.argv.slice(2);
  const flagValue = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const file =
    args.find(
      (a, i) =>
        !a.startsWith('--') && !['--cutoff', '--only', '--new-lambdas', '--lambda'].includes(args[i - 1]),
    ) ?? '../shared/data/meters/london/daily_500_households.csv.gz';
  const data = await readDailyFile(file);
  await attachLondonMetadata(data, file);
  const cutoff = flagValue('--cutoff') ?? addMonths(completeMonths(data).at(-1)!.month, -11);
  const fmt = (s: Scores) =>
    `MAPE ${s.model.map((v) => v.toFixed(2)).join(' / ')}  ratio ${s.ratio.map((v) => v.toFixed(3)).join(' / ')}`;
  const only = flagValue('--only')?.split(',');
  // the added column's own λ: each is scored on the window; the one with the lowest mean ratio over both
  // window protocols and every k is the idea's choice, and only it is scored on the whole file
  const newLambdas = (flagValue('--new-lambdas') ?? String(DEFAULT_LAMBDA)).split(',').map(Number);
  const baseLambda = Number(flagValue('--lambda') ?? DEFAULT_LAMBDA);
  const meanRatio = (w: { unseen: Scores; later: Scores }) =>
    [...w.unseen.ratio, ...w.later.ratio].reduce((a, b) => a + b, 0) / (2 * KS.length);
  const window = before(data, cutoff);
  const validateFrom = addMonths(cutoff, -VALIDATION_MONTHS);
  console.log(
    `training window: months before ${cutoff}; households never seen inside it, and ${validateFrom} … ${addMonths(cutoff, -1)} after the months before; k = ${KS.join(', ')}`,
  );
  for (const [name, idea] of Object.entries(IDEAS)) {
    if (only && !only.includes(name)) continue;
    let best: { ridge: Ridge; score: number } | undefined;
    for (const newLambda of name === 'none' ? [baseLambda] : newLambdas) {
      const ridge = { lambda: baseLambda, newLambda };
      const w = protocols(window, validateFrom, idea, ridge);
      const score = meanRatio(w);
      if (!best || score < best.score) best = { ridge, score };
      console.log(
        `${name.padEnd(20)} λ ${baseLambda}, new ${newLambda}  window  never seen: ${fmt(w.unseen)} | last six months: ${fmt(w.later)}`,
      );
    }
    if (args.includes('--scored') && best) {
      console.log(`${''.padEnd(20)} chosen on the window: new column λ ${best.ridge.newLambda}`);
      const f = protocols(data, cutoff, idea, best.ridge);
      console.log(`${''.padEnd(20)} scored  never seen: ${fmt(f.unseen)} | after ${cutoff}: ${fmt(f.later)}`);
    }
  }
}

if (import.meta.main) await main();
