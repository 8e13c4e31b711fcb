// Shared pieces of the evaluation scenarios (baseline, stress, resilience): child lakestream processes,
// a once-a-second sampler (lag, rates, latency, CPU and memory per process), lake reconciliation, results.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openStore } from '../storage/open.ts';
import { openTransport } from '../transport/open.ts';
import type { Transport } from '../transport/transport.ts';
import { TOPICS } from '../transport/transport.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = resolve(ROOT, 'src/cli/main.ts');
/**
 * A consumer group of its own per run (the run's `#ns=` namespace prefixes it as well), named after
 * the run, so `kafka-consumer-groups --list` tells which run a group belongs to.
 */
export function benchGroup(id: string): string {
  return `lakestream-bench-${id}`;
}

export const log = (m: string) => process.stderr.write(`${m}\n`);

/** A lakestream child process; its stderr is kept (last 64 KiB) for error messages and the producer's summary. */
export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLakestream(args: string[]): Child {
  const proc = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d) => {
    err = (err + d).slice(-65_536);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('close', (code, signal) => r({ code, signal })),
  );
  return { proc, stderr: () => err, exited };
}

/** Messages the producer reports as sent and acknowledged: its summary line `done: N messages …`
 * (`stopped:` after --limit or Ctrl-C: also acknowledged, it stops after the batch in flight). */
export function producedCount(stderr: string): number | undefined {
  const m = /(?:^|\n)(?:done|stopped): ([\d,]+) messages/.exec(stderr);
  return m ? Number(m[1].replaceAll(',', '')) : undefined;
}

/** CPU seconds (user + system) and resident memory of a process, from /proc; undefined once it is gone. */
export async function procStat(
  pid: number | undefined,
): Promise<{ cpuS: number; rssMiB: number; openFiles: number } | undefined> {
  if (!pid) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that ends the command name: utime and stime are fields 14 and 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    return {
      cpuS: (Number(f[11]) + Number(f[12])) / 100,
      rssMiB: rss ? Math.round(Number(rss[1]) / 1024) : 0,
      openFiles: fds.length,
    };
  } catch {
    return undefined;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

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
}

export interface BenchEvent {
  t: number;
  kind: 'kill' | 'restart' | 'recovered' | 'step' | 'note';
  label: string;
}

export interface WorkerStatusFile {
  worker: string;
  updated_at: string;
  read: number;
  accepted: number;
  duplicates: number;
  batches: number;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  timings_ms: Record<string, number>;
}

/** Every worker's status file under <lake>/_status/workers/, newest first. */
export async function workerStatuses(lakeUrl: string): Promise<WorkerStatusFile[]> {
  const store = await openStore(lakeUrl);
  const files = (await store.list('_status/workers/')).filter((f) => f.path.endsWith('.json'));
  const all = await Promise.all(
    files.map(async (f) => JSON.parse(new TextDecoder().decode(await store.get(f.path))) as WorkerStatusFile),
  );
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

  async stop(): Promise<void> {
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
        const s = (await withTimeout(workerStatuses(this.lakeUrl), 5000, 'reading worker status'))[0];
        if (s) this.latency = s.latency_ms;
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
    };
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until check() holds or the time is up; returns whether it held. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  stepMs = 500,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(stepMs);
  }
  return false;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** What the lake holds: bronze rows and distinct (meter_id, ts), and silver's sum of n_readings. */
export interface LakeCount {
  bronze_rows: number;
  bronze_distinct: number;
  silver_readings: number;
}

export async function countLake(lakeUrl: string): Promise<LakeCount> {
  const { Lake } = await import('../lake/index.ts');
  const lake = await Lake.open(lakeUrl);
  try {
    const b = await lake.query(
      'SELECT count(*) AS n, count(DISTINCT (meter_id, ts)) AS d FROM meters_bronze_readings',
    );
    const s = await lake
      .query('SELECT coalesce(sum(n_readings), 0) AS n FROM meters_silver_readings')
      .catch(() => ({ rows: [{ n: 0 }] }));
    return {
      bronze_rows: Number(b.rows[0]?.n ?? 0),
      bronze_distinct: Number(b.rows[0]?.d ?? 0),
      silver_readings: Number(s.rows[0]?.n ?? 0),
    };
  } finally {
    await lake.close();
  }
}

/** A UTC timestamp that sorts and names a directory: 20261122T031500Z. */
export function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Writes result.json, report.html and summary.md under bench/results/<stamp>-<scenario>/. */
export async function saveResult(result: BenchResult, dir?: string): Promise<string> {
  const { renderHtml, renderMarkdown } = await import('./report.ts');
  const out =
    dir ?? join(ROOT, 'bench', 'results', `${stamp(new Date(result.started_at))}-${result.scenario}`);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(out, 'report.html'), renderHtml(result));
  await writeFile(join(out, 'summary.md'), renderMarkdown(result));
  log(`report: ${join(out, 'report.html')} (result.json, summary.md beside it)`);
  return out;
}

