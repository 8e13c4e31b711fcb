// What the server needs from the lake: trusted SQL over the tables' views, the table list, the store.

import type { ObjectStore } from '../storage/index.ts';

export interface Column {
  name: string;
  type: string;
}

export interface Rows {
  columns: Column[];
  rows: Record<string, unknown>[];
}

export interface TableSummary {
  /** path in the lake, e.g. meters/gold/daily */
  path: string;
  /** the DuckDB view over it: the path with '/' → '_' */
  view: string;
  version: number;
  columns: Column[];
  partitionColumns: string[];
  files: number;
  rows: number | null;
  /** ms since the epoch of the latest commit */
  lastCommitAt: number;
}

export interface LakeReader {
  readonly url: string;
  /** the engine running query(): its SQL dialect (default duckdb) */
  readonly engine?: 'duckdb' | 'spark';
  readonly store: ObjectStore;
  /** Runs server-written SQL (never user SQL: that goes to the sandbox) with every table as a view. */
  query(sql: string, opts?: { maxRows?: number; timeoutMs?: number }): Promise<Rows>;
  tables(): Promise<TableSummary[]>;
  /**
   * A FROM item reading only the live files of `path` whose partition `column` lies in [from, to]
   * (undefined when none does): lets a narrow range skip the rest of a big table.
   */
  prunedScan?(path: string, column: string, from: string, to: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export function viewName(path: string): string {
  return path.replaceAll('/', '_').replaceAll('-', '_');
}

export function num(v: unknown): number {
  return typeof v === 'bigint'
    ? Number(v)
    : typeof v === 'number'
      ? v
      : v === null || v === undefined
        ? Number.NaN
        : Number(v);
}

export function numOrNull(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = num(v);
  return Number.isFinite(n) ? n : null;
}
