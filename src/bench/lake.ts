// Benchmark of the Delta Lake layer's hot paths (not a test): append throughput (1M rows in 100
// commits, the shape of stream writes) and snapshot load time at 1,000 commits with and without
// checkpoints. `npm run bench lake [--short] [--json]`, or run this file directly.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Action } from '../lake/index.ts';
import { Lake, type Row, type TableSpec } from '../lake/index.ts';

const BRONZE_LIKE: TableSpec = {
  schema: [
    { name: 'meter_id', type: 'string', nullable: false },
    { name: 'kind', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'value', type: 'double', nullable: false },
    { name: 'unit', type: 'string', nullable: false },
    { name: 'seq', type: 'long' },
    { name: 'partition', type: 'integer' },
    { name: 'offset', type: 'long' },
    { name: 'day', type: 'string', nullable: false },
  ],
  partitionColumns: ['day'],
};

/** A batch as a stream worker writes it: many meters, half-hourly readings spanning ~1-2 days. */
function batch(commit: number, rows: number): Row[] {
  const out: Row[] = new Array(rows);
  const meters = 500;
  const base = Date.UTC(2013, 0, 1) + Math.floor((commit * rows) / meters) * 1_800_000;
  for (let i = 0; i < rows; i++) {
    const ms = base + Math.floor(i / meters) * 1_800_000;
    out[i] = {
      meter_id: `MAC${String(i % meters).padStart(6, '0')}`,
      kind: 'electricity',
      ts: new Date(ms),
      value: (i % 97) / 100,
      unit: 'kWh',
      seq: BigInt(commit * rows + i),
      partition: i % 6,
      offset: BigInt(commit * rows + i),
      day: new Date(ms).toISOString().slice(0, 10),
    };
  }
  return out;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function appendBench(dir: string, totalRows: number, commits: number) {
  const lake = await Lake.open(`file:${join(dir, 'append')}`);
  const t = lake.table('bench/bronze');
  await t.create(BRONZE_LIKE);
  const per = Math.floor(totalRows / commits);
  const latencies: number[] = [];
  let makeMs = 0;
  let makeCpu = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let c = 0; c < commits; c++) {
    const m0 = performance.now();
    const c0 = process.cpuUsage();
    const rows = batch(c, per);
    const c1 = process.cpuUsage(c0);
    makeCpu += (c1.user + c1.system) / 1e6;
    makeMs += performance.now() - m0;
    const t0 = performance.now();
    const res = await t.write(rows, { txn: { appId: 'bench/readings/0', version: c } });
    latencies.push(performance.now() - t0);
    if (res.status !== 'committed') throw new Error(`commit ${c}: ${JSON.stringify(res)}`);
  }
  const seconds = (performance.now() - started - makeMs) / 1000;
  // CPU time of the whole process (DuckDB's threads included), less making the rows: a figure that
  // depends less on what else the machine runs than wall time does.
  const used = process.cpuUsage(cpu0);
  const cpuSeconds = (used.user + used.system) / 1e6 - makeCpu;
  const snap = await t.snapshot();
  await lake.close();
  return {
    rows: per * commits,
    commits,
    seconds: round(seconds),
    rowsPerSecond: Math.round((per * commits) / seconds),
    cpuSeconds: round(cpuSeconds),
    rowsPerCpuSecond: Math.round((per * commits) / cpuSeconds),
    commitMs: {
      p50: round(quantile(latencies, 0.5)),
      p95: round(quantile(latencies, 0.95)),
      max: round(Math.max(...latencies)),
    },
    files: snap.files.length,
    bytes: snap.sizeInBytes,
  };
}

