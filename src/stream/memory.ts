// The worker's own memory report: resident size, V8's heap in use, and its live heap — the heap in
// use just after V8's last full (mark-compact) collection, which is what a leak makes grow. RSS alone
// cannot tell a leak from V8 growing its heap to the working size it needs and keeping it.

import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface MemoryReport {
  /** the process these figures are of (a restarted worker starts its memory over) */
  pid: number;
  rss_mib: number;
  heap_used_mib: number;
  /** heap in use after the last full collection; null until there has been one */
  live_heap_mib: number | null;
  /** when that collection ended (ISO) */
  live_heap_at: string | null;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Watches V8's full collections from now on; `report()` gives the figures, `stop()` ends the watch. */
export function watchMemory(): { report: () => MemoryReport; stop: () => void } {
  let live: { mib: number; at: string } | null = null;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      // delivered soon after the collection: what the heap holds now is its live set plus what
      // the few statements since allocated (the next full collection corrects it)
      live = { mib: mib(getHeapStatistics().used_heap_size), at: new Date().toISOString() };
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    report: () => ({
      pid: process.pid,
      rss_mib: mib(process.memoryUsage.rss()),
      heap_used_mib: mib(getHeapStatistics().used_heap_size),
      live_heap_mib: live?.mib ?? null,
      live_heap_at: live?.at ?? null,
    }),
    stop: () => observer.disconnect(),
  };
}
