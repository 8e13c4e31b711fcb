// The few spellings the server's SQL needs that DuckDB and Spark SQL write differently; everything else
// it writes in the SQL both read (max_by, bool_and, any_value, FILTER, GROUP BY ALL, "quoted" names).

import type { LakeReader } from '../lake-reader.ts';

export interface Dialect {
  /** a DATE or TIMESTAMP as text: day 'YYYY-MM-DD', month 'YYYY-MM', hour 'YYYY-MM-DDTHH:00:00Z', second 'YYYY-MM-DDTHH:MM:SSZ' */
  text(expr: string, as: 'day' | 'month' | 'hour' | 'second'): string;
  /** whole-number division of two integers (rounding down for the positive values it is used on) */
  div(a: string, b: string): string;
  /** a DATE n months later */
  addMonths(date: string, n: number): string;
  /** the tail of a SELECT taking a repeatable random sample of n rows */
  sample(n: number, seed: number): string;
}

const duckdb: Dialect = {
  text: (e, as) =>
    `strftime(${e}, '${{ day: '%Y-%m-%d', month: '%Y-%m', hour: '%Y-%m-%dT%H:00:00Z', second: '%Y-%m-%dT%H:%M:%SZ' }[as]}')`,
  div: (a, b) => `(${a}) // (${b})`,
  addMonths: (d, n) => `CAST(${d} + INTERVAL ${n} MONTH AS DATE)`,
  sample: (n, seed) => `USING SAMPLE reservoir(${n} ROWS) REPEATABLE (${seed})`,
};

// Spark reads "x" as a name (doubleQuotedIdentifiers), so format patterns avoid quoted letters: concat.
const spark: Dialect = {
  text: (e, as) =>
    as === 'day'
      ? `date_format(${e}, 'yyyy-MM-dd')`
      : as === 'month'
        ? `date_format(${e}, 'yyyy-MM')`
        : as === 'hour'
          ? `concat(date_format(${e}, 'yyyy-MM-dd'), 'T', date_format(${e}, 'HH'), ':00:00Z')`
          : `concat(date_format(${e}, 'yyyy-MM-dd'), 'T', date_format(${e}, 'HH:mm:ss'), 'Z')`,
  div: (a, b) => `(${a}) DIV (${b})`,
  addMonths: (d, n) => `add_months(${d}, ${n})`,
  sample: (n, seed) => `ORDER BY rand(${seed}) LIMIT ${n}`,
};

export function dialectOf(lake: LakeReader): Dialect {
  return lake.engine === 'spark' ? spark : duckdb;
}
