// The Spark engine: the lake's tables as temporary views over `delta.<path>` in one Spark Connect session,
// queried through the TypeScript client (./index.ts), results turned into the engine model.
//
// Spark reads the same files lakestream writes: a file: lake at file:///abs/dir, a webhdfs:// lake through
// the NameNode's RPC port (hdfs://HOST:8020/dir; `?rpc=PORT` on the lake URL when it is another).

import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError, isLakestreamError, LakestreamError } from '../../errors.ts';
import { Lake, viewNameOf } from '../../lake/index.ts';
import { arrowResult } from '../arrow.ts';
import {
  DEFAULT_MAX_ROWS,
  type EnginePing,
  type EngineResult,
  type EngineTable,
  type QueryEngine,
  type QueryOptions,
} from '../engine.ts';
import { SparkConnectClient, sqlRel } from './client.ts';

export const DEFAULT_HDFS_RPC_PORT = 8020;
const TABLE_LIST_TTL_MS = 2000;
// below 10 s so that, with the process start, a command names an unreachable server within 10 s
const DEFAULT_CONNECT_TIMEOUT_MS = 6000;

/** Where Spark finds the lake's root: file:///abs/dir or hdfs://HOST:RPC/dir. */
export function sparkLakeRoot(lakeUrl: string): string {
  if (lakeUrl.startsWith('file:')) {
    const rest = lakeUrl.slice('file:'.length);
    const path = rest.startsWith('//') ? fileURLToPath(lakeUrl) : resolve(rest);
    return pathToFileURL(path).href.replace(/\/$/, '');
  }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(lakeUrl)) return pathToFileURL(resolve(lakeUrl)).href.replace(/\/$/, '');
  const u = new URL(lakeUrl);
  if (u.protocol === 'webhdfs:') {
    const rpc = u.searchParams.get('rpc') ?? String(DEFAULT_HDFS_RPC_PORT);
    if (!/^\d+$/.test(rpc) || Number(rpc) < 1 || Number(rpc) > 65535)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `rpc must be the NameNode's RPC port, got "${rpc}" in ${lakeUrl}`,
      );
    return `hdfs://${u.hostname}:${rpc}${decodeURIComponent(u.pathname).replace(/\/$/, '')}`;
  }
  throw new LakestreamError(
    'UNSUPPORTED',
    `Spark cannot read a ${u.protocol} lake (${lakeUrl}): use a file: or webhdfs:// lake`,
  );
}

/** Spark SQL's quoting of a path or name between backticks. */
function backticks(s: string): string {
  return `\`${s.replaceAll('`', '``')}\``;
}

/** The first keyword of a statement, past comments. */
function firstKeyword(sql: string): string {
  const m = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+|\()/.exec(sql);
  return (m?.[1] ?? '').toUpperCase();
}

/** Statements that change something: refused by name (anything else is wrapped as a subquery, where only a query parses). */
const COMMANDS = new Set(
  (
    'ADD ALTER ANALYZE CACHE CALL CLEAR CLONE CONVERT COPY CREATE DECLARE DELETE DESC DESCRIBE DROP FSCK ' +
    'GENERATE GRANT INSERT LIST LOAD MERGE MSCK OPTIMIZE REFRESH REORG REPAIR REPLACE RESET RESTORE REVOKE ' +
    'SET SHOW TRUNCATE UNCACHE UNSET UPDATE USE VACUUM'
  ).split(' '),
);

export interface SparkEngineOptions {
  /** how long to wait for the server to answer at open (default 6 s) */
  connectTimeoutMs?: number;
}

export class SparkEngine implements QueryEngine {
  readonly name = 'spark';
  readonly address: string;
  readonly lake: string;
  private readonly client: SparkConnectClient;
  private readonly reader: Lake;
  private readonly root: string;
  /** views created in this session: name → the table path they read */
  private readonly views = new Map<string, string>();
  private tableList: { at: number; paths: string[] } | undefined;

