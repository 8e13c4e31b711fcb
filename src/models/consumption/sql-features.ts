// The training set as one SQL query over the lake's gold daily (and silver's holidays): every closed
// meter-month's example (z, t) at every as-of day k, the features of features.ts's prepare() written in
// SQL that DuckDB and Spark both run (no dialect functions: weekdays and month arithmetic come from a
// calendar this module writes as VALUES; the one exception is the median over a window, medianOver).
// test/models/engine-train.test.ts holds the SQL equal to prepare() row by row;
// test/models/sql-features-cum.test.ts holds `cum` (window functions) equal to the self-join it replaced.

import { FLEET_ID } from '../../domain/meters/tables.ts';
import { bucketSql, type EngineName } from '../../engine/index.ts';
import { addMonths, dateOf, daysInMonth, weekdayOf } from './calendar.ts';
import { FEATURE_NAMES, PREV_LAST_SHARE } from './features.ts';

const D = FEATURE_NAMES.length;

/** A number as a SQL double literal both engines read as DOUBLE (Spark reads 0.5 as a decimal). */
export function doubleSql(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  const s = String(v);
  return /e/i.test(s) ? s : `${s}e0`;
}

/** Every month from `first` to `last` ('YYYY-MM') with its days, previous month and last year's month. */
function calendarSql(first: string, last: string): { days: string; months: string } {
  const days: string[] = [];
  const months: string[] = [];
  for (let m = first; m <= last; m = addMonths(m, 1)) {
    const dim = daysInMonth(m);
    months.push(`('${m}', ${dim}, '${addMonths(m, -1)}', '${addMonths(m, -12)}')`);
    for (let d = 1; d <= dim; d++) {
      const wd = weekdayOf(m, d);
      days.push(`('${dateOf(m, d)}', '${m}', ${d}, ${wd === 0 || wd === 6 ? 1 : 0})`);
    }
  }
  return {
    days: `SELECT * FROM (VALUES ${days.join(', ')}) AS cal(day, month, dom, weekend)`,
    months: `SELECT * FROM (VALUES ${months.join(', ')}) AS mon(month, dim, prev_month, ly_month)`,
  };
}

export interface TrainingSetSqlOptions {
  /** the first and last month of gold daily ('YYYY-MM') */
  firstMonth: string;
  lastMonth: string;
  /** whether meters_silver_readings exists (its is_holiday days are the meters' holidays; none without it) */
  silver: boolean;
  /** the largest as-of day (model.ts's MAX_K) */
  maxK: number;
  /** the engine the query is for: only the windowed median is spelled per engine (medianOver) */
  engine: EngineName;
  /**
   * only the meters of this part (a hash of the id, bucketSql): every row of the training set is one
   * meter's, so the parts' examples together are the whole set's (engine-train.ts builds DuckDB's in parts)
   */
  part?: { index: number; of: number };
}

/**
 * `cum` (each closed meter-month's days up to the as-of day k) is windows over the month's days: one row
 * per day, where a self-join of the days (b.dom <= a.dom, grouped) made O(days²) rows and buffered every
 * group's values for its median, which DuckDB cannot spill (duckdb/duckdb#14132): past a 6 GB memory_limit
 * at 30,000 meters × 3 years. The sums add the same values in the frame's order, not the join's: the
 * same to a few units in the last place.
 *
 * A window over a meter-month's days up to the day itself, from `preceding` days before it (UNBOUNDED: the
 * month's first day). RANGE on dom, not ROWS, so a missing day is not replaced by an earlier one: the frame
 * is the days b with dom - preceding <= b.dom <= dom, what the self-join this replaced grouped.
 */
export const cumWindow = (preceding: string) =>
  `PARTITION BY d.meter_id, d.month ORDER BY d.dom RANGE BETWEEN ${preceding} PRECEDING AND CURRENT ROW`;

/**
 * The median of `v` over a window, as each engine accepts it: Spark 4.0 refuses a frame on median
 * (INVALID_WINDOW_SPEC_FOR_AGGREGATION_FUNC) but not on percentile(v, 0.5), which DuckDB lacks. Both take
 * the mean of the two middle values of an even count, as prepare() does (test/helpers/cum-frames.ts);
 * Spark's percentile is what its median was in the self-join, so each engine's medians are unchanged.
 */
export function medianOver(engine: EngineName, v: string, window: string): string {
  return engine === 'spark' ? `percentile(${v}, 0.5) OVER (${window})` : `median(${v}) OVER (${window})`;
}

