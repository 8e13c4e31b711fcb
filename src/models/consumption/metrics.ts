// Error measures of month-total forecasts, in percent (12.3 means 12.3 %).

export interface ErrorSummary {
  /** mean absolute percentage error */
  mape: number;
  /** median absolute percentage error */
  mdape: number;
  /** weighted APE: Σ|predicted − actual| / Σ actual */
  wape: number;
  /** number of (meter, month) pairs scored */
  n: number;
}

/** Accumulates (predicted, actual) pairs; pairs whose actual is not positive have no percentage error and are skipped. */
export class ErrorAccumulator {
  private readonly apes: number[] = [];
  private absSum = 0;
  private actualSum = 0;

  add(predicted: number, actual: number): void {
    if (!(actual > 0) || !Number.isFinite(predicted)) return;
    const abs = Math.abs(predicted - actual);
    this.apes.push((abs / actual) * 100);
    this.absSum += abs;
    this.actualSum += actual;
  }

  get count(): number {
    return this.apes.length;
  }

  summary(): ErrorSummary {
    const n = this.apes.length;
    if (n === 0) return { mape: Number.NaN, mdape: Number.NaN, wape: Number.NaN, n };
    const sorted = this.apes.slice().sort((a, b) => a - b);
    const mid = n >> 1;
    const mdape = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    let sum = 0;
    for (const a of this.apes) sum += a;
    return { mape: sum / n, mdape, wape: (this.absSum / this.actualSum) * 100, n };
  }
}
