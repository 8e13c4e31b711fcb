// Resilience scenario: at 1,000 readings/s on the local cluster (Kafka + HDFS), inject in turn every fault
// of faults.ts (brokers, the controller, the NameNode and a DataNode killed; a broker and a worker paused;
// the worker and the producer killed), and after each measure the recovery from the node's return and
// reconcile by identity what the producer had acknowledged against the lake.

import { LakestreamError } from '../errors.ts';
import type { WhileDown } from './durability.ts';
import { FAULTS, type Fault, type FaultContext } from './faults.ts';
import { log } from './progress.ts';
import { saveResult } from './report.ts';
import type { BenchResult } from './result.ts';
import { checkBrokerCount, defaultClusterDir, type Reconciliation, Rig } from './rig.ts';
import { cleanupRun } from './run.ts';

export interface ResilienceOptions {
  short?: boolean;
  json?: boolean;
  /** cluster directory (default: LAKESTREAM_CLUSTER_DIR or ./.lakestream/cluster) */
  clusterDir?: string;
  rate?: number;
  /** keep the run's topics and lake on the cluster */
  keep?: boolean;
  /** only these faults, by name (default all) */
  faults?: string[];
  /** 2 (default: replication factor 2, min.insync.replicas 1) or 3 (3 and 2); a running cluster must have as many */
  brokers?: number;
}

/** The broker counts `--brokers` takes. */
export const BROKER_COUNTS = [2, 3] as const;

