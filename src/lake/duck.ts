// One DuckDB instance per process (TimeZone=UTC), shared by the lake and by anyone running SQL,
// with a small pool of connections: a connection runs one statement at a time.

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

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
