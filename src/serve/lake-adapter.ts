// The server's LakeReader over the lake layer (src/lake): trusted SQL and a table list with versions.

import { filesSelect, Lake, viewNameOf } from '../lake/index.ts';
import { ServingCopies } from './data/serving.ts';
import type { LakeReader, Rows, TableSummary } from './lake-reader.ts';

const TABLES_TTL_MS = 2000;

export class LakeAdapter implements LakeReader {
  readonly lake: Lake;
  private tableCache: { at: number; value: Promise<TableSummary[]> } | undefined;
  private readonly copies: ServingCopies;
  private refreshing = false;

  constructor(lake: Lake, opts: { refreshMs?: number } = {}) {
    this.lake = lake;
    this.copies = new ServingCopies(lake, opts);
  }

  static async open(url: string): Promise<LakeAdapter> {
    return new LakeAdapter(await Lake.open(url));
  }

  get url(): string {
    return this.lake.url;
  }

  get store() {
    return this.lake.store;
  }

  /** Queries over the gold tables only run on their in-memory copies; anything else on the lake's views. */
  async query(sql: string, opts?: { maxRows?: number; timeoutMs?: number }): Promise<Rows> {
    const paths = (await this.tables()).map((t) => t.path);
    const served = this.copies.covers(sql, paths);
    if (served) return this.copies.query(sql, served, opts);
    return this.lake.query(sql, opts) as Promise<Rows>;
  }

  async prunedScan(path: string, column: string, from: string, to: string): Promise<string | undefined> {
    const snap = await this.lake.table(path).snapshot();
    const files = snap.files.filter((f) => {
      const v = f.partitionValues?.[column];
      return v === null || v === undefined || (v >= from && v <= to);
    });
    if (files.length === 0) return undefined;
    // the table's own reading of those files (deletion vectors and column mapping applied)
    return `(${await filesSelect(this.lake.store, snap, files)})`;
  }

  /**
   * The table list, refreshed in the background once older than TABLES_TTL_MS (listing a big lake's
   * store takes long; a request never waits for it but the first).
   */
  tables(): Promise<TableSummary[]> {
    const now = Date.now();
    const c = this.tableCache;
    if (c && now - c.at < TABLES_TTL_MS) return c.value;
    const value = this.loadTables();
    if (c && !this.refreshing) {
      this.refreshing = true;
      value
        .then(() => {
          this.tableCache = { at: Date.now(), value };
        })
        .catch(() => {})
        .finally(() => {
          this.refreshing = false;
        });
      return c.value;
    }
    if (c) return c.value;
    value.catch(() => {
      this.tableCache = undefined;
    });
    this.tableCache = { at: now, value };
    return value;
  }

  private async loadTables(): Promise<TableSummary[]> {
    const out: TableSummary[] = [];
    for (const path of await this.lake.listTables()) {
      if (path === '') continue;
      const snap = await this.lake.table(path).snapshot();
      out.push({
        path,
        view: viewNameOf(path),
        version: snap.version,
        columns: snap.schema.map((f) => ({ name: f.name, type: f.type })),
        partitionColumns: snap.partitionColumns,
        files: snap.files.length,
        rows: snap.numRecords ?? null,
        lastCommitAt: snap.timestamp,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.copies.close();
    await this.lake.close();
  }
}
