// Data files: rows (checked against the schema) -> DuckDB data chunks appended to a temp table of
// staging columns -> one DuckDB COPY to Parquet (ZSTD), one file per partition value, with the per-file
// stats `add.stats` wants (RETURN_STATS). The chunks are filled column by column, not value by value
// through the Appender's append calls, nor through a JSON file that DuckDB parses back (both measured
// slower): fixed-width columns (doubles, dictionary codes, whole numbers and timestamps) from one typed
// array per column of 2,048 rows with one native copy (DuckDB's C API `copy_data_to_vector`), strings
// with one native call each; the other types through the vectors' setItem. Timestamps are staged as
// TIMESTAMPTZ themselves: a TIMESTAMP -> TIMESTAMPTZ cast in the COPY goes through ICU and cost as much
// as the rest of a bronze file's write (measured).

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { endianness, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBType,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  VARCHAR,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { joinPath } from '../storage/index.ts';
import { type AddFile, encodeDataPath, escapePartitionValue } from './actions.ts';
import { withDuck } from './duck.ts';
import { mapLimit } from './log/load.ts';
import { type Field, fieldDuckType, quoteIdent, quoteString } from './schema.ts';

export type Row = Record<string, unknown>;

export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** How a value is staged: the DuckDB column type it is appended as and the SQL that gives the Delta type. */
interface Staging {
  /** the staging column's type */
  duck: DuckDBType;
  /** expression over the staged column `x` giving the Delta type */
  sql: (x: string) => string;
  /** JS value -> the staging column's JS value; throws on a value the type cannot hold */
  encode: (v: unknown) => unknown;
}

function toMicros(v: unknown): number | string {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new Error('invalid Date');
    return ms * 1000;
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('not a finite number');
    return Math.round(v * 1000); // ms since the epoch
  }
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new Error('not a timestamp');
    // keep the microseconds Date.parse drops: "…:00.123456Z"
    const frac = /\.\d{3}(\d{1,3})/.exec(v);
    const extra = frac ? Number(frac[1].padEnd(3, '0')) : 0;
    return ms * 1000 + (ms >= 0 ? extra : -extra);
  }
  throw new Error('not a timestamp');
}

function integer(v: unknown): number | string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('not a whole number');
    return v;
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
  throw new Error('not a whole number');
}

function number(v: unknown): number | string {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v); // 'NaN', 'Infinity' cast fine
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return v;
  throw new Error('not a number');
}

const same = (x: string) => x;

// The vectors check ranges themselves (an INTEGER vector refuses 2**31, a BIGINT one 2n**64n).
const int64 = (v: unknown) => BigInt(integer(v));
const int32 = (v: unknown) => Number(integer(v));
const float64 = (v: unknown) => Number(number(v));
const micros = (v: unknown) => BigInt(toMicros(v));

function stagingOf(f: Field): Staging {
  const t = f.type;
  const cast = (duck: string) => (x: string) => `CAST(${x} AS ${duck})`;
  switch (t) {
    case 'string':
      return { duck: VARCHAR, sql: same, encode: (v) => (typeof v === 'string' ? v : String(v)) };
    case 'long':
      return { duck: BIGINT, sql: same, encode: int64 };
    case 'integer':
      return { duck: INTEGER, sql: same, encode: int32 };
    case 'short':
      return { duck: SMALLINT, sql: same, encode: int32 };
    case 'byte':
      return { duck: TINYINT, sql: same, encode: int32 };
    case 'double':
      return { duck: DOUBLE, sql: same, encode: float64 };
    case 'float':
      return { duck: FLOAT, sql: same, encode: float64 };
    case 'boolean':
      return { duck: BOOLEAN, sql: same, encode: (v) => Boolean(v) };
    case 'date':
      return {
        duck: VARCHAR,
        sql: cast('DATE'),
        encode: (v) => {
          const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
          if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new Error('not a YYYY-MM-DD date');
          return s;
        },
      };
    case 'timestamp':
      // micros since the epoch -> TIMESTAMP -> TIMESTAMPTZ (TimeZone is UTC, so no shift)
      return { duck: BIGINT, sql: (x) => `CAST(make_timestamp(${x}) AS TIMESTAMPTZ)`, encode: micros };
    case 'timestamp_ntz':
      return { duck: BIGINT, sql: (x) => `make_timestamp(${x})`, encode: micros };
    case 'binary':
      return {
        duck: VARCHAR,
        sql: (x) => `from_base64(${x})`,
        encode: (v) =>
          Buffer.from(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v))).toString('base64'),
      };
    default:
      if (t.startsWith('decimal'))
        return { duck: VARCHAR, sql: cast(fieldDuckType(f)), encode: (v) => String(number(v)) };
      throw new LakestreamError('UNSUPPORTED', `cannot write column "${f.name}" of type ${t}`);
  }
}

