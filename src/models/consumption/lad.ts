// Least absolute deviations by iteratively reweighted least squares, with a ridge pull toward prior
// coefficients. Fitting |zβ − t| in "share of the month" units minimises the mean absolute percentage error.

export interface WeightedStats {
  dim: number;
  /** Σ w·z·zᵀ, row-major dim² */
  gram: number[];
  /** Σ w·z·t */
  zt: number[];
  /** number of examples */
  n: number;
}

export function emptyWeightedStats(dim: number): WeightedStats {
  return { dim, gram: new Array(dim * dim).fill(0), zt: new Array(dim).fill(0), n: 0 };
}

/** Adds one example with weight w. */
export function addWeighted(s: WeightedStats, z: ArrayLike<number>, t: number, w: number): void {
  const d = s.dim;
  for (let i = 0; i < d; i++) {
    const wz = w * z[i];
    if (wz === 0) continue;
    const row = i * d;
    for (let j = 0; j < d; j++) s.gram[row + j] += wz * z[j];
    s.zt[i] += wz * t;
  }
  s.n++;
}

/** The IRLS weight of an example under coefficients β: 1/|residual|, floored so exact fits do not dominate. */
export function ladWeight(z: ArrayLike<number>, t: number, beta: readonly number[], floor = 1e-3): number {
  let r = -t;
  for (let i = 0; i < beta.length; i++) r += z[i] * beta[i];
  return 1 / Math.max(Math.abs(r), floor);
}

/**
 * Solves (G + Λ)β = b + Λβ₀ with Λ = λ·diag(G)/n: a ridge in units of examples that pulls toward the
 * prior β₀ — with no examples, β = β₀.
 */
export function solveTowardPrior(
  s: WeightedStats,
  prior: readonly number[],
  lambda: number,
  penaltyScale?: readonly number[],
): number[] {
  const d = s.dim;
  if (s.n === 0) return prior.slice();
  const A: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < d; i++) {
    const gii = s.gram[i * d + i];
    const l = lambda * (penaltyScale?.[i] ?? 1);
    const pen = gii > 0 ? (l * gii) / s.n : l;
    const row: number[] = [];
    for (let j = 0; j < d; j++) row.push(s.gram[i * d + j] + (i === j ? pen : 0));
    A.push(row);
    b.push(s.zt[i] + pen * prior[i]);
  }
  return solveLinear(A, b);
}

/** Gaussian elimination with partial pivoting (systems of ~10 unknowns). */
export function solveLinear(A: number[][], b: number[]): number[] {
  const m = b.length;
  const M = A.map((r, i) => [...r, b[i]]);
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    const pv = M[col][col];
    if (Math.abs(pv) < 1e-300) continue;
    for (let r = col + 1; r < m; r++) {
      const f = M[r][col] / pv;
      if (f === 0) continue;
      for (let k = col; k <= m; k++) M[r][k] -= f * M[col][k];
    }
  }
  const x = new Array(m).fill(0);
  for (let r = m - 1; r >= 0; r--) {
    if (Math.abs(M[r][r]) < 1e-300) continue;
    let s = M[r][m];
    for (let k = r + 1; k < m; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/** Rows (z, t) kept for fitting by IRLS. */
export class ExampleSet {
  readonly dim: number;
  private z: Float64Array;
  private t: Float64Array;
  length = 0;

  constructor(dim: number) {
    this.dim = dim;
    this.z = new Float64Array(dim * 256);
    this.t = new Float64Array(256);
  }

  push(z: ArrayLike<number>, t: number): void {
    if (this.length === this.t.length) {
      const z2 = new Float64Array(this.z.length * 2);
      z2.set(this.z);
      this.z = z2;
      const t2 = new Float64Array(this.t.length * 2);
      t2.set(this.t);
      this.t = t2;
    }
    const at = this.length * this.dim;
    for (let i = 0; i < this.dim; i++) this.z[at + i] = z[i];
    this.t[this.length++] = t;
  }

  /** IRLS: `iterations` weighted least-squares solves from `start`; returns β and the last weighted stats. */
  fitLad(
    prior: readonly number[],
    lambda: number,
    start: readonly number[],
    iterations: number,
    penaltyScale?: readonly number[],
  ): { beta: number[]; stats: WeightedStats } {
    let beta = start.slice();
    let stats = emptyWeightedStats(this.dim);
    for (let it = 0; it < iterations; it++) {
      stats = emptyWeightedStats(this.dim);
      for (let r = 0; r < this.length; r++) {
        const z = this.z.subarray(r * this.dim, (r + 1) * this.dim);
        addWeighted(stats, z, this.t[r], ladWeight(z, this.t[r], beta));
      }
      beta = solveTowardPrior(stats, prior, lambda, penaltyScale);
    }
    return { beta, stats };
  }
}
