// Soak scenario: the pipeline at 1,000 readings/s on the local cluster for an hour, a fault from
// faults.ts every ten minutes in rotation; memory, open files, lag and latency sampled throughout,
// and at the end every acknowledged reading reconciled by identity and the memory trend after warm-up.

import { ALL_NODES } from '../cluster/config.ts';
import { LakestreamError } from '../errors.ts';
import { FAULTS } from './faults.ts';
import { log, sleep } from './progress.ts';
import { saveResult } from './report.ts';
import { type FaultRecovery, injectFault } from './resilience.ts';
import type { BenchResult } from './result.ts';
import { defaultClusterDir, Rig } from './rig.ts';
import { cleanupRun } from './run.ts';
import type { Sample, WorkerMemoryParts } from './sampler.ts';

export interface SoakOptions {
  short?: boolean;
  json?: boolean;
  clusterDir?: string;
  /** run length (default 60; --short: 3) */
  minutes?: number;
  rate?: number;
  keep?: boolean;
}

/** The rotation: a different part of the system each time. */
const ROTATION = [
  'broker',
  'worker',
  'namenode',
  'broker-pause',
  'producer',
  'controller',
  'datanode',
  'worker-pause',
  'brokers',
];

/** Least-squares slope of y over t (per hour, t in seconds); null with fewer than 10 points. */
export function slopePerHour(points: [number, number][]): number | null {
  if (points.length < 10) return null;
  const n = points.length;
  const mt = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

/** A trend over less than this is a JVM's or Node's heap settling, not a leak: it is not judged. */
export const MIN_TREND_S = 600;

/** Growth an hour, as a share of the level, above which memory is "growing". */
export const GROWTH_LIMIT = 0.1;

/**
 * Memory trend per process after the warm-up: MiB per hour of what a leak makes grow, and whether it is
 * flat (growth under GROWTH_LIMIT of its mean an hour; null when its points span under MIN_TREND_S).
 * - a process with live-heap readings (`heap_mib`: a JVM's after a full collection, read from outside; a
 *   stream worker's own, after each of V8's full collections): the live heap. Its RSS is not judged: a
 *   JVM's grows until the heap reaches -Xmx, and neither runtime gives heap back to the system at once.
 * - any other process (the producer; a worker with too few full collections for a slope, as in a
 *   three-minute run): RSS.
 * A cluster node (a JVM) is judged from the end of the warm-up; a Node process over the second half of
 *   the run only, by when the worker's keyed state (a week of days per meter) and caches have grown to
 *   their working size.
 * Only the process's last incarnation counts: a restart (the process missing from a sample) starts its
 * memory over, and its own warm-up (`afterS` from its first sample) again. `rss_mib_per_h` is the RSS
 * slope over the same span, for the report.
 */
export interface Trend {
  metric: 'live heap' | 'rss';
  mib_per_h: number;
  mean_mib: number;
  flat: boolean | null;
  rss_mib_per_h: number | null;
  /** a stream worker's: the slope of each part of its memory it reports (sampler.ts WorkerMemoryParts)
   *  over the same span, to tell which part of its RSS grows; reported, not judged */
  parts_mib_per_h?: Partial<Record<keyof WorkerMemoryParts, number>>;
}

export function memoryTrend(series: Sample[], afterS: number): Record<string, Trend> {
  const names = [...new Set(series.flatMap((s) => Object.keys(s.rss_mib)))];
  const half = (series.at(-1)?.t ?? 0) / 2;
  const out: Record<string, Trend> = {};
  for (const name of names) {
    const jvm = (ALL_NODES as readonly string[]).includes(name);
    const from = jvm ? afterS : Math.max(afterS, half);
    const heap: [number, number][] = [];
    const rss: [number, number][] = [];
    const parts = new Map<keyof WorkerMemoryParts, [number, number][]>();
    // when the running incarnation started (its first sample)
    let bornAt: number | undefined;
    for (const s of series) {
      const r = s.rss_mib[name];
      if (r === undefined) {
        heap.length = 0; // down: what follows is a new process
        rss.length = 0;
        parts.clear();
        bornAt = undefined;
        continue;
      }
      bornAt ??= s.t;
      // each incarnation warms up (a restarted JVM's first reading is its empty start-up heap)
      if (s.t < from || s.t < bornAt + afterS) continue;
      rss.push([s.t, r]);
      const h = s.heap_mib?.[name];
      if (h !== undefined) heap.push([s.t, h]);
      const m = s.worker_memory_mib?.[name];
      for (const [part, v] of Object.entries(m ?? {}) as [keyof WorkerMemoryParts, number | null][]) {
        if (typeof v !== 'number') continue;
        const pts = parts.get(part) ?? [];
        if (pts.length === 0) parts.set(part, pts);
        pts.push([s.t, v]);
      }
    }
    // a JVM is judged by its live heap only; a worker by its own live heap when it saw enough full
    // collections for a slope (one every half minute or so at 1,000 readings/s), else by its RSS
    const live = jvm ? series.some((s) => s.heap_mib?.[name] !== undefined) : slopePerHour(heap) !== null;
    const pts = live ? heap : rss;
    const slope = slopePerHour(pts);
    if (slope === null) continue;
    const mean = pts.reduce((a, p) => a + p[1], 0) / pts.length;
    const span = pts[pts.length - 1][0] - pts[0][0];
    const rssSlope = slopePerHour(rss);
    const partSlopes: Partial<Record<keyof WorkerMemoryParts, number>> = {};
    for (const [part, p] of parts) {
      const sl = slopePerHour(p);
      if (sl !== null) partSlopes[part] = Number(sl.toFixed(1));
    }
    out[name] = {
      metric: live ? 'live heap' : 'rss',
      mib_per_h: Number(slope.toFixed(1)),
      mean_mib: Math.round(mean),
      flat: span < MIN_TREND_S ? null : slope < GROWTH_LIMIT * mean,
      rss_mib_per_h: rssSlope === null ? null : Number(rssSlope.toFixed(1)),
      ...(Object.keys(partSlopes).length > 0 ? { parts_mib_per_h: partSlopes } : {}),
    };
  }
  return out;
}

export async function runSoakBench(opts: SoakOptions = {}): Promise<BenchResult> {
  const short = opts.short ?? false;
  const minutes = opts.minutes ?? (short ? 3 : 60);
  if (!(minutes > 0)) throw new LakestreamError('BAD_ARGUMENT', `--minutes must be > 0, got ${minutes}`);
  const rate = opts.rate ?? 1000;
  // a fault every ten minutes (--short: every minute), the first after the warm-up
  const everyS = short ? 60 : 600;
  const warmupS = short ? 20 : 120;
  const timing = { downS: short ? 5 : 30, pauseS: short ? 15 : 30, recoverTimeoutS: short ? 150 : 300 };
  const started = new Date();
  const clusterDir = defaultClusterDir(opts.clusterDir);
  log(`soak: ${minutes} min at ${rate} readings/s, a fault every ${everyS} s; cluster in ${clusterDir}`);
  const rig = new Rig({ clusterDir, rate, meters: short ? 250 : 1000, scenario: 'soak', started });
  const faults: FaultRecovery[] = [];
  let end: Awaited<ReturnType<Rig['reconcile']>> | undefined;
  let failure: string | undefined;
  try {
    await rig.open();
    // JVMs' live heap every two minutes (--short: 20 s): enough points per incarnation for a slope
    rig.sampler.sampleHeaps(short ? 20 : 120, ALL_NODES);
    await rig.warmUp(Math.min(warmupS, everyS));
    for (let i = 0; rig.sampler.now() < minutes * 60; i++) {
      const next = (i + 1) * everyS;
      if (next >= minutes * 60) {
        await sleep(Math.max(0, minutes * 60 - rig.sampler.now()) * 1000);
        break;
      }
      await sleep(Math.max(0, next - rig.sampler.now()) * 1000);
      const fault = FAULTS.find((f) => f.name === ROTATION[i % ROTATION.length]);
      if (!fault) throw new Error(`no fault ${ROTATION[i % ROTATION.length]}`);
      // the producer keeps running: the soak reconciles once, at the end
      faults.push(await injectFault(rig, fault, timing));
      // a worker that died leaves its readings in Kafka: the windows after it would count them missing
      await rig.workers.assertAlive();
    }
    await rig.workers.assertAlive();
    end = await rig.reconcile(timing.recoverTimeoutS);
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    log(`  the soak stopped: ${failure}`);
  } finally {
    await rig.close();
  }
  const crashes = (await rig.workers?.crashed()) ?? [];
  const trend = memoryTrend(rig.sampler.series, warmupS * 2);
  const open = (name: string) =>
    rig.sampler.series.map((s) => s.open_files?.[name]).filter((v) => v !== undefined);
  const ok =
    !failure &&
    crashes.length === 0 &&
    end !== undefined &&
    end.missing === 0 &&
    end.duplicated === 0 &&
    faults.every((f) => f.recovered) &&
    Object.values(trend).every((m) => m.flat !== false);
  const result: BenchResult = {
    ...rig.resultHead(short),
    summary: {
      minutes,
      rate_per_s: rate,
      faults: faults.length,
      acknowledged: end?.acknowledged ?? null,
      stored: end?.stored ?? null,
      missing: end?.missing ?? null,
      duplicated: end?.duplicated ?? null,
      redelivered: end?.redelivered ?? null,
      producer_resent: end?.producer_resent ?? null,
      max_recovery_s: Math.max(0, ...faults.map((f) => f.recovery_s ?? Number.POSITIVE_INFINITY)),
      worker_crashes: crashes.length,
      worker_live_heap_mib_per_h: trend.worker?.metric === 'live heap' ? trend.worker.mib_per_h : null,
      worker_rss_mib_per_h: trend.worker?.rss_mib_per_h ?? null,
      // which part of the worker's RSS moved: V8's committed heap, external, anonymous, file-backed, DuckDB
      worker_heap_total_mib_per_h: trend.worker?.parts_mib_per_h?.heap_total ?? null,
      worker_external_mib_per_h: trend.worker?.parts_mib_per_h?.external ?? null,
      worker_rss_anon_mib_per_h: trend.worker?.parts_mib_per_h?.rss_anon ?? null,
      worker_rss_file_mib_per_h: trend.worker?.parts_mib_per_h?.rss_file ?? null,
      worker_duckdb_mib_per_h: trend.worker?.parts_mib_per_h?.duckdb ?? null,
      broker_1_live_heap_mib_per_h: trend['broker-1']?.mib_per_h ?? null,
      broker_2_live_heap_mib_per_h: trend['broker-2']?.mib_per_h ?? null,
      // null: no process ran long enough to tell (--short)
      memory_flat: Object.values(trend).some((m) => m.flat !== null)
        ? Object.values(trend).every((m) => m.flat !== false)
        : null,
      worker_open_files_max: Math.max(0, ...open('worker')),
      broker_1_open_files_max: Math.max(0, ...open('broker-1')),
    },
    table: [
      ...faults.map((f) => ({
        fault: f.fault,
        target: f.target,
        down_s: f.down_s,
        recovery_s: f.recovery_s,
      })),
      ...Object.entries(trend).map(([process, m]) => ({
        process,
        measure: m.metric,
        mean_mib: m.mean_mib,
        mib_per_h: m.mib_per_h,
        flat: m.flat,
        rss_mib_per_h: m.rss_mib_per_h,
      })),
      ...crashes.map((c) => ({
        worker_crash: c.worker,
        at: c.at,
        code: c.code,
        signal: c.signal,
        file: c.file,
        last_line: c.stderr_tail.split('\n').at(-1) ?? '',
      })),
    ],
    verdict: ok
      ? `${minutes} min, ${faults.length} faults: missing 0, duplicated 0 of ${end?.acknowledged.toLocaleString('en-US')} acknowledged readings; memory flat after warm-up`
      : `not clean: ${failure ? `${failure}; ` : ''}missing ${end?.missing ?? '?'}, duplicated ${end?.duplicated ?? '?'}, not recovered: ${
          faults
            .filter((f) => !f.recovered)
            .map((f) => f.fault)
            .join(', ') || 'none'
        }, memory growing: ${
          Object.entries(trend)
            .filter(([, m]) => m.flat === false)
            .map(([n, m]) => `${n} ${m.metric} ${m.mib_per_h} MiB/h`)
            .join(', ') || 'none'
        }`,
    ok,
    series: rig.sampler.series,
    events: rig.sampler.events,
  };
  result.dir = await saveResult(result);
  await cleanupRun(rig.transportUrl, rig.lakeUrl, opts.keep);
  const out = { ...result, faults, memory: trend };
  if (opts.json) console.log(JSON.stringify(out));
  return out;
}
