// Benchmark (not a test): the lake's storage on HDFS through WebHDFS beside local disk — object store
// operations (put, putIfAbsent by rename and by create, get, list, large files), then Delta commit
// throughput, appends of real Parquet and snapshot load time.
// `lakestream bench hdfs [--short] [--json]`, or `node src/bench/hdfs.ts … [--webhdfs webhdfs://HOST:PORT]`;
// without --webhdfs it starts (or reuses) the local cluster's HDFS with `lakestream cluster up --hdfs`.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Action } from '../lake/index.ts';
import { Lake, type Row, type TableSpec } from '../lake/index.ts';
import type { ObjectStore } from '../storage/index.ts';
import { LocalStore } from '../storage/index.ts';
import { openWebHdfs, type WebHdfsStore } from '../storage/webhdfs/index.ts';
import { portOffsetFromEnv } from './processes.ts';

export interface HdfsBenchOptions {
  /** fewer operations (a minute or two instead of several) */
  short?: boolean;
  /** print only the JSON report on stdout */
  json?: boolean;
  /** `webhdfs://host:port` of a running HDFS; default: the local cluster, started if needed */
  webhdfs?: string;
  /** HDFS user; default the cluster's superuser */
  user?: string;
}

interface Latency {
  opsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
}

const SPEC: TableSpec = {
  schema: [
    { name: 'meter_id', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'value', type: 'double', nullable: false },
    { name: 'day', type: 'string', nullable: false },
  ],
  partitionColumns: ['day'],
};

const round = (x: number) => Math.round(x * 100) / 100;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/**
 * Runs each of `fns` n times, interleaved (a, b, c, a, b, c, …) so that a shared, busy machine slows
 * them alike, one call at a time as a committer makes them; reports each one's rate and latencies.
 */
async function timed<K extends string>(
  n: number,
  fns: Record<K, (i: number) => Promise<unknown>>,
): Promise<Record<K, Latency>> {
  const keys = Object.keys(fns) as K[];
  const each = new Map<K, number[]>(keys.map((k) => [k, []]));
  for (let i = 0; i < n; i++)
    for (const k of keys) {
      const s = performance.now();
      await fns[k](i);
      each.get(k)!.push(performance.now() - s);
    }
  const out = {} as Record<K, Latency>;
  for (const k of keys) {
    const xs = each.get(k)!;
    out[k] = {
      opsPerSecond: round(1000 / (xs.reduce((a, b) => a + b, 0) / xs.length)),
      p50Ms: round(quantile(xs, 0.5)),
      p95Ms: round(quantile(xs, 0.95)),
    };
  }
  return out;
}

async function storeBench(store: ObjectStore, n: number, bigMb: number, withCreateMode?: ObjectStore) {
  const small = new TextEncoder().encode(`${JSON.stringify({ add: { path: 'x'.repeat(900) } })}\n`);
  const name = (i: number) => `${String(i).padStart(20, '0')}.json`;
  const writeOps: Record<string, (i: number) => Promise<unknown>> = {
    put1KiB: (i) => store.put(`ops/put/${i}.json`, small),
    putIfAbsent1KiB: (i) => store.putIfAbsent(`ops/pia/${name(i)}`, small),
  };
  if (withCreateMode)
    writeOps.putIfAbsent1KiBByCreate = (i) => withCreateMode.putIfAbsent(`ops/pia-create/${name(i)}`, small);
  const writes = await timed(n, writeOps);
  const reads = await timed(n, {
    get1KiB: (i) => store.get(`ops/pia/${name(i)}`),
    stat: (i) => store.stat(`ops/pia/${name(i)}`),
  });
  const { list } = await timed(5, { list: () => store.list('ops/pia/') });
  const big = new Uint8Array(bigMb * 1024 * 1024).map((_, i) => (i * 31) % 256);
  const w0 = performance.now();
  await store.put('ops/big.bin', big);
  const writeMBps = bigMb / ((performance.now() - w0) / 1000);
  const r0 = performance.now();
  await store.get('ops/big.bin');
  const readMBps = bigMb / ((performance.now() - r0) / 1000);
  return {
    ...writes,
    ...reads,
    [`list${n}Files`]: { p50Ms: list.p50Ms },
    [`large${bigMb}MiB`]: { writeMBps: round(writeMBps), readMBps: round(readMBps) },
  };
}

