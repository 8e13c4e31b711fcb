// Benchmark: training the consumption model on DuckDB (in process) and on Spark side by side — the same
// SQL training set and IRLS aggregations (models/consumption/engine-train.ts) — on the 500 London
// households' gold daily and on a generated gold daily of N meters × 3 years; each engine's time, where
// it goes (scan, training-set build, IRLS steps, scoring) and the ratio. Both models are checked equal.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
import { type EngineTrainResult, trainOnEngine } from '../models/consumption/engine-train.ts';
import { buildBenchLake } from './serve.ts';
import { generateTrainLake } from './train-lake.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (s: number) => Math.round(s * 100) / 100;

export interface TrainBenchOptions {
  short?: boolean;
  /** duckdb, spark or spark://HOST:PORT: that engine only (default: duckdb and spark side by side) */
  engine?: string;
  /** meters of the generated lake (default 100,000; --short 200) */
  meters?: number;
}

interface EngineRun {
  engine: string;
  seconds: number;
  scanSeconds: number;
  buildSeconds: number;
  irlsSeconds: number;
  irlsSteps: number;
  scoreSeconds: number;
  examples: number;
}

function runOf(engine: string, r: EngineTrainResult, seconds: number): EngineRun {
  return {
    engine,
    seconds: round(seconds),
    scanSeconds: round(r.timing.scanSeconds),
    buildSeconds: round(r.timing.buildSeconds),
    irlsSeconds: round(r.timing.irlsSeconds.reduce((a, b) => a + b, 0)),
    irlsSteps: r.timing.irlsSeconds.length,
    scoreSeconds: round(r.timing.scoreSeconds),
    examples: r.examples,
  };
}

/** The largest relative difference between two models' coefficients. */
function coefDifference(a: EngineTrainResult, b: EngineTrainResult): number {
  let worst = 0;
  a.model.fits.forEach((f, k) => {
    f.coef.forEach((c, j) => {
      const o = b.model.fits[k].coef[j];
      worst = Math.max(worst, Math.abs(c - o) / Math.max(Math.abs(o), 1e-12));
    });
  });
  return worst;
}

async function benchLake(name: string, url: string, engines: string[], rows: number): Promise<object> {
  const runs: EngineRun[] = [];
  const results: EngineTrainResult[] = [];
  for (const e of engines) {
    log(`${name}: training on ${e} …`);
    const started = performance.now();
    const engine = await openEngine(e, url);
    try {
      const r = await trainOnEngine(engine, { log });
      results.push(r);
      runs.push(runOf(e, r, (performance.now() - started) / 1000));
    } finally {
      await engine.close();
    }
  }
  const out: Record<string, unknown> = { lake: name, dailyRows: rows, runs };
  if (runs.length === 2) {
    out.sparkOverDuckdb = round(runs[1].seconds / runs[0].seconds);
    out.maxCoefficientDifference = coefDifference(results[1], results[0]);
  }
  return out;
}

export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<object> {
  const engines = opts.engine === undefined ? ['duckdb', 'spark'] : [opts.engine];
  const meters = opts.meters ?? (opts.short ? 200 : 100_000);
  if (!Number.isInteger(meters) || meters < 2)
    throw new LakestreamError('BAD_ARGUMENT', `--meters must be a whole number ≥ 2, got ${meters}`);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-train-'));
  try {
    const london = `file:${join(dir, 'london')}`;
    log('building gold daily of the 500 London households …');
    const l = await buildBenchLake(london, log);
    const generated = `file:${join(dir, 'generated')}`;
    log(`generating gold daily of ${meters.toLocaleString('en-US')} meters × 36 months …`);
    const g = await generateTrainLake(generated, { meters, months: 36 });
    return {
      scenario: 'train',
      engines,
      lakes: [
        await benchLake('london-500', london, engines, l.rows),
        await benchLake(`generated-${meters}`, generated, engines, g.dailyRows),
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
