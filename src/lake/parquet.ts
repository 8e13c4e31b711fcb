// Data files: rows -> a DuckDB temp table (Appender) -> one COPY to Parquet (ZSTD), one file per
// partition value, with the per-file stats Delta's `add.stats` wants (RETURN_STATS).

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
} from '@duckdb/node-api';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { joinPath } from '../storage/object-store.ts';
import { type AddFile, encodeDataPath, escapePartitionValue } from './actions.ts';
import { withDuck } from './duck.ts';
import { mapLimit } from './log/load.ts';
import { type Field, fieldDuckType, quoteIdent, quoteString } from './schema.ts';

export type Row = Record<string, unknown>;

export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

type Appendix = (a: DuckDBAppender, v: unknown) => void;

/** Type of the staging column: what the Appender fills cheaply; COPY casts to the Delta type. */
function stagingType(f: Field): string {
  if (f.type === 'date' || f.type.startsWith('decimal')) return 'VARCHAR';
  return fieldDuckType(f);
}

function toMicros(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  if (typeof v === 'number') return BigInt(Math.round(v * 1000)); // ms since the epoch
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new Error(`not a timestamp: "${v}"`);
    // keep microseconds Date.parse drops: "…:00.123456Z"
    const frac = /\.(\d{4,6})/.exec(v);
    const extra = frac ? BigInt(frac[1].padEnd(6, '0').slice(3)) : 0n;
    return BigInt(ms) * 1000n + (ms >= 0 ? extra : -extra);
  }
  throw new Error(`not a timestamp: ${String(v)}`);
}

function appenderFor(f: Field): Appendix {
  const t = f.type;
  switch (t) {
    case 'string':
      return (a, v) => a.appendVarchar(typeof v === 'string' ? v : String(v));
    case 'long':
      return (a, v) => a.appendBigInt(typeof v === 'bigint' ? v : BigInt(v as number));
    case 'integer':
      return (a, v) => a.appendInteger(Number(v));
    case 'short':
      return (a, v) => a.appendSmallInt(Number(v));
    case 'byte':
      return (a, v) => a.appendTinyInt(Number(v));
    case 'double':
      return (a, v) => a.appendDouble(Number(v));
    case 'float':
      return (a, v) => a.appendFloat(Number(v));
    case 'boolean':
      return (a, v) => a.appendBoolean(Boolean(v));
    case 'date':
      return (a, v) => a.appendVarchar(v instanceof Date ? v.toISOString().slice(0, 10) : String(v));
    case 'timestamp':
      return (a, v) => a.appendTimestampTZ(new DuckDBTimestampTZValue(toMicros(v)));
    case 'timestamp_ntz':
      return (a, v) => a.appendTimestamp(new DuckDBTimestampValue(toMicros(v)));
    case 'binary':
      return (a, v) => a.appendBlob(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
    default:
      if (t.startsWith('decimal')) return (a, v) => a.appendVarchar(String(v));
      throw new LakestreamError('UNSUPPORTED', `cannot write column "${f.name}" of type ${t}`);
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
  const name = `lake_stage_${process.pid}_${++staging}`;
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-write-'));
  try {
    const stats = await withDuck(async (conn) => {
      await conn.run(
        `CREATE TEMP TABLE ${name} (${schema.map((f) => `${quoteIdent(f.name)} ${stagingType(f)}`).join(', ')})`,
      );
      try {
        const appender = await conn.createAppender(name, 'main', 'temp');
        const fns = schema.map(appenderFor);
        const names = schema.map((f) => f.name);
        const required = schema.map((f) => f.nullable === false);
        const n = names.length;
        for (let r = 0; r < rows.length; r++) {
          const row = rows[r];
          for (let c = 0; c < n; c++) {
            const v = row[names[c]];
            if (v === null || v === undefined) {
              if (required[c])
                throw new LakestreamError(
                  'BAD_INPUT',
                  `table ${table}: row ${r}: column "${names[c]}" must not be null`,
                );
              appender.appendNull();
              continue;
            }
            try {
              fns[c](appender, v);
            } catch (e) {
              throw new LakestreamError(
                'BAD_INPUT',
                `table ${table}: row ${r}: column "${names[c]}" (${schema[c].type}) cannot hold ${JSON.stringify(String(v)).slice(0, 60)}: ${(e as Error).message}`,
                { cause: e },
              );
            }
          }
          appender.endRow();
        }
        appender.closeSync();
        const select = schema
          .map((f) => `CAST(${quoteIdent(f.name)} AS ${fieldDuckType(f)}) AS ${quoteIdent(f.name)}`)
          .join(', ');
        return await copyToDir(conn, `SELECT ${select} FROM temp.${name}`, dir, partitionColumns, prefix);
      } catch (e) {
        if (e instanceof LakestreamError) throw e;
        throw new LakestreamError(
          'BAD_INPUT',
          `table ${table}: cannot write the rows: ${(e as Error).message}`,
          { cause: e },
        );
      } finally {
        await conn.run(`DROP TABLE IF EXISTS temp.${name}`);
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
