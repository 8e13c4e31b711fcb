// Loading a CSV (or .csv.gz) file into a Delta table: DuckDB sniffs the schema and streams the file
// straight into Parquet data files, which are committed in one version.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import { withDuck } from './duck.ts';
import { copyToDir, uploadDataFiles } from './parquet.ts';
import { type DeltaType, type Field, fieldDuckType, quoteIdent, quoteString } from './schema.ts';
import type { CommitResult, DeltaTable } from './table.ts';

/** The Delta type of a DuckDB column type sniffed from a CSV. */
export function deltaTypeOfDuck(t: string): DeltaType {
  const u = t.toUpperCase();
  if (u === 'BIGINT' || u === 'HUGEINT' || u === 'UBIGINT' || u === 'UINTEGER') return 'long';
  if (u === 'INTEGER' || u === 'USMALLINT') return 'integer';
  if (u === 'SMALLINT' || u === 'UTINYINT') return 'short';
  if (u === 'TINYINT') return 'byte';
  if (u === 'DOUBLE') return 'double';
  if (u === 'FLOAT') return 'float';
  if (u === 'BOOLEAN') return 'boolean';
  if (u === 'DATE') return 'date';
  if (u.startsWith('TIMESTAMP')) return 'timestamp'; // naive CSV times are read as UTC (TimeZone=UTC)
  const m = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(u);
  if (m) return `decimal(${Number(m[1])},${Number(m[2])})`;
  return 'string';
}

export interface ImportProgress {
  /** 0..1 as DuckDB reports it, or undefined */
  fraction?: number;
  bytes: number;
}

export interface ImportResult {
  result: CommitResult;
  rows: number;
  files: number;
  schema: Field[];
}

/** A column name Delta (and Spark) accept: the characters they refuse become '_'. */
function cleanName(n: string): string {
  const c = n.trim().replace(/[ ,;{}()\n\t=]/g, '_');
  return c === '' ? 'column' : c;
}

export async function importCsv(
  table: DeltaTable,
  file: string,
  opts: { partitionBy?: string[]; onProgress?: (p: ImportProgress) => void } = {},
): Promise<ImportResult> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new LakestreamError('NOT_FOUND', `no such file: ${file}`, { cause: e });
  }
  const source = `read_csv(${quoteString(file)}, header = true)`;
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-import-'));
  try {
    return await withDuck(async (conn) => {
      let described: { column_name: string; column_type: string }[];
      try {
        described = (
          await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)
        ).getRowObjectsJson() as typeof described;
      } catch (e) {
        throw new LakestreamError('BAD_INPUT', `${file} cannot be read as CSV: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const columns = described.map((d) => ({
        raw: d.column_name,
        field: { name: cleanName(d.column_name), type: deltaTypeOfDuck(d.column_type) } as Field,
      }));
      const partitionBy = opts.partitionBy ?? [];
      for (const p of partitionBy)
        if (!columns.some((c) => c.field.name === p))
          throw new LakestreamError(
            'BAD_ARGUMENT',
            `--partition-by ${p}: ${file} has no such column (columns: ${columns.map((c) => c.field.name).join(', ')})`,
          );
      const schema = columns.map((c) => c.field);
      let target: Field[] = schema;
      if (await table.exists()) {
        const snap = await table.snapshot();
        const missing = snap.schema.filter((f) => !schema.some((s) => s.name === f.name));
        if (missing.length > 0 || schema.length !== snap.schema.length)
          throw new LakestreamError(
            'CONFLICT',
            `table ${table.path} exists with columns (${snap.schema.map((f) => f.name).join(', ')}); ${file} has (${schema.map((f) => f.name).join(', ')})`,
          );
        target = snap.schema;
      } else {
        await table.create({ schema, partitionColumns: partitionBy, description: `imported from ${file}` });
      }
      const snap = await table.snapshot();
      const select = target
        .map((f) => {
          const c = columns.find((x) => x.field.name === f.name)!;
          return `CAST(${quoteIdent(c.raw)} AS ${fieldDuckType(f)}) AS ${quoteIdent(f.name)}`;
        })
        .join(', ');
      await conn.run('SET enable_progress_bar = true');
      await conn.run('SET enable_progress_bar_print = false');
      const timer = opts.onProgress
        ? setInterval(() => {
            const p = conn.progress;
            const pct = p.percentage;
            opts.onProgress!({ fraction: pct >= 0 ? pct / 100 : undefined, bytes: size });
          }, 200)
        : undefined;
      let stats: Awaited<ReturnType<typeof copyToDir>>;
      try {
        stats = await copyToDir(conn, `SELECT ${select} FROM ${source}`, dir, snap.partitionColumns, 'part-');
      } catch (e) {
        throw new LakestreamError('BAD_INPUT', `${file}: ${(e as Error).message}`, { cause: e });
      } finally {
        if (timer) clearInterval(timer);
      }
      const adds = await uploadDataFiles(
        table.store,
        table.path,
        snap.schema,
        snap.partitionColumns,
        stats,
        true,
      );
      const result = await table.commit(
        adds.map((add) => ({ add })),
        { operation: 'WRITE', operationParameters: { mode: 'Append', source: file } },
      );
      const rows = stats.reduce((a, s) => a + Number(s.count), 0);
      return { result, rows, files: adds.length, schema: snap.schema };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
