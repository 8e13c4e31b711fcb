// Training the task GMM on Spark: MLlib's GaussianMixture fitted through Spark Connect's ML commands over
// the SUBMITs in the lake's bronze task_events, with the own EM's features (log1p requests, standardised),
// k by BIC over a range with several seeds per k; the best model saved with Spark's ML writer.
//
// Spark's GaussianMixture has no covariance floor, and task requests take few distinct values, so a
// component can collapse onto one value (its variance → 0, its likelihood → ∞). The own EM adds
// regCovar to every variance; Spark gets the same floor from the data: each feature gets a deterministic
// N(0, regCovar) jitter (a Gaussian convolved with N(0, rI) has covariance Σ + rI), seeded by the task.

import { TASK_EVENT } from '../../domain/cluster-trace/schema.ts';
import { TRACE_LAKE_TABLES } from '../../domain/cluster-trace/tables.ts';
import {
  call,
  col,
  type DataFrame,
  type MlModelRef,
  mlDelete,
  mlFetch,
  mlFetchFrame,
  mlFit,
  mlWrite,
  type SparkConnectClient,
  sparkLakeRoot,
} from '../../engine/spark/index.ts';
import { LakestreamError } from '../../errors.ts';
import type { Lake } from '../../lake/index.ts';
import { bicOf, fitByBic, type GmmParams, parameterCount } from './em.ts';
import {
  type CapacityTier,
  type Feature,
  placementHint,
  REQUEST_FEATURES,
  REQUEST_UNIT,
  requestOf,
  type TaskGmmModel,
} from './model.ts';

export const SPARK_GMM_ESTIMATOR = 'org.apache.spark.ml.clustering.GaussianMixture';
export const SPARK_GMM_MODEL_CLASS = 'org.apache.spark.ml.clustering.GaussianMixtureModel';
/** The folder of a version that holds Spark's saved model (Spark's ML writer: metadata/, data/). */
export const SPARK_MODEL_DIR = 'spark-model';
/** The own EM's variance floor (train.ts), given to Spark as the jitter's variance. */
export const REG_COVAR = 1e-3;

export interface SparkTrainOptions {
  kMin?: number;
  kMax?: number;
  /** seeds per k (seed, seed+1, …): the best log-likelihood of each k stands for it */
  seeds?: number;
  /** the first seed (default 1) */
  seed?: number;
  extraFeatures?: Feature[];
  maxIter?: number;
  /** Spark's tol: on the change of the total log-likelihood, as the own EM's 1e-6 per point */
  tolPerTask?: number;
  /** fits running at once on the server after the first (default 2) */
  parallel?: number;
  log?: (line: string) => void;
}

export interface SparkFit {
  k: number;
  seed: number;
  logLikelihood: number;
  iterations: number;
  ref: MlModelRef;
}

export interface SparkTrainResult {
  model: TaskGmmModel & { engine: 'spark'; sparkModel: string; jitterVariance: number };
  metrics: object;
  /** the chosen Spark model, still on the server: saveSparkModel writes it */
  best: SparkFit;
  /** every fit's log-likelihood, by k and seed */
  fits: Omit<SparkFit, 'ref'>[];
  /** the training dataset (jittered, standardised features as a vector column `features`) */
  dataset: DataFrame;
}

const q = (s: string) => `\`${s.replaceAll('`', '``')}\``;

/** The SQL of one raw feature (the own EM's rawFeature): log1p(request / unit), or the value. */
function rawSql(f: Feature): string {
  return (REQUEST_FEATURES as readonly string[]).includes(f)
    ? `ln(1 + greatest(CAST(${f} AS DOUBLE), 0) / ${REQUEST_UNIT})`
    : `CAST(${f} AS DOUBLE)`;
}

/** A standard normal drawn from the task's identity (Box-Muller over two hashes): the same every run. */
function gaussSql(j: number): string {
  const u = (salt: string) =>
    `((pmod(xxhash64(job_id, task_index, time, ${j}, '${salt}'), 2147483647) + 0.5) / 2147483647.0)`;
  return `(sqrt(-2 * ln(${u('a')})) * cos(2 * pi() * ${u('b')}))`;
}

