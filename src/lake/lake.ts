// A lake: the Delta tables under one storage root, and read-only SQL over all of them.

import type { DuckDBConnection, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { StatementType } from '@duckdb/node-api';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { openStore } from '../storage/index.ts';
import { connectDuck } from './duck.ts';
import type { Row } from './parquet.ts';
import { createSnapshotView, viewNameOf } from './sql.ts';
import { DeltaTable } from './table.ts';
import { LakeTimestamp } from './timestamp.ts';

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Row[];
}

export interface LakeQueryOptions {
  maxRows?: number;
  timeoutMs?: number;
  /** interrupts the query; it then rejects with the signal's reason */
  signal?: AbortSignal;
}

const TABLE_LIST_TTL_MS = 2000;

export class Lake {
  readonly store: ObjectStore;
  readonly url: string;
  private readonly tables = new Map<string, DeltaTable>();
  private conn: DuckDBConnection | undefined;
  /** view name -> the table version it shows */
  private readonly views = new Map<string, { table: string; version: number }>();
  private tableList: { at: number; paths: string[] } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(store: ObjectStore) {
    this.store = store;
    this.url = store.url;
  }

  static async open(url: string): Promise<Lake> {
    return new Lake(await openStore(url));
  }

  /** The table at `path` (one object per path, so its snapshot cache is shared). */
  table(path: string): DeltaTable {
    let t = this.tables.get(path);
    if (!t) {
      t = new DeltaTable(this.store, path);
      this.tables.set(path, t);
    }
    return t;
  }

  /** Every path under the root holding a _delta_log, sorted. */
  async listTables(): Promise<string[]> {
    const found = new Set<string>();
    for (const o of await this.store.list('')) {
      const i = o.path.indexOf('_delta_log/');
      if (i < 0 || (i > 0 && o.path[i - 1] !== '/')) continue;
      if (!/^\d{20}\.(json|checkpoint)/.test(o.path.slice(i + '_delta_log/'.length))) continue;
      found.add(i === 0 ? '' : o.path.slice(0, i - 1));
    }
    const paths = [...found].sort();
    this.tableList = { at: Date.now(), paths };
    return paths;
  }

  /**
   * Read-only SQL over the lake: every table is a view named by its path with '/' and '-' replaced by
   * '_' at its latest snapshot. Views are re-created only when a table's version changed.
   */
  query(sql: string, opts: LakeQueryOptions = {}): Promise<QueryResult> {
    return this.read(sql, opts, (reader, maxRows) => {
      const names = reader.deduplicatedColumnNames();
      const types = reader.columnTypes().map(String);
      const rows = reader
        .getRowObjectsJS()
        .slice(0, maxRows)
        .map((r) => plainRow(r as Row, types));
      keepMicros(rows, reader.getRows(), types);
      return { columns: names.map((name, i) => ({ name, type: types[i] })), rows };
    });
  }

