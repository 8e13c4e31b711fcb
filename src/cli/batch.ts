// `lakestream batch`: the lambda architecture's batch layer — recompute the meters' hourly, daily and
// monthly tables (or the trace's task lifecycles) from the master data into <workload>/batch/…, publish
// the view, print what it changes.

import { batchReport } from '../batch/report.ts';
import { runMetersBatch, runTraceBatch } from '../batch/run.ts';
import { findDataDir } from '../config/data-dir.ts';
import { engineOption, engineSetting, lakeOption, lakeUrl } from '../config/settings.ts';
import { openEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { defineCommand, jsonOption, quietOption } from './command.ts';
import { missingLakeDir } from './read-only.ts';
import { metersEnrichment } from './stream.ts';

function day(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))
    throw new LakestreamError('BAD_ARGUMENT', `--${flag} must be a day YYYY-MM-DD, got "${v}"`);
  return v;
}

export default defineCommand({
  name: 'batch',
  summary: "recompute the batch view from the master data and show what it changes in the stream's tables",
  usage:
    'batch [--engine duckdb|spark[://HOST:PORT]] [--workload meters|cluster-trace] [--from DAY] [--to DAY] [--json] [--lake URL]',
  description: `
The lambda architecture's batch layer. Recomputes the meters' hourly silver, daily and monthly gold
from the master data — bronze, plus the valid readings the stream quarantined as too-late — into
meters/batch/hourly, meters/batch/daily and meters/batch/monthly, with the stream's own rules, on
DuckDB in this process or on Spark (--engine spark: Spark computes and writes). Then it publishes the
view (meters/batch/_view/<run>.json: each table's version and the latest event time covered), so a
reader never sees half a run, and prints the differences with the stream's tables per table and key:
none after a clean replay; the days and months readings came too late for, now complete.
Running it again is safe; a run stopped half-way leaves the previous view in place.

--workload cluster-trace (on a lake the trace was streamed into) recomputes the trace's task
lifecycles instead: every task attempt folded from the bronze task events (the whole trace: --from
and --to are for the meters' days) into cluster-trace/batch/task_lifecycles, its view in
cluster-trace/batch/_view/ with the latest trace time covered, and the differences with
cluster-trace/silver/task_lifecycles per task (job/task) and attempt (its first_time).

Examples:
  lakestream batch
  lakestream batch --from 2013-01-01 --to 2013-01-31 --json`,
  options: {
    ...engineOption,
    workload: {
      type: 'string',
      default: 'meters',
      value: 'NAME',
      help: 'meters (hourly, daily, monthly) or cluster-trace (task lifecycles)',
    },
    from: { type: 'string', value: 'DAY', help: 'first local day to recompute (YYYY-MM-DD)' },
    to: { type: 'string', value: 'DAY', help: 'last local day to recompute (YYYY-MM-DD)' },
    data: {
      type: 'string',
      value: 'DIR',
      help: 'sample data folder for enrichment, as stream takes it (default ../shared/data if present)',
    },
    holidays: {
      type: 'string',
      value: 'ZONE=FILE',
      help: 'as stream --holidays: the calendar of the meters in ZONE',
    },
    'sample-fraction': { type: 'string', value: 'F', help: 'as stream --sample-fraction (default 0.1)' },
    ...jsonOption,
    ...quietOption,
    ...lakeOption,
  },
  async run({ values }) {
    const trace = values.workload === 'cluster-trace';
    if (!trace && values.workload !== 'meters')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--workload must be meters or cluster-trace, got "${values.workload}"`,
      );
    // an attempt spans days: the trace's view is recomputed whole
    if (trace && (values.from !== undefined || values.to !== undefined))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        "--from and --to bound the meters' days: the cluster trace's view is recomputed whole",
      );
    const from = day('from', values.from);
    const to = day('to', values.to);
    if (from && to && from > to)
      throw new LakestreamError('BAD_ARGUMENT', `--from ${from} is after --to ${to}`);
    const url = lakeUrl(values.lake);
    const missing = missingLakeDir(url);
    if (missing)
      throw new LakestreamError(
        'NOT_FOUND',
        `no lake at ${missing} — check --lake, or replay and stream first`,
      );
    const enrichment = trace ? undefined : metersEnrichment(findDataDir(values.data), values);
    // The engine first: an unreachable Spark fails here, before anything is written.
    const engine = await openEngine(engineSetting(values.engine), url);
    const lake = await Lake.open(url);
    try {
      const onStep =
        values.quiet || values.json
          ? undefined
          : (step: string, ms: number) =>
              process.stderr.write(`batch: ${step} ${(ms / 1000).toFixed(2)} s\n`);
      const result = enrichment
        ? await runMetersBatch({ lake, engine, enrichment, from, to, onStep })
        : await runTraceBatch({ lake, engine, onStep });
      if (values.json)
        console.log(
          JSON.stringify(
            {
              workload: result.workload,
              view: result.view,
              rows: result.rows,
              timings_ms: result.timings,
              differences: result.diff,
            },
            null,
            2,
          ),
        );
      else console.log(batchReport(result));
      return 0;
    } finally {
      await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
      await lake.close();
    }
  },
});
