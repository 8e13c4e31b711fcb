// Bootstrap intervals of a MAPE and of a difference of MAPEs, resampling households: the months of one
// household are not independent, so the household is the unit drawn. Seeded: the same data give the same interval.

import { mulberry32 } from '../random.ts';

/** Per household: the sum of each method's APEs (%) over its scored months, and how many months. */
export interface HouseholdSums {
  model: number;
  other: number;
  n: number;
}

function percentile(sorted: number[], p: number): number {
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * 95 % percentile intervals of the model's MAPE and of (model MAPE − other MAPE), from `draws`
 * resamples of the households with replacement.
 */
export function bootstrapMape(
  households: readonly HouseholdSums[],
  draws = 1000,
  seed = 1,
): { model: [number, number]; diff: [number, number] } {
  if (households.length === 0) return { model: [Number.NaN, Number.NaN], diff: [Number.NaN, Number.NaN] };
  const next = mulberry32(seed);
  const models: number[] = [];
  const diffs: number[] = [];
  const H = households.length;
  for (let b = 0; b < draws; b++) {
    let m = 0;
    let o = 0;
    let n = 0;
    for (let i = 0; i < H; i++) {
      const h = households[Math.floor(next() * H)];
      m += h.model;
      o += h.other;
      n += h.n;
    }
    if (n === 0) continue;
    models.push(m / n);
    diffs.push((m - o) / n);
  }
  models.sort((a, b) => a - b);
  diffs.sort((a, b) => a - b);
  return {
    model: [percentile(models, 0.025), percentile(models, 0.975)],
    diff: [percentile(diffs, 0.025), percentile(diffs, 0.975)],
  };
}
