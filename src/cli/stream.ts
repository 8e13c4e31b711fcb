// `lakestream stream`: runs a stream worker of one workload in a consumer group.

import { batchSummary } from '../batch/report.ts';
import { runMetersBatch, runTraceBatch } from '../batch/run.ts';
import { every, parseDuration, type Schedule } from '../batch/schedule.ts';
import { findDataDir, londonFile } from '../config/data-dir.ts';
import { engineOption, lakeOption, lakeUrl, transportOption, transportUrl } from '../config/settings.ts';
import { openEngine, parseEngine } from '../engine/index.ts';
import { describeError, LakestreamError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { CONSUMPTION_MODEL_NAME, trainFromLake } from '../models/consumption/index.ts';
import { registerModel } from '../models/registry.ts';
import { appendDeliveries } from '../stream/delivery-log.ts';
import { runWorker } from '../stream/worker.ts';
import type { Workload } from '../stream/workload.ts';
import { openTransport } from '../transport/index.ts';
import { type Enrichment, loadEnrichment } from '../workloads/meters/enrich.ts';
import { metersWorkload } from '../workloads/meters/workload.ts';
import { defineCommand, numberOption, quietOption } from './command.ts';
import { formatCount } from './progress.ts';

/**
 * Trains the consumption forecast on the lake's gold daily table and registers it as a new version: in
 * process, or on the Spark engine given (the same model: models/consumption/engine-train.ts).
 */
export async function retrainOnLake(lake: Lake, engine?: string, url?: string): Promise<number> {
  if (engine !== undefined && parseEngine(engine).name === 'spark') {
    const { trainAndRegisterOnEngine } = await import('../models/consumption/engine-train.ts');
    return (await trainAndRegisterOnEngine(engine, lake, { lakeUrl: url })).version;
  }
  const t = await trainFromLake(lake);
  return registerModel(lake.store, CONSUMPTION_MODEL_NAME, t.model, t.metrics);
}

/** --holidays ZONE=FILE as { zone: file }. */
export function zoneHolidays(flag: string | undefined): Record<string, string> | undefined {
  if (flag === undefined) return undefined;
  const at = flag.indexOf('=');
  if (at <= 0 || at === flag.length - 1)
    throw new LakestreamError('BAD_ARGUMENT', `--holidays must be ZONE=FILE, got "${flag}"`);
  return { [flag.slice(0, at)]: flag.slice(at + 1) };
}

/** The meters' enrichment from the flags stream and batch share: households, holidays, the sample. */
export function metersEnrichment(
  dataDir: string | undefined,
  values: { holidays?: string; 'sample-fraction'?: string },
): Enrichment {
  return loadEnrichment({
    householdsFile: londonFile(dataDir, 'households.csv'),
    holidaysFile: londonFile(dataDir, 'uk_bank_holidays.csv'),
    zoneHolidayFiles: zoneHolidays(values.holidays),
    sampleFraction: numberOption('sample-fraction', values['sample-fraction'], 0.1, { min: 0 }),
  });
}

/**
 * The workload's batch view every `ms` beside the worker, on the stream's engine (`--engine`: DuckDB in
 * this process, or Spark computing and writing); a failed run is reported and the next one tries again.
 */
function scheduleBatchView(
  lake: Lake,
  ms: number,
  workload: 'meters' | 'cluster-trace',
  values: { data?: string; holidays?: string; 'sample-fraction'?: string; quiet?: boolean; engine?: string },
): Schedule {
  const enrichment = workload === 'meters' ? metersEnrichment(findDataDir(values.data), values) : undefined;
  const engineName = values.engine ?? 'duckdb';
  return every(
    ms,
    async (signal) => {
      const engine = await openEngine(engineName, lake.url);
      try {
        const r = enrichment
          ? await runMetersBatch({ lake, engine, enrichment, signal })
          : await runTraceBatch({ lake, engine, signal });
        if (!values.quiet) process.stderr.write(`\n${batchSummary(r)}\n`);
      } finally {
        // a Spark session that does not close promptly must not hold the stream's shutdown
        await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
      }
    },
    (e) =>
      process.stderr.write(
        `\nlakestream stream: batch view failed: ${describeError(e)} — the next run tries again\n`,
      ),
  );
}

export default defineCommand({
  name: 'stream',
  summary: 'run a stream worker: transport → bronze/silver/gold Delta tables',
  usage:
    'stream [--workload meters|cluster-trace] [--group ID] [--drain] [--batch-every DURATION] [--transport URL] [--lake URL]',
  description: `
Reads the workload's topic as one member of a consumer group, validates and quarantines, dedupes,
and writes bronze, silver and gold tables exactly once (a txn per partition in every Delta commit;
consumer offsets are committed after the tables). Start several workers with the same --group to
share the partitions. With --drain the worker exits once everything produced so far is committed,
writing days and months still open as they stand (flagged closed=false).

Examples:
  lakestream stream --drain
  lakestream stream --drain --retrain off -q`,
  options: {
    workload: { type: 'string', default: 'meters', value: 'NAME', help: 'meters or cluster-trace' },
    group: { type: 'string', value: 'ID', help: 'consumer group (default lakestream-<workload>)' },
    drain: { type: 'boolean', help: 'exit once everything produced so far is committed' },
    'max-batch': { type: 'string', value: 'N', help: 'most messages per batch (default 50000)' },
    data: {
      type: 'string',
      value: 'DIR',
      help: 'sample data folder for enrichment (default ../shared/data if present)',
    },
    holidays: {
      type: 'string',
      value: 'ZONE=FILE',
      help: 'holiday calendar (date,name rows) of the meters in ZONE, e.g. Europe/Madrid=es.csv; other zones but London households: unknown',
    },
    'sample-fraction': {
      type: 'string',
      value: 'F',
      help: 'fraction of meters flagged as the exploration sample (default 0.1)',
    },
    'batch-every': {
      type: 'string',
      value: 'DURATION',
      help: "run the workload's batch view (as lakestream batch, on --engine) every DURATION while streaming, e.g. 1d, 6h, 30s",
    },
    retrain: {
      type: 'string',
      default: 'monthly',
      value: 'WHEN',
      help: 'monthly: retrain the forecast on the lake after each month closes; off: never',
    },
    'delivery-log': {
      type: 'string',
      value: 'FILE',
      help: "append each poll's offsets (topic partition first last) to FILE, to count redeliveries (bench resilience)",
    },
    engine: {
      ...engineOption.engine,
      help: 'where the monthly retraining and the --batch-every runs run: duckdb (in process, default) or spark / spark://HOST:PORT',
    },
    ...quietOption,
    ...transportOption,
    ...lakeOption,
  },
  async run({ values }) {
    // a bad --engine fails before anything is read; the retraining opens it when a month closes
    if (values.engine !== undefined) parseEngine(values.engine);
    const workloadName = values.workload;
    const group = values.group ?? `lakestream-${workloadName}`;
    const maxBatch = numberOption('max-batch', values['max-batch'], 50_000, { min: 1, integer: true });
    const batchEveryMs =
      values['batch-every'] === undefined ? undefined : parseDuration('batch-every', values['batch-every']);
    const transport = await openTransport(transportUrl(values.transport));
    const lake = await Lake.open(lakeUrl(values.lake));
    try {
      let workload: Workload;
      if (workloadName === 'meters') {
        const dataDir = findDataDir(values.data);
        if (values.retrain !== 'monthly' && values.retrain !== 'off')
          throw new LakestreamError(
            'BAD_ARGUMENT',
            `--retrain must be monthly or off, got "${values.retrain}"`,
          );
        workload = metersWorkload({
          store: lake.store,
          retrain:
            values.retrain === 'monthly'
              ? () => retrainOnLake(lake, values.engine, lakeUrl(values.lake))
              : undefined,
          enrichment: metersEnrichment(dataDir, values),
        });
      } else if (workloadName === 'cluster-trace') {
        const { clusterTraceWorkload } = await import('../workloads/cluster-trace/workload.ts');
        workload = await clusterTraceWorkload({ lake });
      } else
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `--workload must be meters or cluster-trace, got "${workloadName}"`,
        );

      const ac = new AbortController();
      const stop = () => {
        if (!values.quiet)
          process.stderr.write(
            '\nstopping after the current batch (one waiting for storage is given up: the next start resumes it)…\n',
          );
        ac.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const started = Date.now();
      const batches =
        batchEveryMs === undefined
          ? undefined
          : scheduleBatchView(lake, batchEveryMs, workloadName as 'meters' | 'cluster-trace', values);
      const status = await runWorker({
        transport,
        lake,
        workload,
        group,
        drain: values.drain,
        maxBatch,
        signal: ac.signal,
        onPoll: values['delivery-log']
          ? (msgs) => appendDeliveries(values['delivery-log'] as string, msgs)
          : undefined,
        onBatch: (s) => {
          if (values.quiet) return;
          const secs = (Date.now() - started) / 1000;
          process.stderr.write(
            `\r${workloadName}: read ${formatCount(s.read)}  accepted ${formatCount(s.accepted)}  quarantined ${formatCount(s.quarantined)}  duplicates ${formatCount(s.duplicates)}  ${formatCount(s.read / Math.max(secs, 0.001))}/s  p95 ${s.latency_ms.p95 ?? '-'} ms   `,
          );
        },
      });
      await batches?.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (!values.quiet) {
        process.stderr.write('\n');
        console.log(
          `${workloadName} worker ${status.worker}: read ${formatCount(status.read)}, accepted ${formatCount(status.accepted)}, quarantined ${formatCount(status.quarantined)}, duplicates dropped ${formatCount(status.duplicates)}; ${formatCount(status.batches)} batches, ${formatCount(status.rows_written)} rows written`,
        );
      }
      return 0;
    } finally {
      await transport.close();
      await lake.close();
    }
  },
});
