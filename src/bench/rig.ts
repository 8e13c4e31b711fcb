// What a fault run drives on the local cluster (resilience, soak): the resuming producer, the stream
// workers (each with a delivery log), the sampler, and the per-fault measures — recovery and reconciliation.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterUp, startNode } from '../cluster/cluster.ts';
import {
  ALL_NODES,
  type ClusterConfig,
  HDFS_NODES,
  type KafkaNode,
  kafkaBootstrap,
  kafkaNodes,
  loadConfig,
  type NodeName,
  nodePort,
} from '../cluster/config.ts';
import { KAFKA_NODE_IDS } from '../cluster/kafka.ts';
import { alivePid } from '../cluster/processes.ts';
import { TOPICS } from '../domain/topics.ts';
import { LakestreamError } from '../errors.ts';
import { STORE_FAULTS_ENV } from '../storage/index.ts';
import { countDeliveries } from '../stream/delivery-log.ts';
import {
  createProbeTopic,
  type Durability,
  measureWhileDown,
  readDurability,
  type WhileDown,
} from './durability.ts';
import { reconcile } from './identities.ts';
import { runningNodes } from './leftovers.ts';
import { type Child, portOffsetFromEnv, ROOT, startWorker } from './processes.ts';
import { ProducerLoop } from './producer-loop.ts';
import { log, sleep, waitFor } from './progress.ts';
import { resultDir } from './report.ts';
import type { BenchResult } from './result.ts';
import { benchGroup, stamp } from './run.ts';
import { percentile, Sampler } from './sampler.ts';

interface WorkersOptions {
  group: string;
  transportUrl: string;
  lakeUrl: string;
  dir: string;
  /** the workers' environment: the storage faults' flag files */
  env: Record<string, string>;
  /** where a worker that exits on its own leaves the end of its error output (the run's report folder) */
  crashDir: string;
  /** starts a worker (default: a `lakestream stream` child); tests start stand-ins */
  spawn?: (e: WorkersOptions & { deliveryLog: string }) => Child;
}

/** A stream worker that exited without the rig stopping it. */
export interface WorkerCrash {
  /** which worker (0: the first one started in the run) */
  worker: number;
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines of its stderr */
  stderr_tail: string;
  /** the file they were written to */
  file: string;
}

/** Lines of a crashed worker's stderr kept in its crash file and report. */
export const CRASH_TAIL_LINES = 40;

