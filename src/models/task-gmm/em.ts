// A Gaussian Mixture Model fitted by expectation-maximisation: full or diagonal covariances,
// log-sum-exp responsibilities, several seeded k-means++ starts per k, k chosen by BIC. No I/O, deterministic.

import { LakestreamError } from '../../errors.ts';
import { mulberry32 } from '../random.ts';

export { mulberry32 };

export type CovarianceType = 'full' | 'diag';

export interface GmmParams {
  k: number;
  d: number;
  covariance: CovarianceType;
  weights: number[];
  means: number[][];
  /** d×d matrices (zeros off the diagonal for 'diag') */
  covariances: number[][][];
}

export interface FitOptions {
  k: number;
  covariance?: CovarianceType;
  seed?: number;
  maxIter?: number;
  /** stop when the mean log-likelihood per point improves by less than this */
  tol?: number;
  /** added to every variance so no component collapses onto one point */
  regCovar?: number;
  /** start EM from these parameters instead of a k-means++ start (their k must be opts.k) */
  init?: GmmParams;
}

export interface FitResult {
  params: GmmParams;
  logLikelihood: number;
  /** total log-likelihood after each EM iteration: never decreases (EM's guarantee) */
  llHistory: number[];
  iterations: number;
  converged: boolean;
  bic: number;
}

/**
 * Points as one row-major array: point i is x[i*d .. i*d+d). With `w`, point i stands for w[i]
 * identical observations (a distinct value and its multiplicity): every sum — likelihood, M-step,
 * k-means++ — counts it w[i] times, so the fit is the one of the expanded data, on fewer points.
 */
export interface Points {
  x: Float64Array;
  n: number;
  d: number;
  w?: Float64Array;
}

/** The number of observations the points stand for: n, or the sum of the multiplicities. */
export function totalWeight(p: Points): number {
  if (!p.w) return p.n;
  let s = 0;
  for (let i = 0; i < p.n; i++) s += p.w[i];
  return s;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** Number of free parameters: k-1 weights, k·d means, and k covariances. */
export function parameterCount(k: number, d: number, covariance: CovarianceType): number {
  return k - 1 + k * d + k * (covariance === 'full' ? (d * (d + 1)) / 2 : d);
}

/** Bayesian information criterion: -2·LL + p·ln(n); lower is better. */
export function bicOf(ll: number, n: number, k: number, d: number, covariance: CovarianceType): number {
  return -2 * ll + parameterCount(k, d, covariance) * Math.log(n);
}

/** Squared Euclidean distance from point i of x to centre c (both rows of width d). */
function squaredDistance(x: Float64Array, i: number, centres: Float64Array, c: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = x[i * d + j] - centres[c * d + j];
    s += t * t;
  }
  return s;
}

/** The centre nearest to point i (the first of equals). */
function nearestCentre(x: Float64Array, i: number, centres: Float64Array, k: number, d: number): number {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const s = squaredDistance(x, i, centres, c, d);
    if (s < bestD) {
      bestD = s;
      best = c;
    }
  }
  return best;
}

/** Seeded k-means++ centres (first uniform, then each with probability ∝ squared distance), refined by Lloyd steps. */
export function kmeansPlusPlus(p: Points, k: number, rand: () => number, lloydSteps = 10): Float64Array {
  const { x, n, d, w } = p;
  const centres = new Float64Array(k * d);
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = Math.min(n - 1, Math.floor(rand() * n));
  if (w) {
    // the first centre uniform over the observations: point i with probability w[i] / Σw
    let r = rand() * totalWeight(p);
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= w[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) centres[c * d + j] = x[pick * d + j];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = squaredDistance(x, i, centres, c, d);
      if (s < dist[i]) dist[i] = s;
      total += w ? w[i] * dist[i] : dist[i];
    }
    if (c + 1 === k) break;
    let r = rand() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= w ? w[i] * dist[i] : dist[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  const label = new Int32Array(n);
  for (let step = 0; step < lloydSteps; step++) {
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const best = nearestCentre(x, i, centres, k, d);
      label[i] = best;
      const wi = w ? w[i] : 1;
      counts[best] += wi;
      for (let j = 0; j < d; j++) sums[best * d + j] += wi * x[i * d + j];
    }
    for (let c = 0; c < k; c++)
      if (counts[c] > 0) for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j] / counts[c];
  }
  return centres;
}

