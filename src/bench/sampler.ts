// The once-a-second sampler of the evaluation scenarios (lag, rates, latency, CPU and memory per
// process), the worker status it reads latency from, and statistics over its samples.

import { TOPICS } from '../domain/topics.ts';
import { openStore } from '../storage/index.ts';
import { readWorkerStatuses, type WorkerStatus } from '../stream/worker-status.ts';
import type { Transport } from '../transport/index.ts';
import { openTransport } from '../transport/index.ts';
import { jvmLiveHeapMiB } from './jvm-heap.ts';
import { procStat } from './processes.ts';
import { log, withTimeout } from './progress.ts';

export interface Sample {
  /** seconds since the run started */
  t: number;
  /** readings topic end offsets (sum over partitions) and the group's committed offsets */
  produced: number;
  committed: number;
  lag: number;
  /** per second over the last interval */
  in_rate: number;
  committed_rate: number;
  /** end to end (produce timestamp → lake commit), the newest worker's last 10,000 readings */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** % of one core, and resident MiB, per process name */
  cpu: Record<string, number>;
  rss_mib: Record<string, number>;
  /** open file descriptors per process name (sockets included), from /proc/PID/fd */
  open_files?: Record<string, number>;
  /** live heap MiB per JVM (after a full collection, see jvm-heap.ts; only in the scenarios that ask for
   * it: soak) and per stream worker (its own report after each of V8's full collections, see
   * stream/memory.ts): only on the samples that follow a new reading */
  heap_mib?: Record<string, number>;
  /** a stream worker's own split of its memory (stream/memory.ts), per process name: on the samples that
   *  follow a new status of that process (about every 10 s), to tell which part of its RSS grows */
  worker_memory_mib?: Record<string, WorkerMemoryParts>;
}

/** The parts of a worker's RSS its status reports (MiB; null where it cannot tell). */
export interface WorkerMemoryParts {
  heap_total: number;
  external: number;
  rss_anon: number | null;
  rss_file: number | null;
  duckdb: number | null;
}

export interface BenchEvent {
  t: number;
  kind: 'kill' | 'restart' | 'recovered' | 'step' | 'note';
  label: string;
}

/** Every worker's status in the lake, newest first. */
export async function workerStatuses(lakeUrl: string): Promise<WorkerStatus[]> {
  const all = await readWorkerStatuses(await openStore(lakeUrl));
  return all.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
}

/**
 * Samples the pipeline once per interval: offsets from the transport, latency from the newest worker
 * status, CPU and memory of the named processes. A sample that cannot be read in time (a broker just
 * died) repeats the last offsets, so the series never has holes.
 */
export class Sampler {
  readonly series: Sample[] = [];
  readonly events: BenchEvent[] = [];
  readonly t0 = performance.now();
  private transport: Transport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last = { produced: 0, committed: 0, t: 0 };
  private cpuLast = new Map<string, { cpuS: number; t: number }>();
  private busy = false;
  private latency: { p50: number | null; p95: number | null; p99: number | null } = {
    p50: null,
    p95: null,
    p99: null,
  };
  private statusAt = 0;
  private heapTimer: NodeJS.Timeout | undefined;
  /** the last heap readings, put on the next sample */
  private heaps: Record<string, number> | undefined;
  /** the workers' last memory parts, put on the next sample */
  private parts: Record<string, WorkerMemoryParts> | undefined;
  /** the status write each worker's last parts came from */
  private readonly workerStatusAt = new Map<string, string>();
  /** when each worker's last live-heap reading was taken (its full collection) */
  private readonly workerHeapAt = new Map<string, string>();

  private readonly transportUrl: string;
  private readonly lakeUrl: string;
  private readonly pids: () => Record<string, number | undefined>;
  private readonly intervalMs: number;
  private readonly group: string;

  constructor(
    transportUrl: string,
    lakeUrl: string,
    group: string,
    pids: () => Record<string, number | undefined>,
    intervalMs = 1000,
  ) {
    this.group = group;
    this.transportUrl = transportUrl;
    this.lakeUrl = lakeUrl;
    this.pids = pids;
    this.intervalMs = intervalMs;
  }

  now(): number {
    return (performance.now() - this.t0) / 1000;
  }

