// `lakestream train --model task-gmm --engine spark`: fit MLlib's GaussianMixture on the lake's SUBMITs
// through Spark Connect, register model.json for the stream's classifier and Spark's own saved model.

import { lakeUrl } from '../../config/settings.ts';
import { parseEngine } from '../../engine/index.ts';
import { SparkConnectClient } from '../../engine/spark/index.ts';
import { LakestreamError } from '../../errors.ts';
import { Lake } from '../../lake/index.ts';
import { registerModel } from '../registry.ts';
import { parseKRange, parseStartOptions } from './cli.ts';
import { TASK_GMM_MODEL_NAME } from './model.ts';
import { saveSparkModel, sideBySideWithOwnEm, trainTaskGmmOnSpark } from './spark-train.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Ctx {
  values: Record<string, unknown>;
  positionals: string[];
}

export async function trainTaskGmmSpark(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  if (v.data !== undefined || ctx.positionals.length > 0)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      '--engine spark trains on the lake; --data files are for the embedded trainer',
    );
  if (v.covariance !== undefined && v.covariance !== 'full')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--engine spark fits full covariances (Spark's GaussianMixture)`,
    );
  // the own EM's options: Spark's random start from seeds seed…seed+N−1 per k
  const { seed, starts, extra } = parseStartOptions(v);
  const seeds = starts ?? 4;
  const spec = parseEngine(String(v.engine));
  const range = parseKRange(v.k as string | undefined);
  // Spark first: an unreachable server fails before the lake is even opened
  const spark = await SparkConnectClient.connect(`sc://${spec.address}`);
  try {
    const lake = await Lake.open(lakeUrl(v.lake as string | undefined));
    try {
      const started = Date.now();
      log(
        `fitting GaussianMixture on Spark ${spark.sparkVersion} at ${spark.address}, k ${range.kMin}…${range.kMax}, seeds ${seed}…${seed + seeds - 1} per k`,
      );
      const r = await trainTaskGmmOnSpark(lake, spark, { ...range, seeds, seed, extraFeatures: extra, log });
      if (v.compare) {
        log('side by side with the own EM (as many starts per k) on the same points:');
        const c = await sideBySideWithOwnEm(r, { seeds, seed, log });
        log(
          `k chosen: Spark ${c.k.spark}, own EM ${c.k.own}; mean log-likelihood per task at k=${r.model.gmm.k} differs by ${(c.relativeDifference * 100).toFixed(2)} %`,
        );
      }
      let saved = '';
      const version = await registerModel(
        lake.store,
        TASK_GMM_MODEL_NAME,
        r.model,
        r.metrics,
        async (dir) => {
          saved = await saveSparkModel(lake, spark, r.best.ref, dir);
        },
      );
      log(
        `trained on ${r.model.trainedOn.tasks.toLocaleString()} SUBMIT events in ${((Date.now() - started) / 1000).toFixed(1)} s: k = ${r.model.gmm.k} (lowest BIC ${r.model.bic.toFixed(0)}, mean log-likelihood per task ${(r.model.logLikelihood / r.model.trainedOn.tasks).toFixed(4)})`,
      );
      for (const c of r.model.classes)
        log(
          `  class ${c.class}: weight ${(c.weight * 100).toFixed(1)} %, typical cpu ${c.typical.cpu.toPrecision(3)} mem ${c.typical.memory.toPrecision(3)} disk ${c.typical.disk.toPrecision(3)} → ${c.placement_hint}`,
        );
      log(`Spark's model saved at ${saved} (GaussianMixtureModel.load reads it)`);
      console.log(
        `registered ${TASK_GMM_MODEL_NAME} v${version} in ${lake.url}/models/${TASK_GMM_MODEL_NAME}/v${version}`,
      );
    } finally {
      await lake.close();
    }
  } finally {
    await spark.close().catch(() => {});
  }
  return 0;
}
