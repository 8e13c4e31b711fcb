// SQL over snapshots: a table version becomes a DuckDB view reading exactly its live files
// (read_parquet over the file list, partition values joined in), so stray or removed files never show.

import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { joinPath } from '../storage/index.ts';
import { type AddFile, decodeDataPath } from './actions.ts';
import { columnMappingMode, fieldIdSchema, logicalValue, physicalName } from './column-mapping.ts';
import { readDeletionVector } from './dv.ts';
import { mapLimit } from './log/load.ts';
import { fieldDuckType, quoteIdent, quoteString } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

/** The store path (or, for absolute file: URIs, the local path) of a data file. */
export async function dataFileLocalPath(store: ObjectStore, table: string, f: AddFile): Promise<string> {
  const p = decodeDataPath(f.path);
  if (/^file:/i.test(f.path)) return fileURLToPath(new URL(f.path));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(f.path))
    throw new LakestreamError('UNSUPPORTED', `table ${table}: data file ${f.path} is on another file system`);
  return store.localPath(joinPath(table, p));
}

/** The SELECT that reads a snapshot (columns in schema order, partition columns typed). */
export function snapshotSelect(
  store: ObjectStore,
  snap: Snapshot,
  missing = new Set<string>(),
): Promise<string> {
  return filesSelect(store, snap, snap.files, missing);
}

/** The SELECT that reads some of a snapshot's files. */
export async function filesSelect(
  store: ObjectStore,
  snap: Pick<Snapshot, 'table' | 'version' | 'schema' | 'partitionColumns' | 'metadata'>,
  files: AddFile[],
  missing = new Set<string>(),
): Promise<string> {
  const where = `table ${snap.table} at version ${snap.version}`;
  const parts = new Set(snap.partitionColumns);
  const mode = columnMappingMode(snap.metadata);
  const cols = snap.schema.map((f) => ({ f, duck: fieldDuckType(f, where), phys: physicalName(f, mode) }));
  if (files.length === 0)
    return `SELECT ${cols.map(({ f, duck }) => `CAST(NULL AS ${duck}) AS ${quoteIdent(f.name)}`).join(', ')} WHERE false`;
  const paths = await mapLimit(files, 16, (f) => dataFileLocalPath(store, snap.table, f));
  const list = `[${paths.map(quoteString).join(', ')}]`;
  const deleted = await deletedRows(store, snap.table, where, files, paths);
  const data = cols.map(({ f, duck, phys }) => {
    const as = quoteIdent(f.name);
    // A binary partition value is the bytes' text: encode() keeps non-ASCII characters, a cast refuses them.
    if (parts.has(f.name))
      return f.type === 'binary'
        ? `encode(p.${quoteIdent(phys)}) AS ${as}`
        : `CAST(p.${quoteIdent(phys)} AS ${duck}) AS ${as}`;
    if (missing.has(f.name)) return `CAST(NULL AS ${duck}) AS ${as}`;
    return `CAST(${logicalValue(`d.${quoteIdent(phys)}`, f.typeJson ?? f.type, mode)} AS ${duck}) AS ${as}`;
  });
  const rowNumbers = deleted ? ', file_row_number = true' : '';
  const partCols = snap.partitionColumns;
  if (parts.size > 0 && mode === 'none' && hiveLayout(files, paths, partCols, cols)) {
    // Directory names hold exactly the partition values: let DuckDB read them, so filters on
    // partition columns skip whole files.
    const types = cols
      .filter(({ f }) => parts.has(f.name))
      .map(({ f, duck }) => `${quoteString(f.name)}: ${quoteString(duck)}`)
      .join(', ');
    const hive = cols.map(({ f }, i) => (parts.has(f.name) ? `d.${quoteIdent(f.name)}` : data[i]));
    return `SELECT ${hive.join(', ')} FROM read_parquet(${list}, union_by_name = true, hive_partitioning = true, hive_types = {${types}}${deleted ? `, filename = '__lake_file'${rowNumbers}` : ''}) d${deleted ?? ''}`;
  }
  // id mode: columns by field id (DuckDB cannot combine that with union_by_name, nor need it)
  const byId = fieldIdSchema(
    cols.filter(({ f }) => !parts.has(f.name)).map(({ f }) => f),
    mode,
    where,
  );
  const columns = byId ? `schema = ${byId}` : 'union_by_name = true';
  const read = `read_parquet(${list}, ${columns}, hive_partitioning = false, filename = '__lake_file'${rowNumbers})`;
  if (parts.size === 0) return `SELECT ${data.join(', ')} FROM ${read} d${deleted ?? ''}`;
  const partPhys = partCols.map((c) =>
    physicalName(cols.find((x) => x.f.name === c)?.f ?? { name: c }, mode),
  );
  const values = files.map(
    (f, i) =>
      `(${quoteString(paths[i])}, ${partPhys.map((c) => (f.partitionValues?.[c] == null ? 'NULL' : quoteString(String(f.partitionValues[c])))).join(', ')})`,
  );
  const pNames = ['__lake_file', ...partPhys].map(quoteIdent).join(', ');
  return `SELECT ${data.join(', ')} FROM ${read} d JOIN (VALUES ${values.join(', ')}) p(${pNames}) ON d.__lake_file = p.__lake_file${deleted ?? ''}`;
}

/**
 * The anti-join that drops the rows the files' deletion vectors mark (by file and row index), or
 * undefined when no file has one. Each file's deleted rows travel as runs [lo, hi].
 */
