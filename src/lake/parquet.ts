// Data files: rows -> newline-delimited JSON (checked against the schema) -> one DuckDB COPY to
// Parquet (ZSTD), one file per partition value, with the per-file stats `add.stats` wants (RETURN_STATS).
// (Staging through JSON measured faster than DuckDB's Appender, whose per-value calls dominate.)

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { joinPath } from '../storage/index.ts';
import { type AddFile, encodeDataPath, escapePartitionValue } from './actions.ts';
import { withDuck } from './duck.ts';
import { mapLimit } from './log/load.ts';
import { type Field, fieldDuckType, quoteIdent, quoteString } from './schema.ts';

export type Row = Record<string, unknown>;

export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** How a value travels in the staging JSON: the JSON type DuckDB reads and the SQL that gives the Delta type. */
interface Staging {
  /** read_json column type */
  json: string;
  /** expression over the staged column `x` giving the Delta type */
  sql: (x: string) => string;
  /** JS value -> JSON-able value; throws on a value the type cannot hold */
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

function stagingOf(f: Field): Staging {
  const t = f.type;
  const cast = (duck: string) => (x: string) => `CAST(${x} AS ${duck})`;
  switch (t) {
    case 'string':
      return { json: 'VARCHAR', sql: same, encode: (v) => (typeof v === 'string' ? v : String(v)) };
    case 'long':
      return { json: 'BIGINT', sql: same, encode: integer };
    case 'integer':
      return { json: 'INTEGER', sql: same, encode: integer };
    case 'short':
      return { json: 'SMALLINT', sql: same, encode: integer };
    case 'byte':
      return { json: 'TINYINT', sql: same, encode: integer };
    case 'double':
      return { json: 'DOUBLE', sql: same, encode: number };
    case 'float':
      return { json: 'FLOAT', sql: same, encode: number };
    case 'boolean':
      return { json: 'BOOLEAN', sql: same, encode: (v) => Boolean(v) };
    case 'date':
      return {
        json: 'VARCHAR',
        sql: cast('DATE'),
        encode: (v) => {
          const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
          if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new Error('not a YYYY-MM-DD date');
          return s;
        },
      };
    case 'timestamp':
      // micros since the epoch -> TIMESTAMP -> TIMESTAMPTZ (TimeZone is UTC, so no shift)
      return { json: 'BIGINT', sql: (x) => `CAST(make_timestamp(${x}) AS TIMESTAMPTZ)`, encode: toMicros };
    case 'timestamp_ntz':
      return { json: 'BIGINT', sql: (x) => `make_timestamp(${x})`, encode: toMicros };
    case 'binary':
      return {
        json: 'VARCHAR',
        sql: (x) => `from_base64(${x})`,
        encode: (v) =>
          Buffer.from(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v))).toString('base64'),
      };
    default:
      if (t.startsWith('decimal'))
        return { json: 'VARCHAR', sql: cast(fieldDuckType(f)), encode: (v) => String(number(v)) };
      throw new LakestreamError('UNSUPPORTED', `cannot write column "${f.name}" of type ${t}`);
  }
}

/** Rows as newline-delimited JSON with keys c0, c1, … (names need no escaping), checked against the schema. */
function stageRows(rows: Row[], schema: Field[], table: string): string {
  const stagings = schema.map(stagingOf);
  const names = schema.map((f) => f.name);
  const required = schema.map((f) => f.nullable === false);
  const keys = schema.map((_, i) => `c${i}`);
  const n = names.length;
  const lines: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const o: Record<string, unknown> = {};
    for (let c = 0; c < n; c++) {
      const v = row[names[c]];
      if (v === null || v === undefined) {
        if (required[c])
          throw new LakestreamError(
            'BAD_INPUT',
            `table ${table}: row ${r}: column "${names[c]}" must not be null`,
          );
        continue;
      }
      try {
        o[keys[c]] = stagings[c].encode(v);
      } catch (e) {
        throw new LakestreamError(
          'BAD_INPUT',
          `table ${table}: row ${r}: column "${names[c]}" (${schema[c].type}) cannot hold ${JSON.stringify(String(v)).slice(0, 60)}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    lines[r] = JSON.stringify(o);
  }
  return lines.join('\n');
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
  const staged = stageRows(rows, schema, table);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-write-'));
  try {
    const source = join(dir, `rows-${++staging}.json`);
    await writeFile(source, staged);
    const stagings = schema.map(stagingOf);
    const columns = schema.map((_, i) => `c${i}: ${quoteString(stagings[i].json)}`).join(', ');
    const select = schema.map((f, i) => `${stagings[i].sql(`c${i}`)} AS ${quoteIdent(f.name)}`).join(', ');
    const stats = await withDuck(async (conn) => {
      try {
        return await copyToDir(
          conn,
          `SELECT ${select} FROM read_json(${quoteString(source)}, format = 'newline_delimited', columns = {${columns}})`,
          join(dir, 'out'),
          partitionColumns,
          prefix,
        );
      } catch (e) {
        throw new LakestreamError(
          'BAD_INPUT',
          `table ${table}: cannot write the rows: ${(e as Error).message}`,
          { cause: e },
        );
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
