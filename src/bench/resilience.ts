// Resilience scenario: at 1,000 readings/s on the local cluster (Kafka + HDFS), SIGKILL in turn a broker,
// the stream worker, a DataNode and the producer, restart each, then fill and slow the lake's storage, and measure the time until the lag is back
// to normal; after each fault, reconcile what the producer had acknowledged against the lake.

import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterUp, killNode, startNode } from '../cluster/cluster.ts';
import type { NodeName } from '../cluster/config.ts';
import { alivePid } from '../cluster/processes.ts';
import { countLake } from './lake-count.ts';
import { type Child, producedCount, ROOT, startLakestream, startWorker } from './processes.ts';
import { log, sleep, waitFor } from './progress.ts';
import { saveResult } from './report.ts';
import { type BenchResult, resultHead } from './result.ts';
import { benchGroup, cleanupRun, stamp } from './run.ts';
import { percentile, Sampler } from './sampler.ts';

export interface ResilienceOptions {
  short?: boolean;
  json?: boolean;
  /** cluster directory (default: LAKESTREAM_CLUSTER_DIR or ./.lakestream/cluster) */
  clusterDir?: string;
  rate?: number;
  /** keep the run's topics and lake on the cluster */
  keep?: boolean;
}

type Fault = 'broker' | 'worker' | 'datanode' | 'producer' | 'storage-full' | 'slow-storage';
const FAULTS: Fault[] = ['broker', 'worker', 'datanode', 'producer', 'storage-full', 'slow-storage'];
/** Storage faults: the worker's store fails writes with ENOSPC, or takes 200 ms a call, while a flag file exists. */
const STORAGE_FAULT = { 'storage-full': 'full-while', 'slow-storage': 'slow-while' } as const;
const NODE: Partial<Record<Fault, NodeName>> = { broker: 'broker-1', datanode: 'datanode-1' };

export interface FaultResult {
  fault: Fault;
  killed: string;
  recovered: boolean;
  recovery_s: number | null;
  acknowledged: number;
  stored: number;
  lost: number;
  duplicated: number;
  silver_overcount: number;
}

