// The query-engine interface: read-only SQL over the lake's tables on DuckDB (in process) or Spark (Spark
// Connect), with one value and type model so the two engines' answers compare value for value.
//
// The rules every engine keeps (src/engine/conformance.ts checks them on each):
// - every Delta table of the lake is a view named by its path, '/' and '-' turned into '_'
//   (meters/gold/daily → meters_gold_daily), at the table's latest version when the query starts;
// - only read-only queries run (SELECT, WITH … SELECT, EXPLAIN); anything else is BAD_ARGUMENT;
// - types are Delta's (Spark's) names: string, boolean, byte, short, integer, long, float, double,
//   decimal(p,s), date, timestamp (an instant), timestamp_ntz (a wall-clock time), binary, void (NULL),
//   array<T>, map<K,V>, struct<name:T,…>; DuckDB's HUGEINT (its sum of integers) reads as long;
// - values: null; boolean; integers and floats as number (a long beyond 2^53 stays bigint; NaN and
//   ±Infinity as themselves); decimal as its exact text ('12.50'); date as 'YYYY-MM-DD'; timestamp as
//   ISO-8601 UTC with microseconds ('2013-01-01T00:30:00.000000Z'); timestamp_ntz the same without
//   the 'Z'; binary as Uint8Array; array as an array; map as an object keyed by the key's text;
//   struct as an object;
// - a query over a table the lake does not hold fails with NOT_FOUND naming it; bad SQL with
//   BAD_ARGUMENT and the engine's message; an aborted signal stops the query and rejects with its reason.

export type EngineName = 'duckdb' | 'spark';

/**
 * 0 … n−1 from a hash of the SQL expression `x`, as `engine` spells it: the same on every run of one
 * engine (the engines' hashes differ). What splits work into parts of the meters (the batch view's and the
 * training set's on DuckDB).
 */
export function bucketSql(engine: EngineName, x: string, n: number): string {
  return engine === 'spark' ? `pmod(hash(${x}), ${n})` : `(hash(${x}) % ${n})`;
}

export type EngineValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | EngineValue[]
  | { [key: string]: EngineValue };

export interface EngineColumn {
  name: string;
  /** a Delta type name, e.g. long, timestamp, decimal(10,2) */
  type: string;
}

export interface EngineResult {
  columns: EngineColumn[];
  /** one object per row keyed by column name (duplicate names are made unique: a, a_1) */
  rows: Record<string, EngineValue>[];
}

export interface QueryOptions {
  /** stops the query (DuckDB interrupts it, Spark gets an Interrupt) */
  signal?: AbortSignal;
  /** at most this many rows come back (default 10,000) */
  maxRows?: number;
  /** stops the query after this long with TIMEOUT */
  timeoutMs?: number;
}

export interface EngineTable {
  /** the table's path in the lake: meters/gold/daily */
  path: string;
  /** its view name: meters_gold_daily */
  view: string;
}

export interface EnginePing {
  /** the engine's version as it reports it */
  version: string;
  /** how long the round trip took */
  ms: number;
}

export interface QueryEngine {
  readonly name: EngineName;
  /** where it runs: 'in process' or spark://host:port */
  readonly address: string;
  /** the lake URL the views read */
  readonly lake: string;
  query(sql: string, opts?: QueryOptions): Promise<EngineResult>;
  /** the lake's tables and their view names */
  tables(): Promise<EngineTable[]>;
  /** a trivial query: proves the engine answers */
  ping(opts?: { signal?: AbortSignal }): Promise<EnginePing>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_ROWS = 10_000;

/** A result's column names made unique the way DuckDB does it (a, a_1, a_2). */
export function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let i = 1; seen.has(name); i++) name = `${n}_${i}`;
    seen.add(name);
    return name;
  });
}

/** A safe-range bigint as a number, a bigger one as itself. */
export function longValue(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** Microseconds since the epoch as ISO-8601 with six fractional digits ('Z' for an instant). */
export function microsToIso(micros: bigint, utc: boolean): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const base = new Date(Number(ms)).toISOString(); // 2013-01-01T00:30:00.123Z
  return `${base.slice(0, 19)}.${frac.toString().padStart(6, '0')}${utc ? 'Z' : ''}`;
}

/** Days since the epoch as 'YYYY-MM-DD'. */
export function daysToDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** An unscaled decimal as its exact text: (1250n, 2) → '12.50'. */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
