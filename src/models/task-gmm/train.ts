// Training the task GMM: SUBMIT requests from the lake's bronze task_events (or from trace files),
// features log-scaled and standardised, k chosen by BIC, classes given placement hints from the
// machine capacity tiers (bronze machine_events, or a machine_events file).

import { parseTraceRow, TASK_EVENT } from '../../domain/cluster-trace/schema.ts';
import { TRACE_LAKE_TABLES } from '../../domain/cluster-trace/tables.ts';
import { LakestreamError } from '../../errors.ts';
import type { Lake } from '../../lake/index.ts';
import { viewNameOf } from '../../lake/index.ts';
import { lineText, openLineFiles } from '../../sources/io/lines.ts';
import { traceTableOf } from '../../sources/replay/google-trace.ts';
import { type CovarianceType, fitByBic, type Points } from './em.ts';
import {
  type CapacityTier,
  type Feature,
  featureVector,
  placementHint,
  REQUEST_FEATURES,
  REQUEST_UNIT,
  rawFeature,
  requestOf,
  type TaskGmmModel,
  type TaskRequest,
} from './model.ts';

export interface TrainOptions {
  kMin?: number;
  kMax?: number;
  covariance?: CovarianceType;
  seed?: number;
  /** k-means++ starts per k (the best likelihood is kept) */
  starts?: number;
  /** priority and/or scheduling_class besides the three requests */
  extraFeatures?: Feature[];
  /** at most this many tasks (an evenly spaced sample keeps training time bounded) */
  maxTasks?: number;
  log?: (line: string) => void;
}

export interface TrainingSet {
  tasks: TaskRequest[];
  tiers: CapacityTier[];
  source: string;
}

/** Capacity tiers: machines grouped by their (CPUs, memory) at ADD. */
export function tiersOf(machines: Map<number, { cpus: number; memory: number }>): CapacityTier[] {
  const byTier = new Map<string, CapacityTier>();
  for (const m of machines.values()) {
    const key = `${m.cpus}/${m.memory}`;
    const t = byTier.get(key) ?? { cpus: m.cpus, memory: m.memory, machines: 0 };
    t.machines++;
    byTier.set(key, t);
  }
  return [...byTier.values()].sort((a, b) => a.cpus - b.cpus || a.memory - b.memory);
}