  /**
   * The same query, handing DuckDB's result reader (at most maxRows rows read) to `take`: for callers
   * that convert DuckDB's own values (exact timestamps and decimals) themselves.
   */
  read<T>(
    sql: string,
    opts: LakeQueryOptions,
    take: (reader: DuckDBResultReader, maxRows: number) => T,
  ): Promise<T> {
    const run = this.queue.then(() => this.runQuery(sql, opts, take));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Computes a read-only query once and keeps its rows as a temporary table `name` of this lake's
   * connection, for later queries to read many times (training's IRLS steps): DuckDB's counterpart of
   * SparkEngine.cacheView. The rows are those of the tables' snapshots at this call; the table lives
   * until close() (DuckDB spills it to its temp directory past its memory limit). Several queries (parts
   * of one result, computed one after another to bound DuckDB's memory) fill the table together.
   */
  async cache(
    name: string,
    sql: string | readonly string[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new LakestreamError('BAD_ARGUMENT', `a cached table's name is a plain identifier, not "${name}"`);
    const parts = typeof sql === 'string' ? [sql] : sql;
    if (parts.length === 0) throw new LakestreamError('BAD_ARGUMENT', `no query to cache as "${name}"`);
    const run = this.queue.then(async () => {
      const conn = await this.connectionFor(parts.join('\n'), opts.signal);
      for (const part of parts) (await prepareReadOnly(conn, part)).destroySync();
      const onAbort = () => conn.interrupt();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await conn.run(`CREATE OR REPLACE TEMPORARY TABLE "${name}" AS\n${parts[0]}`);
        for (const part of parts.slice(1)) await conn.run(`INSERT INTO "${name}"\n${part}`);
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw sqlError(e);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** The lake's connection, with a view at its latest snapshot for every table the SQL names. */
  private async connectionFor(sql: string, signal?: AbortSignal): Promise<DuckDBConnection> {
    signal?.throwIfAborted();
    this.conn ??= await connectDuck();
    const conn = this.conn;
    const paths =
      this.tableList && Date.now() - this.tableList.at < TABLE_LIST_TTL_MS
        ? this.tableList.paths
        : await this.listTables();
    const lower = sql.toLowerCase();
    for (const path of paths) {
      const view = viewNameOf(path);
      if (!lower.includes(view.toLowerCase())) continue; // only the tables the query names
      const snap = await this.table(path).snapshot();
      const seen = this.views.get(view);
      if (seen && seen.version === snap.version && seen.table === path) continue;
      await createSnapshotView(conn, this.store, snap, view);
      this.views.set(view, { table: path, version: snap.version });
    }
    return conn;
  }

  private async runQuery<T>(
    sql: string,
    opts: LakeQueryOptions,
    take: (reader: DuckDBResultReader, maxRows: number) => T,
  ): Promise<T> {
    const conn = await this.connectionFor(sql, opts.signal);
    const prepared = await prepareReadOnly(conn, sql);
    const maxRows = opts.maxRows ?? 10_000;
    const timer =
      opts.timeoutMs !== undefined ? setTimeout(() => conn.interrupt(), opts.timeoutMs) : undefined;
    const onAbort = () => conn.interrupt();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reader = await prepared.streamAndReadUntil(maxRows);
      return take(reader, maxRows);
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const msg = (e as Error).message;
      if (/interrupt/i.test(msg))
        throw new LakestreamError(
          'TIMEOUT',
          `the query ran longer than ${opts.timeoutMs} ms and was stopped`,
          { cause: e },
        );
      throw sqlError(e);
    } finally {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      prepared.destroySync();
    }
  }

  async close(): Promise<void> {
    await this.queue;
    this.conn?.closeSync();
    this.conn = undefined;
    await this.store.close();
  }
}

/** One read-only statement (SELECT or EXPLAIN) prepared on the connection; anything else is refused. */
async function prepareReadOnly(conn: DuckDBConnection, sql: string) {
  let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (e) {
    throw new LakestreamError('BAD_ARGUMENT', `SQL error: ${(e as Error).message}`, { cause: e });
  }
  if (extracted.count !== 1)
    throw new LakestreamError('BAD_ARGUMENT', `give exactly one SQL statement (got ${extracted.count})`);
  let prepared: Awaited<ReturnType<typeof extracted.prepare>>;
  try {
    prepared = await extracted.prepare(0);
  } catch (e) {
    throw sqlError(e);
  }
  if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
    prepared.destroySync();
    throw new LakestreamError('BAD_ARGUMENT', `only read-only queries (SELECT, EXPLAIN) run over the lake`);
  }
  return prepared;
}

/** A DuckDB error as BAD_ARGUMENT, or NOT_FOUND naming the table when the query names one the lake lacks. */
function sqlError(e: unknown): LakestreamError {
  const msg = (e as Error).message;
  const missing = /Table with name ([^\s]+) does not exist/i.exec(msg);
  if (missing)
    return new LakestreamError(
      'NOT_FOUND',
      `no table ${missing[1]} in the lake (every Delta table is a view named by its path: meters/gold/daily is meters_gold_daily)`,
      { cause: e },
    );
  return new LakestreamError('BAD_ARGUMENT', `SQL error: ${msg}`, { cause: e });
}

/**
 * Friendlier values for callers that serialise rows: safe-range integers as numbers, DATE as
 * 'YYYY-MM-DD'. Larger integers stay bigint; timestamps are Date.
 */
function plainRow(r: Row, types: string[]): Row {
  let i = 0;
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
      r[k] = Number(v);
    else if (v instanceof Date && types[i] === 'DATE') r[k] = v.toISOString().slice(0, 10);
    i++;
  }
  return r;
}

/** TIMESTAMP (zoneless) and TIMESTAMPTZ values with microseconds as LakeTimestamps: DuckDB's Dates lose them. */
function keepMicros(rows: Row[], raw: DuckDBValue[][], types: string[]): void {
  const cols = types.flatMap((t, i) =>
    t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE' ? [{ i, utc: t !== 'TIMESTAMP' }] : [],
  );
  if (cols.length === 0 || rows.length === 0) return;
  const keys = Object.keys(rows[0]);
  rows.forEach((row, r) => {
    for (const { i, utc } of cols) {
      const v = raw[r][i] as { micros?: bigint } | null;
      // whole milliseconds stay plain Dates (DuckDB's are exact then)
      if (v && typeof v.micros === 'bigint' && v.micros % 1000n !== 0n)
        row[keys[i]] = new LakeTimestamp(v.micros, utc);
    }
  });
}
