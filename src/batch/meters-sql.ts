// The batch view's rules for the meters workload: the stream's hourly silver, daily and monthly gold
// recomputed from the master data (bronze, plus the valid readings quarantined as too-late), as one
// SQL text per table that DuckDB and Spark both run (src/batch/dialect.ts holds their few differences).
//
// The rules are the stream processor's (src/workloads/meters/processor.ts), restated over whole tables:
// - a reading's consumption: an interval reading's value; a register read's rise since the meter's
//   previous read, kept when 0 ≤ rise ≤ maxRegisterDiff (one reading per meter and instant: duplicates dropped);
// - hourly: per meter, local day and UTC hour, the sum of consumption and the readings counted;
// - daily: per meter and local day, the sum, the readings, the expected readings (the day's length in
//   the meter's zone over its smallest gap between readings), complete (all expected; water ¾ of them),
//   closed (the day's end plus the allowed lateness is at or before the meter's latest reading);
// - monthly: per meter and month, the sum of its days, days with data, complete days, closed likewise.
// The batch view test (test/batch/batch.test.ts) holds these equal to the stream's tables on a replay.
// Sums are exact (DECIMAL(38,9)), so both engines give the same doubles whatever the order of the rows.

import { METER_TABLES } from '../domain/meters/tables.ts';
import { viewNameOf } from '../lake/index.ts';
import { DEFAULT_METERS_CONFIG } from '../workloads/meters/processor.ts';
import type { BatchDialect } from './dialect.ts';

/** What a meter's rows carry that the readings do not: the stream's enrichment, per meter. */
export interface MeterInfo {
  meter_id: string;
  tariff: string | null;
  acorn: string | null;
  acorn_group: string | null;
  sample: boolean;
  /** the name of the meter's holiday calendar, null when unknown */
  calendar: string | null;
}

export interface MetersBatchInput {
  dialect: BatchDialect;
  meters: MeterInfo[];
  /** calendar name → its holidays ('YYYY-MM-DD') */
  calendars: Map<string, ReadonlySet<string>>;
  /** local days covered, inclusive ('YYYY-MM-DD'); all when absent */
  from?: string;
  to?: string;
  allowedLatenessMs?: number;
  maxRegisterDiff?: number;
  /** whether the lake has a quarantine table to take too-late readings from */
  lateReadings: boolean;
  /**
   * Only the meters in part `index` of `of` (by a hash of their id; all when absent). Every step of the
   * rules is per meter, so the parts' rows together are the whole table's (run.ts: DuckDB's parts).
   */
  part?: { index: number; of: number };
}

const BRONZE = viewNameOf(METER_TABLES.bronze.path);
const QUARANTINE = viewNameOf(METER_TABLES.quarantine.path);

const lit = (v: string | null) => (v === null ? 'CAST(NULL AS STRING)' : `'${v.replaceAll("'", "''")}'`);

/** A relation of literal rows (VALUES), typed; an empty one when there are no rows. */
function values(cols: [string, string][], rows: string[][]): string {
  const names = cols.map(([n]) => n).join(', ');
  if (rows.length === 0)
    return `(SELECT ${cols.map(([n, t]) => `CAST(NULL AS ${t}) AS ${n}`).join(', ')} WHERE 1 = 0)`;
  return `(SELECT * FROM (VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS v(${names}))`;
}

/**
 * Whether a meter has anything for `info`: one with no tariff, ACORN, sample flag or calendar is left
 * out, since the LEFT JOINs on `info` give it the same nulls (and `COALESCE(i.sample, false)` its
 * false). Every meter as a literal row made a plan Spark's driver could not hold at 100,000 meters (its
 * 1 GB heap ran out in the hourly step); a fleet without enrichment now writes about its sample's rows.
 */
export const hasInfo = (m: MeterInfo) =>
  m.tariff !== null || m.acorn !== null || m.acorn_group !== null || m.sample || m.calendar !== null;

