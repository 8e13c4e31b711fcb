// Benchmark of the cluster-trace workload: replay + classify throughput (task_events and job_events
// parts 0-1 produced at --rate max, then one `stream --workload cluster-trace --drain` with a
// registered GMM), and EM training time on 500k tasks (the real SUBMIT requests of both parts,
// resampled with a fixed seed to reach 500k).

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findDataDir } from '../config/data-dir.ts';
import { LakestreamError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { registerModel } from '../models/registry.ts';
import { mulberry32 } from '../models/task-gmm/em.ts';
import { TASK_GMM_MODEL_NAME } from '../models/task-gmm/model.ts';
import { trainingSetFromFiles, trainTaskGmmModel } from '../models/task-gmm/train.ts';
import { openStore } from '../storage/index.ts';
import { readWorkerStatuses } from '../stream/worker-status.ts';

const MAIN = resolve(import.meta.dirname, '../cli/main.ts');
const log = (m: string) => process.stderr.write(`${m}\n`);

/** user + system CPU seconds of a running process, from /proc (0 where there is no /proc). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  const s = pid ? await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '') : '';
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return f.length > 13 ? (Number(f[11]) + Number(f[12])) / 100 : 0;
}

/** Runs a lakestream command; wall time and (sampled) CPU time, since the machine may be shared. */
function run(args: string[]): Promise<{ seconds: number; cpuSeconds: number }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let cpu = 0;
    const timer = setInterval(() => {
      void cpuSeconds(child.pid).then((c) => {
        cpu = Math.max(cpu, c);
      });
    }, 200);
    let err = '';
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-4000);
    });
    child.on('error', rej);
    child.on('close', (code) => {
      clearInterval(timer);
      code === 0
        ? res({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpu })
        : rej(new LakestreamError('INTERNAL', `lakestream ${args[0]} exited ${code}: ${err}`));
    });
  });
}

export async function runTraceBench(opts: { short?: boolean; json?: boolean }) {
  const root = findDataDir(undefined);
  if (!root)
    throw new LakestreamError(
      'NOT_FOUND',
      'bench trace needs the sample data (../shared/data or LAKESTREAM_DATA)',
    );
  const data = join(root, 'cluster-trace/google-2011');
  const parts = opts.short
    ? ['part-00001-of-00500.csv.gz']
    : ['part-00000-of-00500.csv.gz', 'part-00001-of-00500.csv.gz'];
  const taskFiles = parts.map((p) => join(data, 'task_events', p));
  const jobFiles = parts.map((p) => join(data, 'job_events', p));
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-trace-'));
  const transport = `embedded:${join(dir, 'log')}`;
  const lakeUrl = `file:${join(dir, 'lake')}`;
  try {
    // 1. EM training time on N tasks
    const set = await trainingSetFromFiles([...taskFiles, join(data, 'machine_events_with_header.csv.gz')]);
    const target = opts.short ? 100_000 : 500_000;
    const complete = set.tasks.filter(
      (t) => t.cpu_request !== null && t.memory_request !== null && t.disk_request !== null,
    );
    const rand = mulberry32(2011);
    const tasks = Array.from({ length: target }, () => complete[Math.floor(rand() * complete.length)]);
    log(
      `EM: ${target.toLocaleString()} tasks resampled from ${complete.length.toLocaleString()} real SUBMIT requests`,
    );
    const em: object[] = [];
    for (const covariance of ['full', 'diag'] as const) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const { model, metrics } = trainTaskGmmModel(
        { ...set, tasks },
        { kMin: 5, kMax: 5, covariance, seed: 1, maxTasks: target },
      );
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const it = (metrics as { iterations: number }).iterations;
      em.push({
        tasks: target,
        k: model.gmm.k,
        covariance,
        iterations: it,
        seconds: Number(seconds.toFixed(2)),
        cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
        ms_per_iteration: Number(((seconds * 1000) / it).toFixed(1)),
      });
      log(`EM ${covariance} k=5: ${it} iterations in ${seconds.toFixed(1)} s`);
    }
    // BIC over k = 2..8 on the same tasks (what `train --model task-gmm` does by default)
    const tb = performance.now();
    const bic = trainTaskGmmModel(
      { ...set, tasks },
      { kMin: 2, kMax: opts.short ? 4 : 8, seed: 1, maxTasks: target },
    );
    const bicSeconds = (performance.now() - tb) / 1000;
    log(`BIC range: k = ${bic.model.gmm.k} chosen in ${bicSeconds.toFixed(1)} s`);

    // 2. replay + classify throughput
    const lake = await Lake.open(lakeUrl);
    const fitted = trainTaskGmmModel(set, { kMin: 2, kMax: 6, seed: 1 });
    await registerModel(lake.store, TASK_GMM_MODEL_NAME, fitted.model, fitted.metrics);
    await lake.close();
    log(`replay: producing ${parts.length} task_events + job_events shards`);
    const produced = await run([
      'produce',
      '--source',
      'google-2011',
      ...[...taskFiles, ...jobFiles].flatMap((f) => ['--file', f]),
      '--rate',
      'max',
      '--transport',
      transport,
    ]);
    log(`  produced in ${produced.seconds.toFixed(1)} s; streaming (bronze, silver, classes, windows)`);
    const streamed = await run([
      'stream',
      '--workload',
      'cluster-trace',
      '--drain',
      '--quiet',
      '--transport',
      transport,
      '--lake',
      lakeUrl,
    ]);
    const [status] = await readWorkerStatuses(await openStore(lakeUrl));
    const timings: Record<string, number> = status.timings_ms;
    const busy = Object.values(timings).reduce((a, b) => a + b, 0);
    const report = {
      scenario: 'trace',
      replay: {
        events: status.read,
        produce_seconds: Number(produced.seconds.toFixed(1)),
        produce_events_per_second: Math.round(status.read / produced.seconds),
        stream_seconds: Number(streamed.seconds.toFixed(1)),
        stream_events_per_second: Math.round(status.read / streamed.seconds),
        produce_cpu_seconds: produced.cpuSeconds,
        stream_cpu_seconds: streamed.cpuSeconds,
        stream_events_per_cpu_second: Math.round(status.read / Math.max(streamed.cpuSeconds, 0.01)),
        end_to_end_events_per_second: Math.round(status.read / (produced.seconds + streamed.seconds)),
        model_version: status.model_version,
        batches: status.batches,
        rows_written: status.rows_written,
        worker_time_share: Object.fromEntries(
          Object.entries(timings).map(([k, v]) => [k, `${((100 * v) / Math.max(busy, 1)).toFixed(1)} %`]),
        ),
      },
      em,
      bic_range: {
        tasks: target,
        k_range: `2-${opts.short ? 4 : 8}`,
        chosen_k: bic.model.gmm.k,
        seconds: Number(bicSeconds.toFixed(1)),
      },
    };
    if (opts.json) console.log(JSON.stringify(report));
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
