// One run of a batch view — the meters' hourly, daily and monthly, or the trace's task lifecycles:
// recompute its tables from the master data on the engine given (DuckDB in this process, or Spark
// computing and writing on its cluster), replace the batch tables, then publish the view's marker.
// Idempotent: a rerun replaces the tables with the same rows.
// Killed mid-way, the tables it already replaced are newer than the marker, which still names the
// previous run's versions (src/batch/view.ts): readers keep the previous view until a run completes.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRACE_LAKE_TABLES } from '../domain/cluster-trace/tables.ts';
import { METER_TABLES } from '../domain/meters/tables.ts';
import type { EngineValue, QueryEngine } from '../engine/index.ts';
import type { SparkEngine } from '../engine/spark/index.ts';
import { LakestreamError } from '../errors.ts';
import type { Action, Lake } from '../lake/index.ts';
import {
  copyToDir,
  createSnapshotView,
  duckMemoryLimitBytes,
  type Field,
  partsWithin,
  sameSchema,
  toSchemaString,
  uploadDataFiles,
  viewNameOf,
  withDuck,
} from '../lake/index.ts';
import type { Enrichment } from '../workloads/meters/enrich.ts';
import { batchDialect } from './dialect.ts';
import { type BatchDiff, type Compared, diffBatch, METERS_COMPARED, TRACE_COMPARED } from './diff.ts';
import {
  dailySql,
  hourlySql,
  type MeterInfo,
  type MetersBatchInput,
  markSql,
  monthlySql,
} from './meters-sql.ts';
import { lifecyclesSql, traceMarkSql } from './trace-sql.ts';
import { type BatchView, publishView, TRACE_VIEW_DIR, VIEW_DIR } from './view.ts';

/** The batch twin of a stream table: same columns, all nullable (as Spark's CREATE TABLE AS writes them). */
const twinSchema = (stream: { schema: readonly Pick<Field, 'name' | 'type'>[] }): Field[] =>
  stream.schema.map((c) => ({ name: c.name, type: c.type, nullable: true }));

/** The meters' batch tables, each the batch twin of a stream table. */
export const BATCH_TABLES = {
  hourly: { path: 'meters/batch/hourly', stream: METER_TABLES.silver, sql: hourlySql },
  daily: { path: 'meters/batch/daily', stream: METER_TABLES.daily, sql: dailySql },
  monthly: { path: 'meters/batch/monthly', stream: METER_TABLES.monthly, sql: monthlySql },
} as const;

export type BatchTableName = keyof typeof BATCH_TABLES;

export function batchSchema(name: BatchTableName): Field[] {
  return twinSchema(BATCH_TABLES[name].stream);
}

/** What a run of any workload's view does: its tables' queries, its mark, its comparisons. */
interface BatchPlan {
  workload: BatchResult['workload'];
  viewDir: string;
  /** the lake's tables as the run began: those its queries name are its inputs */
  lakeTables: string[];
  /** each table's rows: the rows of its `selects` together (DuckDB's parts of the meters; one on Spark) */
  tables: Record<string, { path: string; schema: Field[]; partitionColumns: string[]; selects: string[] }>;
  markSql: string;
  /** the mark query's value as the marker records it */
  mark: (v: EngineValue) => string;
  compared: Record<string, Compared>;
}

interface RunOptions {
  lake: Lake;
  engine: QueryEngine;
  signal?: AbortSignal;
  /** compare with the stream's tables (default true; a benchmark's lake has none) */
  diff?: boolean;
  /** called as each step finishes, for progress lines */
  onStep?: (step: string, ms: number) => void;
}

export interface BatchOptions extends RunOptions {
  enrichment: Enrichment;
  from?: string;
  to?: string;
  /** DuckDB: compute the meters' tables in this many parts of the meters (default: duckParts) */
  parts?: number;
}

