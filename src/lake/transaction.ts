// Optimistic commits (PROTOCOL "Optimistic Concurrency Control"): write version N+1 with put-if-absent;
// when another writer took it, read the winner's actions, decide whether ours still holds, and retry
// at the next version. Blind appends always retry; a lost race that would change what we read is a
// conflict result, never a silently lost or doubled commit.

import type { Action, AddFile, RemoveFile, TxnAction } from './actions.ts';

/** What a commit in flight depends on, to check it against commits that won the race. */
export interface CommitIntent {
  /** paths this commit removes (they must still be live) */
  removes: Set<string>;
  /** the predicate that chose `removes`: a concurrently added file matching it was not considered */
  removeWhere?: (file: AddFile) => boolean;
  /** this commit changes the protocol or metadata (create, schema change) */
  changesMetadata: boolean;
  txn?: { appId: string; version: number };
}

export type Resolution =
  | { kind: 'retry' }
  | { kind: 'conflict'; reason: string }
  | { kind: 'skip'; reason: 'txn-already-applied' };

/** Decides what a commit does when `winner` (the actions of version `version`) took its place. */
export function resolveAgainst(winner: Action[], version: number, mine: CommitIntent): Resolution {
  for (const a of winner) {
    const r = a as Record<string, unknown>;
    if (r.metaData || r.protocol)
      return {
        kind: 'conflict',
        reason: `version ${version} changed the table's metadata or protocol concurrently`,
      };
    if (mine.changesMetadata && (r.add || r.remove))
      return {
        kind: 'conflict',
        reason: `version ${version} changed the table while this commit changed its metadata`,
      };
    if (r.txn && mine.txn && (r.txn as TxnAction).appId === mine.txn.appId) {
      if (Number((r.txn as TxnAction).version) >= mine.txn.version)
        return { kind: 'skip', reason: 'txn-already-applied' };
    }
    if (r.remove && mine.removes.has((r.remove as RemoveFile).path))
      return {
        kind: 'conflict',
        reason: `version ${version} removed ${(r.remove as RemoveFile).path}, which this commit also removes`,
      };
    if (
      r.add &&
      mine.removeWhere &&
      (r.add as AddFile).dataChange !== false &&
      mine.removeWhere(r.add as AddFile)
    )
      return {
        kind: 'conflict',
        reason: `version ${version} added ${(r.add as AddFile).path}, which this commit's rewrite did not read`,
      };
  }
  return { kind: 'retry' };
}

/** A remove action for a live file (extended metadata so readers of the log need not look it up). */
export function removeFor(f: AddFile, dataChange = true, now = Date.now()): { remove: RemoveFile } {
  return {
    remove: {
      path: f.path,
      deletionTimestamp: now,
      dataChange,
      extendedFileMetadata: true,
      partitionValues: f.partitionValues,
      size: f.size,
      // the DV names which (path, DV) is removed; the file's deleted rows go with it
      ...(f.deletionVector ? { deletionVector: f.deletionVector } : {}),
    },
  };
}

/** A short random pause before retrying a commit, so racing writers spread out. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, attempt) * Math.random();
  return new Promise((r) => setTimeout(r, ms));
}

export type CommitResult =
  | { status: 'committed'; version: number }
  | { status: 'skipped'; reason: 'txn-already-applied'; version: number }
  | { status: 'conflict'; reason: string };

export interface WriteOptions {
  /** idempotent stream writes: no-op when the table records version >= this for appId */
  txn?: { appId: string; version: number };
  /** files to remove in the same commit: every active file for which this returns true */
  removeWhere?: (file: AddFile) => boolean;
  /** commitInfo.operation, default 'WRITE' */
  operation?: string;
  /** name prefix for new data files; default 'part-' */
  filePrefix?: string;
  /** commitInfo.operationParameters (values are written as strings, as Spark does) */
  operationParameters?: Record<string, unknown>;
  /** dataChange of the removes made by removeWhere (false for compaction); default true */
  dataChange?: boolean;
  /**
   * A read-modify-write: the version the caller read, and which files its read covered. A commit
   * after `readVersion` that added a file matching `readWhere`, or removed one this commit removes,
   * makes this commit a conflict (the caller reads again), as a commit racing for the version does.
   */
  read?: { version: number; where: (file: AddFile) => boolean };
}