/** The common part of every batch table's query: the readings, one per meter and instant, with their consumption. */
function readingsCte(i: MetersBatchInput): string {
  const d = i.dialect;
  const maxDiff = i.maxRegisterDiff ?? DEFAULT_METERS_CONFIG.maxRegisterDiff;
  const lateness = i.allowedLatenessMs ?? DEFAULT_METERS_CONFIG.allowedLatenessMs;
  const j = (f: string) => d.jsonField('raw_text', f);
  const late = `${d.isoInstant(j('ts'))}`;
  const info = values(
    [
      ['meter_id', 'STRING'],
      ['tariff', 'STRING'],
      ['acorn', 'STRING'],
      ['acorn_group', 'STRING'],
      ['sample', 'BOOLEAN'],
      ['calendar', 'STRING'],
    ],
    i.meters
      .filter(hasInfo)
      .map((m) => [
        lit(m.meter_id),
        lit(m.tariff),
        lit(m.acorn),
        lit(m.acorn_group),
        m.sample ? 'true' : 'false',
        lit(m.calendar),
      ]),
  );
  const holidays = values(
    [
      ['calendar', 'STRING'],
      ['day', 'STRING'],
    ],
    [...i.calendars].flatMap(([name, days]) => [...days].sort().map((day) => [lit(name), lit(day)])),
  );
  const inPart = (id: string) => (i.part ? ` AND ${d.bucket(id, i.part.of)} = ${i.part.index}` : '');
  return `
info AS ${info},
holidays AS ${holidays},
master AS (
  SELECT meter_id, kind, ts, value, unit, type, tz, day, 0 AS source FROM ${BRONZE} WHERE 1 = 1${inPart('meter_id')}
${
  i.lateReadings
    ? `  UNION ALL
  -- a valid reading the stream got after its day was released: its own JSON, as the producer sent it
  SELECT ${j('meter_id')}, ${j('kind')}, ${late}, CAST(${j('value')} AS DOUBLE), ${j('unit')}, ${j('type')},
         ${j('tz')},
         CASE WHEN ${j('tz')} IS NULL THEN substr(${j('ts')}, 1, 10)
              ELSE CAST(CAST(${d.utcToLocal(late, j('tz'))} AS DATE) AS STRING) END,
         1
  FROM ${QUARANTINE} WHERE reason = 'too-late'${inPart(j('meter_id'))}
`
    : ''
}),
ranked AS (
  SELECT master.*, ROW_NUMBER() OVER (PARTITION BY meter_id, ts ORDER BY source) AS copy FROM master
),
ordered AS (
  SELECT meter_id, kind, ts, value, unit, type, tz, day, ${d.epochMs('ts')} AS ms,
         ${d.epochMs('ts')} - LAG(${d.epochMs('ts')}) OVER (PARTITION BY meter_id ORDER BY ts) AS gap,
         value - LAG(value) OVER (PARTITION BY meter_id ORDER BY ts) AS rise
  FROM ranked WHERE copy = 1
),
meters AS (
  -- a meter's watermark (its latest reading), interval (its smallest gap) and, without a zone, its
  -- fixed offset: the smallest whole quarter hour putting every reading on its local day
  SELECT meter_id, MAX(kind) AS kind, MAX(unit) AS unit, MAX(tz) AS tz, MAX(ms) AS watermark,
         MIN(CASE WHEN gap > 0 THEN gap END) AS interval_ms,
         CAST(CEIL(MAX(${d.epochMs('CAST(day AS TIMESTAMP)')} - ms) / 900000.0) * 900000 AS BIGINT) AS offset_ms
  FROM ordered GROUP BY meter_id
),
readings AS (
  SELECT o.meter_id, o.ts, o.day, o.ms,
         CASE WHEN o.type = 'interval' THEN o.value
              WHEN o.rise >= 0 AND o.rise <= ${maxDiff} THEN o.rise END AS consumption
  FROM ordered o
  WHERE ${rangeWhere('o.day', i)}
),
days AS (
  SELECT r.meter_id, r.day,
         CAST(SUM(CAST(COALESCE(r.consumption, 0) AS DECIMAL(38, 9))) AS DOUBLE) AS value,
         COUNT(*) AS n
  FROM readings r GROUP BY r.meter_id, r.day
),
day_bounds AS (
  SELECT d.meter_id, d.day, d.value, d.n, m.kind, m.unit, m.interval_ms,
         ${dayStart('d.day', d)} AS start_ms,
         ${dayStart(`CAST(CAST(d.day AS DATE) + INTERVAL 1 DAY AS STRING)`, d)} AS end_ms,
         m.watermark
  FROM days d JOIN meters m ON m.meter_id = d.meter_id
),
expected AS (
  SELECT b.*, CASE WHEN b.interval_ms IS NULL THEN b.n
                   ELSE CAST(ROUND((b.end_ms - b.start_ms) / b.interval_ms) AS BIGINT) END AS expected
  FROM day_bounds b
),
daily AS (
  SELECT e.*,
         CASE WHEN e.kind = 'water' THEN e.n >= FLOOR(e.expected * 0.75) ELSE e.n >= e.expected END AS complete,
         e.end_ms + ${lateness} <= e.watermark AS closed
  FROM expected e
)`;
}

/** UTC ms of a local day's start ('YYYY-MM-DD' text) for the meter row `m` in scope (its zone or fixed offset). */
function dayStart(day: string, d: BatchDialect): string {
  return `CASE WHEN m.tz IS NULL THEN ${d.epochMs(`CAST(${day} AS TIMESTAMP)`)} - m.offset_ms
               ELSE ${d.epochMs(d.localToUtc(day, 'm.tz'))} END`;
}

function rangeWhere(day: string, i: MetersBatchInput): string {
  const parts = ['1 = 1'];
  if (i.from) parts.push(`${day} >= ${lit(i.from)}`);
  if (i.to) parts.push(`${day} <= ${lit(i.to)}`);
  return parts.join(' AND ');
}

