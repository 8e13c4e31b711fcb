// A JVM's live heap (MiB of objects reachable after a full collection), read with jcmd: the figure a
// leak makes grow, where resident memory (RSS) only grows until the heap reaches its configured size.

import { execFile } from 'node:child_process';

/**
 * Why a class histogram and not `jstat -gc` or `GC.run`: the cluster's JVMs run G1 with
 * -XX:+ExplicitGCInvokesConcurrent, so `GC.run` only starts a concurrent cycle and the heap read right
 * after still holds the garbage of the old generation; jstat's old-generation "used" likewise rises
 * between marking cycles, which takes a 1 GiB heap more than an hour at our load. `GC.class_histogram`
 * is a heap inspection that does a stop-the-world full collection on every collector (Java 17), and its
 * `Total` line is the bytes of the objects left: the live set. It costs one full-GC pause (~0.1–0.5 s
 * on these heaps) and one short-lived jcmd JVM, so it is sampled every few minutes, not every second.
 */
export function jvmLiveHeapMiB(pid: number, timeoutMs = 30_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      'jcmd',
      [String(pid), 'GC.class_histogram'],
      // a paused (SIGSTOPped) JVM never answers: the timeout kills jcmd and the sample is skipped
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => resolve(err ? undefined : histogramTotalMiB(stdout)),
    );
  });
}

/** The `Total  INSTANCES  BYTES` line that ends a class histogram, in MiB; undefined without one. */
export function histogramTotalMiB(histogram: string): number | undefined {
  const m = /^Total\s+\d+\s+(\d+)\s*$/m.exec(histogram);
  return m ? Number((Number(m[1]) / 2 ** 20).toFixed(1)) : undefined;
}
