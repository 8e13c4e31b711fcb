// The batch pipeline: process a batch's messages, write the tables' files, write its manifest,
// commit the tables (the workload's derived rows after them), then the consumer offsets (see manifest.ts).

import { LakestreamError } from '../errors.ts';
import { type Action, prepareTableWrite } from '../lake/index.ts';
import type { Message } from '../transport/index.ts';
import { type Commit, commitManifest } from './apply.ts';
import type { ManifestPartition, StateToSave } from './manifest.ts';
import { BatchOutputs } from './outputs.ts';
import type { WorkerContext } from './worker-context.ts';
import type { PhaseClock } from './worker-status.ts';

/**
 * What a batch came to: nothing new to write; committed (its table commits, the rows it wrote and
 * the bytes of its manifest and state objects);
 * or lost to another worker that owns its partitions now (this one was a zombie).
 */
export type BatchResult =
  | { kind: 'nothing' }
  | { kind: 'committed'; commits: Commit[]; rows: number; manifestBytes: number }
  | { kind: 'lost'; reason: string };

/**
 * Writes a batch (partition → its messages) exactly once. `flush` ends a drain: each partition's
 * processor writes what is still open. The partitions' positions move only when the batch commits.
 */
export async function commitBatch(
  ctx: WorkerContext,
  batch: Map<number, Message[]>,
  flush: boolean,
  clock: PhaseClock,
): Promise<BatchResult> {
  const { lake, topic, owned, manifests, outbox } = ctx;
  const out = new BatchOutputs();
  const parts: ManifestPartition[] = [];
  for (const [p, msgs] of batch) {
    const o = owned.get(p);
    if (!o) continue;
    let last = o.last;
    for (const msg of msgs) {
      if (msg.offset <= o.last) continue; // already in the lake (a replay after a crash)
      o.processor.process(msg, out);
      last = msg.offset;
    }
    // a drain over nothing new after a drain writes no new table version
    if (last === o.last && (!flush || o.flushed)) continue;
    if (flush) o.processor.flush(out);
    parts.push({ topic, partition: p, last, seq: o.seq + 1, ...(flush ? { flushed: true } : {}) });
  }
  clock.lap('process');
  if (parts.length === 0) return { kind: 'nothing' };
  const { tables, rows } = await writeFiles(ctx, out, `w${parts.map((q) => q.partition).join('_')}-`);
  const messages = [...out.messages].flatMap(([t, list]) =>
    list.map((m) => ({ topic: t, key: m.key, value: Buffer.from(m.value).toString('base64') })),
  );
  clock.lap('files');
  const states: Record<string, StateToSave> = {};
  for (const q of parts) {
    const o = owned.get(q.partition)!;
    const processor = o.processor;
    states[String(q.partition)] = {
      chain: o.state,
      snapshot: () =>
        processor.toJSONBytes?.() ?? processor.toJSONText?.() ?? JSON.stringify(processor.toJSON()),
      delta: processor.deltaText && (() => processor.deltaText!()),
    };
  }
  const { path, manifest, bytes } = await manifests.write(
    { worker: ctx.worker, partitions: parts, tables, messages },
    states,
  );
  // the next batch's deltas start from the state this manifest holds
  for (const q of parts) owned.get(q.partition)!.processor.saved?.();
  clock.lap('manifest');
  const applied = await commitManifest(lake, ctx.group, manifest, outbox.send, () =>
    manifests.discard(path, manifest),
  );
  if (applied.kind === 'lost') return applied;
  await outbox.afterCommit(manifest);
  clock.lap('commit');
  await ctx.offsets.commit(parts.map((q) => ({ partition: q.partition, offset: q.last + 1 })));
  await manifests.committed(path, manifest);
  clock.lap('offsets');
  for (const q of manifest.partitions) {
    const o = owned.get(q.partition)!;
    o.last = q.last;
    o.seq = q.seq;
    o.flushed = q.flushed === true;
    o.state = q.state;
  }
  return { kind: 'committed', commits: applied.commits, rows, manifestBytes: bytes };
}

/**
 * Writes the tables' data files and returns their actions, the workload's first table first. The
 * files are written concurrently (DuckDB works off the main thread, so one table's COPY overlaps the
 * next one's staging); the actions keep the tables' order.
 */
async function writeFiles(
  ctx: WorkerContext,
  out: BatchOutputs,
  filePrefix: string,
): Promise<{ tables: { path: string; actions: Action[] }[]; rows: number }> {
  const { lake, workload } = ctx;
  let rows = 0;
  const tables = await Promise.all(
    out.tables().map(async (path) => {
      const t = workload.tables.find((x) => x.path === path);
      if (!t)
        throw new LakestreamError('INTERNAL', `workload ${workload.name} wrote to unknown table ${path}`);
      const tableRows = out.rowsFor(path);
      const actions = await prepareTableWrite(lake, {
        table: lake.table(path),
        rows: tableRows,
        replaced: out.replaced.get(path),
        keyColumns: t.keyColumns,
        filePrefix,
      });
      rows += tableRows.length;
      return { path, actions };
    }),
  );
  // The workload's first table is every batch's first commit, even with nothing to add: two
  // workers holding the same batch number of a partition (one of them a zombie that missed a
  // rebalance) meet there, and the loser stops before it has committed anything anywhere.
  const lease = workload.tables[0].path;
  const leaseAt = tables.findIndex((t) => t.path === lease);
  const [leaseActions] = leaseAt >= 0 ? tables.splice(leaseAt, 1) : [{ path: lease, actions: [] }];
  tables.unshift(leaseActions);
  return { tables, rows };
}
