// The serving copy: the gold tables the dashboard reads on every click, held in memory (sorted by meter)
// at their latest Delta version, so a 3-year series is answered in milliseconds instead of re-reading Parquet.
//
// A copy is rebuilt on a second connection when its table's version moved on (checked at most every
// `refreshMs`), then swapped in by replacing a view: queries never wait for a rebuild and never see
// half a table. Staleness is bounded by refreshMs plus the rebuild time.

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import type { Lake } from '../../lake/index.ts';
import { createSnapshotView, viewNameOf } from '../../lake/index.ts';
import type { Rows } from '../lake-reader.ts';

/** Small, hot tables worth a copy (silver and bronze stay on the lake: too big, queried by narrow ranges). */
export const SERVED_TABLES: readonly string[] = [
  METER_TABLES.daily.path,
  METER_TABLES.monthly.path,
  METER_TABLES.predictions.path,
  METER_TABLES.outcomes.path,
];

interface Copy {
  version: number;
  checkedAt: number;
  table: string;
  refreshing?: Promise<void>;
}

export class ServingCopies {
  private readonly lake: Lake;
  private readonly refreshMs: number;
  private conns:
    | Promise<{ db: DuckDBInstance; query: DuckDBConnection; build: DuckDBConnection }>
    | undefined;
  private readonly copies = new Map<string, Copy>();
  private queryQueue: Promise<unknown> = Promise.resolve();
  private buildQueue: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(lake: Lake, opts: { refreshMs?: number } = {}) {
    this.lake = lake;
    this.refreshMs = opts.refreshMs ?? 2000;
  }

  /**
   * The served tables a query names (none: it reads files itself, e.g. a pruned scan), or undefined when
   * it names any other table (then it runs on the lake's views).
   */
  covers(sql: string, tables: string[]): string[] | undefined {
    const lower = sql.toLowerCase();
    const named = tables.filter((p) => lower.includes(viewNameOf(p).toLowerCase()));
    if (named.some((p) => !SERVED_TABLES.includes(p))) return undefined;
    return named;
  }

  async query(
    sql: string,
    paths: string[],
    opts: { maxRows?: number; timeoutMs?: number } = {},
  ): Promise<Rows> {
    const { query } = await this.connections();
    await Promise.all(paths.map((p) => this.ensure(p)));
    const run = this.queryQueue.then(async () => {
      const timer = opts.timeoutMs ? setTimeout(() => query.interrupt(), opts.timeoutMs) : undefined;
      try {
        const reader = await query.streamAndReadUntil(sql, opts.maxRows ?? 100_000);
        const names = reader.deduplicatedColumnNames();
        const types = reader.columnTypes().map(String);
        return {
          columns: names.map((name, i) => ({ name, type: types[i] })),
          rows: reader.getRowObjectsJS() as Rows['rows'],
        };
      } finally {
        if (timer) clearTimeout(timer);
      }
    });
    this.queryQueue = run.catch(() => {});
    return run;
  }

  private connections() {
    this.conns ??= (async () => {
      const db = await DuckDBInstance.create(':memory:', { threads: '2' });
      const query = await db.connect();
      const build = await db.connect();
      for (const c of [query, build]) await c.run(`SET TimeZone = 'UTC'`);
      // Pruned scans of silver re-read the same files' footers on every click: keep them.
      await query.run('SET parquet_metadata_cache = true').catch(() => {});
      return { db, query, build };
    })();
    return this.conns;
  }

  /** Makes sure the copy of `path` is no older than refreshMs (the first call waits for the copy). */
  private async ensure(path: string): Promise<void> {
    const now = Date.now();
    const c = this.copies.get(path);
    if (c && now - c.checkedAt < this.refreshMs) return;
    if (c?.refreshing) return c.version >= 0 ? undefined : c.refreshing;
    const refreshing = this.refresh(path);
    if (c) {
      c.refreshing = refreshing;
      // An existing copy keeps answering while the new one is built.
      void refreshing.catch(() => {}).finally(() => (c.refreshing = undefined));
      return;
    }
    this.copies.set(path, { version: -1, checkedAt: 0, table: '', refreshing });
    try {
      await refreshing;
    } catch (e) {
      this.copies.delete(path); // the next query tries again
      throw e;
    }
  }

  private async refresh(path: string): Promise<void> {
    const snap = await this.lake.table(path).snapshot();
    const c = this.copies.get(path);
    if (c && c.version === snap.version) {
      c.checkedAt = Date.now();
      return;
    }
    const job = this.buildQueue.then(async () => {
      const { build } = await this.connections();
      const view = viewNameOf(path);
      const table = `copy_${view}_${++this.seq}`;
      await createSnapshotView(build, this.lake.store, snap, `src_${view}`);
      const sortable = ['kind', 'meter_id', 'month', 'day', 'as_of_day'].filter((k) =>
        snap.schema.some((f) => f.name === k),
      );
      await build.run(
        `CREATE TABLE ${table} AS SELECT * FROM src_${view}${sortable.length ? ` ORDER BY ${sortable.join(', ')}` : ''}`,
      );
      await build.run(`CREATE OR REPLACE VIEW ${view} AS SELECT * FROM ${table}`);
      const old = this.copies.get(path)?.table;
      this.copies.set(path, { version: snap.version, checkedAt: Date.now(), table });
      if (old) await build.run(`DROP TABLE IF EXISTS ${old}`);
    });
    this.buildQueue = job.catch(() => {});
    await job;
  }

  async close(): Promise<void> {
    const c = await this.conns?.catch(() => undefined);
    await this.queryQueue;
    await this.buildQueue;
    c?.query.closeSync();
    c?.build.closeSync();
    c?.db.closeSync();
  }
}