  private constructor(client: SparkConnectClient, reader: Lake, address: string, root: string) {
    this.client = client;
    this.reader = reader;
    this.address = address;
    this.lake = reader.url;
    this.root = root;
  }

  /** Connects to the Spark Connect server at host:port; one that does not answer in time is UNAVAILABLE naming it. */
  static async open(hostPort: string, lakeUrl: string, opts: SparkEngineOptions = {}): Promise<SparkEngine> {
    const address = `spark://${hostPort}`;
    const root = sparkLakeRoot(lakeUrl);
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    let client: SparkConnectClient | undefined;
    try {
      client = await SparkConnectClient.connect(address, { signal, timeoutMs });
      // Timestamps are UTC instants in the lake; "x" quotes a name as in DuckDB (string literals take '…').
      await client.sql('SET spark.sql.session.timeZone = UTC', { signal });
      await client.sql('SET spark.sql.ansi.doubleQuotedIdentifiers = true', { signal });
    } catch (e) {
      await client?.close().catch(() => {});
      if (isLakestreamError(e) && e.code !== 'UNAVAILABLE' && e.code !== 'TIMEOUT' && !signal.aborted)
        throw e;
      throw new LakestreamError(
        'UNAVAILABLE',
        `Spark Connect at ${address} does not answer${signal.aborted ? ` within ${timeoutMs / 1000} s` : ''}: ${describeError(e).split('\n')[0]}`,
        { cause: e },
      );
    }
    return new SparkEngine(client, await Lake.open(lakeUrl), address, root);
  }

  /** The Delta path Spark reads for a table of the lake. */
  tablePath(table: string): string {
    return `${this.root}/${table}`;
  }

