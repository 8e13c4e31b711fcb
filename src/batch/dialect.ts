// The few spellings the batch view's SQL needs that DuckDB and Spark SQL write differently; the rules
// themselves (src/batch/meters-sql.ts, trace-sql.ts) are one SQL text both engines run.

import { bucketSql, type EngineName } from '../engine/index.ts';

export interface BatchDialect {
  /** milliseconds since the epoch (a whole number) of a timestamp */
  epochMs(ts: string): string;
  /** a wall-clock timestamp from milliseconds since the epoch */
  fromEpochMs(ms: string): string;
  /** the wall-clock time in zone `tz` of a UTC instant */
  utcToLocal(ts: string, tz: string): string;
  /** the UTC instant of a wall-clock time in zone `tz` */
  localToUtc(local: string, tz: string): string;
  /** a JSON text's top-level field as text */
  jsonField(json: string, field: string): string;
  /** an ISO-8601 text with its offset as an instant */
  isoInstant(text: string): string;
  /** 0 = Sunday … 6 = Saturday of a DATE */
  weekday(date: string): string;
  /** the SQL type of a UTC instant */
  instant: string;
  /** an aggregate: `x` of the row with the largest `by`, a null `x` included (DuckDB's max_by skips it) */
  lastBy(x: string, by: string): string;
  /** 0 … n−1 from a hash of `x`: the same on every run of one engine (the engines' hashes differ) */
  bucket(x: string, n: number): string;
}

const duckdb: BatchDialect = {
  epochMs: (ts) => `epoch_ms(${ts})`,
  fromEpochMs: (ms) => `make_timestamp(CAST(${ms} AS BIGINT) * 1000)`,
  utcToLocal: (ts, tz) => `timezone(${tz}, ${ts})`,
  localToUtc: (local, tz) => `timezone(${tz}, CAST(${local} AS TIMESTAMP))`,
  jsonField: (json, field) => `json_extract_string(${json}, '$.${field}')`,
  isoInstant: (text) => `CAST(${text} AS TIMESTAMPTZ)`,
  weekday: (date) => `dayofweek(${date})`,
  instant: 'TIMESTAMPTZ',
  lastBy: (x, by) => `arg_max_null(${x}, ${by})`,
  bucket: (x, n) => bucketSql('duckdb', x, n),
};

const spark: BatchDialect = {
  epochMs: (ts) => `unix_millis(${ts})`,
  fromEpochMs: (ms) => `timestamp_millis(CAST(${ms} AS BIGINT))`,
  utcToLocal: (ts, tz) => `from_utc_timestamp(${ts}, ${tz})`,
  localToUtc: (local, tz) => `to_utc_timestamp(CAST(${local} AS TIMESTAMP), ${tz})`,
  jsonField: (json, field) => `get_json_object(${json}, '$.${field}')`,
  isoInstant: (text) => `CAST(${text} AS TIMESTAMP)`,
  weekday: (date) => `(dayofweek(${date}) - 1)`,
  instant: 'TIMESTAMP',
  lastBy: (x, by) => `max_by(${x}, ${by})`,
  bucket: (x, n) => bucketSql('spark', x, n),
};

export function batchDialect(engine: EngineName): BatchDialect {
  return engine === 'spark' ? spark : duckdb;
}