/**
 * DuckDB keeps the rows of a window over a window in memory: the rules' dedupe and previous-reading
 * windows over 10,000 meters × 3 years (11 M readings) ran out of a 2 GB memory_limit and fit in 4 GB.
 * So DuckDB computes the meters' tables in parts of the meters, one after another, each of at most
 * READINGS_PER_GIB readings per GiB of its memory_limit; every rule is per meter, so the parts' rows
 * together are the table's. Spark spills, and computes each table whole.
 */
export const READINGS_PER_GIB = 2_000_000;

/** The parts for `readings` readings at a memory_limit of `limitBytes`. */
export function partsFor(readings: number, limitBytes: number): number {
  return partsWithin(readings, READINGS_PER_GIB, limitBytes);
}

async function duckParts(lake: Lake, hasQuarantine: boolean): Promise<number> {
  let readings = 0;
  for (const path of [METER_TABLES.bronze.path, ...(hasQuarantine ? [METER_TABLES.quarantine.path] : [])]) {
    const n = (await lake.table(path).snapshot()).numRecords;
    // a file without row counts: count the rows
    readings += n ?? Number((await lake.query(`SELECT count(*) AS n FROM ${viewNameOf(path)}`)).rows[0].n);
  }
  return partsFor(readings, await duckMemoryLimitBytes());
}

export interface BatchResult {
  workload: 'meters' | 'cluster-trace';
  view: BatchView;
  /** table name → its rows */
  rows: Record<string, number>;
  /** where the time went, ms per step */
  timings: Record<string, number>;
  diff: BatchDiff;
}

type Step = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** Times each step of a run into `timings`, telling `onStep` as it finishes. */
function stepper(timings: Record<string, number>, onStep?: RunOptions['onStep']): Step {
  return async (name, fn) => {
    const started = performance.now();
    const r = await fn();
    timings[name] = performance.now() - started;
    onStep?.(name, timings[name]);
    return r;
  };
}

async function requireTable(lake: Lake, path: string, what: string): Promise<string[]> {
  const paths = await lake.listTables();
  if (!paths.includes(path))
    throw new LakestreamError(
      'NOT_FOUND',
      `no ${path} table in ${lake.url}: the batch view recomputes from ${what} — replay and stream first`,
    );
  return paths;
}

export async function runMetersBatch(opts: BatchOptions): Promise<BatchResult> {
  const timings: Record<string, number> = {};
  const step = stepper(timings, opts.onStep);
  const paths = await requireTable(opts.lake, METER_TABLES.bronze.path, 'bronze');
  const hasQuarantine = paths.includes(METER_TABLES.quarantine.path);
  const input = await step('meters', () => metersInput(opts, hasQuarantine));
  const parts =
    opts.engine.name === 'duckdb' ? (opts.parts ?? (await duckParts(opts.lake, hasQuarantine))) : 1;
  const partInputs =
    parts === 1
      ? [input]
      : Array.from({ length: parts }, (_, index) => ({ ...input, part: { index, of: parts } }));
  const tables = Object.fromEntries(
    Object.entries(BATCH_TABLES).map(([name, t]) => [
      name,
      {
        path: t.path,
        schema: twinSchema(t.stream),
        partitionColumns: ['month'],
        selects: partInputs.map((i) => t.sql(i)),
      },
    ]),
  );
  const plan: BatchPlan = {
    workload: 'meters',
    viewDir: VIEW_DIR,
    lakeTables: paths,
    tables,
    markSql: markSql(input),
    mark: (v) => new Date(String(v)).toISOString(),
    compared: METERS_COMPARED,
  };
  return runPlan(opts, plan, step, timings, { from: opts.from, to: opts.to });
}

