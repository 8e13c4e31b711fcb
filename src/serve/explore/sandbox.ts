// The Explore page's SQL engine: its own DuckDB instance holding only views over the lake's current files,
// then locked — no file access but those files, no configuration change — with a row cap and a timeout.

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DeltaTable, dataFileLocalPath } from '../../lake/index.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { HttpError } from '../http.ts';
import type { Column, TableSummary } from '../lake-reader.ts';
import { checkTree, MAX_SQL_LENGTH, type ParsedTree } from './guard.ts';

export const DEFAULT_ROW_CAP = 1000;
export const MAX_ROW_CAP = 10_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

/** GET /api/tables: the tables Explore can query, and the row cap and time limit its SQL runs under. */
export interface TableList {
  tables: TableSummary[];
  rowCap: { default: number; max: number };
  timeoutMs: number;
}

/** POST /api/sql */
export interface SqlResult {
  columns: Column[];
  rows: unknown[][];
  elapsedMs: number;
}

interface Built {
  signature: string;
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  views: Set<string>;
}

/** DuckDB's JSON form writes 64-bit integers and decimals as strings; the grid and the chart want numbers. */
function jsonValue(x: unknown, type: string): unknown {
  if (typeof x === 'string' && /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT|DECIMAL)/.test(type)) {
    const n = Number(x);
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return x;
}

/** The user's SQL without surrounding space and a final ';', refused when empty or too long. */
export function sqlText(sql: string): string {
  const text = sql.trim().replace(/;\s*$/, '');
  if (text === '') throw new HttpError(400, 'the SQL is empty', 'sql');
  if (text.length > MAX_SQL_LENGTH)
    throw new HttpError(400, `the SQL is longer than ${MAX_SQL_LENGTH} characters`, 'sql');
  return text;
}

export class SqlSandbox {
  private readonly store: ObjectStore;
  private readonly listTables: () => Promise<TableSummary[]>;
  private built: Promise<Built> | undefined;
  /** one statement at a time on the sandbox connection (temp views live on it) */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(store: ObjectStore, listTables: () => Promise<TableSummary[]>) {
    this.store = store;
    this.listTables = listTables;
  }

  /** Runs user SQL; every refusal is an HttpError 4xx naming the reason. */
  run(sql: string, opts: { maxRows?: number; timeoutMs?: number } = {}): Promise<SqlResult> {
    const next = this.queue.then(() => this.runNow(sql, opts));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(sql: string, opts: { maxRows?: number; timeoutMs?: number }): Promise<SqlResult> {
    const maxRows = opts.maxRows ?? DEFAULT_ROW_CAP;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const text = sqlText(sql);
    const box = await this.current();
    const parsed = await box.conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [text]);
    checkTree(JSON.parse(String(parsed.getRowsJson()[0][0])) as ParsedTree, box.views);
    const started = performance.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      box.conn.interrupt();
    }, timeoutMs);
    try {
      const reader = await box.conn.streamAndReadUntil(text, maxRows + 1);
      if (reader.currentRowCount > maxRows)
        throw new HttpError(
          400,
          `the result has more than ${maxRows} rows (the row cap): add LIMIT ${maxRows} or aggregate`,
          'maxRows',
        );
      const names = reader.columnNames();
      const types = reader.columnTypes();
      return {
        columns: names.map((name, i) => ({ name, type: String(types[i]) })),
        rows: reader.getRowsJson().map((row) => row.map((x, i) => jsonValue(x, String(types[i])))),
        elapsedMs: Math.round(performance.now() - started),
      };
    } catch (e) {
      if (e instanceof HttpError) throw e;
      const msg = (e as Error).message;
      if (timedOut || /interrupt/i.test(msg))
        throw new HttpError(
          408,
          `the query ran over the ${timeoutMs / 1000} s timeout and was stopped`,
          'sql',
        );
      if (/Permission Error|file system operations are disabled/i.test(msg))
        throw new HttpError(400, 'Explore cannot read or write files outside the lake tables', 'sql');
      throw new HttpError(400, `query failed: ${msg.split('\n')[0].slice(0, 300)}`, 'sql');
    } finally {
      clearTimeout(timer);
    }
  }

  /** The sandbox for the lake's current table versions (rebuilt when any table moved on). */
  private async current(): Promise<Built> {
    const tables = await this.listTables();
    const signature = tables.map((t) => `${t.path}@${t.version}`).join(',');
    const have = this.built ? await this.built.catch(() => undefined) : undefined;
    if (have?.signature === signature) return have;
    this.built = this.build(signature, tables);
    const fresh = await this.built;
    // The previous sandbox's statement (if any) finished: run() serialises on the queue.
    if (have) {
      have.conn.closeSync();
      have.instance.closeSync();
    }
    return fresh;
  }

  private async build(signature: string, tables: TableSummary[]): Promise<Built> {
    const instance = await DuckDBInstance.create(':memory:', { memory_limit: '1GB', threads: '2' });
    const conn = await instance.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    const allowed: string[] = [];
    const views = new Set<string>();
    for (const t of tables) {
      const table = new DeltaTable(this.store, t.path);
      const snap = await table.snapshot(t.version);
      for (const f of snap.files) allowed.push(await dataFileLocalPath(this.store, snap.table, f));
      await table.createView(conn, t.view, t.version);
      views.add(t.view.toLowerCase());
    }
    // The lock: only the snapshot's data files stay readable; nothing can be written, attached or reconfigured.
    await conn.run(`SET allowed_paths = [${allowed.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ')}]`);
    await conn.run('SET allowed_directories = []');
    await conn.run('SET enable_external_access = false');
    await conn.run('SET autoinstall_known_extensions = false');
    await conn.run('SET autoload_known_extensions = false');
    await conn.run('SET lock_configuration = true');
    return { signature, instance, conn, views };
  }

  close(): void {
    void this.built
      ?.then((b) => {
        b.conn.closeSync();
        b.instance.closeSync();
      })
      .catch(() => undefined);
  }
}