  mark(kind: BenchEvent['kind'], label: string): void {
    this.events.push({ t: Number(this.now().toFixed(1)), kind, label });
    log(`  [${this.now().toFixed(0)} s] ${kind}: ${label}`);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sample()
        .catch(() => {})
        .finally(() => {
          this.busy = false;
        });
    }, this.intervalMs);
  }

  /** Reads the live heap of the named JVMs (those running) every `everyS` seconds, one after another. */
  sampleHeaps(everyS: number, jvms: readonly string[]): void {
    const once = async () => {
      const pids = this.pids();
      const out: Record<string, number> = {};
      for (const name of jvms) {
        const pid = pids[name];
        const mib = pid ? await jvmLiveHeapMiB(pid) : undefined;
        if (mib !== undefined) out[name] = mib;
      }
      this.heaps = { ...this.heaps, ...out };
      if (this.heapTimer) this.heapTimer = setTimeout(() => void once(), everyS * 1000);
    };
    this.heapTimer = setTimeout(() => void once(), everyS * 1000);
  }

  /**
   * A worker's live heap (its own report, stream/memory.ts) goes on the next sample like a JVM's, once
   * per full collection, under the process name whose pid wrote it: a status left by an earlier
   * incarnation of the worker is not this process's memory.
   */
  private noteWorkerHeaps(statuses: WorkerStatus[]): void {
    const names = new Map(Object.entries(this.pids()).map(([name, pid]) => [pid, name]));
    for (const st of statuses) {
      const m = st.memory;
      const name = m ? names.get(m.pid) : undefined;
      if (!m || !name) continue;
      if (this.workerStatusAt.get(name) !== st.updated_at) {
        this.workerStatusAt.set(name, st.updated_at);
        this.parts = {
          ...this.parts,
          [name]: {
            heap_total: m.heap_total_mib,
            external: m.external_mib,
            rss_anon: m.rss_anon_mib,
            rss_file: m.rss_file_mib,
            duckdb: m.duckdb_mib,
          },
        };
      }
      if (m.live_heap_mib === null || m.live_heap_at === null) continue;
      if (this.workerHeapAt.get(name) === m.live_heap_at) continue;
      this.workerHeapAt.set(name, m.live_heap_at);
      this.heaps = { ...this.heaps, [name]: m.live_heap_mib };
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.heapTimer);
    this.heapTimer = undefined;
    clearInterval(this.timer);
    await this.transport?.close().catch(() => {});
  }

  /** The readings topic's end and the group's committed offsets, summed over partitions. */
  async offsets(): Promise<{ produced: number; committed: number }> {
    this.transport ??= await withTimeout(openTransport(this.transportUrl), 10_000, 'opening the transport');
    const t = this.transport;
    try {
      const [end, committed] = await withTimeout(
        Promise.all([t.endOffsets(TOPICS.readings), t.committedOffsets(this.group, TOPICS.readings)]),
        5000,
        'reading offsets',
      );
      return {
        produced: end.reduce((a, p) => a + p.offset, 0),
        committed: committed.reduce((a, p) => a + Math.max(p.offset, 0), 0),
      };
    } catch (e) {
      // a client stuck on a dead broker: start over with a fresh one next time
      this.transport = undefined;
      t.close().catch(() => {});
      throw e;
    }
  }

  private async sample(): Promise<void> {
    const t = this.now();
    let off = { produced: this.last.produced, committed: this.last.committed };
    try {
      off = await this.offsets();
    } catch {}
    if (t - this.statusAt >= 2) {
      this.statusAt = t;
      try {
        const all = await withTimeout(workerStatuses(this.lakeUrl), 5000, 'reading worker status');
        if (all[0]) this.latency = all[0].latency_ms;
        this.noteWorkerHeaps(all);
      } catch {}
    }
    const cpu: Record<string, number> = {};
    const rss: Record<string, number> = {};
    const openFiles: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const st = await procStat(pid);
      if (!st) continue;
      const key = `${name}:${pid}`;
      const prev = this.cpuLast.get(key);
      if (prev) cpu[name] = Math.round((100 * (st.cpuS - prev.cpuS)) / Math.max(t - prev.t, 0.1));
      this.cpuLast.set(key, { cpuS: st.cpuS, t });
      rss[name] = st.rssMiB;
      openFiles[name] = st.openFiles;
    }
    const dt = Math.max(t - this.last.t, 0.1);
    const s: Sample = {
      t: Number(t.toFixed(1)),
      produced: off.produced,
      committed: off.committed,
      lag: Math.max(off.produced - off.committed, 0),
      in_rate: this.series.length ? Math.max(Math.round((off.produced - this.last.produced) / dt), 0) : 0,
      committed_rate: this.series.length
        ? Math.max(Math.round((off.committed - this.last.committed) / dt), 0)
        : 0,
      ...this.latency,
      cpu,
      rss_mib: rss,
      open_files: openFiles,
      ...(this.heaps ? { heap_mib: this.heaps } : {}),
      ...(this.parts ? { worker_memory_mib: this.parts } : {}),
    };
    this.heaps = undefined;
    this.parts = undefined;
    this.last = { ...off, t };
    this.series.push(s);
    if (this.series.length % 10 === 0)
      log(
        `  ${s.t.toFixed(0)} s: produced ${s.produced.toLocaleString('en-US')}, committed ${s.committed.toLocaleString('en-US')}, lag ${s.lag.toLocaleString('en-US')}, in ${s.in_rate}/s, p95 ${s.p95 ?? '—'} ms`,
      );
  }

  latest(): Sample | undefined {
    return this.series.at(-1);
  }
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Average and peak of a per-process figure over samples. */
export function perProcess(
  series: Sample[],
  key: 'cpu' | 'rss_mib',
  how: 'avg' | 'max',
): Record<string, number> {
  const names = [...new Set(series.flatMap((s) => Object.keys(s[key])))];
  return Object.fromEntries(
    names.map((n) => {
      const xs = series.map((s) => s[key][n]).filter((v): v is number => v !== undefined);
      const v = how === 'max' ? Math.max(0, ...xs) : xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
      return [n, Math.round(v)];
    }),
  );
}
