import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fitByBic,
  fitGmm,
  GmmScorer,
  mulberry32,
  type Points,
  parameterCount,
  splitComponent,
  totalWeight,
} from './em.ts';

/** Points drawn around planted centres (Box-Muller normals), with each point's true component. */
function planted(
  centres: number[][],
  sd: number[],
  perCluster: number,
  seed: number,
): { p: Points; truth: Int32Array } {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const d = centres[0].length;
  const n = centres.length * perCluster;
  const x = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centres.length;
    truth[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c][j] + sd[c] * normal();
  }
  return { p: { x, n, d }, truth };
}

const CENTRES = [
  [0, 0, 0],
  [6, 0, 1],
  [0, 7, -2],
];

describe('task GMM by EM', () => {
  it('recovers three planted clusters: BIC picks k = 3 and the means land on the centres', () => {
    const { p, truth } = planted(CENTRES, [1, 0.5, 1.5], 1500, 7);
    const { best, byK } = fitByBic(p, { kMin: 1, kMax: 6, seed: 42 });
    assert.equal(best.params.k, 3, `BIC by k: ${JSON.stringify(byK.map((b) => [b.k, Math.round(b.bic)]))}`);
    const sorted = [...CENTRES].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    best.params.means.forEach((m, c) => {
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(m[j] - sorted[c][j]) < 0.15, `mean ${c}: ${m}`);
    });
    for (const w of best.params.weights) assert.ok(Math.abs(w - 1 / 3) < 0.02);
    // nearly every point is classified into its planted cluster
    const scorer = new GmmScorer(best.params);
    const map = CENTRES.map((c) => sorted.indexOf(c));
    let right = 0;
    for (let i = 0; i < p.n; i++)
      if (scorer.classify(p.x.subarray(i * 3, i * 3 + 3)).cls === map[truth[i]]) right++;
    assert.ok(right / p.n > 0.99, `accuracy ${right / p.n}`);
  });

  it('gives the same model for the same seed, with full and with diagonal covariances', () => {
    const { p } = planted(CENTRES, [1, 1, 1], 400, 3);
    for (const covariance of ['full', 'diag'] as const) {
      const a = fitGmm(p, { k: 4, seed: 9, covariance });
      const b = fitGmm(p, { k: 4, seed: 9, covariance });
      assert.deepEqual(a, b);
    }
  });

  it('never lets the log-likelihood decrease across EM iterations', () => {
    const { p } = planted(CENTRES, [1.2, 2, 0.7], 600, 11);
    for (const covariance of ['full', 'diag'] as const)
      for (const k of [2, 3, 5]) {
        const r = fitGmm(p, { k, seed: 5, covariance, tol: 0, maxIter: 60 });
        assert.ok(r.llHistory.length > 5);
        for (let i = 1; i < r.llHistory.length; i++)
          assert.ok(
            r.llHistory[i] >= r.llHistory[i - 1] - 1e-9 * Math.abs(r.llHistory[i - 1]),
            `${covariance} k=${k}: LL fell at iteration ${i}: ${r.llHistory[i - 1]} → ${r.llHistory[i]}`,
          );
      }
  });

  it('diagonal covariances have zeros off the diagonal and fewer parameters in the BIC', () => {
    const { p } = planted(CENTRES, [1, 1, 1], 300, 4);
    const diag = fitGmm(p, { k: 3, seed: 1, covariance: 'diag' });
    for (const m of diag.params.covariances) assert.deepEqual([m[0][1], m[0][2], m[1][2]], [0, 0, 0]);
    // 2 weights + 9 means + 9 variances, against 2 + 9 + 18 for full covariances
    assert.equal(parameterCount(3, 3, 'diag'), 20);
    assert.equal(parameterCount(3, 3, 'full'), 29);
    assert.equal(diag.bic, -2 * diag.logLikelihood + 20 * Math.log(p.n));
  });

  it('keeps the best likelihood of several starts per k, and the likelihood never falls as k grows', () => {
    // five clusters of unequal spread: single starts land in different optima
    const centres = [
      [0, 0, 0],
      [4, 0, 0],
      [0, 4, 0],
      [4, 4, 3],
      [8, 1, -2],
    ];
    const { p } = planted(centres, [1, 0.4, 1.3, 0.6, 2], 400, 3);
    const { byK } = fitByBic(p, { kMin: 1, kMax: 8, seed: 1, starts: 3 });
    assert.deepEqual(
      byK.map((b) => b.k),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    for (const b of byK) assert.ok(b.logLikelihood >= Math.max(...b.starts), `k=${b.k}`);
    for (let i = 1; i < byK.length; i++)
      assert.ok(
        byK[i].logLikelihood >= byK[i - 1].logLikelihood - 1e-9 * Math.abs(byK[i - 1].logLikelihood),
        `LL fell from k=${byK[i - 1].k} to k=${byK[i].k}: ${byK.map((b) => b.logLikelihood.toFixed(1)).join(', ')}`,
      );
  });

  it('a component halved into two identical ones keeps the mixture and its likelihood', () => {
    const { p } = planted(CENTRES, [1, 0.5, 1.5], 300, 2);
    const r = fitGmm(p, { k: 3, seed: 1 });
    const split = splitComponent(r.params, 1, 0);
    assert.equal(split.k, 4);
    const ll = new GmmScorer(split).logLikelihood(p);
    assert.ok(
      Math.abs(ll - r.logLikelihood) < 1e-9 * Math.abs(r.logLikelihood),
      `${ll} vs ${r.logLikelihood}`,
    );
  });
  it('weighted distinct points fit exactly as the data they stand for, repeats written out', () => {
    // repeated values, as task requests are: 60 distinct points, each repeated 1…9 times
    const { p: base } = planted(CENTRES, [1, 0.5, 1.5], 20, 5);
    const rand = mulberry32(17);
    const w = Float64Array.from({ length: base.n }, () => 1 + Math.floor(rand() * 9));
    const weighted: Points = { ...base, w };
    const total = totalWeight(weighted);
    const x = new Float64Array(total * 3);
    let m = 0;
    for (let i = 0; i < base.n; i++)
      for (let r = 0; r < w[i]; r++) x.set(base.x.subarray(i * 3, i * 3 + 3), 3 * m++);
    const expanded: Points = { x, n: total, d: 3 };
    assert.equal(m, total);
    // from the same start, every EM iteration gives the same likelihood and the end the same parameters
    const init = fitGmm(base, { k: 3, seed: 2, maxIter: 1 }).params;
    const a = fitGmm(weighted, { k: 3, init, tol: 0, maxIter: 40 });
    const b = fitGmm(expanded, { k: 3, init, tol: 0, maxIter: 40 });
    assert.equal(a.llHistory.length, b.llHistory.length);
    for (const [i, ll] of a.llHistory.entries())
      assert.ok(
        Math.abs(ll - b.llHistory[i]) < 1e-9 * Math.abs(ll),
        `iteration ${i}: ${ll} vs ${b.llHistory[i]}`,
      );
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(a.params.weights[c] - b.params.weights[c]) < 1e-9);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(a.params.means[c][j] - b.params.means[c][j]) < 1e-9);
    }
    // BIC counts the observations, not the distinct points
    assert.ok(Math.abs(a.bic - b.bic) < 1e-9 * Math.abs(b.bic));
    assert.equal(a.bic, -2 * a.logLikelihood + parameterCount(3, 3, 'full') * Math.log(total));
    // k-means++ draws its starts by weight, so starts differ from the expanded data's (other draws),
    // but k = 1 has one optimum: the same BIC
    const one = [weighted, expanded].map((q) => fitByBic(q, { kMin: 1, kMax: 1 }).byK[0].bic);
    assert.ok(Math.abs(one[0] - one[1]) < 1e-9 * Math.abs(one[1]), `${one}`);
  });
});
