// Loading a table's state: the latest complete checkpoint at or before the wanted version, then the
// commits after it, in order (PROTOCOL "Log Replay"). Refreshing a cached state reads only newer commits.

import { isLakestreamError, LakestreamError } from '../../errors.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { joinPath } from '../../storage/index.ts';
import { type Action, commitFileName, parseCommit } from '../actions.ts';
import { readCheckpoint } from '../checkpoint.ts';
import { type LogListing, listLog, listLogFrom, logDir } from './listing.ts';
import { applyActions, cloneState, emptyState, type LogState } from './replay.ts';

export function commitPath(table: string, version: number): string {
  return joinPath(logDir(table), commitFileName(version));
}

/** Reads and parses one commit; undefined when it does not exist (yet). */
export async function readCommit(
  store: ObjectStore,
  table: string,
  version: number,
): Promise<Action[] | undefined> {
  const path = commitPath(table, version);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(path);
  } catch (e) {
    if (isLakestreamError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
  return parseCommit(bytes, `table ${table}: ${path}`);
}

export function notATable(store: ObjectStore, table: string): LakestreamError {
  return new LakestreamError(
    'NOT_A_TABLE',
    `${store.url}${store.url.endsWith('/') ? '' : '/'}${table} is not a Delta table (no commits in ${table}/_delta_log)`,
  );
}

/**
 * Where `_last_checkpoint` says to start: its version, or undefined when it is missing or damaged
 * (it is only a hint; PROTOCOL "Last Checkpoint File").
 */
export async function lastCheckpointHint(store: ObjectStore, table: string): Promise<number | undefined> {
  try {
    const j = JSON.parse(
      new TextDecoder().decode(await store.get(joinPath(logDir(table), '_last_checkpoint'))),
    );
    return Number.isInteger(j?.version) && j.version >= 0 ? j.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The latest state, listing only the log after the checkpoint `_last_checkpoint` names; the whole
 * log when there is no usable hint.
 */
export async function loadLatestState(store: ObjectStore, table: string): Promise<LogState> {
  const hint = await lastCheckpointHint(store, table);
  if (hint !== undefined) {
    const listing = await listLogFrom(store, table, hint);
    if (listing.checkpoints.some((c) => c.version === hint)) {
      try {
        return await loadState(store, table, undefined, listing);
      } catch {
        // a damaged checkpoint: fall back to the whole log below
      }
    }
  }
  return loadState(store, table);
}

/**
 * The state at `version` (default: the latest), from a fresh listing of the log. A log cleanup racing
 * the read may delete files the listing named: the read then starts again from a new listing, and a
 * version no longer in the log is NOT_FOUND, never a broken log.
 */
export async function loadState(
  store: ObjectStore,
  table: string,
  version?: number,
  listing?: LogListing,
): Promise<LogState> {
  let log = listing ?? (await listLog(store, table));
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadListed(store, table, version, log);
    } catch (e) {
      if (attempt >= 3) throw e;
      const again = await listLog(store, table);
      const gone = (p: string) =>
        ![...again.commits.values()].some((o) => o.path === p) &&
        !again.checkpoints.some((c) => c.paths.includes(p));
      const used = [
        ...[...log.commits.values()].map((o) => o.path),
        ...log.checkpoints.flatMap((c) => c.paths),
      ];
      if (!used.some(gone)) throw e; // nothing was cleaned up meanwhile: the error is the log's own
      log = again;
    }
  }
}

async function loadListed(
  store: ObjectStore,
  table: string,
  version: number | undefined,
  log: LogListing,
): Promise<LogState> {
  if (log.commits.size === 0 && log.checkpoints.length === 0) throw notATable(store, table);
  const latest = Math.max(-1, ...log.commits.keys(), ...log.checkpoints.map((c) => c.version));
  const target = version ?? latest;
  if (target > latest || target < 0)
    throw new LakestreamError('NOT_FOUND', `table ${table} has no version ${target} (latest is ${latest})`);
  const cp = log.checkpoints.filter((c) => c.version <= target).at(-1);
  const state = emptyState();
  let from = 0;
  if (cp) {
    applyActions(state, cp.version, await readCheckpoint(store, table, cp), `table ${table}: ${cp.paths[0]}`);
    from = cp.version + 1;
  }
  for (let v = from; v <= target; v++)
    if (!log.commits.has(v)) {
      const earliest = Math.min(...log.commits.keys());
      // the log's start is gone (a cleanup, which deletes oldest first) and no checkpoint covers it
      if (!cp && v < earliest)
        throw new LakestreamError(
          'NOT_FOUND',
          `table ${table}: version ${target} is no longer in the log (it starts at ${earliest})`,
        );
      throw new LakestreamError(
        'CORRUPT_TABLE',
        `table ${table}: commit ${commitPath(table, v)} is missing (versions must be contiguous${cp ? ` after checkpoint ${cp.version}` : ''})`,
      );
    }
  // Fetch commits concurrently, apply them in version order.
  const versions: number[] = [];
  for (let v = from; v <= target; v++) versions.push(v);
  const bodies = await mapLimit(versions, 16, async (v) => {
    const path = commitPath(table, v);
    return parseCommit(await store.get(path), `table ${table}: ${path}`);
  });
  versions.forEach((v, i) => {
    applyActions(
      state,
      v,
      bodies[i],
      `table ${table}: ${commitPath(table, v)}`,
      log.commits.get(v)!.modificationTime,
    );
  });
  return state;
}

/**
 * A new state with every commit after `state.version` applied (the old one is left untouched);
 * `state` itself when there is nothing new.
 */
export async function refreshState(store: ObjectStore, table: string, state: LogState): Promise<LogState> {
  let next: LogState | undefined;
  for (let v = state.version + 1; ; v++) {
    const actions = await readCommit(store, table, v);
    if (!actions) break;
    next ??= cloneState(state);
    applyActions(next, v, actions, `table ${table}: ${commitPath(table, v)}`, Date.now());
  }
  return next ?? state;
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let i = 0;
  const worker = async () => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
