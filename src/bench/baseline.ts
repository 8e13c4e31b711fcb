// Baseline scenario: normal load, 1 reading/s from one simulated meter for 5 minutes (--short: 1 minute),
// through the stream worker into the lake; end-to-end latency (produce timestamp → lake commit) over time.

import { countLake } from './lake-count.ts';
import { clusterPids, producedCount, startLakestream, startWorker } from './processes.ts';
import { log, sleep, waitFor } from './progress.ts';
import { finishRun } from './report.ts';
import { type BenchResult, resultHead } from './result.ts';
import { type EnginesKind, openEngines } from './run.ts';
import { percentile, perProcess, Sampler, workerStatuses } from './sampler.ts';

export async function runBaselineBench(
  opts: { short?: boolean; json?: boolean; engines?: EnginesKind; seconds?: number; keep?: boolean } = {},
): Promise<BenchResult> {
  const started = new Date();
  const seconds = opts.seconds ?? (opts.short ? 60 : 300);
  const e = await openEngines(opts.engines ?? 'cluster', 'baseline', started, { keep: opts.keep });
  log(`baseline bench: 1 reading/s for ${seconds} s\n  transport ${e.transportUrl}\n  lake ${e.lakeUrl}`);
  const worker = startWorker(e);
  // one meter, half-hourly readings, paced at 1 message/s: `seconds` readings in all
  const producer = startLakestream([
    'produce',
    '--source',
    'simulate',
    '--meters',
    '1',
    '--days',
    String(Math.ceil(seconds / 48) + 1),
    '--interval',
    '30',
    '--rate',
    '1',
    '--limit',
    String(seconds),
    '--quiet',
    '--transport',
    e.transportUrl,
  ]);
  const cluster = await clusterPids(e.clusterDir);
  const sampler = new Sampler(e.transportUrl, e.lakeUrl, e.group, () => ({
    producer: producer.proc.pid,
    worker: worker.proc.pid,
    ...cluster(),
  }));
  sampler.start();
  let acknowledged = 0;
  try {
    const done = await producer.exited;
    if (done.code !== 0) throw new Error(`the producer failed:\n${producer.stderr().slice(-2000)}`);
    acknowledged = producedCount(producer.stderr()) ?? 0;
    await waitFor(() => (sampler.latest()?.committed ?? 0) >= acknowledged, 120_000, 500);
    await sleep(2500); // one more worker status write
  } finally {
    worker.proc.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(20_000)]);
    worker.proc.kill('SIGKILL');
    await sampler.stop();
  }
  const status = (await workerStatuses(e.lakeUrl))[0];
  const lake = await countLake(e.lakeUrl);
  const p95s = sampler.series.map((s) => s.p95).filter((v): v is number => v !== null);
  const ok = lake.bronze_distinct === acknowledged && lake.bronze_rows === lake.bronze_distinct;
  const result: BenchResult = {
    ...resultHead('baseline', started, !!opts.short, e, sampler.now()),
    summary: {
      engines: e.kind,
      rate_per_s: 1,
      acknowledged,
      stored_distinct: lake.bronze_distinct,
      latency_p50_ms: status?.latency_ms.p50 ?? null,
      latency_p95_ms: status?.latency_ms.p95 ?? null,
      latency_p99_ms: status?.latency_ms.p99 ?? null,
      worst_sampled_p95_ms: p95s.length ? Math.max(...p95s) : null,
      median_lag: percentile(
        sampler.series.map((s) => s.lag),
        50,
      ),
      worker_batches: status?.batches ?? null,
      worker_cpu_avg_pct: perProcess(sampler.series, 'cpu', 'avg').worker ?? null,
      worker_rss_peak_mib: perProcess(sampler.series, 'rss_mib', 'max').worker ?? null,
    },
    table: Object.entries(perProcess(sampler.series, 'cpu', 'avg')).map(([proc, cpu]) => ({
      process: proc,
      cpu_avg_pct: cpu,
      rss_peak_mib: perProcess(sampler.series, 'rss_mib', 'max')[proc] ?? null,
    })),
    verdict: ok
      ? `${acknowledged} readings at 1/s, all in the lake once; end-to-end p50 ${status?.latency_ms.p50 ?? '—'} ms, p95 ${status?.latency_ms.p95 ?? '—'} ms, p99 ${status?.latency_ms.p99 ?? '—'} ms`
      : `acknowledged ${acknowledged}, stored ${lake.bronze_distinct} distinct of ${lake.bronze_rows} rows`,
    ok,
    series: sampler.series,
    events: sampler.events,
  };
  return finishRun(result, e, opts.json);
}
