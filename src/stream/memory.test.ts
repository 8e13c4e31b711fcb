// The worker's memory report: a full collection is seen, and a live set that grows shows in it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchMemory } from './memory.ts';

/** Allocates garbage until V8 has run a full collection (it does one as the old space fills). */
async function untilFullGC(w: ReturnType<typeof watchMemory>, after: string | null): Promise<void> {
  for (let round = 0; round < 200; round++) {
    let junk: number[][] = [];
    for (let i = 0; i < 2000; i++) junk.push(new Array(1000).fill(i));
    junk = [];
    await sleep(5);
    const r = w.report();
    if (r.live_heap_at !== null && r.live_heap_at !== after) return;
    void junk;
  }
  throw new Error('no full collection seen');
}

describe('worker memory report', () => {
  it('reports its pid and RSS at once, and the live heap after a full collection', async () => {
    const w = watchMemory();
    try {
      const first = w.report();
      assert.equal(first.pid, process.pid);
      assert.ok(first.rss_mib > 10 && first.heap_used_mib > 1);
      await untilFullGC(w, null);
      const r = w.report();
      assert.ok(r.live_heap_mib !== null && r.live_heap_mib > 1, `live heap ${r.live_heap_mib}`);
      assert.ok(r.live_heap_mib! < r.rss_mib);
    } finally {
      w.stop();
    }
  });

  it('shows a live set that grows by 100 MiB (and not the garbage made meanwhile)', async () => {
    const w = watchMemory();
    try {
      await untilFullGC(w, null);
      const before = w.report();
      // 100 MiB kept alive: 100 arrays of 131,072 doubles (8 bytes each); the garbage made meanwhile is not
      const kept = Array.from({ length: 100 }, () => new Array(131_072).fill(0.5));
      await untilFullGC(w, before.live_heap_at);
      const after = w.report();
      assert.ok(
        after.live_heap_mib! - before.live_heap_mib! > 80,
        `live heap ${before.live_heap_mib} → ${after.live_heap_mib} MiB with 100 MiB kept`,
      );
      assert.equal(kept.length, 100);
    } finally {
      w.stop();
    }
  });
});
