// `lakestream model evaluate`: the consumption forecast against the baselines, per as-of day.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { lakeOption, lakeUrl } from '../config/settings.ts';
import { LakestreamError } from '../errors.ts';
import type { EvalReport, EvalRow } from '../models/consumption/index.ts';
import { dataAliasOption, defineCommand, fileOrData, jsonOption } from './command.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function loadModelArg(arg: string, lakeFlag: string | undefined) {
  const { CONSUMPTION_MODEL_NAME, loadConsumptionModel } = await import('../models/consumption/index.ts');
  if (arg === 'latest') {
    const { loadModelJson } = await import('../models/registry.ts');
    const { openStore } = await import('../storage/index.ts');
    const store = await openStore(lakeUrl(lakeFlag));
    try {
      const found = await loadModelJson(store, CONSUMPTION_MODEL_NAME);
      if (!found)
        throw new LakestreamError(
          'NOT_FOUND',
          `no ${CONSUMPTION_MODEL_NAME} model registered in ${store.url} — run "lakestream train" first`,
        );
      return loadConsumptionModel(found.model, found.version);
    } finally {
      await store.close();
    }
  }
  let path = arg;
  if ((await stat(path).catch(() => undefined))?.isDirectory()) path = join(path, 'model.json');
  let json: object;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LakestreamError(
      missing ? 'NOT_FOUND' : 'BAD_INPUT',
      `--model ${arg}: ${missing ? 'no such file' : 'not a model JSON file'} (${path})`,
      {
        cause: e,
      },
    );
  }
  const m = /v(\d+)[/\\]model\.json$/.exec(path);
  return loadConsumptionModel(json, m ? Number(m[1]) : 0);
}

function rowsTable(rows: EvalRow[]): string[] {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1).padStart(6) : '     -');
  const lines = [
    `${'k'.padEnd(6)}${'n'.padStart(7)}  ${['model', 'run-rate', 'blend', 'same month LY', 'model on LY months'].map((h) => h.padEnd(22)).join('')}${'model 95 % CI'.padEnd(16)}model − best baseline (95 % CI)`,
  ];
  for (const r of rows) {
    const cells = [
      r.model,
      r.runrate,
      r.blend,
      r.same_month_last_year,
      r.model_on_same_month_last_year_months,
    ].map((s) => `${f(s.mape)}${f(s.mdape)}${f(s.wape)}    `);
    const [lo, hi] = r.ci95.model_mape;
    const [dlo, dhi] = r.ci95.model_minus_best;
    lines.push(
      `${String(r.k).padEnd(6)}${String(r.n).padStart(7)}  ${cells.join('')}${`${lo.toFixed(1)}–${hi.toFixed(1)}`.padEnd(16)}${(r.model.mape - r[r.best_baseline].mape).toFixed(2)} vs ${r.best_baseline} (${dlo.toFixed(2)} … ${dhi.toFixed(2)}), ×${r.ratio_to_best.toFixed(3)}`,
    );
  }
  return lines;
}

function table(report: EvalReport): string {
  const lines = [
    `${report.data}: ${report.meters} meters, ${report.months} months — ${report.mode === 'backtest' ? 'out-of-sample backtest' : `model v${report.model_version}`}`,
    'MAPE / median APE / WAPE in %, per household-month (same month LY: only where last year is known,',
    'so it is compared with the model on those same months); intervals: bootstrap over households',
  ];
  if (report.results) lines.push(...rowsTable(report.results));
  for (const p of Object.values(report.protocols ?? {})) {
    if ('skipped' in p) {
      lines.push('', `skipped: ${p.skipped}`);
      continue;
    }
    const t = p.trained_on;
    const sc = p.scored;
    lines.push(
      '',
      `${p.protocol}: ${p.description}`,
      `  trained on ${t.meters} households, ${t.meter_months} meter-months (${t.first_month} … ${t.last_month}); scored ${sc.meters} households, ${sc.meter_months} meter-months (${sc.first_month} … ${sc.last_month})`,
      ...rowsTable(p.results),
    );
  }
  return lines.join('\n');
}