/** Lower Cholesky factor of a d×d SPD matrix (row-major), or undefined if it is not positive definite. */
function cholesky(a: Float64Array, d: number): Float64Array | undefined {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let m = 0; m < j; m++) s -= l[i * d + m] * l[j * d + m];
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j];
    }
  return l;
}

/** What the E-step needs of one component: log weight, Cholesky factor, log-determinant. */
interface Prepared {
  logW: number;
  mean: Float64Array;
  chol: Float64Array;
  logDet: number;
}

function prepare(params: GmmParams, regCovar = 0): Prepared[] {
  const { d } = params;
  return params.means.map((m, c) => {
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) a[i * d + j] = params.covariances[c][i][j] + (i === j ? regCovar : 0);
    const chol = cholesky(a, d);
    if (!chol)
      throw new LakestreamError('BAD_INPUT', `GMM component ${c}: covariance is not positive definite`);
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(chol[i * d + i]);
    return { logW: Math.log(Math.max(params.weights[c], 1e-300)), mean: Float64Array.from(m), chol, logDet };
  });
}

/** log(w_c) + log N(x | μ_c, Σ_c) for every component, into `out`. */
function logJoint(
  comps: Prepared[],
  x: Float64Array,
  off: number,
  d: number,
  out: Float64Array,
  y: Float64Array,
) {
  for (let c = 0; c < comps.length; c++) {
    const { chol, mean } = comps[c];
    let maha = 0;
    // forward substitution L·y = x - μ
    for (let i = 0; i < d; i++) {
      let s = x[off + i] - mean[i];
      for (let m = 0; m < i; m++) s -= chol[i * d + m] * y[m];
      y[i] = s / chol[i * d + i];
      maha += y[i] * y[i];
    }
    out[c] = comps[c].logW - 0.5 * (d * LOG_2PI + comps[c].logDet + maha);
  }
}

/** Total log-likelihood and (optionally) responsibilities r[i*k + c], by log-sum-exp. */
function eStep(p: Points, comps: Prepared[], resp?: Float64Array): number {
  const { x, n, d } = p;
  const k = comps.length;
  const lp = new Float64Array(k);
  const y = new Float64Array(d);
  let ll = 0;
  for (let i = 0; i < n; i++) {
    logJoint(comps, x, i * d, d, lp, y);
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) if (lp[c] > max) max = lp[c];
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(lp[c] - max);
    const logS = max + Math.log(s);
    ll += p.w ? p.w[i] * logS : logS;
    if (resp) for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(lp[c] - logS);
  }
  return ll;
}

function mStep(
  p: Points,
  resp: Float64Array,
  k: number,
  covariance: CovarianceType,
  regCovar: number,
): GmmParams {
  const { x, n, d, w } = p;
  const nk = new Float64Array(k);
  const sums = new Float64Array(k * d);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k; c++) {
      const r = w ? w[i] * resp[i * k + c] : resp[i * k + c];
      nk[c] += r;
      for (let j = 0; j < d; j++) sums[c * d + j] += r * x[i * d + j];
    }
  const means: number[][] = [];
  for (let c = 0; c < k; c++) {
    nk[c] = Math.max(nk[c], 1e-10); // an emptied component keeps a finite mean
    means.push(Array.from({ length: d }, (_, j) => sums[c * d + j] / nk[c]));
  }
  const cov = new Float64Array(k * d * d);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k; c++) {
      const r = w ? w[i] * resp[i * k + c] : resp[i * k + c];
      if (r === 0) continue;
      for (let j = 0; j < d; j++) diff[j] = x[i * d + j] - means[c][j];
      const base = c * d * d;
      if (covariance === 'diag') for (let j = 0; j < d; j++) cov[base + j * d + j] += r * diff[j] * diff[j];
      else
        for (let a = 0; a < d; a++)
          for (let b = 0; b <= a; b++) cov[base + a * d + b] += r * diff[a] * diff[b];
    }
  const covariances: number[][][] = [];
  for (let c = 0; c < k; c++) {
    const m: number[][] = [];
    for (let a = 0; a < d; a++) {
      const row: number[] = [];
      for (let b = 0; b < d; b++) {
        const v = a >= b ? cov[c * d * d + a * d + b] : cov[c * d * d + b * d + a];
        row.push(v / nk[c] + (a === b ? regCovar : 0));
      }
      m.push(row);
    }
    covariances.push(m);
  }
  const total = w ? totalWeight(p) : n;
  return { k, d, covariance, weights: Array.from(nk, (v) => v / total), means, covariances };
}