/** The trace's batch view: the task lifecycles recomputed from bronze task_events (the whole trace). */
export async function runTraceBatch(opts: RunOptions): Promise<BatchResult> {
  const timings: Record<string, number> = {};
  const T = TRACE_LAKE_TABLES;
  const paths = await requireTable(opts.lake, T.taskEvents.path, 'bronze task_events');
  const lifecycles = TRACE_COMPARED.task_lifecycles.batch;
  const select = lifecyclesSql(batchDialect(opts.engine.name), paths.includes(T.taskClasses.path));
  const plan: BatchPlan = {
    workload: 'cluster-trace',
    viewDir: TRACE_VIEW_DIR,
    lakeTables: paths,
    tables: {
      task_lifecycles: {
        path: lifecycles,
        schema: twinSchema(T.lifecycles),
        partitionColumns: [],
        selects: [select],
      },
    },
    markSql: traceMarkSql(),
    mark: (v) => String(v),
    compared: TRACE_COMPARED,
  };
  return runPlan(opts, plan, stepper(timings, opts.onStep), timings, {});
}

/** Replaces each table of the plan, takes the mark, publishes the view, then compares with the stream. */
async function runPlan(
  opts: RunOptions,
  plan: BatchPlan,
  step: Step,
  timings: Record<string, number>,
  range: { from?: string; to?: string },
): Promise<BatchResult> {
  const { lake, engine } = opts;
  const rows: Record<string, number> = {};
  const versions: Record<string, number> = {};
  for (const [name, t] of Object.entries(plan.tables)) {
    opts.signal?.throwIfAborted();
    const written = await step(name, () =>
      engine.name === 'spark'
        ? writeOnSpark(engine as SparkEngine, lake, t.path, t.partitionColumns, t.selects, opts.signal)
        : writeOnDuckDb(lake, t.path, t.schema, t.partitionColumns, t.selects, plan.lakeTables),
    );
    versions[t.path] = written.version;
    rows[name] = written.rows;
  }
  const mark = await step('mark', async () => {
    const v = (await engine.query(plan.markSql)).rows[0]?.mark as EngineValue | undefined;
    return v === null || v === undefined ? null : plan.mark(v);
  });
  const view = await step('publish', () =>
    publishView(
      lake.store,
      {
        engine: engine.name,
        mark,
        from: range.from ?? null,
        to: range.to ?? null,
        tables: versions,
        finishedAt: new Date().toISOString(),
      },
      plan.viewDir,
    ),
  );
  // diffBatch lists the lake's tables again: a first run has just created the batch tables
  const diff =
    opts.diff === false
      ? Object.fromEntries(Object.keys(plan.compared).map((name) => [name, []]))
      : await step('diff', () => diffBatch(engine, plan.compared, range));
  return { workload: plan.workload, view, rows, timings, diff };
}

/** The meters of the master data with their enrichment, and the holiday calendars they use. */
async function metersInput(opts: BatchOptions, hasQuarantine: boolean): Promise<MetersBatchInput> {
  const bronze = viewNameOf(METER_TABLES.bronze.path);
  const quarantine = viewNameOf(METER_TABLES.quarantine.path);
  const late = hasQuarantine
    ? ` UNION SELECT DISTINCT meter_id, CAST(NULL AS STRING) AS tz FROM ${quarantine} WHERE reason = 'too-late' AND meter_id IS NOT NULL`
    : '';
  const r = await opts.engine.query(`SELECT DISTINCT meter_id, tz FROM ${bronze}${late}`, {
    maxRows: 2_000_000_000, // Spark takes a LIMIT of an int
    signal: opts.signal,
  });
  const byMeter = new Map<string, string | undefined>();
  for (const row of r.rows) {
    const id = String(row.meter_id);
    if (!byMeter.has(id) || row.tz !== null) byMeter.set(id, row.tz === null ? undefined : String(row.tz));
  }
  const calendarNames = new Map<ReadonlySet<string>, string>();
  const meters: MeterInfo[] = [...byMeter].sort().map(([id, tz]) => {
    const h = opts.enrichment.household(id);
    const cal = opts.enrichment.calendarOf(id, tz);
    let calendar: string | null = null;
    if (cal) {
      calendar = calendarNames.get(cal) ?? `c${calendarNames.size + 1}`;
      calendarNames.set(cal, calendar);
    }
    return {
      meter_id: id,
      tariff: h?.tariff ?? null,
      acorn: h?.acorn ?? null,
      acorn_group: h?.acornGroup ?? null,
      sample: opts.enrichment.inSample(id),
      calendar,
    };
  });
  return {
    dialect: batchDialect(opts.engine.name),
    meters,
    calendars: new Map([...calendarNames].map(([days, name]) => [name, days])),
    from: opts.from,
    to: opts.to,
    lateReadings: hasQuarantine,
  };
}