/** Fits GaussianMixture for every k and seed on Spark and keeps the lowest BIC; nothing is written. */
export async function trainTaskGmmOnSpark(
  lake: Lake,
  spark: SparkConnectClient,
  opts: SparkTrainOptions = {},
): Promise<SparkTrainResult> {
  const log = opts.log ?? (() => {});
  const te = TRACE_LAKE_TABLES.taskEvents.path;
  if (!(await lake.table(te).exists()))
    throw new LakestreamError(
      'NOT_FOUND',
      `no ${te} table in ${lake.url}: replay the trace first (produce --source google-2011, stream --workload cluster-trace)`,
    );
  const root = sparkLakeRoot(lake.url);
  const source = `delta.${q(`${root}/${te}`)}`;
  const features: Feature[] = [...REQUEST_FEATURES, ...(opts.extraFeatures ?? [])];
  const d = features.length;
  const present = features.map((f) => `${f} IS NOT NULL`).join(' AND ');
  const where = `event_type = ${TASK_EVENT.SUBMIT} AND ${present}`;

  const stats = (
    await spark.sql(
      `SELECT count_if(event_type = ${TASK_EVENT.SUBMIT}) AS submits, count_if(${where}) AS usable,
       ${features.map((f, j) => `avg(CASE WHEN ${where} THEN ${rawSql(f)} END) AS c${j}, stddev_pop(CASE WHEN ${where} THEN ${rawSql(f)} END) AS s${j}`).join(', ')}
       FROM ${source}`,
    )
  ).toArray()[0] as Record<string, unknown>;
  const submits = Number(stats.submits);
  const n = Number(stats.usable);
  const kMin = opts.kMin ?? 2;
  let kMax = opts.kMax ?? 8;
  // a fit needs more tasks than free parameters
  const fewest = Math.max(10, parameterCount(kMin, d, 'full') + 1);
  if (n < fewest)
    throw new LakestreamError(
      'BAD_INPUT',
      `${submits === 0 ? 'no' : `only ${n} of ${submits}`} SUBMIT events with every feature (${features.join(', ')}) in ${lake.url}/${te}: too few to fit k=${kMin} (needs at least ${fewest})`,
    );
  while (kMax > kMin && n <= parameterCount(kMax, d, 'full')) kMax--;
  if (kMax !== (opts.kMax ?? 8))
    log(`${n} tasks: k up to ${kMax} (more classes than that have more parameters than tasks)`);
  const center = features.map((_, j) => Number(stats[`c${j}`]));
  const scale = features.map((_, j) => Number(stats[`s${j}`]) || 1);

  const cols = features.map(
    (f, j) => `(${rawSql(f)} - ${center[j]}) / ${scale[j]} + ${Math.sqrt(REG_COVAR)} * ${gaussSql(j)}`,
  );
  const dataset = spark
    .sqlFrame(`SELECT array(${cols.join(', ')}) AS f FROM ${source} WHERE ${where}`)
    .select(call('array_to_vector', col('f')).as('features'));

  const seeds = opts.seeds ?? 4;
  const seed0 = opts.seed ?? 1;
  const maxIter = opts.maxIter ?? 200;
  const tol = (opts.tolPerTask ?? 1e-6) * n;
  const jobs: { k: number; seed: number }[] = [];
  for (let k = kMin; k <= kMax; k++)
    for (let seed = seed0; seed < seed0 + seeds; seed++) jobs.push({ k, seed });
  const fits: SparkFit[] = [];
  const started = performance.now();
  const fitOne = async (job: { k: number; seed: number }) => {
    const t0 = performance.now();
    const ref = await mlFit(
      spark,
      SPARK_GMM_ESTIMATOR,
      { k: job.k, seed: BigInt(job.seed), maxIter, tol: { double: tol } },
      dataset,
    );
    const fit = {
      ...job,
      ref,
      logLikelihood: Number(await mlFetch(spark, ref, ['summary', 'logLikelihood'])),
      iterations: Number(await mlFetch(spark, ref, ['summary', 'numIter'])),
    };
    fits.push(fit);
    log(
      `  fit ${fits.length}/${jobs.length}: k ${fit.k}, seed ${fit.seed}: log-likelihood ${fit.logLikelihood.toFixed(0)} after ${fit.iterations} iterations (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  };
  try {
    // The first fit runs alone, so the server's first ML command (which loads MLlib and sets up the
    // session's ML cache) is not raced: eight first fits at once once hung a CI run for ten minutes, cause
    // not found. Then two at a time: each fit is a chain of small Spark jobs, two keep the executor's two
    // cores busy, and more only queue there.
    const queue = [...jobs];
    await fitOne(queue.shift()!);
    await Promise.all(
      Array.from({ length: Math.min(opts.parallel ?? 2, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await fitOne(job);
      }),
    );
  } catch (e) {
    await mlDelete(
      spark,
      fits.map((f) => f.ref),
    ).catch(() => {});
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  fits.sort((a, b) => a.k - b.k || a.seed - b.seed);
  const byK: TaskGmmModel['bicByK'] = [];
  let best: SparkFit | undefined;
  for (let k = kMin; k <= kMax; k++) {
    const ofK = fits.filter((f) => f.k === k);
    const top = ofK.reduce((a, b) => (b.logLikelihood > a.logLikelihood ? b : a));
    const bic = bicOf(top.logLikelihood, n, k, d, 'full');
    byK.push({ k, bic, logLikelihood: top.logLikelihood, iterations: top.iterations });
    log(
      `k=${k}: BIC ${bic.toFixed(0)}, log-likelihood ${top.logLikelihood.toFixed(0)} (seeds: ${ofK.map((f) => f.logLikelihood.toFixed(0)).join(', ')}), ${top.iterations} iterations`,
    );
    if (!best || bic < byK.find((b) => b.k === best!.k)!.bic) best = top;
  }
  if (!best) throw new LakestreamError('INTERNAL', 'no GaussianMixture fit to choose from');
  const chosen = best;
  await mlDelete(
    spark,
    fits.filter((f) => f !== chosen).map((f) => f.ref),
  ).catch(() => {});

  const gmm = await paramsOf(spark, chosen, d);
  const tiers = await tiersOnSpark(lake, spark, root);
  const back = (c: number, j: number, sds: number) =>
    requestOf((gmm.means[c][j] + sds * Math.sqrt(gmm.covariances[c][j][j])) * scale[j] + center[j]);
  const classes = gmm.means.map((_, c) => ({
    class: c,
    weight: gmm.weights[c],
    typical: { cpu: back(c, 0, 0), memory: back(c, 1, 0), disk: back(c, 2, 0) },
    placement_hint: placementHint(tiers, back(c, 0, 2), back(c, 1, 2)),
  }));
  const bic = byK.find((b) => b.k === chosen.k)!.bic;
  const model = {
    kind: 'task-gmm' as const,
    engine: 'spark' as const,
    features,
    transform: { unit: REQUEST_UNIT, center, scale },
    gmm,
    logLikelihood: chosen.logLikelihood,
    bic,
    bicByK: byK,
    seed: chosen.seed,
    trainedOn: { tasks: n, source: `${lake.url}/${te}` },
    tiers,
    classes,
    sparkModel: SPARK_MODEL_DIR,
    jitterVariance: REG_COVAR,
  };
  const metrics = {
    engine: 'spark',
    sparkVersion: spark.sparkVersion,
    k: chosen.k,
    covariance: 'full',
    bic,
    logLikelihood: chosen.logLikelihood,
    meanLogLikelihood: chosen.logLikelihood / n,
    iterations: chosen.iterations,
    seeds,
    bicByK: byK,
    fits: fits.map(({ ref: _, ...f }) => f),
    tasks: n,
    tasksUsable: n,
    tasksWithMissingFeatures: submits - n,
    trainSeconds: Math.round(seconds * 100) / 100,
  };
  return { model, metrics, best: chosen, fits: fits.map(({ ref: _, ...f }) => f), dataset };
}

/** Saves the chosen model with Spark's ML writer into the version's folder (file: or hdfs:). */
export async function saveSparkModel(
  lake: Lake,
  spark: SparkConnectClient,
  ref: MlModelRef,
  versionDir: string,
): Promise<string> {
  const path = `${sparkLakeRoot(lake.url)}/${versionDir}/${SPARK_MODEL_DIR}`;
  await mlWrite(spark, ref, path, true);
  return path;
}

/** Weights, means and covariances of a fitted Spark model, components in the own EM's order. */
async function paramsOf(spark: SparkConnectClient, fit: SparkFit, d: number): Promise<GmmParams> {
  const weights = (await mlFetch(spark, fit.ref, ['weights'])) as number[];
  const rows = (await mlFetchFrame(spark, fit.ref, ['gaussiansDF']).collect()).toArray();
  const means = rows.map((r) => [...(r.mean.values as Iterable<number>)]);
  const covariances = rows.map((r) => {
    // a DenseMatrix's values are column-major unless isTransposed
    const v = [...(r.cov.values as Iterable<number>)];
    const t = Boolean(r.cov.isTransposed);
    return Array.from({ length: d }, (_, a) =>
      Array.from({ length: d }, (_, b) => (t ? v[a * d + b] : v[b * d + a])),
    );
  });
  const order = means.map((_, c) => c);
  order.sort((a, b) => {
    for (let j = 0; j < d; j++) if (means[a][j] !== means[b][j]) return means[a][j] - means[b][j];
    return a - b;
  });
  return {
    k: fit.k,
    d,
    covariance: 'full',
    weights: order.map((c) => weights[c]),
    means: order.map((c) => means[c]),
    covariances: order.map((c) => covariances[c]),
  };
}

/** Capacity tiers from bronze machine_events, grouped on Spark (machines at their last ADD). */
async function tiersOnSpark(lake: Lake, spark: SparkConnectClient, root: string): Promise<CapacityTier[]> {
  const me = TRACE_LAKE_TABLES.machineEvents.path;
  if (!(await lake.table(me).exists())) return [];
  const t = await spark.sql(
    `SELECT cpus, memory, count(*) AS machines FROM (
       SELECT machine_id, max_by(cpus, time) AS cpus, max_by(memory, time) AS memory
       FROM delta.${q(`${root}/${me}`)} WHERE event_type = 0 AND cpus IS NOT NULL AND memory IS NOT NULL
       GROUP BY machine_id)
     GROUP BY cpus, memory ORDER BY cpus, memory`,
  );
  return t
    .toArray()
    .map((r) => ({ cpus: Number(r.cpus), memory: Number(r.memory), machines: Number(r.machines) }));
}

export interface SideBySide {
  k: { spark: number; own: number };
  /** per k: BIC and mean log-likelihood per task of the best seed, Spark's and the own EM's */
  byK: { k: number; sparkBic: number; ownBic: number; sparkMeanLl: number; ownMeanLl: number }[];
  /** |Spark − own| / |own| of the mean log-likelihood per task at Spark's chosen k */
  relativeDifference: number;
}

/**
 * The own EM (em.ts's fitByBic) on the very points Spark fitted — the jittered, standardised features,
 * collected into Node (a check for lakes that fit in memory) — with the same k range and as many starts;
 * its regCovar is the numerical minimum, the points already carrying the floor.
 */
export async function sideBySideWithOwnEm(
  r: SparkTrainResult,
  opts: { seeds?: number; seed?: number; log?: (line: string) => void } = {},
): Promise<SideBySide> {
  const t = await r.dataset.select(call('vector_to_array', col('features'), 'float64').as('f')).collect();
  const d = r.model.features.length;
  const rows = t.toArray();
  const n = rows.length;
  const x = new Float64Array(n * d);
  rows.forEach((row, i) => {
    const f = [...(row.f as Iterable<number>)];
    for (let j = 0; j < d; j++) x[i * d + j] = f[j];
  });
  const seeds = opts.seeds ?? 3;
  const ks = r.model.bicByK.map((b) => b.k);
  // the own EM as `train --model task-gmm` runs it: its starts per k, its split of k−1's heaviest component
  const own = fitByBic(
    { x, n, d },
    { kMin: Math.min(...ks), kMax: Math.max(...ks), starts: seeds, seed: opts.seed ?? 1, regCovar: 1e-6 },
  );
  const byK: SideBySide['byK'] = [];
  for (const s of r.model.bicByK) {
    const o = own.byK.find((b) => b.k === s.k)!;
    const row = {
      k: s.k,
      sparkBic: s.bic,
      ownBic: o.bic,
      sparkMeanLl: s.logLikelihood / n,
      ownMeanLl: o.logLikelihood / n,
    };
    byK.push(row);
    opts.log?.(
      `k=${s.k}: BIC Spark ${row.sparkBic.toFixed(0)} own ${row.ownBic.toFixed(0)}; mean log-likelihood per task Spark ${row.sparkMeanLl.toFixed(4)} own ${row.ownMeanLl.toFixed(4)}`,
    );
  }
  const lowest = (key: 'sparkBic' | 'ownBic') => byK.reduce((a, b) => (b[key] < a[key] ? b : a)).k;
  const at = byK.find((b) => b.k === r.model.gmm.k)!;
  return {
    k: { spark: lowest('sparkBic'), own: lowest('ownBic') },
    byK,
    relativeDifference: Math.abs(at.sparkMeanLl - at.ownMeanLl) / Math.abs(at.ownMeanLl),
  };
}
