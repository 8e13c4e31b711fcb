// The server's LakeReader over a query engine other than the embedded one (Spark): the API's SQL runs on
// the engine; the table list and the store still come from the lake layer (they read the Delta logs).

import { openEngine, type QueryEngine } from '../engine/index.ts';
import { LakeAdapter } from './lake-adapter.ts';
import type { LakeReader, Rows, TableSummary } from './lake-reader.ts';

/** Spark's first query of a session starts its executors: a dashboard request must outlive that. */
const MIN_TIMEOUT_MS = 60_000;

export class EngineAdapter implements LakeReader {
  readonly qe: QueryEngine;
  private readonly lake: LakeAdapter;

  private constructor(qe: QueryEngine, lake: LakeAdapter) {
    this.qe = qe;
    this.lake = lake;
  }

  /** Opens the engine over the lake and runs one query over a table, so the first request finds it warm. */
  static async open(lakeUrl: string, engine: string): Promise<EngineAdapter> {
    const qe = await openEngine(engine, lakeUrl);
    const a = new EngineAdapter(qe, await LakeAdapter.open(lakeUrl));
    try {
      const first = (await a.tables())[0];
      if (first) await qe.query(`SELECT count(*) AS n FROM ${first.view}`);
    } catch (e) {
      await a.close();
      throw e;
    }
    return a;
  }

  get engine(): 'duckdb' | 'spark' {
    return this.qe.name;
  }

  get url(): string {
    return this.lake.url;
  }

  get store() {
    return this.lake.store;
  }

  async query(sql: string, opts: { maxRows?: number; timeoutMs?: number } = {}): Promise<Rows> {
    const r = await this.qe.query(sql, {
      maxRows: opts.maxRows ?? 100_000,
      timeoutMs: opts.timeoutMs === undefined ? undefined : Math.max(opts.timeoutMs, MIN_TIMEOUT_MS),
    });
    return r;
  }

  tables(): Promise<TableSummary[]> {
    return this.lake.tables();
  }

  async close(): Promise<void> {
    await this.qe.close();
    await this.lake.close();
  }
}
