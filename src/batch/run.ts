// One run of the meters batch view: recompute hourly, daily and monthly from the master data on the
// engine given (DuckDB in this process, or Spark computing and writing on its cluster), replace the batch
// tables, then publish the view's marker. Idempotent: a rerun replaces the tables with the same rows.
// Killed mid-way, the tables it already replaced are newer than the marker, which still names the
// previous run's versions (src/batch/view.ts): readers keep the previous view until a run completes.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METER_TABLES } from '../domain/meters/tables.ts';
import type { EngineValue, QueryEngine } from '../engine/index.ts';
import type { SparkEngine } from '../engine/spark/index.ts';
import { LakestreamError } from '../errors.ts';
import type { Action, Lake } from '../lake/index.ts';
import {
  copyToDir,
  createSnapshotView,
  type Field,
  sameSchema,
  toSchemaString,
  uploadDataFiles,
  viewNameOf,
  withDuck,
} from '../lake/index.ts';
import type { Enrichment } from '../workloads/meters/enrich.ts';
import { batchDialect } from './dialect.ts';
import { type BatchDiff, diffBatch } from './diff.ts';
import {
  dailySql,
  hourlySql,
  type MeterInfo,
  type MetersBatchInput,
  markSql,
  monthlySql,
} from './meters-sql.ts';
import { type BatchView, publishView } from './view.ts';

/** The batch tables, each the batch twin of a stream table: same columns, all nullable (as Spark's CREATE TABLE AS writes them). */
export const BATCH_TABLES = {
  hourly: { path: 'meters/batch/hourly', stream: METER_TABLES.silver, sql: hourlySql },
  daily: { path: 'meters/batch/daily', stream: METER_TABLES.daily, sql: dailySql },
  monthly: { path: 'meters/batch/monthly', stream: METER_TABLES.monthly, sql: monthlySql },
} as const;

export type BatchTableName = keyof typeof BATCH_TABLES;

export function batchSchema(name: BatchTableName): Field[] {
  return BATCH_TABLES[name].stream.schema.map((c) => ({ name: c.name, type: c.type, nullable: true }));
}

export interface BatchOptions {
  lake: Lake;
  engine: QueryEngine;
  enrichment: Enrichment;
  from?: string;
  to?: string;
  signal?: AbortSignal;
  /** compare with the stream's tables (default true; a benchmark's lake has none) */
  diff?: boolean;
  /** called as each step finishes, for progress lines */
  onStep?: (step: string, ms: number) => void;
}

export interface BatchResult {
  view: BatchView;
  rows: Record<BatchTableName, number>;
  /** where the time went, ms per step */
  timings: Record<string, number>;
  diff: BatchDiff;
}

export async function runMetersBatch(opts: BatchOptions): Promise<BatchResult> {
  const { lake, engine } = opts;
  const timings: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const r = await fn();
    timings[name] = performance.now() - started;
    opts.onStep?.(name, timings[name]);
    return r;
  };
  const paths = await lake.listTables();
  if (!paths.includes(METER_TABLES.bronze.path))
    throw new LakestreamError(
      'NOT_FOUND',
      `no ${METER_TABLES.bronze.path} table in ${lake.url}: the batch view recomputes from bronze — replay and stream first`,
    );
  const hasQuarantine = paths.includes(METER_TABLES.quarantine.path);
  const input = await step('meters', () => metersInput(opts, hasQuarantine));
  const rows = {} as Record<BatchTableName, number>;
  const tables: Record<string, number> = {};
  for (const name of Object.keys(BATCH_TABLES) as BatchTableName[]) {
    opts.signal?.throwIfAborted();
    const { path, sql } = BATCH_TABLES[name];
    const select = sql(input);
    const written = await step(name, () =>
      engine.name === 'spark'
        ? writeOnSpark(engine as SparkEngine, lake, path, select, opts.signal)
        : writeOnDuckDb(lake, path, batchSchema(name), select),
    );
    tables[path] = written.version;
    rows[name] = written.rows;
  }
  const mark = await step('mark', () => highWaterMark(engine, input));
  const view = await step('publish', () =>
    publishView(lake.store, {
      engine: engine.name,
      mark,
      from: opts.from ?? null,
      to: opts.to ?? null,
      tables,
      finishedAt: new Date().toISOString(),
    }),
  );
  // diffBatch lists the lake's tables again: a first run has just created the batch tables
  const diff =
    opts.diff === false
      ? { hourly: [], daily: [], monthly: [] }
      : await step('diff', () => diffBatch(engine, { from: opts.from, to: opts.to }));
  return { view, rows, timings, diff };
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

/** The latest event time among the readings the run covered (ISO 8601), null when it covered none. */
async function highWaterMark(engine: QueryEngine, input: MetersBatchInput): Promise<string | null> {
  const r = await engine.query(markSql(input));
  const mark = r.rows[0]?.mark as EngineValue;
  return mark === null || mark === undefined ? null : new Date(String(mark)).toISOString();
}

/** Replaces the table with the query's rows, computed and written by Spark (its Delta writer commits). */
async function writeOnSpark(
  engine: SparkEngine,
  lake: Lake,
  path: string,
  select: string,
  signal?: AbortSignal,
): Promise<{ version: number; rows: number }> {
  await engine.execute(
    `CREATE OR REPLACE TABLE delta.\`${engine.tablePath(path).replaceAll('`', '``')}\` USING DELTA PARTITIONED BY (month) AS\n${select}`,
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
  select: string,
): Promise<{ version: number; rows: number }> {
  const table = lake.table(path);
  if (!(await table.exists())) await table.create({ schema, partitionColumns: ['month'] });
  const snap = await table.snapshot();
  const sources = [METER_TABLES.bronze.path, METER_TABLES.quarantine.path];
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-batch-'));
  try {
    const stats = await withDuck(async (conn) => {
      for (const source of sources)
        if (select.includes(viewNameOf(source)))
          await createSnapshotView(conn, lake.store, await lake.table(source).snapshot(), viewNameOf(source));
      return copyToDir(conn, select, dir, ['month'], 'batch-');
    });
    const adds = await uploadDataFiles(lake.store, path, schema, ['month'], stats, true);
    const actions: Action[] = adds.map((add) => ({ add }));
    // A table Spark replaced last may carry its own schema spelling: put ours back in the same commit.
    if (!sameSchema(snap.schema, schema) || snap.partitionColumns.join() !== 'month')
      actions.push({
        metaData: { ...snap.metadata, schemaString: toSchemaString(schema), partitionColumns: ['month'] },
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