function rows(commit: number, count: number): Row[] {
  const base = Date.UTC(2013, 0, 1) + commit * 86_400_000;
  return Array.from({ length: count }, (_, i) => {
    const ts = new Date(base + Math.floor(i / 200) * 1_800_000);
    return {
      meter_id: `MAC${String(i % 200).padStart(6, '0')}`,
      ts,
      value: (i % 97) / 100,
      day: ts.toISOString().slice(0, 10),
    };
  });
}

async function deltaBench(store: ObjectStore, commits: number, appends: number, rowsPerAppend: number) {
  const lake = new Lake(store);
  // Commit throughput: small commits of add actions only (what a stream's txn-tagged commit writes to
  // the log), checkpoints every 10 versions included.
  const t = lake.table('bench/commits');
  await t.create(SPEC);
  const { commit } = await timed(commits, {
    commit: async (v) => {
      const add: Action = {
        add: {
          path: `day=2013-01-01/part-${v}.parquet`,
          partitionValues: { day: '2013-01-01' },
          size: 1000,
          modificationTime: Date.now(),
          dataChange: true,
        },
      };
      const r = await t.commit([add], { txn: { appId: 'bench/readings/0', version: v } });
      if (r.status !== 'committed') throw new Error(`commit ${v}: ${JSON.stringify(r)}`);
    },
  });
  // Snapshot load: a reader opening the table cold (new Lake, no cache).
  const loads: number[] = [];
  // the first load (untimed) warms up DuckDB, which reads the checkpoint's Parquet
  for (let i = -1; i < 3; i++) {
    const fresh = new Lake(store);
    const s0 = performance.now();
    const snap = await fresh.table('bench/commits').snapshot();
    if (i >= 0) loads.push(performance.now() - s0);
    if (snap.version !== commits) throw new Error(`snapshot at version ${snap.version}, wanted ${commits}`);
  }
  // Appends of real Parquet files (DuckDB writes them locally; the store uploads them).
  const a = lake.table('bench/appends');
  await a.create(SPEC);
  const { append } = await timed(appends, {
    append: async (c) => {
      const r = await a.write(rows(c, rowsPerAppend), { txn: { appId: 'bench/appends/0', version: c } });
      if (r.status !== 'committed') throw new Error(`append ${c}: ${JSON.stringify(r)}`);
    },
  });
  await lake.close();
  return {
    commits: { count: commits, ...commit },
    snapshotColdLoadMs: {
      versions: commits,
      median: round(quantile(loads, 0.5)),
      min: round(Math.min(...loads)),
    },
    appends: {
      count: appends,
      rowsEach: rowsPerAppend,
      ...append,
      rowsPerSecond: Math.round(append.opsPerSecond * rowsPerAppend),
    },
  };
}

/** The HDFS to measure; `stop` is set when the bench started the local cluster's HDFS itself. */
async function hdfsTarget(
  opts: HdfsBenchOptions,
  log: (s: string) => void,
): Promise<{ base: string; user: string; stop?: () => Promise<unknown> }> {
  if (opts.webhdfs) return { base: opts.webhdfs.replace(/\/+$/, ''), user: opts.user ?? 'lakestream' };
  const { clusterDown, clusterUp } = await import('../cluster/cluster.ts');
  const r = await clusterUp({
    dir: process.env.LAKESTREAM_CLUSTER_DIR,
    parts: ['hdfs'],
    portOffset: portOffsetFromEnv(),
    log,
  });
  return {
    base: r.webhdfsUrl.replace(/^http:/, 'webhdfs:'),
    user: opts.user ?? r.config.hdfs.user,
    stop: r.started.length > 0 ? () => clusterDown({ dir: r.config.dir, parts: ['hdfs'], log }) : undefined,
  };
}

