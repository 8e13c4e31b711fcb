// Benchmark: sustained readings/s end to end (produced → committed in bronze, silver and gold)
// with the embedded engines at --rate max for 10,000 simulated meters, peak memory of each
// process, and where the worker's time goes.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '../domain/topics.ts';
import { openStore } from '../storage/index.ts';
import { readWorkerStatuses } from '../stream/worker-status.ts';
import { openTransport } from '../transport/index.ts';

const MAIN = resolve(import.meta.dirname, '../cli/main.ts');

/** Peak resident memory (VmHWM) of a process in MiB, from /proc. */
async function peakMiB(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s). */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // the fields after the command name (which may hold spaces) start at ")"; utime and stime are 14 and 15
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return f.length > 13 ? (Number(f[11]) + Number(f[12])) / 100 : undefined;
}

export async function runPipelineBench(opts: {
  short?: boolean;
  json?: boolean;
  meters?: number;
  days?: number;
  /** stream workers in one group on the same log (default 1) */
  workers?: number;
}) {
  const meters = opts.meters ?? 10_000;
  const nWorkers = opts.workers ?? 1;
  const days = opts.days ?? (opts.short ? 1 : 7);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-pipeline-'));
  const transportUrl = `embedded:${join(dir, 'log')}`;
  const lakeUrl = `file:${join(dir, 'lake')}`;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const expected = meters * days * 48;
  log(
    `pipeline bench: ${meters} simulated meters × ${days} days × 48 half-hours = ${expected.toLocaleString()} readings, ${nWorkers} stream worker(s)`,
  );
  const peaks = { producer: 0, workers: new Array<number>(nWorkers).fill(0) };
  // the workers' CPU time: on a shared machine a fairer figure than the wall clock
  const workerCpu = new Array<number>(nWorkers).fill(0);
  const t0 = performance.now();
  const workers = Array.from({ length: nWorkers }, () =>
    spawn(
      process.execPath,
      [MAIN, 'stream', '--quiet', '--retrain', 'off', '--transport', transportUrl, '--lake', lakeUrl],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  const producer = spawn(
    process.execPath,
    [
      MAIN,
      'produce',
      '--source',
      'simulate',
      '--meters',
      String(meters),
      '--days',
      String(days),
      '--interval',
      '30',
      '--rate',
      'max',
      '--transport',
      transportUrl,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  let producedAt = 0;
  producer.on('close', () => {
    producedAt = performance.now();
  });
  const transport = await openTransport(transportUrl);
  let committed = 0;
  const series: { t: number; produced: number; committed: number }[] = [];
  try {
    for (;;) {
      await sleep(1000);
      peaks.producer = Math.max(peaks.producer, (await peakMiB(producer.pid)) ?? 0);
      for (const [i, w] of workers.entries()) {
        peaks.workers[i] = Math.max(peaks.workers[i], (await peakMiB(w.pid)) ?? 0);
        workerCpu[i] = (await cpuSeconds(w.pid)) ?? workerCpu[i];
      }
      const topics = await transport.listTopics();
      if (!topics.some((t) => t.name === TOPICS.readings)) continue;
      const end = (await transport.endOffsets(TOPICS.readings)).reduce((a, p) => a + p.offset, 0);
      committed = (await transport.committedOffsets('lakestream-meters', TOPICS.readings)).reduce(
        (a, p) => a + p.offset,
        0,
      );
      const t = (performance.now() - t0) / 1000;
      series.push({ t, produced: end, committed });
      log(`  ${t.toFixed(0)} s: produced ${end.toLocaleString()}, committed ${committed.toLocaleString()}`);
      if (producedAt > 0 && committed >= end && end >= expected) break;
      if (workers.some((w) => w.exitCode !== null)) throw new Error('a stream worker exited early');
      if (t > 3600) throw new Error('gave up after an hour');
    }
  } finally {
    await transport.close();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('close', r)))),
    );
    if (producer.exitCode === null) producer.kill('SIGKILL');
  }
  const seconds = (performance.now() - t0) / 1000;
  const statuses = await readWorkerStatuses(await openStore(lakeUrl));
  // each worker's time by phase, and all of them summed (a worker's status is its own)
  const timings: Record<string, number> = {};
  for (const st of statuses)
    for (const [k, v] of Object.entries(st.timings_ms ?? {})) timings[k] = (timings[k] ?? 0) + v;
  const total = Object.values(timings).reduce((a, b) => a + b, 0);
  const batches = statuses.reduce((a, st) => a + st.batches, 0);
  const manifestBytes = statuses.reduce((a, st) => a + (st.manifest_bytes ?? 0), 0);
  const cpu = workerCpu.reduce((a, b) => a + b, 0);
  const report = {
    scenario: 'pipeline',
    meters,
    days,
    workers: nWorkers,
    readings: committed,
    seconds: Number(seconds.toFixed(1)),
    producer_seconds: Number(((producedAt - t0) / 1000).toFixed(1)),
    readings_per_second: Math.round(committed / seconds),
    /** MiB; `worker` is the largest worker's peak, `workers` each one's */
    peak_rss_mib: { producer: peaks.producer, worker: Math.max(...peaks.workers), workers: peaks.workers },
    /** CPU seconds the workers used together (sampled each second until everything was committed), and per million readings */
    worker_cpu_seconds: Number(cpu.toFixed(1)),
    worker_cpu_seconds_per_million: Number(((cpu * 1e6) / Math.max(committed, 1)).toFixed(1)),
    worker_cpu_seconds_each: workerCpu.map((c) => Number(c.toFixed(1))),
    worker_time_share: Object.fromEntries(
      Object.entries(timings).map(([k, v]) => [k, `${((100 * v) / Math.max(total, 1)).toFixed(1)} %`]),
    ),
    worker_batches: batches,
    /** bytes of a batch's manifest and state objects (snapshots and deltas), on average */
    manifest_bytes_per_batch: batches > 0 ? Math.round(manifestBytes / batches) : undefined,
    series,
  };
  await rm(dir, { recursive: true, force: true });
  if (opts.json) console.log(JSON.stringify(report));
  return report;
}
