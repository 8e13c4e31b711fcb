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
}) {
  const meters = opts.meters ?? 10_000;
  const days = opts.days ?? (opts.short ? 1 : 7);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-pipeline-'));
  const transportUrl = `embedded:${join(dir, 'log')}`;
  const lakeUrl = `file:${join(dir, 'lake')}`;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const expected = meters * days * 48;
  log(
    `pipeline bench: ${meters} simulated meters × ${days} days × 48 half-hours = ${expected.toLocaleString()} readings`,
  );
  const peaks = { producer: 0, worker: 0 };
  // the worker's CPU time: on a shared machine a fairer figure than the wall clock
  let workerCpu = 0;
  const t0 = performance.now();
  const worker = spawn(
    process.execPath,
    [MAIN, 'stream', '--quiet', '--retrain', 'off', '--transport', transportUrl, '--lake', lakeUrl],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
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
      peaks.worker = Math.max(peaks.worker, (await peakMiB(worker.pid)) ?? 0);
      workerCpu = (await cpuSeconds(worker.pid)) ?? workerCpu;
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
      if (worker.exitCode !== null) throw new Error('the stream worker exited early');
      if (t > 3600) throw new Error('gave up after an hour');
    }
  } finally {
    await transport.close();
    worker.kill('SIGTERM');
    await new Promise((r) => (worker.exitCode !== null ? r(null) : worker.once('close', r)));
    if (producer.exitCode === null) producer.kill('SIGKILL');
  }
  const seconds = (performance.now() - t0) / 1000;
  const statuses = await readWorkerStatuses(await openStore(lakeUrl));
  const timings: Record<string, number> = statuses[0]?.timings_ms ?? {};
  const total = Object.values(timings).reduce((a, b) => a + b, 0);
  const report = {
    scenario: 'pipeline',
    meters,
    days,
    readings: committed,
    seconds: Number(seconds.toFixed(1)),
    producer_seconds: Number(((producedAt - t0) / 1000).toFixed(1)),
    readings_per_second: Math.round(committed / seconds),
    peak_rss_mib: peaks,
    /** CPU seconds the worker used (sampled each second until everything was committed), and per million readings */
    worker_cpu_seconds: Number(workerCpu.toFixed(1)),
    worker_cpu_seconds_per_million: Number(((workerCpu * 1e6) / Math.max(committed, 1)).toFixed(1)),
    worker_time_share: Object.fromEntries(
      Object.entries(timings).map(([k, v]) => [k, `${((100 * v) / Math.max(total, 1)).toFixed(1)} %`]),
    ),
    worker_batches: statuses[0]?.batches,
    /** bytes of a batch's manifest and state objects (snapshots and deltas), on average */
    manifest_bytes_per_batch:
      statuses[0]?.manifest_bytes !== undefined && statuses[0].batches > 0
        ? Math.round(statuses[0].manifest_bytes / statuses[0].batches)
        : undefined,
    series,
  };
  await rm(dir, { recursive: true, force: true });
  if (opts.json) console.log(JSON.stringify(report));
  return report;
}