/** `--model task-gmm`: the registered task GMM's held-out log-likelihood per task on a trace shard. */
async function evaluateTaskGmm(data: string, lakeFlag: string | undefined, json: boolean | undefined) {
  const { loadModelJson } = await import('../models/registry.ts');
  const { openStore } = await import('../storage/index.ts');
  const { TASK_GMM_MODEL_NAME } = await import('../models/task-gmm/model.ts');
  const { trainingSetFromFiles } = await import('../models/task-gmm/train.ts');
  const { evaluateTaskGmm: evaluate } = await import('../models/task-gmm/evaluate.ts');
  const store = await openStore(lakeUrl(lakeFlag));
  let found: Awaited<ReturnType<typeof loadModelJson>>;
  try {
    found = await loadModelJson(store, TASK_GMM_MODEL_NAME);
  } finally {
    await store.close();
  }
  if (!found)
    throw new LakestreamError(
      'NOT_FOUND',
      `no ${TASK_GMM_MODEL_NAME} model registered in ${lakeUrl(lakeFlag)} — run "lakestream train --model task-gmm" first`,
    );
  const set = await trainingSetFromFiles([data], log);
  const r = evaluate(found.model as never, found.version, set);
  if (json) console.log(JSON.stringify(r));
  else
    console.log(
      [
        `task-gmm v${r.model_version} (k = ${r.k}) on ${r.data}: ${r.tasks} SUBMITs (${r.tasks_with_missing_features} with a missing feature left out)`,
        `log-likelihood per task: held out ${r.heldout_log_likelihood_per_task.toFixed(3)}, training ${r.training_log_likelihood_per_task.toFixed(3)}`,
        ...r.classes.map(
          (c) =>
            `  class ${c.class}: weight ${(c.weight * 100).toFixed(1)} %, held-out share ${(c.share * 100).toFixed(1)} %`,
        ),
      ].join('\n'),
    );
  return 0;
}

const command = defineCommand({
  name: 'model',
  summary: 'evaluate a model against the baselines',
  usage:
    'model evaluate --file FILE [--model latest|PATH|task-gmm] [--format london-daily|uci-daily] [--cutoff YYYY-MM] [--json] [--lake URL]',
  description: `
evaluate: scores the monthly consumption forecast on a daily file (London: LCLid,day,energy_kwh,n_halfhours,
complete days = 48 half-hours; or the UCI daily file) at as-of days k = 3, 7, 14, 21 and the last day with
a day still to predict, against the run-rate, blend and same-month-last-year baselines.
Without --model: out-of-sample backtest by two protocols — households never seen (trained on every
other household, sorted by id, scored on the rest) and months after the training window (trained on
every household's months before --cutoff, default the last 12 months, scored on the months from it).
With --model latest (the lake's registered model) or PATH (a model.json): that model as it is.
With --model task-gmm and --file a task_events shard: the registered task GMM's held-out
log-likelihood per task on that shard, next to its training log-likelihood per task.

Examples:
  lakestream model evaluate --file ../shared/data/meters/uci/household_power_daily.csv.gz`,
  options: {
    file: { type: 'string', value: 'FILE', help: 'daily file to evaluate on (required)' },
    ...dataAliasOption,
    model: {
      type: 'string',
      value: 'latest|PATH|task-gmm',
      help: 'score this trained model instead of backtesting (task-gmm: the task GMM on a trace shard)',
    },
    format: { type: 'string', value: 'FORMAT', help: 'london-daily or uci-daily (default: from the header)' },
    cutoff: {
      type: 'string',
      value: 'YYYY-MM',
      help: 'first scored month of the months-after-training protocol',
    },
    ...jsonOption,
    ...lakeOption,
  },
  async run({ values, positionals }) {
    if (positionals[0] !== 'evaluate')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `${positionals[0] === undefined ? 'give a subcommand' : `unknown subcommand "${positionals[0]}"`} — use "lakestream model evaluate --file FILE"`,
      );
    values.data = fileOrData(values);
    if (!values.data)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        'model evaluate needs --file FILE — a daily file, e.g. the London daily_500_households.csv.gz',
      );
    if (values.model === 'task-gmm') return evaluateTaskGmm(values.data, values.lake, values.json);
    if (values.format !== undefined && values.format !== 'london-daily' && values.format !== 'uci-daily')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--format must be london-daily or uci-daily, got "${values.format}"`,
      );
    if (values.cutoff !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.cutoff))
      throw new LakestreamError('BAD_ARGUMENT', `--cutoff must be a month YYYY-MM, got "${values.cutoff}"`);
    const { backtest, readDailyFile, scoreModel } = await import('../models/consumption/index.ts');
    const { completeMonths } = await import('../models/consumption/dataset.ts');
    const { attachLondonMetadata } = await import('../models/consumption/metadata.ts');
    const model = values.model ? await loadModelArg(values.model, values.lake) : undefined;
    log(`reading ${values.data}`);
    const data = await readDailyFile(values.data, {
      format: values.format as 'london-daily' | 'uci-daily' | undefined,
      onProgress: (n) => log(`  ${n.toLocaleString('en')} lines`),
    });
    if (completeMonths(data).length === 0)
      throw new LakestreamError(
        'BAD_INPUT',
        `${values.data}: no complete month (a month whose every day is complete) among ${data.meters.size} meters — nothing to evaluate`,
      );
    await attachLondonMetadata(data, values.data);
    const report = model ? scoreModel(data, model) : backtest(data, { cutoff: values.cutoff });
    console.log(values.json ? JSON.stringify(report) : table(report));
    return 0;
  },
});

export default command;
