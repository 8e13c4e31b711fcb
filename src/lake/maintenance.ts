// Table maintenance: optimize (compact small files into bigger ones: removes + adds in one commit,
// dataChange=false, so streaming readers of changes skip it) and vacuum (delete files no version within
// the retention needs; dry-run by default). Both clean the log past its retention (log/cleanup.ts).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import { joinPath, type ObjectStore } from '../storage/index.ts';
import { type Action, type AddFile, decodeDataPath } from './actions.ts';
import { withDuck } from './duck.ts';
import { dvFilePath } from './dv.ts';
import { cleanupLog, parseRetention } from './log/cleanup.ts';
import { copyToDir, uploadDataFiles } from './parquet.ts';
import type { Snapshot } from './snapshot.ts';
import { filesSelect } from './sql.ts';
import { type CommitResult, removeFor, type WriteOptions } from './transaction.ts';

/** What maintenance needs of a table: a DeltaTable, which calls in here (so this file cannot import it). */
export interface MaintainedTable {
  readonly path: string;
  readonly store: ObjectStore;
  snapshot(): Promise<Snapshot>;
  commit(actions: Action[], opts?: WriteOptions): Promise<CommitResult>;
}

export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
export const DEFAULT_RETENTION_HOURS = 7 * 24;
/** The table property (Delta's name for it) that sets the size compaction aims at, in bytes ("64mb" too). */
export const TARGET_FILE_SIZE_PROPERTY = 'delta.targetFileSize';

/** The target file size of a table: its `delta.targetFileSize`, else DEFAULT_TARGET_FILE_SIZE. */
export function targetFileSize(configuration: Record<string, string> | undefined): number {
  const raw = configuration?.[TARGET_FILE_SIZE_PROPERTY];
  if (raw === undefined) return DEFAULT_TARGET_FILE_SIZE;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m?.[2] ?? 'b').toLowerCase() as 'b'];
  const bytes = m ? Math.round(Number(m[1]) * scale) : Number.NaN;
  if (!(bytes > 0))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `${TARGET_FILE_SIZE_PROPERTY} must be a positive size in bytes (or with kb, mb, gb), got ${JSON.stringify(raw)}`,
    );
  return bytes;
}

export interface CompactionOptions {
  /** bytes; default the table's `delta.targetFileSize`, else 128 MiB */
  targetFileSize?: number;
  /** a partition is compacted only once it holds this many small files (default 2) */
  minFiles?: number;
  /** only these files may be compacted (default: every file) */
  eligible?: (f: AddFile) => boolean;
  /** name prefix of the files written (default 'part-') */
  prefix?: string;
  /** files are only compacted with files of the same group (default: one group), within a partition */
  group?: (f: AddFile) => string;
}

/**
 * Groups small files of each partition into bins of about `target` bytes; bins of one file are left
 * alone, unless the file has a deletion vector (rewriting it drops the deleted rows for good).
 * A partition with fewer than `minFiles` small files (and no deletion vector) is left alone.
 */
export function planCompaction(
  files: AddFile[],
  target: number,
  minFiles = 2,
  group?: (f: AddFile) => string,
): AddFile[][] {
  const byPartition = new Map<string, AddFile[]>();
  const worth = (bin: AddFile[]) => bin.length > 1 || bin.some((f) => f.deletionVector);
  for (const f of files) {
    if (Number(f.size) >= target && !f.deletionVector) continue;
    const key = JSON.stringify([Object.entries(f.partitionValues ?? {}).sort(), group?.(f) ?? '']);
    let g = byPartition.get(key);
    if (!g) {
      g = [];
      byPartition.set(key, g);
    }
    g.push(f);
  }
  const bins: AddFile[][] = [];
  for (const group of byPartition.values()) {
    if (group.length < minFiles && !group.some((f) => f.deletionVector)) continue;
    group.sort((a, b) => a.path.localeCompare(b.path));
    let bin: AddFile[] = [];
    let size = 0;
    for (const f of group) {
      if (bin.length > 0 && size + Number(f.size) > target) {
        if (worth(bin)) bins.push(bin);
        bin = [];
        size = 0;
      }
      bin.push(f);
      size += Number(f.size);
    }
    if (worth(bin)) bins.push(bin);
  }
  return bins;
}