export async function runHdfsBench(opts: HdfsBenchOptions = {}): Promise<object> {
  // progress and the summary go to stderr; with --json, stdout holds only the report
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const n = opts.short ? 30 : 100;
  const bigMb = opts.short ? 16 : 64;
  const commits = opts.short ? 30 : 100;
  const appends = opts.short ? 5 : 20;
  const rowsPerAppend = opts.short ? 5_000 : 20_000;
  const { base, user, stop } = await hdfsTarget(opts, log);
  const run = `/lakestream-bench/hdfs-${Date.now()}`;
  const hdfs: WebHdfsStore = openWebHdfs(`${base}${run}?user=${encodeURIComponent(user)}`);
  const hdfsCreate: WebHdfsStore = openWebHdfs(
    `${base}${run}?user=${encodeURIComponent(user)}&putIfAbsent=create`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-hdfs-'));
  const local = new LocalStore(dir);
  try {
    log(`hdfs bench: object store operations (${n} small objects, ${bigMb} MiB file) on local disk …`);
    const localStore = await storeBench(local, n, bigMb);
    log(`hdfs bench: the same on HDFS (${hdfs.url}) …`);
    const hdfsStore = await storeBench(hdfs, n, bigMb, hdfsCreate);
    log(
      `hdfs bench: Delta commits (${commits}), cold snapshot load, ${appends} Parquet appends on local disk …`,
    );
    const localDelta = await deltaBench(local, commits, appends, rowsPerAppend);
    log('hdfs bench: the same on HDFS …');
    const hdfsDelta = await deltaBench(hdfs, commits, appends, rowsPerAppend);
    const report = {
      scenario: 'hdfs',
      short: opts.short ?? false,
      hdfs: { url: hdfs.url, store: hdfsStore, delta: hdfsDelta },
      local: { store: localStore, delta: localDelta },
      node: process.version,
      at: new Date().toISOString(),
    };
    log(summary(report));
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    return report;
  } finally {
    await hdfs.client.delete(hdfs.root, true).catch(() => {});
    await hdfs.close();
    await hdfsCreate.close();
    await rm(dir, { recursive: true, force: true });
    await stop?.();
  }
}

type Report = {
  hdfs: { store: Record<string, unknown>; delta: Awaited<ReturnType<typeof deltaBench>> };
  local: { store: Record<string, unknown>; delta: Awaited<ReturnType<typeof deltaBench>> };
};

/** A side-by-side table for the terminal. */
function summary(r: Report): string {
  const rowsOut: [string, string, string][] = [];
  const lat = (x: unknown) => {
    const l = x as Latency | undefined;
    return l ? `${l.opsPerSecond}/s (p50 ${l.p50Ms} ms)` : '-';
  };
  for (const k of ['put1KiB', 'putIfAbsent1KiB', 'putIfAbsent1KiBByCreate', 'get1KiB', 'stat'])
    rowsOut.push([k, lat(r.local.store[k]), lat(r.hdfs.store[k])]);
  const d = (x: Report['local']['delta']) => x;
  rowsOut.push(['delta commits', lat(d(r.local.delta).commits), lat(d(r.hdfs.delta).commits)]);
  rowsOut.push([
    'snapshot cold load',
    `${r.local.delta.snapshotColdLoadMs.median} ms`,
    `${r.hdfs.delta.snapshotColdLoadMs.median} ms`,
  ]);
  rowsOut.push([
    'parquet appends',
    `${r.local.delta.appends.rowsPerSecond} rows/s`,
    `${r.hdfs.delta.appends.rowsPerSecond} rows/s`,
  ]);
  const w = [24, 30, 30];
  const line = (c: string[]) => c.map((s, i) => s.padEnd(w[i])).join(' ');
  return [line(['', 'local disk', 'HDFS (WebHDFS)']), ...rowsOut.map(line)].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean' },
      json: { type: 'boolean' },
      webhdfs: { type: 'string' },
      user: { type: 'string' },
    },
  });
  const report = await runHdfsBench(values);
  if (!values.json) console.log(JSON.stringify(report, null, 2));
}
