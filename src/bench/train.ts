// Benchmark: training the consumption model on DuckDB (in process) and on Spark side by side — the same
// SQL training set and IRLS aggregations (models/consumption/engine-train.ts) — on the 500 London
// households' gold daily and on generated gold daily tables of N meters × 3 years (a ladder of sizes,
// gen-lake.ts, cached by size). Per lake and engine: the time, where it goes (scan, training-set build,
// IRLS steps, scoring), the ratio, and whether the two models are equal (the trainer tests' checks).
// Each engine's run at one size is bounded (--minutes); an engine that ran out of time or failed (out
// of memory, unreachable) is recorded with why and not tried at the larger sizes (ladder.ts).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine, type QueryEngine } from '../engine/index.ts';
import { type EngineTrainResult, trainOnEngine } from '../models/consumption/engine-train.ts';
import { generatedGoldLake } from './gen-lake.ts';
import { runStopped } from './ladder.ts';
import { enginePids, prepareEngines, withPeakRss } from './memory.ts';
import { buildBenchLake } from './serve.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (s: number) => Math.round(s * 100) / 100;

/** How long a bench waits for Spark Connect to answer: a loaded machine's Spark takes more than the CLI's 6 s. */
export const CONNECT_TIMEOUT_MS = 60_000;

/** The generated sizes (meters × 3 years) run by default: up to 100,000 meters ≈ 110 M daily rows. */
export const DEFAULT_LADDER = [1_000, 10_000, 30_000, 100_000];

export interface TrainBenchOptions {
  short?: boolean;
  json?: boolean;
  keep?: boolean;
  /** duckdb, spark or spark://HOST:PORT, or several comma-separated (default: duckdb and spark) */
  engine?: string;
  /** meters of the generated lakes, one lake per size (default DEFAULT_LADDER; --short 200) */
  sizes?: number[];
  /** the bound on one engine's run at one size, minutes (default 30) */
  minutes?: number;
  /** only the generated lakes, not the 500 London households (--generated-only) */
  generatedOnly?: boolean;
  /** MB for the two engines together, split between them (bench/memory.ts; default half of what is available) */
  memoryMb?: number;
}

export interface EngineRun {
  engine: string;
  /** open, train and close; for a run that ran out of time, the bound */
  seconds: number;
  timedOut?: boolean;
  /** the run failed (its error's first line): the engine is not tried at larger sizes */
  failed?: string;
  skipped?: string;
  scanSeconds?: number;
  buildSeconds?: number;
  irlsSeconds?: number;
  irlsSteps?: number;
  scoreSeconds?: number;
  examples?: number;
  /** the parts of the meters the training set was built in (DuckDB; 1: whole) */
  parts?: number;
  /** the largest RSS sampled during the run (once a second), MiB: this process (DuckDB's) and Spark's executor and driver */
  peakRssMiB?: Record<string, number>;
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
    parts: r.parts,
  };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/**
 * The trainer tests' equality of two models (test/models/engine-train.test.ts): the same examples per
 * k, coefficients within 1e-6 relative, in-sample errors within 1e-9.
 */
export function compareModels(a: EngineTrainResult, b: EngineTrainResult) {
  let coef = 0;
  let examplesEqual = true;
  a.model.fits.forEach((f, k) => {
    if (f.n !== b.model.fits[k].n) examplesEqual = false;
    f.coef.forEach((c, j) => {
      coef = Math.max(coef, rel(c, b.model.fits[k].coef[j]));
    });
  });
  type InSample = { inSample: { k: unknown; model: Record<string, number> }[] };
  const ra = (a.metrics as InSample).inSample;
  const rb = (b.metrics as InSample).inSample;
  let metrics = 0;
  ra.forEach((r, i) => {
    if (r.k !== rb[i].k || r.model.n !== rb[i].model.n) examplesEqual = false;
    for (const m of ['mape', 'mdape', 'wape']) metrics = Math.max(metrics, rel(r.model[m], rb[i].model[m]));
  });
  return {
    equal: examplesEqual && coef < 1e-6 && metrics < 1e-9,
    examplesEqual,
    maxCoefficientDifference: coef,
    maxInSampleErrorDifference: metrics,
  };
}

