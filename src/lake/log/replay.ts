// Log replay (PROTOCOL "Action Reconciliation"): the table state after applying actions in version order.
// - the latest protocol and metaData win; a txn keeps the latest version per appId;
// - an add makes its file live, a remove makes it dead (a tombstone kept for checkpoints and vacuum);
//   a file is its path plus its deletion vector's id, so a DELETE that replaces a file's DV removes
//   (path, old DV) and adds (path, new DV) in either order.

import { LakestreamError } from '../../errors.ts';
import type { Action, AddFile, MetadataAction, ProtocolAction, RemoveFile, TxnAction } from '../actions.ts';
import { fileKey } from '../dv.ts';

export interface LogState {
  version: number;
  protocol?: ProtocolAction;
  metadata?: MetadataAction;
  /** live files by fileKey: the path as written in the log, plus the DV id when there is one */
  files: Map<string, AddFile>;
  tombstones: Map<string, RemoveFile>;
  txns: Map<string, TxnAction>;
  /** ms since the epoch of the latest commit */
  timestamp: number;
}

export function emptyState(): LogState {
  return { version: -1, files: new Map(), tombstones: new Map(), txns: new Map(), timestamp: 0 };
}

/** A copy that later applies will not change (maps are copied, actions are shared and never mutated). */
export function cloneState(s: LogState): LogState {
  return { ...s, files: new Map(s.files), tombstones: new Map(s.tombstones), txns: new Map(s.txns) };
}

/**
 * Applies one commit's (or a checkpoint's) actions to `state` in place. `where` names the file for
 * errors.
 */
export function applyActions(
  state: LogState,
  version: number,
  actions: Action[],
  where: string,
  fileTime = 0,
): void {
  let ts = fileTime;
  for (const a of actions) {
    const r = a as Record<string, unknown>;
    if (r.add) {
      const add = r.add as AddFile;
      if (typeof add.path !== 'string')
        throw new LakestreamError('CORRUPT_TABLE', `${where}: an add action has no path`);
      const key = fileKey(add);
      state.files.set(key, add);
      state.tombstones.delete(key);
    } else if (r.remove) {
      const rm = r.remove as RemoveFile;
      if (typeof rm.path !== 'string')
        throw new LakestreamError('CORRUPT_TABLE', `${where}: a remove action has no path`);
      const key = fileKey(rm);
      state.files.delete(key);
      state.tombstones.set(key, rm);
    } else if (r.txn) {
      const t = r.txn as TxnAction;
      state.txns.set(t.appId, { ...t, version: Number(t.version) });
    } else if (r.metaData) {
      state.metadata = r.metaData as MetadataAction;
    } else if (r.protocol) {
      state.protocol = r.protocol as ProtocolAction;
    } else if (r.commitInfo) {
      const t = (r.commitInfo as { timestamp?: number }).timestamp;
      if (typeof t === 'number') ts = t;
    }
  }
  state.version = version;
  if (ts) state.timestamp = ts;
}