export function checkBrokersOption(brokers: number): void {
  if (!(BROKER_COUNTS as readonly number[]).includes(brokers))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--brokers is 2 (replication factor 2, min.insync.replicas 1) or 3 (3 and 2), not ${brokers}`,
    );
}

export interface FaultRecovery {
  fault: string;
  target: string;
  recovered: boolean;
  /** seconds from the kill (or SIGSTOP) until the node was back: restarted and healthy, or continued */
  down_s: number;
  /** seconds from the node's return until the lag was normal again, input flowing and commits advancing */
  recovery_s: number | null;
}

/** A broker fault's row also says what the cluster guaranteed while its brokers were down (durability.ts). */
export type FaultRow = FaultRecovery & Partial<WhileDown>;

export type FaultResult = FaultRow & Reconciliation;

/** Injects one fault, measures its recovery, and undoes what it added. */
export async function injectFault(
  rig: Rig,
  fault: Fault,
  t: { downS: number; pauseS: number; recoverTimeoutS: number },
): Promise<FaultRow> {
  let downAt = rig.sampler.now();
  let upAt = downAt;
  let measured: WhileDown | undefined;
  let downWall = Date.now();
  const ctx: FaultContext = {
    rig,
    downS: t.downS,
    pauseS: t.pauseS,
    down: (what) => {
      downAt = rig.sampler.now();
      downWall = Date.now();
      rig.producer.faultBegins();
      rig.sampler.mark('kill', `${fault.name}: ${what}`);
    },
    up: (what) => {
      upAt = rig.sampler.now();
      rig.producer.faultOver();
      rig.sampler.mark('restart', `${fault.name}: ${what}`);
    },
    // only a run that read its durability measures it (resilience, not the soak)
    whileDown: rig.durability
      ? async (brokers) => {
          measured = await rig.whileDown(brokers);
          // refused since the kill: the producer's watchdog does not take that wait for a stall
          if (measured.accepts_writes_while_down === false) rig.producer.writesRefused(downWall);
        }
      : undefined,
  };
  await fault.inject(ctx);
  const recovery_s = await rig.recovery(upAt, t.recoverTimeoutS);
  rig.sampler.mark(
    recovery_s !== null ? 'recovered' : 'note',
    recovery_s !== null ? `${fault.name} (${recovery_s} s)` : `${fault.name}: not recovered`,
  );
  await fault.settle?.(ctx);
  const row = {
    fault: fault.name,
    target: fault.target,
    recovered: recovery_s !== null,
    down_s: Number((upAt - downAt).toFixed(1)),
    recovery_s,
    ...measured,
  };
  log(`  ${fault.name}: down ${row.down_s} s, recovery ${recovery_s ?? '—'} s`);
  return row;
}

/** A fault, then the reconciliation of everything the producer acknowledged since the last one. */
async function runFault(
  rig: Rig,
  fault: Fault,
  t: { downS: number; pauseS: number; recoverTimeoutS: number },
): Promise<FaultResult> {
  const rec = await injectFault(rig, fault, t);
  const r = await rig.reconcile(t.recoverTimeoutS);
  log(
    `  ${fault.name}: acknowledged ${r.acknowledged}, stored ${r.stored}, missing ${r.missing}, duplicated ${r.duplicated}, redelivered ${r.redelivered}, producer re-sent ${r.producer_resent}`,
  );
  return { ...rec, ...r };
}

export async function runResilienceBench(opts: ResilienceOptions = {}): Promise<BenchResult> {
  const short = opts.short ?? false;
  const rate = opts.rate ?? 1000;
  const unknown = opts.faults?.filter((n) => !FAULTS.some((f) => f.name === n)) ?? [];
  if (unknown.length > 0)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--faults: no fault ${unknown.join(', ')}; give some of ${FAULTS.map((f) => f.name).join(', ')}`,
    );
  const faults = opts.faults ? FAULTS.filter((f) => opts.faults?.includes(f.name)) : FAULTS;
  const brokers = opts.brokers ?? 2;
  checkBrokersOption(brokers);
  const timing = {
    // long enough for the group (10 s) and a broker's (9 s) session to time out while paused
    pauseS: short ? 15 : 30,
    downS: short ? 5 : 30,
    recoverTimeoutS: short ? 150 : 300,
  };
  const started = new Date();
  const clusterDir = defaultClusterDir(opts.clusterDir);
  // before anything starts (Rig.open checks it too, but a failed open still writes a report)
  checkBrokerCount(clusterDir, brokers);
  log(
    `resilience bench: ${rate} readings/s, ${brokers} brokers, faults ${faults.map((f) => f.name).join(', ')}; cluster in ${clusterDir}`,
  );
  // a segment is one simulated day of `meters` half-hourly readings: short 12 s, full 48 s at 1,000/s
  const rig = new Rig({
    clusterDir,
    rate,
    meters: short ? 250 : 1000,
    scenario: 'resilience',
    started,
    brokers,
  });
  const results: FaultResult[] = [];
  let failure: string | undefined;
  try {
    await rig.open();
    await rig.warmUp(short ? 15 : 60);
    await rig.readDurability();
    for (const fault of faults) {
      if (results.length > 0) rig.producer.start();
      results.push(await runFault(rig, fault, timing));
      // a worker that died leaves its readings in Kafka: the faults after it would count them missing
      await rig.workers.assertAlive();
    }
  } catch (e) {
    // the report still says what the faults before this one showed
    failure = e instanceof Error ? e.message : String(e);
    log(`  the run stopped: ${failure}`);
  } finally {
    await rig.close();
  }
  const crashes = (await rig.workers?.crashed()) ?? [];
  const clean = (r: FaultResult) => r.missing === 0 && r.duplicated === 0 && r.recovered;
  const ok = results.length === faults.length && results.every(clean) && crashes.length === 0;
  const sum = (k: 'missing' | 'duplicated' | 'redelivered' | 'producer_resent') =>
    results.reduce((a, r) => a + r[k], 0);
  const acknowledged = rig.producer.acknowledged;
  const result: BenchResult = {
    ...rig.resultHead(short),
    summary: {
      // read back from the cluster for the run's readings topic (null when the run stopped before)
      brokers: rig.durability?.brokers ?? null,
      replication_factor: rig.durability?.replication_factor ?? null,
      min_insync_replicas: rig.durability?.min_insync_replicas ?? null,
      producer_acks: rig.durability?.producer_acks ?? null,
      rate_per_s: rate,
      simulated_meters: rig.o.meters,
      acknowledged,
      missing: sum('missing'),
      duplicated: sum('duplicated'),
      redelivered: sum('redelivered'),
      producer_resent: sum('producer_resent'),
      producer_restarts: rig.producer.restarts,
      producer_stalls: rig.producer.stalls,
      max_recovery_s: Math.max(0, ...results.map((r) => r.recovery_s ?? Number.POSITIVE_INFINITY)),
      worker_crashes: crashes.length,
    },
    table: results.map(({ missing_ids, ...r }) => ({ ...r, missing_ids: missing_ids.join(' ') })),
    verdict: ok
      ? `every fault recovered on its own; missing 0, duplicated 0 of ${acknowledged.toLocaleString('en-US')} acknowledged readings (${sum('redelivered').toLocaleString('en-US')} redelivered by the transport, absorbed)`
      : `missing ${sum('missing')}, duplicated ${sum('duplicated')}; not clean: ${
          results
            .filter((r) => !clean(r))
            .map((r) => r.fault)
            .join(', ') || 'none'
        }${results.length < faults.length ? `; stopped after ${results.length} of ${faults.length} faults${failure ? `: ${failure}` : ''}` : ''}${
          crashes.length > 0 && results.length === faults.length
            ? `; ${crashes.length} stream worker crash(es), the first in ${crashes[0].file}`
            : ''
        }`,
    ok,
    series: rig.sampler.series,
    events: rig.sampler.events,
  };
  result.dir = await saveResult(result);
  await cleanupRun(rig.transportUrl, rig.lakeUrl, opts.keep);
  const out = { ...result, faults: results };
  if (opts.json) console.log(JSON.stringify(out));
  return out;
}