  async query(sql: string, opts: QueryOptions = {}): Promise<EngineResult> {
    opts.signal?.throwIfAborted();
    const text = sql.trim().replace(/;\s*$/, '');
    const first = firstKeyword(text);
    const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
    let statement: string;
    if (COMMANDS.has(first))
      throw new LakestreamError('BAD_ARGUMENT', 'only read-only queries (SELECT, EXPLAIN) run over the lake');
    if (first === 'EXPLAIN') statement = text;
    // Inside FROM ( … ) only a query parses: no command can run, and the LIMIT caps what comes back.
    // The query sits on lines of its own so a trailing -- comment cannot swallow the parenthesis.
    else statement = `SELECT * FROM (\n${text}\n) AS lakestream_query LIMIT ${maxRows}`;
    const signals = [opts.signal, opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    try {
      await this.ensureViews(text, signal);
      const table = await this.client.sql(statement, { signal });
      return arrowResult(table, maxRows);
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (signal?.aborted)
        throw new LakestreamError(
          'TIMEOUT',
          `the query ran longer than ${opts.timeoutMs} ms and was stopped`,
          {
            cause: e,
          },
        );
      throw this.explain(e, first === 'EXPLAIN' ? 0 : 1);
    }
  }

  /** Creates the temporary views the query names (once per session: Spark re-reads the table's latest version each time). */
  private async ensureViews(sql: string, signal?: AbortSignal): Promise<void> {
    const lower = sql.toLowerCase();
    for (const path of await this.paths()) {
      const view = viewNameOf(path);
      if (!lower.includes(view.toLowerCase()) || this.views.get(view) === path) continue;
      await this.client.sql(
        `CREATE OR REPLACE TEMPORARY VIEW ${backticks(view)} AS SELECT * FROM delta.${backticks(this.tablePath(path))}`,
        { signal },
      );
      this.views.set(view, path);
    }
  }

  private async paths(): Promise<string[]> {
    if (this.tableList && Date.now() - this.tableList.at < TABLE_LIST_TTL_MS) return this.tableList.paths;
    const paths = (await this.reader.listTables()).filter((p) => p !== '');
    this.tableList = { at: Date.now(), paths };
    return paths;
  }

  /** Spark's error as the project's: a missing table names it; other errors keep Spark's class and message. */
  private explain(e: unknown, linesAdded: number): unknown {
    const errorClass = (e as { errorClass?: string }).errorClass;
    if (!errorClass) return e;
    // the query sits one line down in what Spark parsed
    const msg = describeError(e)
      .split('\n== SQL')[0]
      .replace(/line (\d+)/g, (_m, n) => `line ${Math.max(1, Number(n) - linesAdded)}`)
      .trim();
    if (errorClass === 'TABLE_OR_VIEW_NOT_FOUND') {
      const name = /`([^`]+)`/.exec(msg)?.[1] ?? 'the table';
      return new LakestreamError(
        'NOT_FOUND',
        `no table ${name} in the lake (every Delta table is a view named by its path: meters/gold/daily is meters_gold_daily) [Spark: ${errorClass}]`,
        { cause: e },
      );
    }
    const text = msg.includes(errorClass) ? msg : `[${errorClass}] ${msg}`;
    return new LakestreamError('BAD_ARGUMENT', text.startsWith('Spark') ? text : `Spark: ${text}`, {
      cause: e,
    });
  }

  async tables(): Promise<EngineTable[]> {
    this.tableList = undefined;
    return (await this.paths()).map((path) => ({ path, view: viewNameOf(path) }));
  }

  async ping(opts: { signal?: AbortSignal } = {}): Promise<EnginePing> {
    const started = performance.now();
    const r = arrowResult(await this.client.sql('SELECT version() AS v', { signal: opts.signal }));
    return { version: `Spark ${String(r.rows[0].v).split(' ')[0]}`, ms: performance.now() - started };
  }

  /**
   * Spark's OPTIMIZE (bin-packing compaction) of a lake table, committed to its Delta log by Spark.
   * Returns Spark's counts of files removed and added.
   */
  async optimize(
    table: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ removed: number; added: number }> {
    if (!(await this.paths()).includes(table))
      throw new LakestreamError('NOT_FOUND', `no table ${table} in the lake ${this.lake}`);
    try {
      const r = arrowResult(
        await this.client.sql(`OPTIMIZE delta.${backticks(this.tablePath(table))}`, { signal: opts.signal }),
      );
      const m = (r.rows[0]?.metrics ?? {}) as Record<string, unknown>;
      return { removed: Number(m.numFilesRemoved ?? 0), added: Number(m.numFilesAdded ?? 0) };
    } catch (e) {
      throw this.explain(e, 0);
    }
  }

  /**
   * Runs one statement that writes to the lake (the batch view's CREATE OR REPLACE TABLE … AS SELECT):
   * lakestream's own SQL, never a user's — query() refuses commands.
   */
  async execute(statement: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.ensureViews(statement, opts.signal);
      await this.client.sql(statement, { signal: opts.signal });
    } catch (e) {
      throw this.explain(e, 0);
    }
  }

  /**
   * Computes a query once and keeps its rows in the cluster's memory as a session view `name` (CACHE
   * TABLE, eager), for later queries to read many times (training's IRLS steps); dropped at close.
   */
  async cacheView(name: string, sql: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.ensureViews(sql, opts.signal);
      // The view is the query's analyzed plan (a DataFrame's view, as Dataset.createOrReplaceTempView
      // makes), so every query that names it finds the cached rows. A view created from SQL text is
      // analyzed again at each use, and a query with CTEs gets new CTE ids each time and never matches
      // its cache: every IRLS step recomputed the training set.
      // REBALANCE (adaptive execution) cuts the rows into partitions of the advisory size instead of
      // the source's (a file per day of a gold table: ~1,000 tasks for every later scan).
      await this.client.command(
        {
          commandType: {
            case: 'createDataframeView',
            value: {
              input: sqlRel(`SELECT /*+ REBALANCE */ * FROM (\n${sql}\n)`),
              name,
              isGlobal: false,
              replace: true,
            },
          },
        },
        opts,
      );
      await this.client.sql(`CACHE TABLE ${backticks(name)}`, opts);
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw this.explain(e, 1);
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
    await this.reader.close();
  }
}