/** Reads SUBMIT requests from task_events files and capacities from machine_events files. */
export async function trainingSetFromFiles(paths: string[], log?: (l: string) => void): Promise<TrainingSet> {
  const tasks: TaskRequest[] = [];
  const machines = new Map<number, { cpus: number; memory: number }>();
  for (const path of paths) {
    const table = traceTableOf(path);
    if (table !== 'task_events' && table !== 'machine_events')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--data takes task_events (and machine_events) files; ${path} is ${table}`,
      );
    for (const file of await openLineFiles(path)) {
      let line = 0;
      let bad = 0;
      for await (const batch of file.batches()) {
        for (const raw of batch) {
          line++;
          if (line === 1 && /with_header/.test(path)) continue;
          const text = lineText(raw);
          if (text === '') continue;
          const r = parseTraceRow(table, text);
          if (!r.ok) {
            bad++;
            continue;
          }
          const v = r.values;
          if (table === 'task_events') {
            if (v[5] !== TASK_EVENT.SUBMIT) continue;
            tasks.push({
              cpu_request: v[9] as number | null,
              memory_request: v[10] as number | null,
              disk_request: v[11] as number | null,
              priority: v[8] as number | null,
              scheduling_class: v[7] as number | null,
            });
          } else if (v[2] === 0 && v[4] !== null && v[5] !== null)
            machines.set(v[1] as number, { cpus: v[4] as number, memory: v[5] as number });
        }
      }
      log?.(`read ${file.label}: ${line.toLocaleString()} lines${bad ? `, ${bad} malformed skipped` : ''}`);
    }
  }
  return { tasks, tiers: tiersOf(machines), source: paths.join(', ') };
}

/** Reads SUBMIT requests from cluster-trace/bronze/task_events (and tiers from bronze machine_events). */
export async function trainingSetFromLake(lake: Lake): Promise<TrainingSet> {
  const te = TRACE_LAKE_TABLES.taskEvents.path;
  if (!(await lake.table(te).exists()))
    throw new LakestreamError(
      'NOT_FOUND',
      `no ${te} table in ${lake.url}: replay the trace first (produce --source google-2011, stream --workload cluster-trace), or train with --data <task_events file>`,
    );
  const r = await lake.query(
    `SELECT cpu_request, memory_request, disk_request, priority, scheduling_class
     FROM ${viewNameOf(te)} WHERE event_type = ${TASK_EVENT.SUBMIT} ORDER BY time, job_id, task_index`,
    { maxRows: 50_000_000 },
  );
  const tasks = r.rows.map((row) => ({
    cpu_request: num(row.cpu_request),
    memory_request: num(row.memory_request),
    disk_request: num(row.disk_request),
    priority: num(row.priority),
    scheduling_class: num(row.scheduling_class),
  }));
  const me = TRACE_LAKE_TABLES.machineEvents.path;
  const machines = new Map<number, { cpus: number; memory: number }>();
  if (await lake.table(me).exists()) {
    const m = await lake.query(
      `SELECT machine_id, arg_max(cpus, time) AS cpus, arg_max(memory, time) AS memory FROM ${viewNameOf(me)}
       WHERE event_type = 0 AND cpus IS NOT NULL AND memory IS NOT NULL GROUP BY machine_id`,
      { maxRows: 10_000_000 },
    );
    for (const row of m.rows)
      machines.set(Number(row.machine_id), { cpus: Number(row.cpus), memory: Number(row.memory) });
  }
  return { tasks, tiers: tiersOf(machines), source: `${lake.url}/${te}` };
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Fits the GMM on the tasks whose features are all present and describes its classes. */
export function trainTaskGmmModel(
  set: TrainingSet,
  opts: TrainOptions = {},
): { model: TaskGmmModel; metrics: object } {
  const features: Feature[] = [...REQUEST_FEATURES, ...(opts.extraFeatures ?? [])];
  const d = features.length;
  let rows = set.tasks.filter((t) => features.every((f) => t[f] !== null && t[f] !== undefined));
  const usable = rows.length;
  const maxTasks = opts.maxTasks ?? 1_000_000;
  if (rows.length > maxTasks) {
    const step = rows.length / maxTasks;
    rows = Array.from({ length: maxTasks }, (_, i) => rows[Math.floor(i * step)]);
  }
  if (rows.length < 10)
    throw new LakestreamError(
      'BAD_INPUT',
      `only ${rows.length} SUBMIT events with every feature (${features.join(', ')}) in ${set.source}: too few to train on`,
    );
  const n = rows.length;
  const center = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (const t of rows) for (let j = 0; j < d; j++) center[j] += (rawFeature(t, features[j]) as number) / n;
  for (const t of rows)
    for (let j = 0; j < d; j++) scale[j] += ((rawFeature(t, features[j]) as number) - center[j]) ** 2 / n;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]) || 1;
  const transform = { unit: REQUEST_UNIT, center, scale };
  const x = new Float64Array(n * d);
  rows.forEach((t, i) => {
    featureVector(features, transform, t, x.subarray(i * d, (i + 1) * d));
  });
  const points: Points = { x, n, d };
  const seed = opts.seed ?? 1;
  const covariance = opts.covariance ?? 'full';
  const started = performance.now();
  const { best, byK } = fitByBic(points, {
    kMin: opts.kMin ?? 2,
    kMax: opts.kMax ?? 8,
    covariance,
    seed,
    starts: opts.starts,
    // requests take few distinct values: a variance floor of 0.001 sd² keeps components off single points
    regCovar: 1e-3,
    onFit: (k, r) =>
      opts.log?.(
        `k=${k}: BIC ${r.bic.toFixed(0)}, log-likelihood ${r.logLikelihood.toFixed(0)}, ${r.iterations} iterations${r.converged ? '' : ' (not converged)'}${r.iterations === 0 ? " (no start beat k−1's likelihood: its solution with a component halved)" : ''}`,
      ),
  });
  const seconds = (performance.now() - started) / 1000;
  const g = best.params;
  const back = (c: number, j: number, sds: number) => {
    const v = g.means[c][j] + sds * Math.sqrt(g.covariances[c][j][j]);
    return requestOf(v * scale[j] + center[j]);
  };
  const classes = g.means.map((_, c) => ({
    class: c,
    weight: g.weights[c],
    typical: { cpu: back(c, 0, 0), memory: back(c, 1, 0), disk: back(c, 2, 0) },
    // a class's tasks fit where its mean + 2 sd request fits
    placement_hint: placementHint(set.tiers, back(c, 0, 2), back(c, 1, 2)),
  }));
  const model: TaskGmmModel = {
    kind: 'task-gmm',
    features,
    transform,
    gmm: g,
    logLikelihood: best.logLikelihood,
    bic: best.bic,
    bicByK: byK,
    seed,
    trainedOn: { tasks: n, source: set.source },
    tiers: set.tiers,
    classes,
  };
  const metrics = {
    k: g.k,
    covariance,
    bic: best.bic,
    logLikelihood: best.logLikelihood,
    iterations: best.iterations,
    converged: best.converged,
    /** the BIC curve: per k its BIC and log-likelihood (best of the starts, whose likelihoods are listed) */
    bicByK: byK,
    starts: opts.starts ?? 4,
    tasks: n,
    tasksUsable: usable,
    tasksWithMissingFeatures: set.tasks.length - usable,
    trainSeconds: Math.round(seconds * 100) / 100,
  };
  return { model, metrics };
}