/** The last `n` lines of a process's stderr; progress lines overwritten with \r count as one each. */
export function tailLines(text: string, n: number): string {
  const lines = text.replaceAll('\r', '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/** The storage faults of a run: the worker's lake store is full (ENOSPC) or slow while its flag file exists. */
export type StorageFault = 'full' | 'slow';

/** The stream workers of a run: the first is "the worker"; a fault may add a second member for a while. */
export class Workers {
  readonly list: Child[] = [];
  /** every worker's delivery log, including those of workers gone */
  readonly logs: string[] = [];
  /** workers that exited on their own (an error, a crash): nobody consumes their partitions until noticed */
  readonly crashes: WorkerCrash[] = [];
  /** settles once every crash noticed so far has its file written */
  private written: Promise<void> = Promise.resolve();
  private readonly stopping = new Set<Child>();
  private readonly e: WorkersOptions;

  constructor(e: WorkersOptions) {
    this.e = e;
  }

  start(): Child {
    const n = this.logs.length;
    const deliveryLog = join(this.e.dir, `deliveries-${n}.log`);
    this.logs.push(deliveryLog);
    const w = (this.e.spawn ?? startWorker)({ ...this.e, deliveryLog });
    this.list.push(w);
    w.exited.then((exit) => {
      if (this.stopping.has(w)) return;
      this.written = this.written.then(() => this.recordCrash(n, w, exit));
    });
    return w;
  }

  /** Writes a crashed worker's exit and the end of its stderr to worker-crash-N.log, and notes it. */
  private async recordCrash(
    n: number,
    w: Child,
    exit: { code: number | null; signal: NodeJS.Signals | null },
  ): Promise<void> {
    const at = new Date().toISOString();
    const tail = tailLines(w.stderr(), CRASH_TAIL_LINES);
    const file = join(this.e.crashDir, `worker-crash-${this.crashes.length + 1}.log`);
    const head = `stream worker ${n} (pid ${w.proc.pid}) exited on its own at ${at}: code ${exit.code}, signal ${exit.signal}\nlast ${CRASH_TAIL_LINES} lines of its stderr:\n`;
    try {
      await mkdir(this.e.crashDir, { recursive: true });
      await writeFile(file, `${head}${tail}\n`);
    } catch (e) {
      log(`  could not write ${file}: ${e instanceof Error ? e.message : e}`);
    }
    this.crashes.push({ worker: n, at, code: exit.code, signal: exit.signal, stderr_tail: tail, file });
    log(`  stream worker ${n} exited on its own (code ${exit.code}, signal ${exit.signal}): ${file}`);
  }

  /** The crashes so far, once their files are written. */
  async crashed(): Promise<WorkerCrash[]> {
    await this.written;
    return this.crashes;
  }

  /** Throws when a worker has exited on its own: windows after that would count unconsumed readings as missing. */
  async assertAlive(): Promise<void> {
    const [c] = await this.crashed();
    if (c)
      throw new Error(
        `stream worker ${c.worker} exited on its own at ${c.at} (code ${c.code}, signal ${c.signal}); its last lines are in ${c.file}: ${c.stderr_tail.split('\n').at(-1)}`,
      );
  }

  get main(): Child {
    return this.list[0];
  }

  /** Sends `signal` to a worker and forgets it once it has exited. */
  async stop(w: Child, signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    this.stopping.add(w);
    w.proc.kill(signal);
    if (!(await Promise.race([w.exited.then(() => true), sleep(graceMs).then(() => false)]))) {
      w.proc.kill('SIGKILL');
      await w.exited;
    }
    this.list.splice(this.list.indexOf(w), 1);
  }
}

export interface RigOptions {
  clusterDir: string;
  rate: number;
  meters: number;
  /** a label for the run's namespace, lake and consumer group */
  scenario: string;
  started: Date;
  /** 2 or 3 brokers (resilience --brokers); unset: the cluster as it is, or as `up` makes it */
  brokers?: number;
}

/**
 * Refuses a broker count other than the running cluster's: `up` cannot change it under running nodes,
 * and a run must not silently measure the other setting.
 */
export function checkBrokerCount(dir: string, brokers: number): void {
  const saved = loadConfig(dir);
  const live = runningNodes(dir);
  if (!saved || live.length === 0) return;
  const has = saved.kafka.brokerPorts.length;
  if (has !== brokers)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `the cluster in ${saved.dir} runs with ${has} brokers (${live.join(', ')}), not ${brokers}; run "lakestream cluster down --dir ${saved.dir}" first, or give --brokers ${has}`,
    );
}

/**
 * The nodes of the cluster in `dir` that are not running: its Kafka nodes (broker-3 only in a
 * 3-broker cluster) and HDFS — what a run brought up and must leave running. Spark is not the rig's.
 */
export function nodesToRestore(dir: string): NodeName[] {
  const c = loadConfig(dir);
  if (!c) return [];
  return [...kafkaNodes(c), ...HDFS_NODES].filter((n) => alivePid(dir, n) === undefined);
}

export interface Reconciliation {
  acknowledged: number;
  stored: number;
  missing: number;
  missing_ids: string[];
  duplicated: number;
  redelivered: number;
  /** messages the producer sent more than once (the unacknowledged tail of a killed run, client retries) */
  producer_resent: number;
}

export class Rig {
  readonly o: RigOptions;
  readonly clusterDir: string;
  transportUrl = '';
  lakeUrl = '';
  dir = '';
  workers!: Workers;
  producer!: ProducerLoop;
  sampler!: Sampler;
  /** lag at or below this is normal: twice the warm-up's p95, and at least 5 s of input */
  normalLag = 0;
  /** SIGSTOPped pids, continued in close() whatever happens */
  readonly paused = new Set<number>();
  private checked = { segments: 0, duplicated: 0, redelivered: 0, resent: 0 };
  /** the cluster as `up` returned it */
  config!: ClusterConfig;
  /** the run's topic prefix (`bench-<id>.`) */
  private ns = '';
  /** set by readDurability: the readings topic's durability, and the probe topic's partitions */
  durability: Durability | undefined;
  private probePartitions = 0;

  constructor(o: RigOptions) {
    this.o = o;
    this.clusterDir = o.clusterDir;
  }

  /** The flag file that turns a storage fault on while it exists (in the run's folder). */
  storageFlag(fault: StorageFault): string {
    return join(this.dir, `storage-${fault}`);
  }

  async open(): Promise<void> {
    if (this.o.brokers !== undefined) checkBrokerCount(this.clusterDir, this.o.brokers);
    const up = await clusterUp({
      dir: this.clusterDir,
      brokers: this.o.brokers,
      portOffset: portOffsetFromEnv(),
      log: (l) => log(`[cluster] ${l}`),
    });
    this.config = up.config;
    const id = `${this.o.scenario}-${stamp(this.o.started).toLowerCase()}`;
    this.ns = `bench-${id}.`;
    this.transportUrl = `kafka://${up.kafkaBootstrap}#ns=${this.ns}`;
    this.lakeUrl = `${up.webhdfsUrl.replace(/^http:/, 'webhdfs:')}/lakestream-bench/${id}?user=${up.config.hdfs.user}`;
    log(`  transport ${this.transportUrl}\n  lake ${this.lakeUrl}`);
    this.dir = await mkdtemp(join(tmpdir(), `lakestream-${this.o.scenario}-`));
    const group = benchGroup(id);
    this.workers = new Workers({
      group,
      transportUrl: this.transportUrl,
      lakeUrl: this.lakeUrl,
      dir: this.dir,
      env: {
        [STORE_FAULTS_ENV]: `full-while=${this.storageFlag('full')},slow-while=${this.storageFlag('slow')}`,
      },
      crashDir: resultDir(this.o.started, this.o.scenario),
    });
    this.workers.start();
    this.producer = new ProducerLoop({
      meters: this.o.meters,
      rate: this.o.rate,
      transportUrl: this.transportUrl,
      positionDir: this.dir,
    });
    const dir = up.config.dir;
    this.sampler = new Sampler(this.transportUrl, this.lakeUrl, group, () => ({
      producer: this.producer.current?.proc.pid,
      worker: this.workers.main?.proc.pid,
      'worker-2': this.workers.list[1]?.proc.pid,
      ...Object.fromEntries(ALL_NODES.map((n) => [n, alivePid(dir, n)])),
    }));
    this.sampler.start();
    this.producer.start();
  }

  /** Runs the warm-up and sets the normal lag from it. */
  async warmUp(seconds: number): Promise<void> {
    this.sampler.mark('step', `warm-up ${seconds} s`);
    await sleep(seconds * 1000);
    if (this.workers.main.proc.exitCode !== null)
      throw new Error(`the stream worker exited early:\n${this.workers.main.stderr().slice(-2000)}`);
    const warm = this.sampler.series.slice(-Math.max(5, seconds - 5)).map((s) => s.lag);
    this.normalLag = Math.max(2 * percentile(warm, 95), 5 * this.o.rate);
    log(`  normal lag ≤ ${this.normalLag} readings`);
  }

  /**
   * Reads back the readings topic's replication factor and min ISR (it exists once the warm-up ran), and
   * creates the probe topic of measureWhileDown with the same.
   */
  async readDurability(): Promise<Durability> {
    const bootstrap = kafkaBootstrap(this.config);
    const { partitions, ...d } = await readDurability(bootstrap, this.ns + TOPICS.readings);
    await createProbeTopic(bootstrap, `${this.ns}durability-probe`, { partitions, ...d });
    this.probePartitions = partitions;
    this.durability = d;
    log(
      `  durability: ${d.brokers} brokers, readings topic replication factor ${d.replication_factor}, min.insync.replicas ${d.min_insync_replicas}, producer acks=${d.producer_acks}`,
    );
    return d;
  }

  /** With these brokers down (killed or paused): in-sync replicas and an acks=all probe (durability.ts). */
  async whileDown(down: KafkaNode[]): Promise<WhileDown> {
    const c = this.config;
    const addr = (n: KafkaNode) => `${c.host}:${nodePort(c, n)}`;
    const brokers = kafkaNodes(c).filter((n) => n !== 'controller');
    const w = await measureWhileDown({
      survivors: brokers
        .filter((n) => !down.includes(n))
        .map(addr)
        .join(','),
      allBrokers: brokers.map(addr).join(','),
      downIds: down.map((n) => KAFKA_NODE_IDS[n]),
      readingsTopic: this.ns + TOPICS.readings,
      probeTopic: `${this.ns}durability-probe`,
      partitions: this.probePartitions,
    });
    log(
      `  while ${down.join(' + ')} down: ${w.in_sync_while_down ?? '—'} in sync (noticed after ${w.noticed_s ?? '—'} s), acks=all writes ${w.accepts_writes_while_down ? 'accepted' : `refused (${w.refused_with})`}`,
    );
    return w;
  }

  /**
   * Seconds from `upAt` (the node back) until input flows, commits advance and the lag is normal, for
   * 3 samples in a row — counted to the first of them; null when that does not happen within timeoutS.
   */
  async recovery(upAt: number, timeoutS: number): Promise<number | null> {
    const atUp = this.sampler.series.findLast((s) => s.t <= upAt) ?? { produced: 0, committed: 0 };
    let okSince: number | undefined;
    let okRun = 0;
    let seen = 0;
    const recovered = await waitFor(
      () => {
        // a worker that died does not recover: no point waiting for it
        if (this.workers.crashes.length > 0) return true;
        for (const s of this.sampler.series.slice(seen)) {
          seen++;
          if (s.t <= upAt) continue;
          const flowing = s.produced > atUp.produced && s.committed > atUp.committed;
          if (s.lag <= this.normalLag && flowing) {
            if (okRun++ === 0) okSince = s.t;
          } else okRun = 0;
          if (okRun >= 3) return true;
        }
        return false;
      },
      timeoutS * 1000,
      1000,
    );
    return recovered && okSince !== undefined && okRun >= 3 ? Number((okSince - upAt).toFixed(1)) : null;
  }

  /**
   * Stops the producer after its segment in flight, lets the workers catch up, and checks the segments
   * completed since the last check by identity; duplicates, redeliveries and re-sends since then too.
   */
  async reconcile(timeoutS: number): Promise<Reconciliation> {
    await this.producer.finish();
    const caughtUp = await waitFor(
      () => {
        const s = this.sampler.latest();
        return !!s && s.lag === 0 && s.produced > 0 && this.sampler.now() - s.t < 2;
      },
      timeoutS * 1000,
      1000,
    );
    if (!caughtUp) log(`  the workers did not catch up within ${timeoutS} s; checking what the lake holds`);
    await sleep(1500);
    const to = this.producer.segments;
    const r = await reconcile(this.lakeUrl, this.checked.segments, to, this.o.meters);
    const d = await countDeliveries(this.workers.logs);
    const inTopic = (await this.sampler.offsets()).produced;
    const duplicated = r.duplicated_bronze + r.duplicated_silver;
    const resent = inTopic - this.producer.acknowledged;
    const out: Reconciliation = {
      acknowledged: r.acknowledged,
      stored: r.stored,
      missing: r.missing,
      missing_ids: r.missing_ids,
      duplicated: duplicated - this.checked.duplicated,
      redelivered: d.redelivered - this.checked.redelivered,
      producer_resent: resent - this.checked.resent,
    };
    this.checked = { segments: to, duplicated, redelivered: d.redelivered, resent };
    return out;
  }

  /** The fields every result of a rig run opens with. */
  resultHead(
    short: boolean,
  ): Pick<BenchResult, 'scenario' | 'started_at' | 'short' | 'transport' | 'lake' | 'seconds'> {
    return {
      scenario: this.o.scenario,
      started_at: this.o.started.toISOString(),
      short,
      transport: this.transportUrl,
      lake: this.lakeUrl,
      seconds: Number(this.sampler.now().toFixed(1)),
    };
  }

  /** Stops what the run started and leaves the cluster as found: paused nodes continued, killed ones running. */
  async close(): Promise<void> {
    for (const pid of this.paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {}
    }
    this.producer?.resumeNow();
    await this.producer?.finish().catch(() => {});
    this.producer?.current?.proc.kill('SIGKILL');
    for (const w of [...(this.workers?.list ?? [])]) await this.workers.stop(w, 'SIGTERM', 20_000);
    await this.sampler?.stop();
    for (const n of nodesToRestore(this.clusterDir)) await startNode(this.clusterDir, n).catch(() => {});
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export function defaultClusterDir(dir?: string): string {
  return dir ?? process.env.LAKESTREAM_CLUSTER_DIR ?? `${ROOT}/.lakestream/cluster`;
}