const CHUNK_ROWS = 2048;

/**
 * A string column staged as codes into a list of its distinct values, when it has few: setting a
 * VARCHAR item is a native call per value (the largest cost of staging a batch, measured), an
 * INTEGER item a typed-array write. Readings repeat their kind, unit, type, topic, zone and day, and
 * a batch's meters each send several. Bounded so the list stays a small SQL literal.
 */
const DICTIONARY_MAX = 4096;

/**
 * The staging columns of `rows`: each value checked and encoded once (a bad one is an error naming
 * the table, row and column), then how the column goes to DuckDB — as its type's staging, as codes
 * into a dictionary (strings with few distinct values), or as doubles (whole numbers that are all
 * exact as doubles: long and timestamp columns then need no BigInt per value).
 */
function planColumns(rows: Row[], schema: Field[], stagings: Staging[], table: string): PlannedColumn[] {
  const n = rows.length;
  return schema.map((f, c) => {
    const { encode } = stagings[c];
    const required = f.nullable === false;
    const values = new Array<unknown>(n);
    const isString = f.type === 'string';
    const dict = isString ? new Map<string, number>() : undefined;
    let inDict = isString;
    // each value's code, found once (the column's values repeat in runs: kind, unit, topic, day…)
    const codes = isString ? new Int32Array(n) : undefined;
    let last: string | undefined;
    let lastCode = 0;
    let exactDoubles = f.type === 'long' || f.type === 'timestamp' || f.type === 'timestamp_ntz';
    for (let i = 0; i < n; i++) {
      const v = rows[i][f.name];
      if (v === null || v === undefined) {
        if (required)
          throw new LakestreamError(
            'BAD_INPUT',
            `table ${table}: row ${i}: column "${f.name}" must not be null`,
          );
        values[i] = null;
        continue;
      }
      let e: unknown;
      try {
        // the BigInt of int64/micros is made only if the column cannot go as doubles (below)
        e = exactDoubles ? wholeNumber(f, v) : encode(v);
      } catch (err) {
        throw new LakestreamError(
          'BAD_INPUT',
          `table ${table}: row ${i}: column "${f.name}" (${f.type}) cannot hold ${JSON.stringify(String(v)).slice(0, 60)}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (exactDoubles && !Number.isSafeInteger(e)) {
        exactDoubles = false;
        for (let j = 0; j < i; j++) if (values[j] !== null) values[j] = BigInt(values[j] as number);
        e = BigInt(e as number | string);
      }
      if (inDict) {
        const s = e as string;
        let code = s === last ? lastCode : dict!.get(s);
        if (code === undefined) {
          // a NUL cannot be written in a SQL string literal
          if (dict!.size >= DICTIONARY_MAX || s.includes('\0')) inDict = false;
          else {
            code = dict!.size + 1; // DuckDB lists index from 1
            dict!.set(s, code);
          }
        }
        if (code !== undefined) {
          codes![i] = code;
          last = s;
          lastCode = code;
        }
      }
      values[i] = e;
    }
    // a dictionary pays when values repeat; a column of distinct strings goes as strings, and so does
    // one of nulls only (an empty list literal is not VARCHAR[]: the column would be written as INT32)
    if (inDict && dict!.size > 0 && dict!.size * 2 <= n) {
      const list = `[${[...dict!.keys()].map(quoteString).join(', ')}]`;
      for (let i = 0; i < n; i++) if (values[i] !== null) values[i] = codes![i];
      return { duck: INTEGER, values, sql: (x: string) => `(${list})[${x}]`, raw: 'i32' };
    }
    if (exactDoubles) {
      // the values are staged as the column's own type (micros for timestamps), nothing to cast
      if (RAW_INT64) {
        const duck = f.type === 'long' ? BIGINT : f.type === 'timestamp' ? TIMESTAMPTZ : TIMESTAMP;
        return { duck, values, sql: same, raw: 'i64' };
      }
      const sql = stagings[c].sql;
      return { duck: DOUBLE, values, sql: (x: string) => sql(`CAST(${x} AS BIGINT)`) };
    }
    const staged = stagings[c];
    const raw = staged.duck === DOUBLE ? 'f64' : staged.duck === VARCHAR ? 'str' : undefined;
    return { duck: staged.duck, values, sql: staged.sql, ...(raw ? { raw } : {}) };
  });
}

/** How each column of `rows` would be staged (the DuckDB type of its staging column): for tests. */
export function stagedTypes(rows: Row[], schema: Field[]): string[] {
  return planColumns(rows, schema, schema.map(stagingOf), 'rows').map((p) => p.duck.toString());
}

interface PlannedColumn {
  duck: DuckDBType;
  /** the staging column's values, in row order (null for null) */
  values: unknown[];
  /** expression over the staged column giving the Delta type */
  sql: (x: string) => string;
  /** the values go into the vector as they are: doubles, int32 (dictionary codes), int64 (safe
   *  integers: longs, and timestamps' micros) or strings; otherwise each goes through setItem, which
   *  checks its type's range */
  raw?: Raw;
}

type Raw = 'f64' | 'i32' | 'i64' | 'str';

/** int64 values are written as two 32-bit halves, low first: on a little-endian machine (x64, arm64). */
const RAW_INT64 = endianness() === 'LE';
const TWO_32 = 2 ** 32;

/** A long's or timestamp's value as the BIGINT it is staged as, before it is made a BigInt. */
function wholeNumber(f: Field, v: unknown): number | string {
  return f.type === 'long' ? integer(v) : toMicros(v);
}

/**
 * Appends the planned columns to the temp table `name` (columns c0, c1, … of their staging types); a
 * value its vector refuses is an error naming the table, row and column.
 */
async function stageRows(
  conn: DuckDBConnection,
  name: string,
  columns: PlannedColumn[],
  rows: Row[],
  schema: Field[],
  table: string,
): Promise<void> {
  await conn.run(
    `CREATE TEMP TABLE ${name} (${columns.map((p, i) => `c${i} ${p.duck.toString()}`).join(', ')})`,
  );
  const appender = await conn.createAppender(name, null, 'temp');
  try {
    const types = columns.map((p) => p.duck);
    const scratch = new ArrayBuffer(CHUNK_ROWS * 8);
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, rows.length - start);
      const chunk = DuckDBDataChunk.create(types, size);
      for (let c = 0; c < columns.length; c++) {
        const { values, raw } = columns[c];
        if (raw) {
          copyRaw(duckdb.data_chunk_get_vector(chunk.chunk, c), raw, values, start, size, scratch);
          continue;
        }
        const vector = chunk.getColumnVector(c);
        let i = 0;
        try {
          for (; i < size; i++) vector.setItem(i, values[start + i] as never);
        } catch (e) {
          // the vectors check ranges themselves (an INTEGER vector refuses 2**31)
          const f = schema[c];
          const v = rows[start + i][f.name];
          throw new LakestreamError(
            'BAD_INPUT',
            `table ${table}: row ${start + i}: column "${f.name}" (${f.type}) cannot hold ${JSON.stringify(String(v)).slice(0, 60)}: ${(e as Error).message}`,
            { cause: e },
          );
        }
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/**
 * Copies `size` values from `values[start…]` into a vector: fixed-width ones into `scratch` as the
 * vector's native layout, then one native copy; strings one native call each. Nulls clear their bits
 * in a validity mask copied after.
 */
function copyRaw(
  vector: duckdb.Vector,
  raw: Raw,
  values: unknown[],
  start: number,
  size: number,
  scratch: ArrayBuffer,
): void {
  let mask: Uint8Array<ArrayBuffer> | undefined;
  const isNull = (i: number) => {
    mask ??= new Uint8Array(new ArrayBuffer(Math.ceil(size / 64) * 8)).fill(0xff);
    mask[i >> 3] &= ~(1 << (i & 7));
  };
  let width = 0;
  if (raw === 'str') {
    for (let i = 0; i < size; i++) {
      const v = values[start + i];
      if (v === null) isNull(i);
      else duckdb.vector_assign_string_element(vector, i, v as string);
    }
  } else if (raw === 'f64' || raw === 'i32') {
    width = raw === 'f64' ? 8 : 4;
    const out = raw === 'f64' ? new Float64Array(scratch, 0, size) : new Int32Array(scratch, 0, size);
    for (let i = 0; i < size; i++) {
      const v = values[start + i];
      if (v === null) {
        out[i] = 0;
        isNull(i);
      } else out[i] = v as number;
    }
  } else {
    width = 8;
    const lo = new Uint32Array(scratch, 0, size * 2);
    const hi = new Int32Array(scratch, 0, size * 2);
    for (let i = 0; i < size; i++) {
      const v = values[start + i];
      if (v === null) {
        lo[2 * i] = 0;
        hi[2 * i + 1] = 0;
        isNull(i);
        continue;
      }
      const h = Math.floor((v as number) / TWO_32);
      lo[2 * i] = (v as number) - h * TWO_32;
      hi[2 * i + 1] = h;
    }
  }
  if (width > 0) duckdb.copy_data_to_vector(vector, 0, scratch, 0, size * width);
  if (mask) {
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
  }
}

let staging = 0;

export interface WriteFilesInput {
  store: ObjectStore;
  table: string;
  schema: Field[];
  partitionColumns: string[];
  rows: Row[];
  /** file name prefix, default 'part-' */
  prefix?: string;
}

/** Writes `rows` as Parquet data files of the table (not yet committed) and returns their add actions. */
export async function writeDataFiles(input: WriteFilesInput): Promise<AddFile[]> {
  const { store, table, schema, partitionColumns, rows } = input;
  if (rows.length === 0) return [];
  const prefix = (input.prefix ?? 'part-').replace(/[^A-Za-z0-9_.-]/g, '_');
  const stagings = schema.map(stagingOf);
  const columns = planColumns(rows, schema, stagings, table);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-write-'));
  try {
    const stats = await withDuck(async (conn) => {
      const name = `lakestream_stage_${++staging}`;
      try {
        await stageRows(conn, name, columns, rows, schema, table);
        const select = schema.map((f, i) => `${columns[i].sql(`c${i}`)} AS ${quoteIdent(f.name)}`).join(', ');
        return await copyToDir(
          conn,
          `SELECT ${select} FROM temp.main.${name}`,
          join(dir, 'out'),
          partitionColumns,
          prefix,
        );
      } catch (e) {
        if (e instanceof LakestreamError) throw e;
        throw new LakestreamError(
          'BAD_INPUT',
          `table ${table}: cannot write the rows: ${(e as Error).message}`,
          { cause: e },
        );
      } finally {
        await conn.run(`DROP TABLE IF EXISTS temp.main.${name}`);
      }
    });
    return await uploadDataFiles(store, table, schema, partitionColumns, stats, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs COPY (select) into `dir`: one Parquet file (ZSTD) per partition value, named `<prefix><uuid>`.
 * `select` must yield the table's columns, partition columns included.
 */
export async function copyToDir(
  conn: DuckDBConnection,
  select: string,
  dir: string,
  partitionColumns: string[],
  prefix: string,
): Promise<ReturnStat[]> {
  await mkdir(dir, { recursive: true });
  const target = partitionColumns.length > 0 ? dir : join(dir, `${prefix}${randomUUID()}.zstd.parquet`);
  const options = ['FORMAT parquet', 'COMPRESSION zstd', 'RETURN_STATS'];
  if (partitionColumns.length > 0)
    options.push(
      `PARTITION_BY (${partitionColumns.map(quoteIdent).join(', ')})`,
      `FILENAME_PATTERN ${quoteString(`${prefix}{uuid}.zstd`)}`,
      'OVERWRITE_OR_IGNORE',
    );
  const res = await conn.runAndReadAll(`COPY (${select}) TO ${quoteString(target)} (${options.join(', ')})`);
  return res.getRowObjectsJson() as unknown as ReturnStat[];
}

/** Puts the files COPY wrote into the table's directory and returns their add actions. */
export async function uploadDataFiles(
  store: ObjectStore,
  table: string,
  schema: Field[],
  partitionColumns: string[],
  stats: ReturnStat[],
  dataChange: boolean,
): Promise<AddFile[]> {
  const byName = new Map(schema.map((f) => [f.name, f]));
  return mapLimit(stats, 8, async (s) => {
    const pv: Record<string, string | null> = {};
    const keys = new Map((s.partition_keys ?? []).map((k) => [k.key, k.value]));
    const dirs: string[] = [];
    for (const p of partitionColumns) {
      const raw = keys.get(p);
      const value = raw === null || raw === undefined ? null : partitionString(byName.get(p)!, raw);
      pv[p] = value;
      dirs.push(`${p}=${value === null ? NULL_PARTITION : escapePartitionValue(value)}`);
    }
    const physical = [...dirs, basename(s.filename)].join('/');
    await store.put(joinPath(table, physical), new Uint8Array(await readFile(s.filename)));
    const add: AddFile = {
      path: encodeDataPath(physical),
      partitionValues: pv,
      size: Number(s.file_size_bytes),
      modificationTime: Date.now(),
      dataChange,
      stats: JSON.stringify(fileStats(s, schema, partitionColumns)),
    };
    return add;
  });
}

export interface ReturnStat {
  filename: string;
  count: string;
  file_size_bytes: string;
  column_statistics: { key: string; value: { key: string; value: string | null }[] }[];
  partition_keys?: { key: string; value: string | null }[];
}

/** DuckDB's "2013-01-01 00:30:00.5+00" -> Delta's ISO form "2013-01-01T00:30:00.500Z". */
function isoTimestamp(s: string, micros = false): string | undefined {
  const m = /^(-?\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:([+-]\d{2})(?::?(\d{2}))?)?$/.exec(
    s.trim(),
  );
  if (!m) return undefined;
  if (m[4] && (Number(m[4]) !== 0 || Number(m[5] ?? 0) !== 0)) return new Date(s).toISOString();
  const frac = (m[3] ?? '').padEnd(6, '0');
  return `${m[1]}T${m[2]}.${micros ? frac : frac.slice(0, 3)}Z`;
}

/** A partition value as Delta writes it (PROTOCOL "Partition Value Serialization"). */
function partitionString(f: Field, raw: string): string {
  if (f.type === 'timestamp') return isoTimestamp(raw, true) ?? raw;
  return raw;
}

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float']);

/** `add.stats`: numRecords, minValues, maxValues, nullCount of the data columns (never partition columns). */
function fileStats(s: ReturnStat, schema: Field[], partitionColumns: string[]): object {
  const cols = new Map<string, Map<string, string | null>>();
  for (const c of s.column_statistics ?? []) {
    const name = c.key.startsWith('"') ? c.key.slice(1, -1).replaceAll('""', '"') : c.key;
    cols.set(name, new Map(c.value.map((kv) => [kv.key, kv.value])));
  }
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, number> = {};
  for (const f of schema) {
    if (partitionColumns.includes(f.name)) continue;
    const st = cols.get(f.name);
    if (!st) continue;
    const nc = st.get('null_count');
    if (nc !== undefined && nc !== null) nullCount[f.name] = Number(nc);
    const min = st.get('min');
    const max = st.get('max');
    if (min === undefined || max === undefined || min === null || max === null) continue;
    if (st.get('has_nan') === 'true') continue;
    if (NUMERIC.has(f.type) || f.type.startsWith('decimal')) {
      if (
        f.type === 'long' &&
        (Math.abs(Number(min)) > Number.MAX_SAFE_INTEGER || Math.abs(Number(max)) > Number.MAX_SAFE_INTEGER)
      )
        continue;
      minValues[f.name] = Number(min);
      maxValues[f.name] = Number(max);
    } else if (f.type === 'string') {
      // Long strings are left out rather than truncated: a truncated max would be wrong.
      if (min.length > 32 || max.length > 32) continue;
      minValues[f.name] = min;
      maxValues[f.name] = max;
    } else if (f.type === 'date') {
      minValues[f.name] = min;
      maxValues[f.name] = max;
    } else if (f.type === 'timestamp') {
      const lo = isoTimestamp(min);
      const hiMicros = isoTimestamp(max, true);
      if (!lo || !hiMicros) continue;
      minValues[f.name] = lo;
      // Stats keep milliseconds: round the max up so it still bounds the micro-second values.
      const hi = new Date(Date.parse(hiMicros) + (/\.\d{3}0{3}Z$/.test(hiMicros) ? 0 : 1)).toISOString();
      maxValues[f.name] = hi;
    }
  }
  return { numRecords: Number(s.count), minValues, maxValues, nullCount };
}