/** meters/batch/hourly: the silver table's rows. */
export function hourlySql(i: MetersBatchInput): string {
  const d = i.dialect;
  const local = `CASE WHEN h.tz IS NULL THEN ${d.fromEpochMs(`${d.epochMs('h.hour')} + h.offset_ms`)}
                      ELSE ${d.utcToLocal('h.hour', 'h.tz')} END`;
  return `WITH ${readingsCte(i)},
hours AS (
  SELECT r.meter_id, r.day, r.consumption, date_trunc('hour', r.ts) AS hour, m.kind, m.unit, m.tz, m.offset_ms
  FROM readings r JOIN meters m ON m.meter_id = r.meter_id
  WHERE r.consumption IS NOT NULL
),
grouped AS (
  SELECT h.meter_id, h.kind, h.unit, h.tz, h.offset_ms, h.day, h.hour,
         CAST(SUM(CAST(h.consumption AS DECIMAL(38, 9))) AS DOUBLE) AS value, COUNT(*) AS n
  FROM hours h GROUP BY h.meter_id, h.kind, h.unit, h.tz, h.offset_ms, h.day, h.hour
)
SELECT h.meter_id AS meter_id, CAST(h.kind AS STRING) AS kind, CAST(h.hour AS ${d.instant}) AS hour,
       h.value AS value, CAST(h.unit AS STRING) AS unit, CAST(h.n AS INT) AS n_readings, h.day AS day,
       CAST(hour(${local}) AS INT) AS local_hour,
       CAST(${d.weekday('CAST(h.day AS DATE)')} AS INT) AS weekday,
       CASE WHEN i.calendar IS NULL THEN CAST(NULL AS BOOLEAN) ELSE hd.day IS NOT NULL END AS is_holiday,
       i.tariff AS tariff, i.acorn AS acorn, i.acorn_group AS acorn_group,
       COALESCE(i.sample, false) AS sample, substr(h.day, 1, 7) AS month
FROM grouped h
LEFT JOIN info i ON i.meter_id = h.meter_id
LEFT JOIN holidays hd ON hd.calendar = i.calendar AND hd.day = h.day`;
}

/** meters/batch/daily: the gold daily table's rows (meters only: the fleet's rows are the stream's). */
export function dailySql(i: MetersBatchInput): string {
  return `WITH ${readingsCte(i)}
SELECT d.meter_id AS meter_id, CAST(d.kind AS STRING) AS kind, d.day AS day, d.value AS value,
       CAST(d.unit AS STRING) AS unit, CAST(d.n AS INT) AS n_readings, CAST(d.expected AS INT) AS expected_readings,
       d.complete AS complete, d.closed AS closed, i.tariff AS tariff, i.acorn_group AS acorn_group,
       substr(d.day, 1, 7) AS month
FROM daily d LEFT JOIN info i ON i.meter_id = d.meter_id`;
}

/** meters/batch/monthly: the gold monthly table's rows, from the days above. */
export function monthlySql(i: MetersBatchInput): string {
  const d = i.dialect;
  const first = `CAST(concat(mo.month, '-01') AS DATE)`;
  return `WITH ${readingsCte(i)},
mo AS (
  SELECT meter_id, substr(day, 1, 7) AS month, MAX(kind) AS kind, MAX(unit) AS unit,
         CAST(SUM(CAST(value AS DECIMAL(38, 9))) AS DOUBLE) AS value, COUNT(*) AS days_with_data,
         SUM(CASE WHEN complete THEN 1 ELSE 0 END) AS complete_days
  FROM daily GROUP BY meter_id, substr(day, 1, 7)
)
SELECT mo.meter_id AS meter_id, CAST(mo.kind AS STRING) AS kind, mo.value AS value, CAST(mo.unit AS STRING) AS unit,
       CAST(mo.days_with_data AS INT) AS days_with_data, CAST(mo.complete_days AS INT) AS complete_days,
       CAST(day(last_day(${first})) AS INT) AS days_in_month,
       mo.complete_days = day(last_day(${first})) AS complete,
       ${dayStart(`CAST(last_day(${first}) + INTERVAL 1 DAY AS STRING)`, d)} + ${i.allowedLatenessMs ?? DEFAULT_METERS_CONFIG.allowedLatenessMs} <= m.watermark AS closed,
       mo.month AS month
FROM mo JOIN meters m ON m.meter_id = mo.meter_id`;
}

/**
 * The view's high-water mark: the latest event time among the readings covered. From `master`, not
 * `readings`: the copies `readings` drops share their instant, and no window runs for a maximum.
 */
export function markSql(i: MetersBatchInput): string {
  return `WITH ${readingsCte(i)}
SELECT MAX(ts) AS mark FROM master WHERE ${rangeWhere('day', i)}`;
}
