// Stress scenario: 1,000 readings/s, then ramps (5k, 20k, 50k, 100k, max) until the lag grows without
// bound; per step throughput in and committed, latency percentiles, lag, CPU and memory per process, and
// the bottleneck: the producer when it cannot reach the rate, else the worker phase whose time dominates.

import type { WorkerStatus } from '../stream/worker-status.ts';
import { clusterPids, startLakestream, startWorker } from './processes.ts';
import { log, sleep, waitFor } from './progress.ts';
import { finishRun } from './report.ts';
import { type BenchResult, resultHead } from './result.ts';
import { type EnginesKind, openEngines } from './run.ts';
import { percentile, perProcess, type Sample, Sampler, workerStatuses } from './sampler.ts';

const RATES = [1000, 5000, 20_000, 50_000, 100_000, 200_000];

export interface StressStep {
  target_per_s: number;
  in_per_s: number;
  committed_per_s: number;
  lag_start: number;
  lag_end: number;
  /** readings/s the lag grew by over the step's second half */
  lag_growth_per_s: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  worker_cpu_pct: number | null;
  producer_cpu_pct: number | null;
  saturated: boolean;
  /** the worker phase with the most time in this step, and its share */
  worker_top_phase: string;
}

/** Least-squares slope of lag over time (readings per second). */
function slope(xs: Sample[]): number {
  if (xs.length < 2) return 0;
  const mt = xs.reduce((a, s) => a + s.t, 0) / xs.length;
  const ml = xs.reduce((a, s) => a + s.lag, 0) / xs.length;
  const num = xs.reduce((a, s) => a + (s.t - mt) * (s.lag - ml), 0);
  const den = xs.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function phaseDelta(a: WorkerStatus | undefined, b: WorkerStatus | undefined): Record<string, number> {
  if (!b) return {};
  // a restarted worker writes a new status file: compare only the same worker's counters
  const base: Record<string, number> = a && a.worker === b.worker ? a.timings_ms : {};
  return Object.fromEntries(Object.entries(b.timings_ms).map(([k, v]) => [k, v - (base[k] ?? 0)]));
}

/** What a worker phase waits on, to name the stage behind it. */
const PHASE_STAGE: Record<string, string> = {
  poll: 'the transport (fetching from the topic)',
  process: "the worker's CPU (decode, dedupe, silver and gold logic)",
  files: 'the lake storage (writing Parquet files)',
  manifest: 'the lake storage (writing the batch manifest)',
  commit: 'the Delta commit (writing the log entry)',
  offsets: 'the transport (committing offsets)',
};

function topPhase(d: Record<string, number>): string {
  const total = Object.values(d).reduce((x, y) => x + y, 0);
  const [k, v] = Object.entries(d).sort((x, y) => y[1] - x[1])[0] ?? ['—', 0];
  return total > 0 ? `${k} ${((100 * v) / total).toFixed(0)} %` : '—';
}

export async function runStressBench(
  opts: { short?: boolean; json?: boolean; engines?: EnginesKind; keep?: boolean } = {},
): Promise<BenchResult> {
  const started = new Date();
  const stepS = opts.short ? 30 : 60;
  const e = await openEngines(opts.engines ?? 'cluster', 'stress', started, { keep: opts.keep });
  log(
    `stress bench: steps of ${stepS} s at ${RATES.join(', ')} readings/s until the lag grows without bound`,
  );
  log(`  transport ${e.transportUrl}\n  lake ${e.lakeUrl}`);
  const worker = startWorker(e);
  let producer: ReturnType<typeof startLakestream> | undefined;
  const cluster = await clusterPids(e.clusterDir);
  const sampler = new Sampler(e.transportUrl, e.lakeUrl, e.group, () => ({
    producer: producer?.proc.pid,
    worker: worker.proc.pid,
    ...cluster(),
  }));
  sampler.start();
  // warm-up: the worker creates its tables and commits a first batch before the clock of step 1 starts
  sampler.mark('step', 'warm-up');
  const warm = startLakestream([
    'produce',
    '--source',
    'simulate',
    '--meters',
    '100',
    '--start',
    '2012-12-01',
    '--days',
    '1',
    '--interval',
    '30',
    '--rate',
    'max',
    '--quiet',
    '--transport',
    e.transportUrl,
  ]);
  await warm.exited;
  await waitFor(
    () => {
      const s = sampler.latest();
      return !!s && s.produced >= 4800 && s.lag === 0;
    },
    180_000,
    500,
  );
  const steps: StressStep[] = [];
  const phaseTotals: Record<string, number> = {};
  let bottleneck = 'none found: the last step kept up';
  try {
    for (const [i, rate] of RATES.entries()) {
      if (worker.proc.exitCode !== null)
        throw new Error(`the stream worker exited:\n${worker.stderr().slice(-2000)}`);
      const limit = rate * stepS;
      const meters = Math.max(1000, Math.ceil(limit / (48 * 20)));
      const before = (await workerStatuses(e.lakeUrl).catch(() => []))[0];
      const t0 = sampler.now();
      sampler.mark('step', `${rate.toLocaleString('en-US')}/s`);
      producer = startLakestream([
        'produce',
        '--source',
        'simulate',
        '--meters',
        String(meters),
        '--start',
        `2013-${String(1 + (i % 12)).padStart(2, '0')}-01`,
        '--days',
        '25',
        '--interval',
        '30',
        '--rate',
        String(rate),
        '--limit',
        String(limit),
        '--threads',
        '2',
        '--quiet',
        '--transport',
        e.transportUrl,
      ]);
      // a producer that cannot reach the rate would run on: the step lasts stepS seconds (+ a start-up allowance)
      const ended = await Promise.race([
        producer.exited.then(() => true),
        sleep((stepS + 10) * 1000).then(() => false),
      ]);
      if (!ended) {
        producer.proc.kill('SIGINT');
        await Promise.race([producer.exited, sleep(15_000)]);
        producer.proc.kill('SIGKILL');
      }
      const t1 = sampler.now();
      const after = (await workerStatuses(e.lakeUrl).catch(() => []))[0];
      const xs = sampler.series.filter((s) => s.t > t0 && s.t <= t1);
      const active = xs.filter((s) => s.in_rate > 0);
      const secondHalf = xs.filter((s) => s.t >= (t0 + t1) / 2);
      const d = phaseDelta(before, after);
      for (const [k, v] of Object.entries(d)) phaseTotals[k] = (phaseTotals[k] ?? 0) + v;
      const avg = (f: (s: Sample) => number) =>
        Math.round(active.reduce((a, s) => a + f(s), 0) / Math.max(active.length, 1));
      const inRate = avg((s) => s.in_rate);
      const step: StressStep = {
        target_per_s: rate,
        in_per_s: inRate,
        committed_per_s: avg((s) => s.committed_rate),
        lag_start: xs[0]?.lag ?? 0,
        lag_end: xs.at(-1)?.lag ?? 0,
        lag_growth_per_s: Math.round(slope(secondHalf)),
        p50_ms: after?.latency_ms.p50 ?? null,
        p95_ms: after?.latency_ms.p95 ?? null,
        p99_ms: after?.latency_ms.p99 ?? null,
        worker_cpu_pct: perProcess(xs, 'cpu', 'avg').worker ?? null,
        producer_cpu_pct: perProcess(xs, 'cpu', 'avg').producer ?? null,
        saturated: false,
        worker_top_phase: topPhase(d),
      };
      // lag grows without bound: it rose through the step's second half by more than 5 % of the input
      // (and it ends above 5 s of input: a batch or two in flight is not a backlog)
      const lagGrows = step.lag_growth_per_s > 0.05 * Math.max(inRate, 1) && step.lag_end > 5 * inRate;
      const producerShort = inRate < 0.8 * rate;
      step.saturated = lagGrows || producerShort;
      steps.push(step);
      log(
        `  step ${rate}/s: in ${inRate}/s, committed ${step.committed_per_s}/s, lag ${step.lag_start} → ${step.lag_end} (${step.lag_growth_per_s}/s), p95 ${step.p95_ms ?? '—'} ms, worker: ${step.worker_top_phase}`,
      );
      if (lagGrows) {
        const phase = step.worker_top_phase.split(' ')[0];
        bottleneck = `${PHASE_STAGE[phase] ?? 'the stream worker'}: the worker committed ~${step.committed_per_s.toLocaleString('en-US')} readings/s of ${inRate.toLocaleString('en-US')}/s in, its time mostly in ${step.worker_top_phase}; worker CPU ${step.worker_cpu_pct ?? '—'} % of a core`;
        break;
      }
      if (producerShort) {
        bottleneck = `the producer: asked for ${rate.toLocaleString('en-US')}/s, reached ${inRate.toLocaleString('en-US')}/s (producer CPU ${step.producer_cpu_pct ?? '—'} %); the worker kept up`;
        break;
      }
      // let the worker drain before the next step, so each step starts from a small lag
      await waitFor(() => (sampler.latest()?.lag ?? 0) <= rate, 60_000, 1000);
    }
  } finally {
    producer?.proc.kill('SIGKILL');
    worker.proc.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(20_000)]);
    worker.proc.kill('SIGKILL');
    await sampler.stop();
  }
  const kept = steps.filter((s) => !s.saturated);
  const best = Math.max(0, ...steps.map((s) => s.committed_per_s));
  const result: BenchResult = {
    ...resultHead('stress', started, !!opts.short, e, sampler.now()),
    summary: {
      engines: e.kind,
      highest_sustained_target_per_s: kept.at(-1)?.target_per_s ?? null,
      peak_committed_per_s: best,
      p50_ms_at_sustained: kept.at(-1)?.p50_ms ?? null,
      p95_ms_at_sustained: kept.at(-1)?.p95_ms ?? null,
      p99_ms_at_sustained: kept.at(-1)?.p99_ms ?? null,
      worker_time_overall: topPhase(phaseTotals),
      peak_rss_mib: JSON.stringify(perProcess(sampler.series, 'rss_mib', 'max')),
      median_lag: percentile(
        sampler.series.map((s) => s.lag),
        50,
      ),
      bottleneck,
    },
    table: steps.map((s) => ({ ...s })),
    verdict: `bottleneck: ${bottleneck}`,
    ok: steps.length > 0,
    series: sampler.series,
    events: sampler.events,
  };
  return finishRun(result, e, opts.json);
}
