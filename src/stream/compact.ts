// The stream's own compaction: every batch writes one small file per table partition it touches, so
// after every `everyBatches` committed batches the worker compacts, table by table, the partitions
// that hold `minFiles` or more small files it wrote itself (a Delta OPTIMIZE commit: removes + adds,
// dataChange=false; readers of older versions still find the old files until vacuum).
//
// Only append-only tables (no key columns) are compacted here: a keyed table's rows are replaced
// copy-on-write, and a big file holding keys still open (today's, a late day's) would be rewritten
// whole by the next batch that re-emits one of them, so those are left to `lake optimize` once
// their period has closed. Only files written for the Kafka partitions this worker owns now are
// touched (their names say which: `w<p>_<p>…-`), and it compacts between its own batches, so a
// compaction never races its own stream commits; appends of other workers never conflict with it.
// A compaction that loses a race is simply dropped, and a failed one is logged, never fatal.
//
// Files are compacted by size tier (sizeTier): a file only with files of about its size. A file the
// stream compacted is still small beside the target size (128 MiB), and compacted with every new
// small file it rewrote the partition's whole day so far at each compaction: O(the day's readings)
// per compaction, so each reading's share grew with the fleet (at a million meters a day's bronze is
// ~48 M rows, rewritten some 60 times). By tier a row is rewritten about log_minFiles(day ÷ batch)
// times, and a partition keeps fewer than minFiles files of each tier until `lake optimize`.

import { describeError } from '../errors.ts';
import type { AddFile, Lake } from '../lake/index.ts';
import type { Workload } from './workload.ts';

export interface CompactionPolicy {
  /** compact after every this many committed batches (0: never) */
  everyBatches: number;
  /** a table partition is compacted once it holds this many small files of this worker's */
  minFiles: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = { everyBatches: 16, minFiles: 8 };

/** The Kafka partitions a stream data file was written for (from its name), or undefined. */
export function writerPartitions(path: string): number[] | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = /^w(\d+(?:_\d+)*)-/.exec(name);
  return m ? m[1].split('_').map(Number) : undefined;
}

export interface CompactionOutcome {
  table: string;
  status: 'committed' | 'conflict' | 'skipped' | 'failed';
  /** the version the compaction committed (absent when there was nothing to do) */
  version?: number;
  detail?: string;
}

/** A file's size tier: files in tier k are minFiles^k … minFiles^(k+1) bytes, so minFiles of them make one of the next. */
export function sizeTier(size: number, minFiles: number): number {
  return Math.floor(Math.log(Math.max(size, 1)) / Math.log(Math.max(minFiles, 2)));
}

/** Compacts the small files the owner of `owned` wrote, in each of the workload's append-only tables. */
export async function compactOwnFiles(
  lake: Lake,
  workload: Workload,
  owned: Iterable<number>,
  policy: CompactionPolicy,
): Promise<CompactionOutcome[]> {
  const mine = new Set(owned);
  if (mine.size === 0) return [];
  const eligible = (f: AddFile) => writerPartitions(f.path)?.every((p) => mine.has(p)) === true;
  const prefix = `w${[...mine].sort((a, b) => a - b).join('_')}-c-`;
  const out: CompactionOutcome[] = [];
  for (const t of workload.tables) {
    if (t.keyColumns && t.keyColumns.length > 0) continue;
    const table = lake.table(t.path);
    try {
      const before = await table.snapshot();
      const r = await table.optimize({
        minFiles: policy.minFiles,
        eligible,
        prefix,
        group: (f) => String(sizeTier(Number(f.size), policy.minFiles)),
      });
      if (r.status === 'committed' && r.version === before.version) continue; // nothing to compact
      out.push({
        table: t.path,
        status: r.status,
        ...('version' in r ? { version: r.version } : {}),
        ...('reason' in r ? { detail: r.reason } : {}),
      });
    } catch (e) {
      out.push({ table: t.path, status: 'failed', detail: describeError(e) });
    }
  }
  return out;
}
