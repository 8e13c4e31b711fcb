// One DuckDB instance per process (TimeZone=UTC), shared by the lake and by anyone running SQL,
// with a small pool of connections: a connection runs one statement at a time.

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LakestreamError } from '../errors.ts';

let instance: Promise<DuckDBInstance> | undefined;
const idle: DuckDBConnection[] = [];

/** The process's DuckDB instance (in memory). */
export function getDuck(): Promise<DuckDBInstance> {
  instance ??= (async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // Delta timestamps are UTC instants; casts between TIMESTAMP and TIMESTAMPTZ must not shift them
    // by the machine's zone. (ICU is built in but must be loaded before TimeZone can be set.)
    await c.run(`SET GLOBAL TimeZone = 'UTC'`);
    // DuckDB (1.3+) keeps what it reads of every file in its external file cache, evicted only
    // under memory_limit (80 % of RAM by default). Our reads are of local paths (the file store, or
    // our local copy of a remote file) that the OS page cache already serves, and a stream worker
    // reads new files every batch: the cache only grew, and was the largest growing part of the
    // worker's RSS (issue 17). Results are the same without it.
    await c.run('SET GLOBAL enable_external_file_cache = false');
    c.closeSync();
    return db;
  })();
  return instance;
}

/** A fresh connection of the shared instance (the caller closes it with closeSync). */
export async function connectDuck(): Promise<DuckDBConnection> {
  const db = await getDuck();
  const c = await db.connect();
  await c.run(`SET TimeZone = 'UTC'`);
  return c;
}

/** Runs `fn` with a pooled connection held exclusively for its duration. */
export async function withDuck<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const conn = idle.pop() ?? (await connectDuck());
  try {
    return await fn(conn);
  } finally {
    if (idle.length < 8) idle.push(conn);
    else conn.closeSync();
  }
}

/** What DuckDB's buffer manager says it holds (bytes, summed over duckdb_memory()); null when the
 *  process has no instance yet (asking must not create one). One small query on a pooled connection. */
export async function duckMemoryBytes(): Promise<number | null> {
  if (!instance) return null;
  return withDuck(async (c) => {
    const r = await c.runAndReadAll('SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory()');
    const v = r.getRows()[0]?.[0];
    return typeof v === 'number' ? v : null;
  });
}

/** Settings of the process's DuckDB that bound its memory and say where it spills. */
export interface DuckSettings {
  /** as DuckDB prints it, e.g. '3.8 GiB' */
  memoryLimit: string;
  threads: number;
  tempDirectory: string;
}

/**
 * Sets this process's DuckDB memory_limit (MB) and temp_directory (where it spills past the limit), and
 * returns them as DuckDB reads them back. For the process whose work this is (a bench): the instance is
 * the process's, shared by all its connections.
 */
export async function configureDuck(o: {
  memoryLimitMb: number;
  tempDirectory: string;
}): Promise<DuckSettings> {
  if (!Number.isInteger(o.memoryLimitMb) || o.memoryLimitMb <= 0)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `DuckDB's memory limit is a whole number of MB, not ${o.memoryLimitMb}`,
    );
  await getDuck();
  return withDuck(async (c) => {
    await c.run(`SET GLOBAL memory_limit = '${o.memoryLimitMb}MiB'`);
    await c.run(`SET GLOBAL temp_directory = '${o.tempDirectory.replaceAll("'", "''")}'`);
    return duckSettings(c);
  });
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** Bytes of a size as DuckDB writes one ("3.7 GiB", "512.0 MiB", "1.5 GB"). */
export function parseByteSize(text: string): number {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)\s*$/i.exec(text);
  const unit = m && UNITS[m[2].toUpperCase()];
  if (!m || !unit) throw new LakestreamError('BAD_ARGUMENT', `"${text}" is not a size in bytes`);
  return Number(m[1]) * unit;
}

/**
 * How many parts a DuckDB job over `rows` rows is cut into (one after another) so that each part has at
 * most `rowsPerGib` rows per GiB of `limitBytes`: for work DuckDB holds in memory instead of spilling
 * (a window over a window), split by key so that the parts' results together are the whole's.
 */
export function partsWithin(rows: number, rowsPerGib: number, limitBytes: number): number {
  return Math.max(1, Math.ceil(rows / ((limitBytes / 2 ** 30) * rowsPerGib)));
}

/** This process's DuckDB memory_limit in bytes. */
export async function duckMemoryLimitBytes(): Promise<number> {
  return parseByteSize((await readDuckSettings()).memoryLimit);
}

/** This process's DuckDB memory_limit, threads and temp_directory, as DuckDB reads them. */
export async function readDuckSettings(): Promise<DuckSettings> {
  return withDuck(duckSettings);
}

async function duckSettings(c: DuckDBConnection): Promise<DuckSettings> {
  const r = await c.runAndReadAll(
    `SELECT current_setting('memory_limit') AS m, current_setting('threads')::INTEGER AS t, current_setting('temp_directory') AS d`,
  );
  const [m, t, d] = r.getRows()[0];
  return { memoryLimit: String(m), threads: Number(t), tempDirectory: String(d) };
}