function day(start: string, i: number): string {
  const d = new Date(`${start}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + i);
  return d.toISOString().slice(0, 10);
}

/**
 * The producer, as a loop of one-simulated-day segments (disjoint in time, so their readings never
 * overlap). A segment whose producer is killed or fails is produced again from its start: readings it had
 * already sent come again and the lake drops them as duplicates of (meter_id, ts) — never counted twice.
 * Acknowledged = the sum of the `done: N messages` lines of the segments that completed.
 */
class ProducerLoop {
  acknowledged = 0;
  segments = 0;
  resends = 0;
  stalls = 0;
  current: Child | undefined;
  private stopping = false;
  private paused: Promise<void> | undefined;
  private resume: (() => void) | undefined;
  private done: Promise<void> | undefined;

  private readonly transportUrl: string;
  private readonly meters: number;
  private readonly rate: number;

  constructor(transportUrl: string, meters: number, rate: number) {
    this.transportUrl = transportUrl;
    this.meters = meters;
    this.rate = rate;
  }

  start(): void {
    this.done = this.loop();
  }

  /** Holds the next (re)start until resumeNow(): the producer stays dead while it is down. */
  hold(): void {
    this.paused = new Promise((r) => {
      this.resume = r;
    });
  }

  resumeNow(): void {
    this.resume?.();
    this.paused = undefined;
  }

  /** Finishes the segment in flight and stops. */
  async finish(): Promise<void> {
    this.stopping = true;
    await this.done;
    this.stopping = false;
  }

  private async loop(): Promise<void> {
    // a segment that failed is always produced again, even when stopping: acknowledged counts whole segments
    for (;;) {
      if (this.paused) await this.paused;
      const child = startLakestream([
        'produce',
        '--source',
        'simulate',
        '--meters',
        String(this.meters),
        '--start',
        day('2013-01-07', this.segments),
        '--days',
        '1',
        '--interval',
        '30',
        '--rate',
        String(this.rate),
        '--quiet',
        '--transport',
        this.transportUrl,
      ]);
      this.current = child;
      // a producer whose segment takes far longer than its pace allows is stuck (seen once on the shared
      // cluster after a broker restart): end it and produce the segment again, and count it in the report
      const paceS = (this.meters * 48) / this.rate;
      const watchdog = setTimeout(
        () => {
          this.stalls++;
          log(
            `  producer segment ${this.segments} stalled (over ${Math.round(2 * paceS + 45)} s): killed, produced again; it had printed:\n${child.stderr().slice(-600) || '(nothing)'}`,
          );
          child.proc.kill('SIGKILL');
        },
        (2 * paceS + 45) * 1000,
      );
      const { code, signal } = await child.exited;
      clearTimeout(watchdog);
      this.current = undefined;
      const n = producedCount(child.stderr());
      if (code === 0 && n !== undefined) {
        this.acknowledged += n;
        this.segments++;
        if (this.stopping) return;
      } else {
        this.resends++;
        log(
          `  producer segment ${this.segments} ended by ${signal ?? `exit ${code}`}: produced again from its start`,
        );
        if (!signal) log(child.stderr().slice(-600));
        await sleep(500);
      }
    }
  }
}

export async function runResilienceBench(opts: ResilienceOptions = {}): Promise<BenchResult> {
  const short = opts.short ?? false;
  const rate = opts.rate ?? 1000;
  // a segment is one simulated day of `meters` half-hourly readings: short 12 s, full 48 s at 1,000/s
  const meters = short ? 250 : 1000;
  const warmupS = short ? 15 : 60;
  const downS = short ? 5 : 30;
  const recoverTimeoutS = short ? 150 : 300;
  const started = new Date();
  const clusterDir = opts.clusterDir ?? process.env.LAKESTREAM_CLUSTER_DIR ?? `${ROOT}/.lakestream/cluster`;
  log(`resilience bench: ${rate} readings/s, faults ${FAULTS.join(', ')}; cluster in ${clusterDir}`);
  const up = await clusterUp({ dir: clusterDir, log: (l) => log(`[cluster] ${l}`) });
  const id = stamp(started).toLowerCase();
  const transportUrl = `kafka://${up.kafkaBootstrap}#ns=bench-${id}.`;
  const lakeUrl = `${up.webhdfsUrl.replace(/^http:/, 'webhdfs:')}/lakestream-bench/${id}?user=${up.config.hdfs.user}`;
  log(`  transport ${transportUrl}\n  lake ${lakeUrl}`);
  const group = benchGroup(id);
  const flags = {
    'storage-full': join(tmpdir(), `${id}-storage-full`),
    'slow-storage': join(tmpdir(), `${id}-slow`),
  };
  const env = {
    LAKESTREAM_STORE_FAULTS: Object.entries(STORAGE_FAULT)
      .map(([f, key]) => `${key}=${flags[f as keyof typeof flags]}`)
      .join(','),
  };

  let worker = startWorker({ group, transportUrl, lakeUrl, env });
  const producer = new ProducerLoop(transportUrl, meters, rate);
  const pids = () => ({
    producer: producer.current?.proc.pid,
    worker: worker.proc.pid,
    'broker-1': alivePid(up.config.dir, 'broker-1'),
    'broker-2': alivePid(up.config.dir, 'broker-2'),
    'datanode-1': alivePid(up.config.dir, 'datanode-1'),
    namenode: alivePid(up.config.dir, 'namenode'),
  });
  const sampler = new Sampler(transportUrl, lakeUrl, group, pids);
  sampler.start();
  producer.start();
  const results: FaultResult[] = [];
  let before = { ack: 0, stored: 0, lost: 0, dup: 0 };
  try {
    sampler.mark('step', `warm-up ${warmupS} s`);
    await sleep(warmupS * 1000);
    if (worker.proc.exitCode !== null)
      throw new Error(`the stream worker exited early:\n${worker.stderr().slice(-2000)}`);
    const warm = sampler.series.slice(-Math.max(5, warmupS - 5)).map((s) => s.lag);
    // "normal" lag: twice the warm-up's p95, and at least 5 s of input (a batch or two in flight)
    const normalLag = Math.max(2 * percentile(warm, 95), 5 * rate);
    log(`  normal lag ≤ ${normalLag} readings`);

    for (const fault of FAULTS) {
      if (fault !== FAULTS[0]) producer.start();
      const killedAt = sampler.now();
      let killed: string = fault;
      if (fault === 'broker' || fault === 'datanode') {
        const node = NODE[fault] as NodeName;
        killed = node;
        sampler.mark('kill', node);
        await killNode(up.config.dir, node);
        await sleep(downS * 1000);
        sampler.mark('restart', node);
        await startNode(up.config.dir, node, { log: (l) => log(`[cluster] ${l}`) });
      } else if (fault === 'worker') {
        killed = 'stream worker';
        sampler.mark('kill', killed);
        worker.proc.kill('SIGKILL');
        await worker.exited;
        await sleep(downS * 1000);
        sampler.mark('restart', killed);
        worker = startWorker({ group, transportUrl, lakeUrl, env });
      } else if (fault === 'storage-full' || fault === 'slow-storage') {
        killed =
          fault === 'storage-full' ? 'lake storage (full: ENOSPC)' : 'lake storage (slow: 200 ms a call)';
        sampler.mark('kill', killed);
        await writeFile(flags[fault], '');
        await sleep(downS * 1000);
        sampler.mark('restart', killed);
        await rm(flags[fault], { force: true });
      } else {
        killed = 'producer';
        await waitFor(() => producer.current !== undefined, 30_000, 100);
        await sleep(2000); // mid-segment
        producer.hold();
        sampler.mark('kill', killed);
        producer.current?.proc.kill('SIGKILL');
        await sleep(downS * 1000);
        sampler.mark('restart', killed);
        producer.resumeNow();
      }
      // recovered: input flowing and commits advancing again since the restart, and the lag back to
      // normal, for 3 samples in a row
      const restartAt = sampler.now();
      const atRestart = sampler.latest() ?? { produced: 0, committed: 0 };
      let okRun = 0;
      const recovered = await waitFor(
        () => {
          const s = sampler.latest();
          if (!s || s.t <= restartAt) return false;
          const flowing = s.produced > atRestart.produced && s.committed > atRestart.committed;
          okRun = s.lag <= normalLag && flowing ? okRun + 1 : 0;
          return okRun >= 3;
        },
        recoverTimeoutS * 1000,
        1000,
      );
      const recovery_s = recovered ? Number((sampler.now() - 2 - killedAt).toFixed(1)) : null;
      sampler.mark(
        recovered ? 'recovered' : 'note',
        recovered ? `${killed} (${recovery_s} s)` : `${killed}: not recovered`,
      );
      // reconcile: finish the segment in flight, let the worker catch up, count the lake
      await producer.finish();
      const caughtUp = await waitFor(
        async () => {
          const s = sampler.latest();
          return !!s && s.lag === 0 && s.produced > 0 && sampler.now() - s.t < 2;
        },
        recoverTimeoutS * 1000,
        1000,
      );
      if (!caughtUp)
        log(`  the worker did not catch up within ${recoverTimeoutS} s; counting what the lake holds`);
      await sleep(1500);
      const c = await countLake(lakeUrl);
      const ack = producer.acknowledged;
      const lostAll = ack - c.bronze_distinct;
      const dupAll = c.bronze_rows - c.bronze_distinct;
      const r: FaultResult = {
        fault,
        killed,
        recovered,
        recovery_s,
        acknowledged: ack - before.ack,
        stored: c.bronze_distinct - before.stored,
        lost: lostAll - before.lost,
        duplicated: dupAll - before.dup,
        silver_overcount: Math.max(0, c.silver_readings - c.bronze_distinct),
      };
      results.push(r);
      before = { ack, stored: c.bronze_distinct, lost: lostAll, dup: dupAll };
      log(
        `  ${fault}: recovery ${recovery_s ?? '—'} s, acknowledged ${r.acknowledged}, stored ${r.stored}, lost ${r.lost}, duplicated ${r.duplicated}`,
      );
    }
  } finally {
    await producer.finish().catch(() => {});
    producer.current?.proc.kill('SIGKILL');
    worker.proc.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(20_000)]);
    worker.proc.kill('SIGKILL');
    await sampler.stop();
    for (const f of Object.values(flags)) await rm(f, { force: true });
    // leave the cluster as found: every node this run killed is running again
    for (const n of Object.values(NODE))
      if (alivePid(up.config.dir, n) === undefined) await startNode(up.config.dir, n).catch(() => {});
  }
  const ok =
    results.length === FAULTS.length &&
    results.every((r) => r.lost === 0 && r.duplicated === 0 && r.recovered);
  const totalLost = results.reduce((a, r) => a + r.lost, 0);
  const totalDup = results.reduce((a, r) => a + r.duplicated, 0);
  const result: BenchResult = {
    ...resultHead('resilience', started, short, { transportUrl, lakeUrl }, sampler.now()),
    summary: {
      rate_per_s: rate,
      simulated_meters: meters,
      acknowledged: producer.acknowledged,
      stored_distinct: before.stored,
      lost: totalLost,
      duplicated: totalDup,
      producer_resends: producer.resends,
      producer_stalls: producer.stalls,
      max_recovery_s: Math.max(0, ...results.map((r) => r.recovery_s ?? Number.POSITIVE_INFINITY)),
    },
    table: results.map((r) => ({ ...r })),
    verdict: ok
      ? `every fault recovered on its own; lost 0, duplicated 0 of ${producer.acknowledged.toLocaleString('en-US')} acknowledged readings`
      : `lost ${totalLost}, duplicated ${totalDup}; not recovered: ${
          results
            .filter((r) => !r.recovered)
            .map((r) => r.fault)
            .join(', ') || 'none'
        }`,
    ok,
    series: sampler.series,
    events: sampler.events,
  };
  result.dir = await saveResult(result);
  await cleanupRun(transportUrl, lakeUrl, opts.keep);
  const out = { ...result, faults: results };
  if (opts.json) console.log(JSON.stringify(out));
  return out;
}
