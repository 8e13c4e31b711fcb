// The Explore page on a query engine (Spark): the same first wall as the DuckDB sandbox — DuckDB's parser
// must read the text as ONE SELECT over the lake's views, with no table function and no function that
// reaches the host or the JVM — then the query runs on the engine with the row cap and the timeout.

import type { QueryEngine } from '../../engine/index.ts';
import { isLakestreamError } from '../../errors.ts';
import { withDuck } from '../../lake/index.ts';
import { HttpError } from '../http.ts';
import type { TableSummary } from '../lake-reader.ts';
import { checkTree, type ParsedTree, REFUSED_ON_SPARK } from './guard.ts';
import { DEFAULT_ROW_CAP, DEFAULT_TIMEOUT_MS, type SqlResult, sqlText } from './sandbox.ts';

/** A value the page's grid and chart read: numbers, text; bytes as base64. */
function cell(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

export class EngineSandbox {
  private readonly engine: QueryEngine;
  private readonly listTables: () => Promise<TableSummary[]>;

  constructor(engine: QueryEngine, listTables: () => Promise<TableSummary[]>) {
    this.engine = engine;
    this.listTables = listTables;
  }

  async run(sql: string, opts: { maxRows?: number; timeoutMs?: number } = {}): Promise<SqlResult> {
    const maxRows = opts.maxRows ?? DEFAULT_ROW_CAP;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const text = sqlText(sql);
    const views = new Set((await this.listTables()).map((t) => t.view.toLowerCase()));
    const tree = await withDuck(async (conn) => {
      const r = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [text]);
      return JSON.parse(String(r.getRowsJson()[0][0])) as ParsedTree;
    });
    checkTree(tree, views, REFUSED_ON_SPARK);
    const started = performance.now();
    try {
      const r = await this.engine.query(text, { maxRows: maxRows + 1, timeoutMs });
      if (r.rows.length > maxRows)
        throw new HttpError(
          400,
          `the result has more than ${maxRows} rows (the row cap): add LIMIT ${maxRows} or aggregate`,
          'maxRows',
        );
      return {
        columns: r.columns,
        rows: r.rows.map((row) => r.columns.map((c) => cell(row[c.name]))),
        elapsedMs: Math.round(performance.now() - started),
      };
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (isLakestreamError(e, 'TIMEOUT'))
        throw new HttpError(
          408,
          `the query ran over the ${timeoutMs / 1000} s timeout and was stopped`,
          'sql',
        );
      if (isLakestreamError(e, 'BAD_ARGUMENT') || isLakestreamError(e, 'NOT_FOUND'))
        throw new HttpError(400, `query failed: ${e.message.split('\n')[0].slice(0, 300)}`, 'sql');
      throw e;
    }
  }

  close(): void {}
}