/** Replaces the table with the query's rows, computed and written by Spark (its Delta writer commits). */
async function writeOnSpark(
  engine: SparkEngine,
  lake: Lake,
  path: string,
  partitionColumns: string[],
  selects: string[],
  signal?: AbortSignal,
): Promise<{ version: number; rows: number }> {
  // parts are DuckDB's: Spark spills, and gets each table as one query
  if (selects.length !== 1)
    throw new LakestreamError('INTERNAL', `Spark computes a table whole, not in ${selects.length} parts`);
  const [select] = selects;
  const partitioned = partitionColumns.length > 0 ? ` PARTITIONED BY (${partitionColumns.join(', ')})` : '';
  await engine.execute(
    `CREATE OR REPLACE TABLE delta.\`${engine.tablePath(path).replaceAll('`', '``')}\` USING DELTA${partitioned} AS\n${select}`,
    { signal },
  );
  const snap = await lake.table(path).snapshot();
  return { version: snap.version, rows: snap.files.reduce((n, f) => n + fileRows(f.stats), 0) };
}

function fileRows(stats: string | null | undefined): number {
  if (!stats) return 0;
  return Number((JSON.parse(stats) as { numRecords?: number }).numRecords ?? 0);
}

/** Replaces the table with the query's rows, computed by DuckDB in this process: one commit removing every old file. */
async function writeOnDuckDb(
  lake: Lake,
  path: string,
  schema: Field[],
  partitionColumns: string[],
  selects: string[],
  lakeTables: string[],
): Promise<{ version: number; rows: number }> {
  const table = lake.table(path);
  if (!(await table.exists())) await table.create({ schema, partitionColumns });
  const snap = await table.snapshot();
  // the lake's tables the query reads (bronze, quarantine, the trace's classes)
  const sources = lakeTables.filter((p) => p !== path && selects[0].includes(viewNameOf(p)));
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-batch-'));
  try {
    const stats = await withDuck(async (conn) => {
      for (const source of sources)
        await createSnapshotView(conn, lake.store, await lake.table(source).snapshot(), viewNameOf(source));
      const written: Awaited<ReturnType<typeof copyToDir>> = [];
      // one part at a time: its windows are what DuckDB holds in memory (duckParts)
      for (const [i, select] of selects.entries())
        written.push(...(await copyToDir(conn, select, dir, partitionColumns, `batch-${i}-`)));
      return written;
    });
    const adds = await uploadDataFiles(lake.store, path, schema, partitionColumns, stats, true);
    const actions: Action[] = adds.map((add) => ({ add }));
    // A table Spark replaced last may carry its own schema spelling: put ours back in the same commit.
    if (!sameSchema(snap.schema, schema) || snap.partitionColumns.join() !== partitionColumns.join())
      actions.push({
        metaData: { ...snap.metadata, schemaString: toSchemaString(schema), partitionColumns },
      });
    const res = await table.commit(actions, {
      removeWhere: () => true,
      operation: 'CREATE OR REPLACE TABLE AS SELECT',
    });
    if (res.status === 'conflict')
      throw new LakestreamError(
        'CONFLICT',
        `${path}: another writer committed meanwhile (${res.reason}) — run batch again`,
      );
    return { version: res.version, rows: stats.reduce((n, s) => n + Number(s.count), 0) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
