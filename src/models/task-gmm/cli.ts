// `lakestream train --model task-gmm`: fit the task GMM on the lake (or trace files) and register it.

import { lakeUrl } from '../../config/settings.ts';
import { LakestreamError } from '../../errors.ts';
import { Lake } from '../../lake/index.ts';
import { registerModel } from '../registry.ts';
import type { CovarianceType } from './em.ts';
import { type Feature, OPTIONAL_FEATURES, TASK_GMM_MODEL_NAME } from './model.ts';
import { trainingSetFromFiles, trainingSetFromLake, trainTaskGmmModel } from './train.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Ctx {
  values: Record<string, unknown>;
  positionals: string[];
}

/** Parses "--k 4" or "--k 2-8". */
export function parseKRange(v: string | undefined): { kMin: number; kMax: number } {
  if (v === undefined) return { kMin: 2, kMax: 8 };
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  const kMin = m ? Number(m[1]) : Number.NaN;
  const kMax = m?.[2] ? Number(m[2]) : kMin;
  if (!m || kMin < 1 || kMax < kMin || kMax > 50)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--k must be a number of classes or a range like 2-8 (1…50), got "${v}"`,
    );
  return { kMin, kMax };
}

/** --seed, --starts and --features, as both trainers (own EM and Spark) take them. */
export function parseStartOptions(v: Record<string, unknown>): {
  seed: number;
  starts: number | undefined;
  extra: Feature[];
} {
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed))
    throw new LakestreamError('BAD_ARGUMENT', `--seed must be a whole number, got "${v.seed}"`);
  const starts = v.starts === undefined ? undefined : Number(v.starts);
  if (starts !== undefined && !(Number.isInteger(starts) && starts >= 1 && starts <= 50))
    throw new LakestreamError('BAD_ARGUMENT', `--starts must be a whole number 1…50, got "${v.starts}"`);
  const extra = String(v.features ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as Feature[];
  for (const f of extra)
    if (!(OPTIONAL_FEATURES as readonly string[]).includes(f))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--features takes ${OPTIONAL_FEATURES.join(', ')} (the three requests are always used), got "${f}"`,
      );
  return { seed, starts, extra };
}

export async function trainTaskGmm(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  const files = [...(v.data ? [String(v.data)] : []), ...ctx.positionals];
  const covariance = String(v.covariance ?? 'full') as CovarianceType;
  if (covariance !== 'full' && covariance !== 'diag')
    throw new LakestreamError('BAD_ARGUMENT', `--covariance must be full or diag, got "${covariance}"`);
  const { seed, starts, extra } = parseStartOptions(v);
  const lake = await Lake.open(lakeUrl(v.lake as string | undefined));
  try {
    const started = Date.now();
    const set = files.length > 0 ? await trainingSetFromFiles(files, log) : await trainingSetFromLake(lake);
    log(`training on ${set.tasks.length.toLocaleString()} SUBMIT events from ${set.source}`);
    const { model, metrics } = trainTaskGmmModel(set, {
      ...parseKRange(v.k as string | undefined),
      covariance,
      seed,
      starts,
      extraFeatures: extra,
      log,
    });
    const version = await registerModel(lake.store, TASK_GMM_MODEL_NAME, model, metrics);
    log(`BIC by k: ${model.bicByK.map((b) => `${b.k}:${b.bic.toFixed(0)}`).join('  ')}`);
    log(
      `trained in ${((Date.now() - started) / 1000).toFixed(1)} s: k = ${model.gmm.k} (lowest BIC ${model.bic.toFixed(0)})`,
    );
    for (const c of model.classes)
      log(
        `  class ${c.class}: weight ${(c.weight * 100).toFixed(1)} %, typical cpu ${c.typical.cpu.toPrecision(3)} mem ${c.typical.memory.toPrecision(3)} disk ${c.typical.disk.toPrecision(3)} → ${c.placement_hint}`,
      );
    console.log(
      `registered ${TASK_GMM_MODEL_NAME} v${version} in ${lake.url}/models/${TASK_GMM_MODEL_NAME}/v${version}`,
    );
  } finally {
    await lake.close();
  }
  return 0;
}
