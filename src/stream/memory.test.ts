// The worker's memory report: a full collection is seen, and a live set that grows shows in it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { kernelRss, watchMemory } from './memory.ts';

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

  it('tells the parts apart: V8 committed, external Buffers, the kernel split, DuckDB as given', () => {
    let duck: number | null = null;
    const w = watchMemory(() => duck);
    try {
      const before = w.report();
      assert.ok(before.heap_total_mib >= before.heap_used_mib, JSON.stringify(before));
      assert.equal(before.duckdb_mib, null);
      // 64 MiB held outside V8's heap shows as external and array buffers, not as heap in use
      const held = Buffer.alloc(64 * 2 ** 20, 1);
      duck = 48 * 2 ** 20;
      const after = w.report();
      assert.ok(
        after.external_mib - before.external_mib >= 63,
        `external ${before.external_mib} → ${after.external_mib}`,
      );
      assert.ok(after.array_buffers_mib - before.array_buffers_mib >= 63);
      assert.ok(after.heap_used_mib - before.heap_used_mib < 32);
      assert.equal(after.duckdb_mib, 48);
      if (process.platform === 'linux') {
        // the touched Buffer is anonymous memory; anon + file is the kernel's RSS (read a moment apart)
        assert.ok(
          after.rss_anon_mib! - before.rss_anon_mib! >= 60,
          `anon ${before.rss_anon_mib} → ${after.rss_anon_mib}`,
        );
        assert.ok(
          Math.abs(after.rss_anon_mib! + after.rss_file_mib! - after.rss_mib) < 16,
          JSON.stringify(after),
        );
      } else assert.equal(kernelRss(), null);
      assert.equal(held.length, 64 * 2 ** 20);
    } finally {
      w.stop();
    }
  });
});
