// The embedded engine: the lake's own DuckDB path (src/lake: views over each table's live files) behind
// the QueryEngine interface, its results turned into the engine model.

import { Lake, viewNameOf } from '../../lake/index.ts';
import {
  DEFAULT_MAX_ROWS,
  type EnginePing,
  type EngineResult,
  type EngineTable,
  type QueryEngine,
  type QueryOptions,
} from '../engine.ts';
import { engineType, engineValue } from './values.ts';

export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb';
  readonly address = 'in process';
  readonly lake: string;
  private readonly reader: Lake;

  private constructor(lake: Lake) {
    this.reader = lake;
    this.lake = lake.url;
  }

  static async open(lakeUrl: string): Promise<DuckDbEngine> {
    return new DuckDbEngine(await Lake.open(lakeUrl));
  }

  query(sql: string, opts: QueryOptions = {}): Promise<EngineResult> {
    return this.reader.read(sql, opts, (reader, maxRows) => {
      const names = reader.deduplicatedColumnNames();
      const types = reader.columnTypes();
      const rows = reader
        .getRows()
        .slice(0, maxRows ?? DEFAULT_MAX_ROWS)
        .map((row) => Object.fromEntries(names.map((n, i) => [n, engineValue(row[i])])));
      return { columns: names.map((name, i) => ({ name, type: engineType(types[i]) })), rows };
    });
  }

  /**
   * Computes a query once and keeps its rows as a temporary table `name` for later queries (training's
   * IRLS steps), as SparkEngine.cacheView does on the cluster; dropped at close. Several queries are
   * parts of the rows, computed one after another (Lake.cache).
   */
  cacheView(
    name: string,
    sql: string | readonly string[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    return this.reader.cache(name, sql, opts);
  }

  async tables(): Promise<EngineTable[]> {
    return (await this.reader.listTables())
      .filter((p) => p !== '')
      .map((path) => ({ path, view: viewNameOf(path) }));
  }

  async ping(opts: { signal?: AbortSignal } = {}): Promise<EnginePing> {
    const started = performance.now();
    const r = await this.query('SELECT version() AS v', { signal: opts.signal });
    return { version: `DuckDB ${r.rows[0].v}`, ms: performance.now() - started };
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
