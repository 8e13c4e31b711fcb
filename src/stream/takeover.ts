// Taking over partitions: follow the consumer's assignment, complete each new partition's newest
// manifest, restore its state (snapshot, then deltas) and move the read position to just after it
// (see manifest.ts).

import { isLakestreamError, LakestreamError } from '../errors.ts';
import { commitManifest, lostRace, recordedOf } from './apply.ts';
import type { Manifest, RestoredState } from './manifest.ts';
import type { WorkerContext } from './worker-context.ts';

/** What following the assignment came to: the partitions adopted now, or a manifest lost while completing it. */
export type Takeover = { kind: 'adopted'; partitions: Set<number> } | { kind: 'lost'; reason: string };

/** Follows the consumer's assignment: forgets the partitions it lost, adopts the new ones. */
export async function followAssignment(ctx: WorkerContext): Promise<Takeover> {
  const { consumer, topic, owned, manifests } = ctx;
  const now = new Set(
    consumer
      .assignment()
      .filter((tp) => tp.topic === topic)
      .map((tp) => tp.partition),
  );
  const gone = [...owned.keys()].filter((p) => !now.has(p));
  for (const p of gone) owned.delete(p);
  manifests.forget(topic, gone);
  const fresh = [...now].filter((p) => !owned.has(p));
  const lost = await adopt(ctx, fresh);
  return lost ?? { kind: 'adopted', partitions: new Set(fresh) };
}

/**
 * Takes over partitions: completes their newest manifest, restores their state, and moves the
 * read position to just after it (or to the group's committed offset when there is none).
 */
async function adopt(ctx: WorkerContext, partitions: number[]): Promise<Takeover | undefined> {
  if (partitions.length === 0) return;
  const { lake, group, topic, manifests, outbox } = ctx;
  const found = await manifests.latestFor(topic, partitions, (p, candidates) =>
    recordedOf(lake, group, topic, p, candidates),
  );
  const pending = new Map<string, Manifest>();
  for (const v of found.values()) pending.set(v.path, v.manifest);
  const lost: string[] = [];
  for (const [path, m] of pending) if (await lostRace(lake, group, m)) lost.push(path);
  if (lost.length > 0) {
    for (const path of lost) {
      process.stderr.write(`\n${path} lost the race for its batch numbers: deleted; looking again\n`);
      await manifests.discard(path, pending.get(path));
    }
    manifests.forget(topic, partitions);
    return adopt(ctx, partitions);
  }
  const committed = await ctx.transport.committedOffsets(group, topic);
  // (latestFor has noted each as the newest of the partitions it was found for, and of no other.)
  for (const m of pending.values()) {
    const applied = await commitManifest(lake, group, m, outbox.send);
    if (applied.kind === 'lost') return applied;
    await outbox.afterCommit(m);
  }
  const restored = new Map<number, RestoredState>();
  for (const [p, v] of found) {
    try {
      restored.set(p, await manifests.loadState(topic, p, v));
    } catch (e) {
      // A chain deleted meanwhile: a newer manifest replaced it (its old owner is still writing); start again from that one.
      const seq = v.manifest.partitions.find((q) => q.topic === topic && q.partition === p)?.seq ?? -1;
      if (!isLakestreamError(e, 'CORRUPT_TABLE') || !(await manifests.hasNewer(topic, p, seq))) throw e;
      manifests.forget(topic, partitions);
      return adopt(ctx, partitions);
    }
  }
  for (const p of partitions) {
    const m = found.get(p)?.manifest;
    const mp = m?.partitions.find((q) => q.topic === topic && q.partition === p);
    const r = restored.get(p);
    const processor = ctx.workload.newProcessor(p, r?.saved);
    if (r && r.deltas.length > 0) {
      if (!processor.applyDelta)
        throw new LakestreamError(
          'UNSUPPORTED',
          `workload ${ctx.workload.name} cannot apply the state deltas of ${topic} partition ${p}`,
        );
      for (const d of r.deltas) processor.applyDelta(d);
    }
    const from = mp ? mp.last + 1 : (committed.find((c) => c.partition === p)?.offset ?? 0);
    ctx.owned.set(p, {
      processor,
      // without a manifest the partition starts at the group's committed offset: what lies before it
      // counts as behind the worker (a drain that waited for offset 0 to be covered never ended)
      last: from - 1,
      seq: mp?.seq ?? 0,
      flushed: mp?.flushed === true,
      state: r?.chain,
    });
    ctx.consumer.seek({ topic, partition: p, offset: from });
  }
}
