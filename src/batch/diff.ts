// What the batch view changes against the stream's tables, per table and key: rows only one side has,
// and rows whose columns differ (a value by more than a rounding error: the stream sums as readings
// come, the batch view exactly). Runs on the engine that wrote the view, over both tables' latest versions.

import { FLEET_ID, METER_TABLES } from '../domain/meters/tables.ts';
import type { EngineValue, QueryEngine } from '../engine/index.ts';
import { viewNameOf } from '../lake/index.ts';

export interface DiffRow {
  meter_id: string;
  /** the row's key besides the meter: its hour, day or month */
  key: string;
  change: 'not-in-stream' | 'not-in-batch' | 'changed';
  /** the columns that differ (changed rows) */
  columns: string[];
  batch_value: number | null;
  stream_value: number | null;
}

export type BatchDiff = Record<'hourly' | 'daily' | 'monthly', DiffRow[]>;

const COMPARED = {
  hourly: {
    batch: 'meters/batch/hourly',
    stream: METER_TABLES.silver.path,
    key: 'hour',
    range: 'day',
    columns: [
      'n_readings',
      'local_hour',
      'weekday',
      'is_holiday',
      'tariff',
      'acorn',
      'acorn_group',
      'sample',
    ],
  },
  daily: {
    batch: 'meters/batch/daily',
    stream: METER_TABLES.daily.path,
    key: 'day',
    range: 'day',
    columns: ['n_readings', 'expected_readings', 'complete', 'closed', 'tariff', 'acorn_group'],
  },
  monthly: {
    batch: 'meters/batch/monthly',
    stream: METER_TABLES.monthly.path,
    key: 'month',
    range: 'month',
    columns: ['days_with_data', 'complete_days', 'days_in_month', 'complete', 'closed'],
  },
} as const;

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function diffSql(
  name: keyof BatchDiff,
  range: { from?: string; to?: string },
  streamExists = true,
): string {
  const t = COMPARED[name];
  // no stream table yet: every batch row is one the stream lacks
  const stream = streamExists ? viewNameOf(t.stream) : `(SELECT * FROM ${viewNameOf(t.batch)} WHERE 1 = 0)`;
  const inRange = (alias: string) => {
    const parts = ['1 = 1'];
    const cut = (day: string) => (t.range === 'month' ? day.slice(0, 7) : day);
    if (range.from) parts.push(`${alias}.${t.range} >= ${lit(cut(range.from))}`);
    if (range.to) parts.push(`${alias}.${t.range} <= ${lit(cut(range.to))}`);
    return parts.join(' AND ');
  };
  const valueDiffers = 'ABS(b.value - s.value) > 1e-9 * GREATEST(1.0, ABS(s.value))';
  const differs = t.columns.map((c) => `b.${c} IS DISTINCT FROM s.${c}`);
  return `SELECT COALESCE(b.meter_id, s.meter_id) AS meter_id, COALESCE(b.${t.key}, s.${t.key}) AS key,
       CASE WHEN s.meter_id IS NULL THEN 'not-in-stream' WHEN b.meter_id IS NULL THEN 'not-in-batch' ELSE 'changed' END AS change,
       CASE WHEN ${valueDiffers} THEN 'value' END AS d_value,
       ${t.columns.map((c, i) => `CASE WHEN ${differs[i]} THEN '${c}' END AS d_${c}`).join(',\n       ')},
       b.value AS batch_value, s.value AS stream_value
FROM (SELECT * FROM ${viewNameOf(t.batch)} b WHERE ${inRange('b')}) b
FULL OUTER JOIN (SELECT * FROM ${stream} s WHERE s.meter_id <> ${lit(FLEET_ID)} AND ${inRange('s')}) s
  ON b.meter_id = s.meter_id AND b.${t.key} = s.${t.key}
WHERE s.meter_id IS NULL OR b.meter_id IS NULL OR ${valueDiffers} OR ${differs.join(' OR ')}
ORDER BY 1, 2`;
}

export async function diffBatch(
  engine: QueryEngine,
  range: { from?: string; to?: string },
): Promise<BatchDiff> {
  const out = {} as BatchDiff;
  const tables = new Set((await engine.tables()).map((t) => t.path));
  for (const name of Object.keys(COMPARED) as (keyof BatchDiff)[]) {
    const sql = diffSql(name, range, tables.has(COMPARED[name].stream));
    const r = await engine.query(sql, { maxRows: 1_000_000 });
    out[name] = r.rows.map((row) => ({
      meter_id: String(row.meter_id),
      key: String(row.key),
      change: row.change as DiffRow['change'],
      columns: Object.keys(row)
        .filter((k) => k.startsWith('d_') && row[k] !== null)
        .map((k) => String(row[k])),
      batch_value: num(row.batch_value),
      stream_value: num(row.stream_value),
    }));
  }
  return out;
}

const num = (v: EngineValue | undefined) => (v === null || v === undefined ? null : Number(v));
