// The worker's own memory report: resident size, V8's heap in use, and its live heap — the heap in
// use just after V8's last full (mark-compact) collection, which is what a leak makes grow. RSS alone
// cannot tell a leak from V8 growing its heap to the working size it needs and keeping it.
//
// RSS can also grow outside V8's heap (DuckDB's buffers and caches, glibc keeping freed memory in its
// arenas, Buffers), so the report carries the parts that tell those apart: V8's committed heap
// (heap_total), memory V8 knows is held by JS objects outside its heap (external, array_buffers), and
// on Linux the kernel's own split of the resident set (anonymous vs file-backed), and DuckDB's own
// accounting of what its buffer manager holds when the caller can give it.

import { readFileSync } from 'node:fs';
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
  /** what V8 has committed for its heap (used or not): V8 growing and keeping shows here */
  heap_total_mib: number;
  /** memory of JS objects held outside V8's heap (Buffers, ArrayBuffers, native wrappers' claims) */
  external_mib: number;
  array_buffers_mib: number;
  /** the kernel's split of RSS (Linux /proc/self/status; null elsewhere): anonymous is malloc/mmap
   *  (V8, DuckDB, glibc arenas), file is mapped code and files (the DuckDB and Node binaries) */
  rss_anon_mib: number | null;
  rss_file_mib: number | null;
  /** DuckDB's buffer manager's own figure (duckdb_memory()), as last sampled; null if not given */
  duckdb_mib: number | null;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** RssAnon and RssFile of /proc/self/status in MiB (one small read; null where there is no /proc). */
export function kernelRss(): { anon: number; file: number } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const anon = kib('RssAnon');
  const file = kib('RssFile');
  const shmem = kib('RssShmem') ?? 0;
  if (anon === null || file === null) return null;
  return { anon: mib(anon), file: mib(file + shmem) };
}

/** Watches V8's full collections from now on; `report()` gives the figures, `stop()` ends the watch.
 *  `duckdbBytes` (optional) is the last figure DuckDB gave for its own memory (sampled by the caller
 *  off the status path, as asking needs a connection). */
export function watchMemory(duckdbBytes?: () => number | null): {
  report: () => MemoryReport;
  stop: () => void;
} {
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
    report: () => {
      const usage = process.memoryUsage();
      const heap = getHeapStatistics();
      const kernel = kernelRss();
      const duck = duckdbBytes?.() ?? null;
      return {
        pid: process.pid,
        rss_mib: mib(usage.rss),
        heap_used_mib: mib(heap.used_heap_size),
        live_heap_mib: live?.mib ?? null,
        live_heap_at: live?.at ?? null,
        heap_total_mib: mib(heap.total_heap_size),
        external_mib: mib(usage.external),
        array_buffers_mib: mib(usage.arrayBuffers),
        rss_anon_mib: kernel?.anon ?? null,
        rss_file_mib: kernel?.file ?? null,
        duckdb_mib: duck === null ? null : mib(duck),
      };
    },
    stop: () => observer.disconnect(),
  };
}