async function benchLake(
  name: string,
  url: string,
  engines: string[],
  rows: number,
  minutes: number,
  skip: Map<string, string>,
  pids: () => Record<string, number[]>,
): Promise<Record<string, unknown>> {
  const runs: EngineRun[] = [];
  const results = new Map<string, EngineTrainResult>();
  for (const e of engines) {
    const skipped = skip.get(e);
    if (skipped) {
      runs.push({ engine: e, seconds: 0, skipped });
      continue;
    }
    log(`${name}: training on ${e} …`);
    const started = performance.now();
    const signal = AbortSignal.timeout(minutes * 60_000);
    const { value: run, peakMiB } = await withPeakRss(pids, async (): Promise<EngineRun> => {
      let engine: QueryEngine | undefined;
      try {
        engine = await openEngine(e, url, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
        const r = await trainOnEngine(engine, { log: (l) => log(`  ${l}`), signal });
        results.set(e, r);
        const done = runOf(e, r, (performance.now() - started) / 1000);
        log(`  ${e}: ${done.seconds} s`);
        return done;
      } catch (err) {
        const stopped = runStopped(err, signal, { engine: e, rung: name, minutes }, skip, log);
        const seconds = stopped.timedOut ? minutes * 60 : round((performance.now() - started) / 1000);
        return { engine: e, seconds, ...stopped };
      } finally {
        await engine?.close().catch(() => {});
      }
    });
    run.peakRssMiB = peakMiB;
    log(`  peak RSS (MiB): ${JSON.stringify(run.peakRssMiB)}`);
    runs.push(run);
  }
  const out: Record<string, unknown> = { lake: name, dailyRows: rows, runs };
  const duck = runs.find((r) => r.engine === 'duckdb');
  const spark = runs.find((r) => r.engine !== 'duckdb');
  if (duck && spark && results.has(duck.engine) && results.has(spark.engine)) {
    out.sparkOverDuckdb = round(spark.seconds / duck.seconds);
    out.models = compareModels(results.get(spark.engine)!, results.get(duck.engine)!);
  }
  return out;
}

export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<object> {
  const { engines, memory, clusterDir, done } = await prepareEngines(opts.engine, opts.memoryMb, log);
  const pids = await enginePids(clusterDir);
  const sizes = opts.sizes ?? (opts.short ? [200] : DEFAULT_LADDER);
  const minutes = opts.minutes ?? 30;
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-train-'));
  const skip = new Map<string, string>();
  const lakes: Record<string, unknown>[] = [];
  try {
    if (!opts.generatedOnly) {
      const london = `file:${join(dir, 'london')}`;
      log('building gold daily of the 500 London households …');
      const l = await buildBenchLake(london, log);
      lakes.push(await benchLake('london-500', london, engines, l.rows, minutes, skip, pids));
    }
    for (const meters of sizes) {
      log(`gold daily of ${meters.toLocaleString('en-US')} meters × 36 months …`);
      const g = await generatedGoldLake(meters, { log });
      try {
        const r = await benchLake(`generated-${meters}x3y`, g.url, engines, g.rows, minutes, skip, pids);
        lakes.push({ ...r, generated: { seconds: round(g.seconds), cached: g.cached } });
      } finally {
        await g.release(opts.keep, log);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await done();
  }
  const report = {
    scenario: 'train',
    engines,
    memory,
    minutesPerRun: minutes,
    note: 'seconds = open the engine, train, close; scan = extent and closed months; build = the training set built once and cached (Spark: CACHE TABLE; DuckDB: a temporary table, filled in `parts` of the meters); irls = the 12 weighted aggregations; score = in-sample errors; peakRssMiB = the largest RSS sampled once a second during the run (the bench process holds DuckDB). memory: the budget and what each engine had. models: the trainer tests’ equality checks',
    lakes,
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  return report;
}