async function deletedRows(
  store: ObjectStore,
  table: string,
  where: string,
  files: AddFile[],
  paths: string[],
): Promise<string | undefined> {
  const withDv = files.map((f, i) => ({ f, path: paths[i] })).filter((x) => x.f.deletionVector != null);
  if (withDv.length === 0) return undefined;
  const rows = await mapLimit(withDv, 8, ({ f }) =>
    readDeletionVector(store, table, f.deletionVector!, `${where}: data file ${f.path}`),
  );
  const values: string[] = [];
  withDv.forEach(({ path }, i) => {
    const lo: number[] = [];
    const hi: number[] = [];
    for (const r of rows[i]) {
      if (hi.length > 0 && hi[hi.length - 1] === r - 1) hi[hi.length - 1] = r;
      else {
        lo.push(r);
        hi.push(r);
      }
    }
    if (lo.length > 0)
      values.push(`(${quoteString(path)}, [${lo.join(',')}]::BIGINT[], [${hi.join(',')}]::BIGINT[])`);
  });
  if (values.length === 0) return undefined;
  const runs = `SELECT f, unnest(lo) AS lo, unnest(hi) AS hi FROM (VALUES ${values.join(', ')}) v(f, lo, hi)`;
  return ` ANTI JOIN (SELECT f AS __lake_dv_file, unnest(generate_series(lo, hi)) AS __lake_dv_row FROM (${runs})) x ON d.__lake_file = x.__lake_dv_file AND d.file_row_number = x.__lake_dv_row`;
}

const HIVE_SAFE = /^[A-Za-z0-9_.+-]+$/;
const HIVE_TYPES = new Set(['string', 'date', 'integer', 'long', 'short', 'byte']);

/**
 * True when every file sits in `col=value/…` directories that spell its partition values literally
 * (no escaping, no nulls), in a local path that keeps that layout, and no column's name could be
 * mistaken for a directory key.
 */
function hiveLayout(
  files: AddFile[],
  paths: string[],
  partCols: string[],
  cols: { f: { name: string; type: string } }[],
): boolean {
  if (
    !partCols.every(
      (c) => HIVE_TYPES.has(cols.find((x) => x.f.name === c)?.f.type ?? '') && HIVE_SAFE.test(c),
    )
  )
    return false;
  return files.every((f, i) => {
    const dirs: string[] = [];
    for (const c of partCols) {
      const v = f.partitionValues?.[c];
      if (v == null || !HIVE_SAFE.test(v)) return false;
      dirs.push(`${c}=${v}`);
    }
    const physical = decodeDataPath(f.path);
    const local = paths[i];
    if (!physical.startsWith(`${dirs.join('/')}/`) || physical.split('/').length !== dirs.length + 1)
      return false;
    if (!local.endsWith(`/${physical}`)) return false;
    // no other key=value directory above the table, which DuckDB would also read as a column
    return !local.slice(0, -physical.length).includes('=');
  });
}

/** CREATE OR REPLACE TEMP VIEW over a snapshot; a missing data file is named in the error. */
export async function createSnapshotView(
  conn: DuckDBConnection,
  store: ObjectStore,
  snap: Snapshot,
  viewName: string,
): Promise<void> {
  const missing = new Set<string>();
  for (let attempt = 0; attempt < 2; attempt++) {
    const select = await snapshotSelect(store, snap, missing);
    try {
      await conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(viewName)} AS ${select}`);
      return;
    } catch (e) {
      const msg = (e as Error).message;
      // A column added by a later schema change is absent from older files: read it as NULL.
      const col =
        /Referenced column "([^"]+)" not found|column "([^"]+)" not found|does not have a column named "([^"]+)"/i.exec(
          msg,
        );
      const name = col?.[1] ?? col?.[2] ?? col?.[3];
      const mode = columnMappingMode(snap.metadata);
      if (attempt === 0 && name && snap.schema.some((f) => physicalName(f, mode) === name)) {
        const described = await describeColumns(conn, store, snap);
        for (const f of snap.schema)
          if (!described.has(physicalName(f, mode)) && !snap.partitionColumns.includes(f.name))
            missing.add(f.name);
        continue;
      }
      throw await explainReadError(store, snap, e);
    }
  }
}

async function describeColumns(
  conn: DuckDBConnection,
  store: ObjectStore,
  snap: Snapshot,
): Promise<Set<string>> {
  const paths = await mapLimit(snap.files, 16, (f) => dataFileLocalPath(store, snap.table, f));
  const r = await conn.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet([${paths.map(quoteString).join(', ')}], union_by_name = true, hive_partitioning = false)`,
  );
  return new Set(r.getRowObjectsJson().map((x) => String(x.column_name)));
}

/** Turns a DuckDB read failure into an error naming the table and, if one is gone, the data file. */
export async function explainReadError(
  store: ObjectStore,
  snap: Snapshot,
  e: unknown,
): Promise<LakestreamError> {
  if (e instanceof LakestreamError) return e;
  const where = `table ${snap.table} at version ${snap.version}`;
  for (const f of snap.files) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(f.path)) continue;
    const path = joinPath(snap.table, decodeDataPath(f.path));
    if (!(await store.stat(path)))
      return new LakestreamError(
        'CORRUPT_TABLE',
        `${where}: data file ${path} is missing (the log lists it as live)`,
        { cause: e },
      );
  }
  return new LakestreamError(
    'CORRUPT_TABLE',
    `${where}: cannot read the data files: ${(e as Error).message}`,
    { cause: e },
  );
}

/** The view name of a table path: meters/gold/daily -> meters_gold_daily. */
export function viewNameOf(tablePath: string): string {
  return tablePath.replace(/[/-]/g, '_');
}