/** A log of `commits` small appends (add actions only; loading a snapshot never opens data files). */
async function buildLog(url: string, commits: number, checkpoints: boolean): Promise<void> {
  const lake = await Lake.open(url);
  const t = lake.table('bench/log');
  await t.create(BRONZE_LIKE);
  for (let v = 1; v <= commits; v++) {
    const actions: Action[] = [
      {
        add: {
          path: `day=2013-01-${String((v % 28) + 1).padStart(2, '0')}/part-${v}.zstd.parquet`,
          partitionValues: { day: `2013-01-${String((v % 28) + 1).padStart(2, '0')}` },
          size: 1000 + v,
          modificationTime: Date.now(),
          dataChange: true,
          stats: JSON.stringify({
            numRecords: 100,
            minValues: { value: 0 },
            maxValues: { value: 1 },
            nullCount: { value: 0 },
          }),
        },
      },
    ];
    if (checkpoints) await t.commit(actions, { txn: { appId: 'bench', version: v } });
    // the same commits, written without the writer's checkpoints
    else
      await lake.store.putIfAbsent(
        `bench/log/_delta_log/${String(v).padStart(20, '0')}.json`,
        new TextEncoder().encode(
          `${JSON.stringify({ commitInfo: { timestamp: Date.now(), operation: 'WRITE' } })}\n${JSON.stringify(actions[0])}\n${JSON.stringify({ txn: { appId: 'bench', version: v } })}\n`,
        ),
      );
  }
  await lake.close();
}

async function loadBench(dir: string, commits: number, runs: number) {
  const out: Record<string, unknown> = { commits };
  for (const checkpoints of [true, false]) {
    const url = `file:${join(dir, checkpoints ? 'with-checkpoints' : 'without-checkpoints')}`;
    const b0 = performance.now();
    await buildLog(url, commits, checkpoints);
    const buildSeconds = (performance.now() - b0) / 1000;
    const times: number[] = [];
    const cpu: number[] = [];
    let files = 0;
    for (let i = 0; i < runs; i++) {
      const lake = await Lake.open(url);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const snap = await lake.table('bench/log').snapshot();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      files = snap.files.length;
      if (snap.version !== commits) throw new Error(`loaded version ${snap.version}, wanted ${commits}`);
      await lake.close();
    }
    // Incremental refresh: a cached snapshot catching up on one new commit.
    const lake = await Lake.open(url);
    const t = lake.table('bench/log');
    await t.snapshot();
    await (await Lake.open(url)).table('bench/log').commit([], { txn: { appId: 'other', version: 1 } });
    const r0 = performance.now();
    await t.snapshot();
    const refreshMs = performance.now() - r0;
    await lake.close();
    out[checkpoints ? 'withCheckpoints' : 'withoutCheckpoints'] = {
      coldLoadMs: { median: round(quantile(times, 0.5)), min: round(Math.min(...times)) },
      coldLoadCpuMs: round(quantile(cpu, 0.5)),
      refreshOneCommitMs: round(refreshMs),
      liveFiles: files,
      buildSeconds: round(buildSeconds),
    };
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function runLakeBench(opts: { short?: boolean; json?: boolean } = {}): Promise<object> {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-lake-'));
  const log = (s: string) => {
    if (!opts.json) process.stderr.write(`${s}\n`);
  };
  try {
    const rows = opts.short ? 100_000 : 1_000_000;
    const commits = opts.short ? 20 : 100;
    log(`lake bench: appending ${rows.toLocaleString('en-US')} rows in ${commits} commits …`);
    const append = await appendBench(dir, rows, commits);
    log(
      `  ${append.rowsPerSecond.toLocaleString('en-US')} rows/s (${append.rowsPerCpuSecond.toLocaleString('en-US')} per CPU second), commit p50 ${append.commitMs.p50} ms, p95 ${append.commitMs.p95} ms`,
    );
    const logCommits = opts.short ? 200 : 1000;
    log(`lake bench: snapshot load at ${logCommits} commits, with and without checkpoints …`);
    const load = await loadBench(dir, logCommits, opts.short ? 3 : 5);
    const w = load.withCheckpoints as { coldLoadMs: { median: number } };
    const wo = load.withoutCheckpoints as { coldLoadMs: { median: number } };
    log(`  cold load: ${w.coldLoadMs.median} ms with checkpoints, ${wo.coldLoadMs.median} ms without`);
    const report = {
      scenario: 'lake',
      short: opts.short ?? false,
      append,
      snapshotLoad: load,
      machine: { cpus: cpus().length, loadAverage: loadavg().map(round) },
      node: process.version,
      at: new Date().toISOString(),
    };
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const report = await runLakeBench({ short: args.includes('--short'), json: args.includes('--json') });
  if (!args.includes('--json')) console.log(JSON.stringify(report, null, 2));
}