/** Fits a k-component GMM by EM from a seeded k-means++ start. */
export function fitGmm(p: Points, opts: FitOptions): FitResult {
  const { n, d } = p;
  const k = opts.k;
  const covariance = opts.covariance ?? 'full';
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-6;
  const regCovar = opts.regCovar ?? 1e-6;
  if (!Number.isInteger(k) || k < 1)
    throw new LakestreamError('BAD_ARGUMENT', `GMM: k must be ≥ 1, got ${k}`);
  if (n < k) throw new LakestreamError('BAD_INPUT', `GMM: ${n} points cannot be split into ${k} components`);
  const total = totalWeight(p);
  const resp = new Float64Array(n * k);
  let params = opts.init ? opts.init : startFromKmeans(p, k, opts.seed ?? 1, resp, covariance, regCovar);
  const llHistory: number[] = [];
  let converged = false;
  let iterations = 0;
  for (; iterations < maxIter; ) {
    const ll = eStep(p, prepare(params), resp);
    llHistory.push(ll);
    iterations++;
    if (llHistory.length > 1 && Math.abs(ll - llHistory[llHistory.length - 2]) < tol * total) {
      converged = true;
      break;
    }
    params = mStep(p, resp, k, covariance, regCovar);
  }
  // params are the ones llHistory's last value was computed with
  const logLikelihood = llHistory[llHistory.length - 1];
  return {
    params: sortComponents(params),
    logLikelihood,
    llHistory,
    iterations,
    converged,
    bic: bicOf(logLikelihood, total, k, d, covariance),
  };
}

/** A seeded k-means++ start: hard assignment to the nearest centre, then an M-step. */
function startFromKmeans(
  p: Points,
  k: number,
  seed: number,
  resp: Float64Array,
  covariance: CovarianceType,
  regCovar: number,
): GmmParams {
  const { n, d } = p;
  const centres = kmeansPlusPlus(p, k, mulberry32(seed));
  for (let i = 0; i < n; i++) resp[i * k + nearestCentre(p.x, i, centres, k, d)] = 1;
  return mStep(p, resp, k, covariance, regCovar);
}

/** Components in a stable order (by mean, first feature first), so class numbers mean the same across runs. */
function sortComponents(g: GmmParams): GmmParams {
  const order = g.means.map((_, c) => c);
  order.sort((a, b) => {
    for (let j = 0; j < g.d; j++) if (g.means[a][j] !== g.means[b][j]) return g.means[a][j] - g.means[b][j];
    return a - b;
  });
  return {
    ...g,
    weights: order.map((c) => g.weights[c]),
    means: order.map((c) => g.means[c]),
    covariances: order.map((c) => g.covariances[c]),
  };
}

export interface BicChoice {
  best: FitResult;
  /** the BIC curve: per k, the best of its starts */
  byK: { k: number; bic: number; logLikelihood: number; iterations: number; starts: number[] }[];
}

/** The heaviest component (weight × total variance), the one a new component is split from. */
function heaviest(g: GmmParams): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < g.k; c++) {
    let tr = 0;
    for (let j = 0; j < g.d; j++) tr += g.covariances[c][j][j];
    if (g.weights[c] * tr > bestV) {
      bestV = g.weights[c] * tr;
      best = c;
    }
  }
  return best;
}

/**
 * k+1 components from a k-component solution: component c split in two of half its weight. With
 * `shift` 0 the two halves are the same Gaussian, so the mixture's density — and its likelihood — is
 * exactly the k solution's; with shift > 0 their means move ± shift sd along c's widest axis.
 */
