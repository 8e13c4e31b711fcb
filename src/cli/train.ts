// `lakestream train`: fit a model on the lake (or a daily file) and register it in the lake's storage.

import { engineOption, lakeOption, lakeUrl } from '../config/settings.ts';
import { parseEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
import { dataAliasOption, defineCommand, fileOrData, jsonOption } from './command.ts';

/** {"model","version","path"} of a model's latest version, on stdout. */
async function printRegistered(name: string, lakeFlag: string | undefined): Promise<number> {
  const { openStore } = await import('../storage/index.ts');
  const { latestModelVersion } = await import('../models/registry.ts');
  const store = await openStore(lakeUrl(lakeFlag));
  try {
    const version = await latestModelVersion(store, name);
    console.log(JSON.stringify({ model: name, version, path: `${store.url}/models/${name}/v${version}` }));
    return 0;
  } finally {
    await store.close();
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The registered version on stdout: a sentence, or {"model","version","path"} with --json. */
function printVersion(name: string, version: number, lake: string, json: boolean): number {
  const path = `${lake}/models/${name}/v${version}`;
  console.log(
    json ? JSON.stringify({ model: name, version, path }) : `registered ${name} v${version} in ${path}`,
  );
  return 0;
}

const command = defineCommand({
  name: 'train',
  summary: 'train a model on the lake (or a file) and register it',
  usage:
    'train [--model consumption|task-gmm] [--engine duckdb|spark] [--file FILE] [--format london-daily|uci-daily] [--json] [--lake URL]',
  description: `
Trains the model and registers it in the lake's storage as models/<name>/v<N>/ (model.json,
metrics.json), pointing models/<name>/LATEST at the new version; a running stream worker picks it up.
consumption: the monthly consumption forecast, from meters/gold/daily (complete days), or with --data
from a daily file (--file) in the London format (LCLid,day,energy_kwh,n_halfhours) or the UCI daily file.
With --engine spark the engine builds the training set from the lake's tables (SQL) and each
least-absolute-error reweighting step is one aggregation on it (Node solves the small systems): the
model equals the embedded trainer's on the same lake.
task-gmm: a Gaussian Mixture Model of task requests (log-scaled CPU, memory, disk) fitted by EM from
several starts per k (the likelihood never falls as k grows), k by BIC (the curve is printed and kept
in metrics.json), from cluster-trace/bronze/task_events SUBMITs, or with --file from task_events files
(more files may follow; a machine_events file adds placement hints). With --engine spark (task-gmm),
Spark MLlib's GaussianMixture fits it on the Spark Connect server from --starts seeds per k (from
--seed), and the version's folder also holds Spark's saved model (spark-model/, loaded by
GaussianMixtureModel.load).

Examples:
  lakestream train --file ../shared/data/meters/london/daily_500_households.csv.gz`,
  options: {
    model: {
      type: 'string',
      default: 'consumption',
      value: 'NAME',
      help: 'which model: consumption or task-gmm',
    },
    file: { type: 'string', value: 'FILE', help: 'train from this daily file instead of the lake' },
    ...dataAliasOption,
    k: {
      type: 'string',
      value: 'K|KMIN-KMAX',
      help: 'task-gmm: classes, or the range BIC chooses from (default 2-8)',
    },
    covariance: {
      type: 'string',
      value: 'full|diag',
      help: 'task-gmm: covariance of each class (default full)',
    },
    seed: { type: 'string', value: 'N', help: 'task-gmm: seed of the first k-means++ start (default 1)' },
    starts: {
      type: 'string',
      value: 'N',
      help: 'task-gmm: starts per k (k-means++; on Spark: seeds from --seed on), the best likelihood kept (default 4)',
    },
    features: {
      type: 'string',
      value: 'LIST',
      help: 'task-gmm: priority and/or scheduling_class besides the requests (comma-separated)',
    },
    compare: {
      type: 'boolean',
      help: 'task-gmm --engine spark: also fit the own EM on the same points and print both BIC curves',
    },
    format: {
      type: 'string',
      value: 'FORMAT',
      help: 'format of --data: london-daily or uci-daily (default: from the header)',
    },
    ...jsonOption,
    ...lakeOption,
    engine: { ...engineOption.engine, help: 'duckdb (in process, default) or spark / spark://HOST:PORT' },
  },
  async run(ctx) {
    const { values } = ctx;
    values.data = fileOrData(values);
    const engine = values.engine === undefined ? 'duckdb' : parseEngine(values.engine).name;
    if (engine === 'spark' && values.model === 'task-gmm') {
      const { trainTaskGmmSpark } = await import('../models/task-gmm/spark-cli.ts');
      return trainTaskGmmSpark(ctx);
    }
    if (engine === 'spark' && values.model === 'consumption') {
      if (values.data !== undefined)
        throw new LakestreamError(
          'BAD_ARGUMENT',
          '--engine spark trains on the lake; --file is for the embedded trainer',
        );
      const { trainAndRegisterOnEngine } = await import('../models/consumption/engine-train.ts');
      const { Lake } = await import('../lake/index.ts');
      const lake = await Lake.open(lakeUrl(values.lake));
      try {
        const { version, result } = await trainAndRegisterOnEngine(String(values.engine), lake, {
          log,
          lakeUrl: lakeUrl(values.lake),
        });
        log(`trained in ${(result.metrics as { trainSeconds: number }).trainSeconds.toFixed(1)} s`);
        return printVersion('consumption', version, lake.url, values.json === true);
      } finally {
        await lake.close();
      }
    }
    if (values.model === 'task-gmm') {
      let mod: { trainTaskGmm?: (c: typeof ctx) => Promise<number | undefined> };
      try {
        mod = await import(String('../models/task-gmm/cli.ts'));
      } catch (e) {
        throw new LakestreamError('UNSUPPORTED', 'the task-gmm model is not available in this build yet', {
          cause: e,
        });
      }
      if (!mod.trainTaskGmm)
        throw new LakestreamError('UNSUPPORTED', 'the task-gmm model is not available in this build yet');
      if (!values.json) return mod.trainTaskGmm(ctx);
      // --json: the registration line goes to stderr, and stdout gets one JSON object
      const human = console.log;
      console.log = (...a: unknown[]) => process.stderr.write(`${a.join(' ')}\n`);
      try {
        await mod.trainTaskGmm(ctx);
      } finally {
        console.log = human;
      }
      return printRegistered('task-gmm', values.lake);
    }
    if (values.model !== 'consumption')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--model must be consumption or task-gmm, got "${values.model}"`,
      );
    if (values.format !== undefined && values.format !== 'london-daily' && values.format !== 'uci-daily')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--format must be london-daily or uci-daily, got "${values.format}"`,
      );
    const { CONSUMPTION_MODEL_NAME, trainFromDailyFile, trainFromLake } = await import(
      '../models/consumption/index.ts'
    );
    const { registerModel } = await import('../models/registry.ts');
    const { Lake } = await import('../lake/index.ts');
    const lake = await Lake.open(lakeUrl(values.lake));
    try {
      const started = Date.now();
      const opts = { log, format: values.format as 'london-daily' | 'uci-daily' | undefined };
      const { model, metrics } = values.data
        ? await trainFromDailyFile(values.data, opts)
        : await trainFromLake(lake, opts);
      const version = await registerModel(lake.store, CONSUMPTION_MODEL_NAME, model, metrics);
      log(`trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      printVersion(CONSUMPTION_MODEL_NAME, version, lake.url, values.json === true);
    } finally {
      await lake.close();
    }
    return 0;
  },
});

export default command;