/**
 * Compacts the table's small files (see planCompaction) in one commit of removes and adds with
 * dataChange=false. The removed files stay on storage (for readers of older versions) until vacuum.
 * Another commit that removed one of the files first makes this one a conflict (nothing committed).
 */
export async function optimizeTable(table: MaintainedTable, opts: CompactionOptions): Promise<CommitResult> {
  const snap = await table.snapshot();
  const target = opts.targetFileSize ?? targetFileSize(snap.metadata.configuration);
  const files = opts.eligible ? snap.files.filter(opts.eligible) : snap.files;
  const bins = planCompaction(files, target, opts.minFiles, opts.group);
  if (bins.length === 0) return { status: 'committed', version: snap.version };
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-optimize-'));
  try {
    const adds: AddFile[] = [];
    for (const bin of bins) {
      const stats = await withDuck(async (conn) => {
        const select = await filesSelect(table.store, snap, bin);
        return copyToDir(conn, select, dir, snap.partitionColumns, opts.prefix ?? 'part-');
      });
      adds.push(
        ...(await uploadDataFiles(table.store, table.path, snap.schema, snap.partitionColumns, stats, false)),
      );
      await rm(dir, { recursive: true, force: true });
    }
    const now = Date.now();
    const removes = bins.flat().map((f) => removeFor(f, false, now));
    const res = await table.commit([...adds.map((add) => ({ add })), ...removes], {
      operation: 'OPTIMIZE',
      operationParameters: { targetSize: target, predicate: [] },
    });
    await cleanupTableLog(table, false);
    return res;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Files under the table that no version within the retention needs: not live, written before the
 * cutoff, and (if a remove names them) removed before the cutoff. `_delta_log/` and names starting
 * with '_' or '.' are never touched.
 */
export async function vacuumTable(
  table: MaintainedTable,
  opts: { retentionHours?: number; dryRun?: boolean },
): Promise<string[]> {
  const hours = opts.retentionHours ?? DEFAULT_RETENTION_HOURS;
  if (!(hours >= 0))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `table ${table.path}: retention must be ≥ 0 hours, got ${hours}`,
    );
  const dryRun = opts.dryRun ?? true;
  const snap = await table.snapshot();
  const cutoff = Date.now() - hours * 3600_000;
  // A live file's deletion vector file is as live as the file (one DV file may serve several).
  const live = new Set<string>();
  for (const f of snap.files) {
    live.add(joinPath(table.path, decodeDataPath(f.path)));
    const dv = f.deletionVector && dvFilePath(table.path, f.deletionVector);
    if (dv) live.add(dv);
  }
  const removedAt = new Map<string, number>();
  for (const r of snap.state.tombstones.values()) {
    const at = Number(r.deletionTimestamp ?? 0);
    const dv = r.deletionVector && dvFilePath(table.path, r.deletionVector);
    for (const p of [joinPath(table.path, decodeDataPath(r.path)), dv])
      if (p) removedAt.set(p, Math.max(at, removedAt.get(p) ?? 0));
  }
  const prefix = table.path === '' ? '' : `${table.path}/`;
  const doomed: string[] = [];
  for (const o of await table.store.list(prefix)) {
    const rel = o.path.slice(prefix.length);
    // Hidden names are not data (a partition directory like `_x=1` is).
    if (rel.split('/').some((seg) => (seg.startsWith('_') || seg.startsWith('.')) && !seg.includes('=')))
      continue;
    if (live.has(o.path)) continue;
    if (o.modificationTime >= cutoff) continue;
    const removed = removedAt.get(o.path);
    if (removed !== undefined && removed >= cutoff) continue;
    doomed.push(o.path);
  }
  if (!dryRun) for (const p of doomed) await table.store.delete(p);
  return [...doomed, ...(await cleanupTableLog(table, dryRun))];
}

/**
 * Deletes (or lists, on a dry run) the `_delta_log` files older than the table's
 * `delta.logRetentionDuration` (default 30 days) that a checkpoint covers.
 */
export async function cleanupTableLog(table: MaintainedTable, dryRun: boolean): Promise<string[]> {
  const snap = await table.snapshot();
  const retention = parseRetention(snap.metadata.configuration?.['delta.logRetentionDuration']);
  return (await cleanupLog(table.store, table.path, retention, { dryRun })).deleted;
}