/** `least(2·mean, greatest(mean/2, v))`: features.ts's cap. */
const cap = (v: string) => `least(2e0 * mean, greatest(mean / 2e0, ${v}))`;

/**
 * The query's CTEs, ending in `examples` (meter_id, month, k, actual, observed, rest, x0…x11, z0…z11, t)
 * and `closed` (one row per closed meter-month, as TrainingSet counts them).
 */
export function trainingSetCtes(o: TrainingSetSqlOptions): string {
  const cal = calendarSql(addMonths(o.firstMonth, -12), o.lastMonth);
  const part = o.part;
  // a meter's rows, not the fleet's (and of this part's meters only)
  const meterRow = (id: string) =>
    `${id} <> '${FLEET_ID}'${part ? ` AND ${bucketSql(o.engine, id, part.of)} = ${part.index}` : ''}`;
  const hol = o.silver
    ? `SELECT DISTINCT meter_id, day FROM meters_silver_readings WHERE is_holiday AND ${meterRow('meter_id')}`
    : `SELECT meter_id, day FROM meters_gold_daily WHERE 1 = 0`;
  const x = [
    'mean',
    'CASE WHEN prev_mean IS NULL THEN mean ELSE 0e0 END',
    'CASE WHEN prev_mean IS NULL THEN 0e0 ELSE prev_capped END',
    'last3',
    'med',
    `CASE WHEN smly IS NULL THEN 0e0 ELSE ${cap('smly / dim')} - history END`,
    'CASE WHEN smly IS NULL THEN mean ELSE 0e0 END',
    'CASE WHEN rest > 0 AND seen_mix > 0 AND mean > 0 THEN (mean * rest_mix) / seen_mix ELSE mean END',
    '((h_month - hol_n) / n_rest - hol_n / CAST(k AS DOUBLE)) * mean',
    `CASE WHEN tariff = 'ToU' THEN mean ELSE 0e0 END`,
    'last7',
    'CASE WHEN prev_mean IS NULL THEN 0e0 ELSE prev_last_capped END',
  ];
  if (x.length !== D) throw new Error('the SQL features do not match FEATURE_NAMES');
  const mix = (share: string) => `(${share}) * we_mean + (1e0 - (${share})) * wd_mean`;
  return `
cal AS (${cal.days}),
mon AS (${cal.months}),
hol AS (${hol}),
days AS (
  SELECT g.meter_id, c.month, c.dom, g.value AS v,
         CASE WHEN h.day IS NULL THEN 0 ELSE 1 END AS hol,
         CASE WHEN c.weekend = 1 OR h.day IS NOT NULL THEN 1 ELSE 0 END AS we
  FROM meters_gold_daily g JOIN cal c ON c.day = g.day
  LEFT JOIN hol h ON h.meter_id = g.meter_id AND h.day = g.day
  WHERE g.complete AND ${meterRow('g.meter_id')}
),
mm AS (
  SELECT d.meter_id, d.month, m.dim, m.prev_month, m.ly_month, count(*) AS n_days, sum(d.v) AS total,
         sum(d.we) AS we_n, sum(d.hol) AS hol_n, sum(d.we * d.v) AS we_sum
  FROM days d JOIN mon m ON m.month = d.month
  GROUP BY d.meter_id, d.month, m.dim, m.prev_month, m.ly_month
),
last_week AS (
  SELECT meter_id, month, avg(v) AS last7
  FROM (SELECT meter_id, month, v, row_number() OVER (PARTITION BY meter_id, month ORDER BY dom DESC) AS r FROM days) AS ranked
  WHERE r <= 7 GROUP BY meter_id, month
),
meta_day AS (
  SELECT meter_id, max(day) AS day FROM meters_gold_daily
  WHERE complete AND ${meterRow('meter_id')} AND (tariff IS NOT NULL OR acorn_group IS NOT NULL) GROUP BY meter_id
),
meta AS (
  SELECT DISTINCT g.meter_id, g.tariff FROM meters_gold_daily g JOIN meta_day md ON md.meter_id = g.meter_id AND md.day = g.day
  WHERE g.complete
),
closed AS (
  SELECT c.meter_id, c.month, c.dim, c.total AS actual, c.we_n AS w_month, c.hol_n AS h_month,
         p.total / p.n_days AS prev_mean, p.we_sum AS p_we_sum, p.we_n AS p_we_n,
         p.total - p.we_sum AS p_wd_sum, p.n_days - p.we_n AS p_wd_n, lw.last7 AS prev_last7,
         ly.total AS smly, meta.tariff
  FROM mm c
  LEFT JOIN mm p ON p.meter_id = c.meter_id AND p.month = c.prev_month
  LEFT JOIN last_week lw ON lw.meter_id = c.meter_id AND lw.month = c.prev_month
  LEFT JOIN mm ly ON ly.meter_id = c.meter_id AND ly.month = c.ly_month AND ly.n_days = ly.dim
  LEFT JOIN meta ON meta.meter_id = c.meter_id
  WHERE c.n_days = c.dim
),
cum AS (
  SELECT meter_id, month, k, s, med, we_sum, we_n, hol_n, last3, last7
  FROM (
    SELECT d.meter_id, d.month, d.dom AS k, c.dim,
           sum(d.v) OVER (${cumWindow('UNBOUNDED')}) AS s, ${medianOver(o.engine, 'd.v', cumWindow('UNBOUNDED'))} AS med,
           sum(d.we * d.v) OVER (${cumWindow('UNBOUNDED')}) AS we_sum, sum(d.we) OVER (${cumWindow('UNBOUNDED')}) AS we_n,
           sum(d.hol) OVER (${cumWindow('UNBOUNDED')}) AS hol_n,
           avg(d.v) OVER (${cumWindow('2')}) AS last3, avg(d.v) OVER (${cumWindow('6')}) AS last7
    FROM days d JOIN closed c ON c.meter_id = d.meter_id AND c.month = d.month
    WHERE c.actual > 0
  ) AS w
  WHERE k < dim AND k <= ${o.maxK}
),
base AS (
  SELECT c.*, u.k, u.s, u.med, u.we_sum, u.we_n, u.hol_n, u.last3, u.last7,
         u.s / u.k AS mean, CAST(c.dim - u.k AS DOUBLE) AS rest, CAST(greatest(1, c.dim - u.k) AS DOUBLE) AS n_rest,
         prev_mean IS NOT NULL AND prev_mean > 0 AS p_ok
  FROM cum u JOIN closed c ON c.meter_id = u.meter_id AND c.month = u.month
),
capped AS (
  SELECT base.*, ${cap('prev_mean')} AS prev_capped, ${cap('prev_last7')} AS prev_last_capped,
         (u_we_ratio) / (we_n + 2e0 + CASE WHEN p_ok THEN p_we_n ELSE 0 END) AS we_mean,
         (u_wd_ratio) / (k - we_n + 2e0 + CASE WHEN p_ok THEN p_wd_n ELSE 0 END) AS wd_mean
  FROM (
    SELECT base.*,
           we_sum / nullif(mean, 0e0) + 2e0 + CASE WHEN p_ok THEN p_we_sum / prev_mean ELSE 0e0 END AS u_we_ratio,
           (s - we_sum) / nullif(mean, 0e0) + 2e0 + CASE WHEN p_ok THEN p_wd_sum / prev_mean ELSE 0e0 END AS u_wd_ratio
    FROM base
  ) AS base
),
mixed AS (
  SELECT capped.*,
         CASE WHEN prev_mean IS NULL THEN mean
              ELSE ${doubleSql(1 - PREV_LAST_SHARE)} * prev_capped + ${doubleSql(PREV_LAST_SHARE)} * prev_last_capped END AS history,
         ${mix('we_n / CAST(k AS DOUBLE)')} AS seen_mix,
         ${mix('(w_month - we_n) / n_rest')} AS rest_mix
  FROM capped
),
features AS (
  SELECT meter_id, month, k, dim, actual, s AS observed, rest, ${x.map((e, i) => `${e} AS x${i}`).join(', ')}
  FROM mixed
),
examples AS (
  SELECT features.*, ${x.map((_, i) => `x${i} * scale AS z${i}`).join(', ')}, (actual - observed) / actual AS t
  FROM (SELECT features.*, rest / actual AS scale FROM features) AS features
)`;
}

/** z·β − t for the coefficients of each k, as a SQL expression over `examples` joined with `beta` (b0…). */
export function residualSql(): string {
  return `${Array.from({ length: D }, (_, i) => `z${i} * b${i}`).join(' + ')} - t`;
}

/** The coefficients per k as a VALUES table beta(k, b0…). */
export function betaValuesSql(betas: readonly (readonly number[])[]): string {
  const rows = betas.map((b, i) => `(${i + 1}, ${b.map(doubleSql).join(', ')})`);
  const cols = Array.from({ length: D }, (_, i) => `b${i}`).join(', ');
  return `SELECT * FROM (VALUES ${rows.join(', ')}) AS beta(k, ${cols})`;
}