export function splitComponent(g: GmmParams, c: number, shift: number): GmmParams {
  let axis = 0;
  for (let j = 1; j < g.d; j++) if (g.covariances[c][j][j] > g.covariances[c][axis][axis]) axis = j;
  const sd = Math.sqrt(g.covariances[c][axis][axis]);
  const moved = (sign: number) => g.means[c].map((m, j) => (j === axis ? m + sign * shift * sd : m));
  return {
    ...g,
    k: g.k + 1,
    weights: [...g.weights.map((w, i) => (i === c ? w / 2 : w)), g.weights[c] / 2],
    means: [...g.means.map((m, i) => (i === c ? moved(-1) : m.slice())), moved(1)],
    covariances: [
      ...g.covariances.map((m) => m.map((r) => r.slice())),
      g.covariances[c].map((r) => r.slice()),
    ],
  };
}

/**
 * Fits every k in [kMin, kMax] and keeps the lowest BIC. Each k keeps the best log-likelihood of
 * `starts` k-means++ starts (seeds seed, seed+1, …) and, from k−1's best, a split of its heaviest
 * component; and never less than k−1's likelihood: k−1's best with one component halved into two
 * identical ones is a k-component mixture of that very likelihood, kept if no start beats it. So the
 * likelihood never falls as k grows, and BIC compares each k at its best.
 */
export function fitByBic(
  p: Points,
  opts: Omit<FitOptions, 'k' | 'init'> & {
    kMin: number;
    kMax: number;
    starts?: number;
    onFit?: (k: number, r: FitResult) => void;
  },
): BicChoice {
  let best: FitResult | undefined;
  let prev: FitResult | undefined;
  const byK: BicChoice['byK'] = [];
  const starts = opts.starts ?? 4;
  const seed = opts.seed ?? 1;
  const covariance = opts.covariance ?? 'full';
  for (let k = opts.kMin; k <= opts.kMax; k++) {
    if (k > p.n) break;
    const fits: FitResult[] = [];
    for (let s = 0; s < starts; s++) fits.push(fitGmm(p, { ...opts, k, seed: seed + s }));
    if (prev && prev.params.k === k - 1) {
      const c = heaviest(prev.params);
      fits.push(fitGmm(p, { ...opts, k, init: splitComponent(prev.params, c, 0.5) }));
    }
    let r = fits.reduce((a, b) => (b.logLikelihood > a.logLikelihood ? b : a));
    if (prev && prev.params.k === k - 1 && r.logLikelihood < prev.logLikelihood) {
      const same = splitComponent(prev.params, heaviest(prev.params), 0);
      const ll = new GmmScorer(same).logLikelihood(p);
      r = {
        params: sortComponents(same),
        logLikelihood: ll,
        llHistory: [ll],
        iterations: 0,
        converged: true,
        bic: bicOf(ll, totalWeight(p), k, p.d, covariance),
      };
    }
    opts.onFit?.(k, r);
    byK.push({
      k,
      bic: r.bic,
      logLikelihood: r.logLikelihood,
      iterations: r.iterations,
      starts: fits.map((f) => f.logLikelihood),
    });
    if (!best || r.bic < best.bic) best = r;
    prev = r;
  }
  if (!best) throw new LakestreamError('BAD_INPUT', `GMM: no points to fit`);
  return { best, byK };
}

/** A fitted model ready to classify points one at a time. */
export class GmmScorer {
  private readonly comps: Prepared[];
  private readonly lp: Float64Array;
  private readonly y: Float64Array;
  readonly d: number;

  constructor(params: GmmParams) {
    this.comps = prepare(params);
    this.d = params.d;
    this.lp = new Float64Array(params.k);
    this.y = new Float64Array(params.d);
  }

  /** The most probable component and its posterior probability. */
  classify(x: Float64Array): { cls: number; probability: number } {
    logJoint(this.comps, x, 0, this.d, this.lp, this.y);
    let best = 0;
    for (let c = 1; c < this.lp.length; c++) if (this.lp[c] > this.lp[best]) best = c;
    let s = 0;
    for (let c = 0; c < this.lp.length; c++) s += Math.exp(this.lp[c] - this.lp[best]);
    return { cls: best, probability: 1 / s };
  }

  /** Total log-likelihood of points under the model. */
  logLikelihood(p: Points): number {
    return eStep(p, this.comps);
  }
}
