// What the batch view changes against the stream's tables, per table and key: rows only one side has,
// and rows whose columns differ (the meters' value by more than a rounding error: the stream sums as
// readings come, the batch view exactly). Runs on the engine that wrote the view, over both tables' latest versions.

import { TRACE_LAKE_TABLES } from '../domain/cluster-trace/tables.ts';
import { FLEET_ID, METER_TABLES } from '../domain/meters/tables.ts';
import type { EngineValue, QueryEngine } from '../engine/index.ts';
import { viewNameOf } from '../lake/index.ts';

export interface DiffRow {
  /** whose row it is: the meter (meters) … */
  meter_id?: string;
  /** … or the task, "job_id/task_index" (cluster-trace) */
  task?: string;
  /** the row's key besides whose it is: its hour, day or month; an attempt's first_time */
  key: string;
  change: 'not-in-stream' | 'not-in-batch' | 'changed';
  /** the columns that differ (changed rows) */
  columns: string[];
  /** the table's headline column on each side: a meter's value, an attempt's outcome */
  batch_value: number | string | null;
  stream_value: number | string | null;
}

/** table name → its differing keys */
export type BatchDiff = Record<string, DiffRow[]>;

/** How one batch table is compared with its stream twin. */
export interface Compared {
  batch: string;
  stream: string;
  /** the output field naming whose row it is, and the columns it is made of */
  id: { name: 'meter_id' | 'task'; columns: string[] };
  /** the column keying a row besides its id */
  key: string;
  /** the column --from/--to bound, if the table has one */
  range?: 'day' | 'month';
  /** the headline column; numeric ones may differ by a rounding error */
  value: { column: string; numeric: boolean };
  columns: readonly string[];
  /** the stream's rows that have no batch twin by design */
  streamWhere?: string;
  /** rows sharing a key are paired in this order on both sides (keys that may repeat) */
  pairBy?: string[];
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

const meters = (
  batch: string,
  stream: string,
  key: string,
  range: 'day' | 'month',
  columns: readonly string[],
): Compared => ({
  batch,
  stream,
  id: { name: 'meter_id', columns: ['meter_id'] },
  key,
  range,
  value: { column: 'value', numeric: true },
  columns,
  streamWhere: `meter_id <> ${lit(FLEET_ID)}`,
});

export const METERS_COMPARED: Record<string, Compared> = {
  hourly: meters('meters/batch/hourly', METER_TABLES.silver.path, 'hour', 'day', [
    'n_readings',
    'local_hour',
    'weekday',
    'is_holiday',
    'tariff',
    'acorn',
    'acorn_group',
    'sample',
  ]),
  daily: meters('meters/batch/daily', METER_TABLES.daily.path, 'day', 'day', [
    'n_readings',
    'expected_readings',
    'complete',
    'closed',
    'tariff',
    'acorn_group',
  ]),
  monthly: meters('meters/batch/monthly', METER_TABLES.monthly.path, 'month', 'month', [
    'days_with_data',
    'complete_days',
    'days_in_month',
    'complete',
    'closed',
  ]),
};

const LIFECYCLES = TRACE_LAKE_TABLES.lifecycles;
const LIFECYCLE_KEY: readonly string[] = LIFECYCLES.keyColumns;
export const TRACE_COMPARED: Record<string, Compared> = {
  task_lifecycles: {
    batch: 'cluster-trace/batch/task_lifecycles',
    stream: LIFECYCLES.path,
    id: { name: 'task', columns: ['job_id', 'task_index'] },
    key: 'first_time',
    value: { column: 'outcome', numeric: false },
    // two attempts of a task can start at one trace time (SUBMIT, FAIL, SUBMIT at the same µs)
    pairBy: ['outcome', 'end_time', 'n_events'],
    columns: LIFECYCLES.schema
      .map((c) => c.name)
      .filter((c) => !LIFECYCLE_KEY.includes(c) && c !== 'outcome'),
  },
};

export function diffSql(t: Compared, range: { from?: string; to?: string }, streamExists = true): string {
  // no stream table yet: every batch row is one the stream lacks
  const stream = streamExists ? viewNameOf(t.stream) : `(SELECT * FROM ${viewNameOf(t.batch)} WHERE 1 = 0)`;
  const inRange = (alias: string) => {
    const parts = ['1 = 1'];
    const cut = (day: string) => (t.range === 'month' ? day.slice(0, 7) : day);
    if (t.range && range.from) parts.push(`${alias}.${t.range} >= ${lit(cut(range.from))}`);
    if (t.range && range.to) parts.push(`${alias}.${t.range} <= ${lit(cut(range.to))}`);
    return parts.join(' AND ');
  };
  const joined = [...t.id.columns, t.key];
  const side = (table: string, alias: string, where: string) =>
    t.pairBy
      ? `(SELECT ${alias}.*, ROW_NUMBER() OVER (PARTITION BY ${joined.join(', ')} ORDER BY ${t.pairBy.map((c) => `${c} NULLS LAST`).join(', ')}) AS nth
    FROM ${table} ${alias} WHERE ${where}) ${alias}`
      : `(SELECT * FROM ${table} ${alias} WHERE ${where}) ${alias}`;
  const on = [...joined, ...(t.pairBy ? ['nth'] : [])];
  const either = (c: string) => `COALESCE(b.${c}, s.${c})`;
  const id = t.id.columns.map((c) => `CAST(${either(c)} AS STRING)`).join(", '/', ");
  const v = t.value.column;
  const valueDiffers = t.value.numeric
    ? `ABS(b.${v} - s.${v}) > 1e-9 * GREATEST(1.0, ABS(s.${v}))`
    : `b.${v} IS DISTINCT FROM s.${v}`;
  const differs = t.columns.map((c) => `b.${c} IS DISTINCT FROM s.${c}`);
  const first = joined[0];
  return `SELECT CONCAT(${id}) AS id, ${either(t.key)} AS key,
       CASE WHEN s.${first} IS NULL THEN 'not-in-stream' WHEN b.${first} IS NULL THEN 'not-in-batch' ELSE 'changed' END AS change,
       CASE WHEN ${valueDiffers} THEN '${v}' END AS d_${v},
       ${t.columns.map((c, i) => `CASE WHEN ${differs[i]} THEN '${c}' END AS d_${c}`).join(',\n       ')},
       b.${v} AS batch_value, s.${v} AS stream_value
FROM ${side(viewNameOf(t.batch), 'b', inRange('b'))}
FULL OUTER JOIN ${side(stream, 's', `${t.streamWhere ?? '1 = 1'} AND ${inRange('s')}`)}
  ON ${on.map((c) => `b.${c} = s.${c}`).join(' AND ')}
WHERE s.${first} IS NULL OR b.${first} IS NULL OR ${valueDiffers} OR ${differs.join(' OR ')}
ORDER BY ${joined.map(either).join(', ')}`;
}

export async function diffBatch(
  engine: QueryEngine,
  compared: Record<string, Compared>,
  range: { from?: string; to?: string },
): Promise<BatchDiff> {
  const out: BatchDiff = {};
  const tables = new Set((await engine.tables()).map((t) => t.path));
  for (const [name, t] of Object.entries(compared)) {
    const r = await engine.query(diffSql(t, range, tables.has(t.stream)), { maxRows: 1_000_000 });
    const value = (v: EngineValue | undefined) =>
      v === null || v === undefined ? null : t.value.numeric ? Number(v) : String(v);
    out[name] = r.rows.map((row) => ({
      [t.id.name]: String(row.id),
      key: String(row.key),
      change: row.change as DiffRow['change'],
      columns: Object.keys(row)
        .filter((k) => k.startsWith('d_') && row[k] !== null)
        .map((k) => String(row[k])),
      batch_value: value(row.batch_value),
      stream_value: value(row.stream_value),
    }));
  }
  return out;
}
