// Log cleanup (PROTOCOL "Metadata Cleanup"): commits and checkpoints older than the table's log
// retention go, but only those before the newest checkpoint that is itself past the retention, so
// the log left starts at a checkpoint and every version it still holds can be read.

import { LakestreamError } from '../../errors.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { listLog } from './listing.ts';

/** `delta.logRetentionDuration`'s default: `interval 30 days`. */
export const DEFAULT_LOG_RETENTION_MS = 30 * 24 * 3600_000;

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3600_000,
  day: 24 * 3600_000,
  week: 7 * 24 * 3600_000,
};

/** `interval 30 days` (Spark's calendar interval, as Delta writes it) in milliseconds. */
export function parseRetention(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LOG_RETENTION_MS;
  const m = /^\s*(?:interval\s+)?(\d+)\s+(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!m)
    throw new LakestreamError(
      'BAD_INPUT',
      `delta.logRetentionDuration "${text}" is not an interval like "interval 30 days"`,
    );
  return Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
}

export interface LogCleanup {
  /** the oldest version the log still holds (a checkpoint's), or undefined when nothing was past the retention */
  keptFrom: number | undefined;
  deleted: string[];
}

/**
 * Deletes log files no reader within the retention needs: every commit and checkpoint older than the
 * newest checkpoint at or before the newest commit written before `now - retentionMs`. Oldest first,
 * so a reader listing meanwhile sees the log shortened from its start, never a gap.
 */
export async function cleanupLog(
  store: ObjectStore,
  table: string,
  retentionMs: number,
  opts: { now?: number; dryRun?: boolean } = {},
): Promise<LogCleanup> {
  const cutoff = (opts.now ?? Date.now()) - retentionMs;
  const log = await listLog(store, table);
  const expired = [...log.commits].filter(([, o]) => o.modificationTime < cutoff).map(([v]) => v);
  if (expired.length === 0) return { keptFrom: undefined, deleted: [] };
  const cutOffCommit = Math.max(...expired);
  const checkpoint = log.checkpoints.filter((c) => c.version <= cutOffCommit).at(-1);
  // without a checkpoint to start from, every commit is still needed to read the table
  if (!checkpoint || !log.commits.has(checkpoint.version)) return { keptFrom: undefined, deleted: [] };
  const doomed: { version: number; path: string }[] = [];
  for (const [v, o] of log.commits) if (v < checkpoint.version) doomed.push({ version: v, path: o.path });
  for (const c of log.checkpoints)
    if (c.version < checkpoint.version) for (const p of c.paths) doomed.push({ version: c.version, path: p });
  doomed.sort((a, b) => a.version - b.version || a.path.localeCompare(b.path));
  if (!opts.dryRun) for (const d of doomed) await store.delete(d.path);
  return { keptFrom: checkpoint.version, deleted: doomed.map((d) => d.path) };
}