/** The result every evaluation scenario writes; `summary` holds its headline figures. */
export interface BenchResult {
  scenario: string;
  started_at: string;
  short: boolean;
  transport: string;
  lake: string;
  seconds: number;
  /** headline figures, shown first in every report */
  summary: Record<string, string | number | boolean | null>;
  /** per fault (resilience) or per step (stress): a row each */
  table?: Record<string, string | number | boolean | null>[];
  /** a short verdict: passed/failed, the bottleneck … */
  verdict: string;
  ok: boolean;
  series: Sample[];
  events: BenchEvent[];
  /** where the results were written (set by saveResult's caller) */
  dir?: string;
}

export type EnginesKind = 'cluster' | 'embedded';

/** Where a scenario runs: a fresh namespace and lake directory on the local cluster, or fresh embedded engines. */
/** A meters stream worker for a bench run: quiet, no retraining, in the run's own consumer group. */
export function startWorker(e: {
  group: string;
  transportUrl: string;
  lakeUrl: string;
  /** `stream --delivery-log FILE`: record what the transport hands it, to count redeliveries */
  deliveryLog?: string;
}): Child {
  return startLakestream([
    'stream',
    ...(e.deliveryLog ? ['--delivery-log', e.deliveryLog] : []),
    '--quiet',
    '--retrain',
    'off',
    '--group',
    e.group,
    '--transport',
    e.transportUrl,
    '--lake',
    e.lakeUrl,
  ]);
}

export interface Engines {
  kind: EnginesKind;
  transportUrl: string;
  lakeUrl: string;
  /** the run's consumer group (benchGroup) */
  group: string;
  /** cluster directory, for killNode/startNode and process ids */
  clusterDir?: string;
  cleanup: () => Promise<void>;
}

export async function openEngines(
  kind: EnginesKind,
  scenario: string,
  started: Date,
  opts: { keep?: boolean } = {},
): Promise<Engines> {
  const id = `${scenario}-${stamp(started).toLowerCase()}`;
  if (kind === 'embedded') {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), `lakestream-bench-${scenario}-`));
    return {
      kind,
      group: benchGroup(id),
      transportUrl: `embedded:${join(dir, 'log')}`,
      lakeUrl: `file:${join(dir, 'lake')}`,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const { clusterUp } = await import('../cluster/cluster.ts');
  const clusterDir = process.env.LAKESTREAM_CLUSTER_DIR ?? join(ROOT, '.lakestream/cluster');
  const up = await clusterUp({ dir: clusterDir, log: (l) => log(`[cluster] ${l}`) });
  // a fresh topic namespace and lake directory per run: runs on the shared cluster never mix
  const transportUrl = `kafka://${up.kafkaBootstrap}#ns=bench-${id}.`;
  const lakeUrl = `${up.webhdfsUrl.replace(/^http:/, 'webhdfs:')}/lakestream-bench/${id}?user=${up.config.hdfs.user}`;
  return {
    kind,
    group: benchGroup(id),
    transportUrl,
    lakeUrl,
    clusterDir: up.config.dir,
    cleanup: () => cleanupRun(transportUrl, lakeUrl, opts.keep),
  };
}

/** Removes a run's topics and lake from the cluster, or says where they are kept (--keep). */
export async function cleanupRun(transportUrl: string, lakeUrl: string, keep?: boolean): Promise<void> {
  if (keep) {
    log(`kept (--keep): the topics of ${transportUrl} and the lake ${lakeUrl}`);
    return;
  }
  const { removeBenchRun } = await import('./leftovers.ts');
  const removed = await removeBenchRun(transportUrl, lakeUrl).catch((e) => {
    log(`could not remove the run's topics and lake: ${e instanceof Error ? e.message : e}`);
    return [];
  });
  if (removed.length > 0) log(`removed ${removed.join(' and ')} (--keep keeps them)`);
}

/** Process ids of the cluster's nodes (those running), for CPU and memory samples. */
export async function clusterPids(
  clusterDir: string | undefined,
): Promise<() => Record<string, number | undefined>> {
  if (!clusterDir) return () => ({});
  const { alivePid } = await import('../cluster/processes.ts');
  const { ALL_NODES } = await import('../cluster/config.ts');
  return () => Object.fromEntries(ALL_NODES.map((n) => [n, alivePid(clusterDir, n)]));
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
