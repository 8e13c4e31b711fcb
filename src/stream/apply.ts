// Committing a batch's manifest to the lake's tables, and judging manifests left behind by workers
// that died: which one of two holding the same batch number the lake recorded, and which lost the
// race for its batch numbers. The protocol is described in manifest.ts.

import { LakestreamError } from '../errors.ts';
import type { Action, Lake } from '../lake/index.ts';
import { appIdFor, type Batch, type Manifest } from './manifest.ts';

/** A table commit a batch made. */
export interface Commit {
  table: string;
  version: number;
  at: string;
}

/** What committing a manifest came to: its commits, or the batch lost to another worker (a zombie's). */
export type Applied = { kind: 'committed'; commits: Commit[] } | { kind: 'lost'; reason: string };

/**
 * Commits a manifest's table actions, each with a txn per partition and the manifest's id in its
 * commitInfo; a table that already records the batch (its txn versions) is skipped, so re-applying a
 * manifest changes nothing.
 * `discard` (a batch just written, not a manifest being completed) makes it a fresh batch: a table
 * that already records one of its batch numbers means another worker owns the partition now — the
 * batch is lost. If that is the first table and another manifest recorded the batch number, nothing
 * of this batch is committed anywhere and `discard` deletes its manifest; if this very manifest was
 * recorded (the worker that took the partition over completed it), the manifest stays: it holds
 * the partitions' state after the batch, which the next owner resumes from.
 */
export async function commitManifest(
  lake: Lake,
  group: string,
  m: Batch,
  send: (m: Batch) => Promise<void>,
  discard?: () => Promise<void>,
): Promise<Applied> {
  const done: Commit[] = [];
  const txns = m.partitions.map((p) => ({ appId: appIdFor(group, p.topic, p.partition), version: p.seq }));
  const fresh = discard !== undefined;
  const lostTo = async (table: string, detail: string, taken: { appId: string; version: number }) => {
    if (done.length === 0) {
      const info = await lake.table(table).txnCommitInfo(taken.appId, taken.version);
      const by = (info?.operationParameters as Record<string, unknown> | undefined)?.manifest;
      if (by === m.id) detail += ' (this batch, completed by the worker that took the partition over)';
      else await discard?.();
    }
    return {
      kind: 'lost',
      reason: `table ${table} ${detail}: another worker owns that partition now`,
    } as const;
  };
  let recommitted = false;
  for (const t of m.tables) {
    const table = lake.table(t.path);
    const snap = await table.snapshot();
    const recorded = txns.filter((x) => (snap.txnVersions.get(x.appId) ?? -1) >= x.version);
    if (fresh) {
      // A worker that lost its partitions without knowing (a zombie) must not commit over the new owner.
      const [taken] = recorded;
      if (taken) return lostTo(t.path, `already records batch ${taken.version} of ${taken.appId}`, taken);
    } else {
      if (recorded.length === txns.length) continue;
      recommitted = true;
    }
    const actions = [...t.actions, ...txns.map((x) => ({ txn: { ...x, lastUpdated: Date.now() } }))];
    const r = await table.commit(actions as Action[], {
      operation: 'STREAMING UPDATE',
      operationParameters: { manifest: m.id },
    });
    if (r.status === 'conflict') {
      if (done.length === 0) await discard?.();
      return {
        kind: 'lost',
        reason: `table ${t.path}: batch ${m.id} conflicts with a concurrent commit: ${r.reason}`,
      };
    }
    // Lost the race inside the commit: the other worker's batch of the same number went in first.
    if (r.status === 'skipped' && fresh)
      return lostTo(
        t.path,
        `recorded batch ${txns.map((x) => `${x.version} of ${x.appId}`).join(', ')} meanwhile`,
        txns[0],
      );
    done.push({ table: t.path, version: r.version, at: new Date().toISOString() });
  }
  if ((fresh || recommitted) && m.messages.length > 0) await send(m);
  return { kind: 'committed', commits: done };
}

/** commitManifest for a caller to whom a lost batch is an error: CONFLICT, with the reason. */
export async function applyManifest(...args: Parameters<typeof commitManifest>): Promise<Commit[]> {
  const r = await commitManifest(...args);
  if (r.kind === 'lost') throw new LakestreamError('CONFLICT', r.reason);
  return r.commits;
}

/**
 * A manifest whose batch lost the race for a batch number and whose worker died before deleting it:
 * the first table records some of its batch numbers but not all. (Every batch commits all its batch
 * numbers to that table at once, so a manifest that was ever recorded there has all of them.)
 * Re-committing it would land rows another batch already holds.
 */
export async function lostRace(lake: Lake, group: string, m: Batch): Promise<boolean> {
  if (m.tables.length === 0) return false;
  const snap = await lake.table(m.tables[0].path).snapshot();
  const recorded = m.partitions.filter(
    (p) => (snap.txnVersions.get(appIdFor(group, p.topic, p.partition)) ?? -1) >= p.seq,
  ).length;
  return recorded > 0 && recorded < m.partitions.length;
}

/**
 * Of two manifests holding the same batch number of a partition, the one the lake recorded: the
 * commit of the first table that recorded the batch names it. (Both exist only when two workers
 * raced for the batch and the loser died before deleting its own.) A log written before commits
 * named their manifest answers by the data files: the recorded manifest's are live.
 */
export async function recordedOf(
  lake: Lake,
  group: string,
  topic: string,
  partition: number,
  candidates: { path: string; manifest: Manifest }[],
): Promise<{ path: string; manifest: Manifest }> {
  const first = candidates[0].manifest;
  const seq = first.partitions.find((q) => q.topic === topic && q.partition === partition)?.seq ?? -1;
  if (first.tables.length > 0) {
    const info = await lake.table(first.tables[0].path).txnCommitInfo(appIdFor(group, topic, partition), seq);
    const id = (info?.operationParameters as Record<string, unknown> | undefined)?.manifest;
    const named = candidates.find((c) => c.manifest.id === id);
    if (named) return named;
  }
  for (const c of candidates)
    for (const t of c.manifest.tables) {
      const adds = t.actions.flatMap((a) => ('add' in a ? [(a as { add: { path: string } }).add.path] : []));
      if (adds.length === 0) continue;
      const live = (await lake.table(t.path).snapshot()).files.map((f) => f.path);
      if (adds.some((p) => live.includes(p))) return c;
    }
  process.stderr.write(
    `\npartition ${partition}: ${candidates.length} manifests hold its newest batch and the lake does not say whose it recorded; using ${candidates[0].path}\n`,
  );
  return candidates[0];
}
