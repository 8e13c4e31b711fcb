// Training the consumption model on a query engine (Spark, or DuckDB for the same SQL): the training set
// is sql-features.ts's query over the lake's tables, and each IRLS step is ONE aggregation on the engine
// (per k: Σ w·z·zᵀ, Σ w·z·t, the count) from which Node solves the 12×12 systems (lad.ts). No step brings
// the rows into Node: what comes back is a few rows per k. The algorithm is model.ts's TrainingSet.fit
// (the same prior, ridge, weight floor and iteration count), so the model equals the embedded trainer's.

import { FLEET_ID } from '../../domain/meters/tables.ts';
import type { QueryEngine } from '../../engine/index.ts';
import { openEngine } from '../../engine/index.ts';
import { LakestreamError } from '../../errors.ts';
import { duckMemoryLimitBytes, type Lake, partsWithin } from '../../lake/index.ts';
import { registerModel } from '../registry.ts';
import { FEATURE_NAMES } from './features.ts';
import { solveTowardPrior, type WeightedStats } from './lad.ts';
import { CONSUMPTION_MODEL_NAME } from './lifecycle.ts';
import type { ErrorSummary } from './metrics.ts';
import {
  type ConsumptionModelJson,
  DEFAULT_LAMBDA,
  IRLS_ITERATIONS,
  type KFit,
  MAX_K,
  MODEL_KIND,
  priorCoef,
} from './model.ts';
import { betaValuesSql, residualSql, trainingSetCtes } from './sql-features.ts';
import type { TrainResult } from './train.ts';

const D = FEATURE_NAMES.length;
/** the session view the cached training examples are read from */
const EXAMPLES_VIEW = 'lakestream_training_examples';

/**
 * An engine that can keep a query's rows as a view (SparkEngine.cacheView, DuckDbEngine.cacheView);
 * DuckDB's takes the rows as several queries, parts of the meters.
 */
interface CachingEngine {
  cacheView(name: string, sql: string | readonly string[], opts?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * DuckDB keeps the training set's windows (`cum`, over the features' own) in memory: training on
 * 100,000 meters × 3 years (104 M days) with the set built whole ran out of an 8 GB memory_limit, on
 * 30,000 (31 M) it fit; in 7 parts the 100,000 took 644 s and 9.8 GB of RSS (`bench train`). So
 * DuckDB builds it in parts of the meters, one after another, each of at most DAYS_PER_GIB days of gold
 * daily per GiB of its memory_limit; every example is one meter's, so the parts together are the set.
 * Spark spills, and builds it whole.
 */
export const DAYS_PER_GIB = 2_000_000;

/** The parts for a gold daily of `days` days at a memory_limit of `limitBytes`. */
export function trainingParts(days: number, limitBytes: number): number {
  return partsWithin(days, DAYS_PER_GIB, limitBytes);
}
/** lad.ts's ladWeight floor on |residual| */
const WEIGHT_FLOOR = '1e-3';
/** the as-of days the in-sample errors are reported at (evaluate.ts's EVAL_KS; 'last' = days in month − 1) */
const REPORTED_KS = [3, 7, 14, 21] as const;

export interface EngineTrainOptions {
  lambda?: number;
  /** DuckDB: build the training set in this many parts of the meters (default: trainingParts) */
  parts?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Seconds spent per phase: what `bench train` reports. */
export interface EngineTrainTiming {
  /** the lake's extent and the closed meter-months (one pass over gold daily) */
  scanSeconds: number;
  /** building and caching the training set (Spark and DuckDB cache it; 0 on an engine that does not) */
  buildSeconds: number;
  /** the IRLS steps: each builds the training set and aggregates it on the engine */
  irlsSeconds: number[];
  /** the in-sample errors of the fitted model (one more pass) */
  scoreSeconds: number;
}

export interface EngineTrainResult extends TrainResult {
  model: ConsumptionModelJson;
  timing: EngineTrainTiming;
  /** training examples (meter-month × as-of day) */
  examples: number;
  /** the parts of the meters the training set was built in (1: whole) */
  parts: number;
}

const num = (v: unknown) => (v === null || v === undefined ? Number.NaN : Number(v));
const since = (t: number) => (performance.now() - t) / 1000;

/** The gram and zt sums of one aggregation row, as lad.ts's WeightedStats. */
function statsOf(row: Record<string, unknown>): WeightedStats {
  const gram = new Array(D * D).fill(0);
  const zt = new Array(D).fill(0);
  for (let i = 0; i < D; i++) {
    zt[i] = num(row[`zt${i}`]);
    for (let j = i; j < D; j++) {
      const g = num(row[`g${i}_${j}`]);
      gram[i * D + j] = g;
      gram[j * D + i] = g;
    }
  }
  return { dim: D, gram, zt, n: num(row.n) };
}

/** The weighted normal equations per k under the given coefficients: one aggregation. */
function irlsStepSql(withExamples: string, betas: readonly (readonly number[])[]): string {
  const sums: string[] = [];
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) sums.push(`sum(w * z${i} * z${j}) AS g${i}_${j}`);
    sums.push(`sum(w * z${i} * t) AS zt${i}`);
  }
  return `${withExamples}
beta AS (${betaValuesSql(betas)}),
weighted AS (
  SELECT examples.*, 1e0 / greatest(abs(${residualSql()}), ${WEIGHT_FLOOR}) AS w
  FROM examples JOIN beta ON beta.k = examples.k
)
SELECT k, count(*) AS n, ${sums.join(', ')} FROM weighted GROUP BY k`;
}

/** The fitted model's month-total errors per reported as-of day (evaluate.ts's model column), on the engine. */
function scoreSql(withExamples: string, betas: readonly (readonly number[])[]): string {
  const rate = Array.from({ length: D }, (_, i) => `x${i} * b${i}`).join(' + ');
  return `${withExamples}
beta AS (${betaValuesSql(betas)}),
scored AS (
  SELECT CASE WHEN examples.k = dim - 1 THEN 'last' ELSE CAST(examples.k AS STRING) END AS at_k, actual,
         abs(observed + rest * greatest(0e0, ${rate}) - actual) AS abs_error
  FROM examples JOIN beta ON beta.k = examples.k
  WHERE examples.k IN (${REPORTED_KS.join(', ')}) OR examples.k = dim - 1
)
SELECT at_k, count(*) AS n, avg(abs_error / actual * 100e0) AS mape, median(abs_error / actual * 100e0) AS mdape,
       sum(abs_error) / sum(actual) * 100e0 AS wape
FROM scored GROUP BY at_k`;
}

/**
 * Fits the consumption model on the engine's view of the lake and scores it in sample. Throws NOT_FOUND
 * when the lake has no gold daily table, BAD_INPUT when it holds no closed month.
 */
export async function trainOnEngine(
  engine: QueryEngine,
  opts: EngineTrainOptions = {},
): Promise<EngineTrainResult> {
  const log = opts.log ?? (() => {});
  const lambda = opts.lambda ?? DEFAULT_LAMBDA;
  const q = (sql: string) => engine.query(sql, { signal: opts.signal, maxRows: 1000 });
  const started = performance.now();
  const tables = new Set((await engine.tables()).map((t) => t.path));
  if (!tables.has('meters/gold/daily'))
    throw new LakestreamError(
      'NOT_FOUND',
      `${engine.lake}: no meters/gold/daily table yet — stream some readings first`,
    );
  const extent = (
    await q(
      `SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS days FROM meters_gold_daily WHERE complete AND meter_id <> '${FLEET_ID}'`,
    )
  ).rows[0];
  const source = `${engine.lake} meters/gold/daily`;
  if (extent?.first_day == null)
    throw new LakestreamError(
      'BAD_INPUT',
      `${source}: no complete month to train on (a month with every day complete)`,
    );
  const setOptions = {
    firstMonth: String(extent.first_day).slice(0, 7),
    lastMonth: String(extent.last_day).slice(0, 7),
    silver: tables.has('meters/silver/readings'),
    maxK: MAX_K,
    engine: engine.name,
  };
  const ctes = trainingSetCtes(setOptions);
  // `closed` is `mm`'s complete months (its joins add columns, not rows): counted without its windows
  const summary = (
    await q(`WITH ${ctes}
SELECT (SELECT count(DISTINCT meter_id) FROM days) AS meters, count(*) AS meter_months,
       min(month) AS first_month, max(month) AS last_month FROM mm WHERE n_days = dim`)
  ).rows[0];
  const parts =
    engine.name === 'duckdb'
      ? (opts.parts ?? trainingParts(num(extent.days), await duckMemoryLimitBytes()))
      : 1;
  const scanSeconds = since(started);
  const meterMonths = num(summary.meter_months);
  if (meterMonths === 0)
    throw new LakestreamError(
      'BAD_INPUT',
      `${source}: no complete month to train on (a month with every day complete)`,
    );
  log(
    `training on ${meterMonths} complete meter-months of ${num(summary.meters)} meters on ${engine.name} (${engine.address})`,
  );

  // an engine that can keep the examples in memory computes them once; else each step recomputes them
  let withExamples = `WITH ${ctes},`;
  let buildSeconds = 0;
  const caching = engine as QueryEngine & Partial<CachingEngine>;
  if (caching.cacheView) {
    const t0 = performance.now();
    // only the columns the steps and the scoring read (irlsStepSql, scoreSql)
    const x = Array.from({ length: D }, (_, i) => `x${i}, z${i}`).join(', ');
    const select = (c: string) => `WITH ${c}\nSELECT k, dim, observed, rest, actual, t, ${x} FROM examples`;
    await caching.cacheView(
      EXAMPLES_VIEW,
      parts === 1
        ? select(ctes)
        : Array.from({ length: parts }, (_, index) =>
            select(trainingSetCtes({ ...setOptions, part: { index, of: parts } })),
          ),
      { signal: opts.signal },
    );
    withExamples = `WITH examples AS (SELECT * FROM ${EXAMPLES_VIEW}),`;
    buildSeconds = since(t0);
    log(
      `  training set built and cached on ${engine.name}${parts > 1 ? ` in ${parts} parts of the meters` : ''}: ${buildSeconds.toFixed(1)} s`,
    );
  }

  const priors = Array.from({ length: MAX_K }, (_, i) => priorCoef(i + 1));
  let betas = priors.map((p) => p.slice());
  let stats: (WeightedStats | undefined)[] = [];
  const irlsSeconds: number[] = [];
  for (let it = 0; it < IRLS_ITERATIONS; it++) {
    const t0 = performance.now();
    const rows = (await q(irlsStepSql(withExamples, betas))).rows;
    stats = new Array(MAX_K).fill(undefined);
    for (const r of rows) stats[num(r.k) - 1] = statsOf(r);
    // a k with no example keeps its prior (TrainingSet.fit)
    betas = betas.map((b, i) => (stats[i] ? solveTowardPrior(stats[i]!, priors[i], lambda) : b));
    irlsSeconds.push(since(t0));
    log(`  IRLS step ${it + 1}/${IRLS_ITERATIONS}: ${irlsSeconds[it].toFixed(1)} s`);
  }
  const fits: KFit[] = betas.map((coef, i) => ({ coef, n: stats[i]?.n ?? 0 }));
  const model: ConsumptionModelJson = {
    kind: MODEL_KIND,
    features: [...FEATURE_NAMES],
    lambda,
    trainedOn: {
      firstMonth: String(summary.first_month),
      lastMonth: String(summary.last_month),
      meterMonths,
    },
    fits,
    stats: stats.map((s) => s ?? { dim: D, gram: new Array(D * D).fill(0), zt: new Array(D).fill(0), n: 0 }),
  };
  const t1 = performance.now();
  const scored = new Map((await q(scoreSql(withExamples, betas))).rows.map((r) => [String(r.at_k), r]));
  const scoreSeconds = since(t1);
  const summaryOf = (r: Record<string, unknown> | undefined): ErrorSummary =>
    r
      ? { mape: num(r.mape), mdape: num(r.mdape), wape: num(r.wape), n: num(r.n) }
      : { mape: Number.NaN, mdape: Number.NaN, wape: Number.NaN, n: 0 };
  const inSample = [...REPORTED_KS, 'last' as const].map((k) => ({
    k,
    model: summaryOf(scored.get(String(k))),
  }));
  const trainSeconds = since(started);
  return {
    model,
    examples: fits.reduce((a, f) => a + f.n, 0),
    parts,
    timing: { scanSeconds, buildSeconds, irlsSeconds, scoreSeconds },
    metrics: {
      data: source,
      engine: `${engine.name} ${engine.address}`,
      meters: num(summary.meters),
      meterMonths,
      trainedOn: model.trainedOn,
      trainSeconds,
      inSample,
      createdAt: new Date().toISOString(),
    },
  };
}

/**
 * Opens the engine over the lake (a Spark server that does not answer fails here, UNAVAILABLE, before
 * anything is read or written), trains on it and registers the model as the next version.
 */
export async function trainAndRegisterOnEngine(
  engineValue: string,
  lake: Lake,
  opts: EngineTrainOptions & {
    /** the lake URL as given, when it says more than lake.url (a webhdfs lake's ?rpc=) */
    lakeUrl?: string;
  } = {},
): Promise<{ version: number; result: EngineTrainResult }> {
  const engine = await openEngine(engineValue, opts.lakeUrl ?? lake.url);
  try {
    const result = await trainOnEngine(engine, opts);
    const version = await registerModel(lake.store, CONSUMPTION_MODEL_NAME, result.model, result.metrics);
    return { version, result };
  } finally {
    await engine.close().catch(() => {});
  }
}
