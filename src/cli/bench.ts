// `lakestream bench <scenario>`: runs a benchmark scenario and prints its report (JSON with --json).
// Scenarios are loaded lazily; each module exports a run function taking {short, json}.

import { resolve } from 'node:path';
import { DEFAULT_CLUSTER_DIR } from '../cluster/config.ts';
import { LakestreamError } from '../errors.ts';
import { defineCommand, numberOption } from './command.ts';
import { didYouMean } from './suggest.ts';

type Run = (opts: {
  short?: boolean;
  json?: boolean;
  keep?: boolean;
  args?: string[];
  engines?: 'cluster' | 'embedded';
  faults?: string[];
  /** resilience: 2 or 3 brokers */
  brokers?: number;
  minutes?: number;
  rate?: number;
  engine?: string;
  /** train, batch: --meters, the generated lakes' sizes (meters × 3 years), one lake per size */
  sizes?: number[];
  /** pipeline: simulated meters and days, and stream workers in the group */
  meters?: number;
  days?: number;
  workers?: number;
  generatedOnly?: boolean;
  /** train, batch: MB for DuckDB and Spark's executor together */
  memoryMb?: number;
}) => Promise<object>;

const SCENARIOS: Record<string, { summary: string; load: () => Promise<Run> }> = {
  lake: {
    summary:
      'Delta Lake: append throughput (1M rows in 100 commits), snapshot load at 1,000 commits with/without checkpoints',
    load: async () => (await import('../bench/lake.ts')).runLakeBench,
  },
  hdfs: {
    summary:
      'the lake on HDFS (WebHDFS) beside local disk: store operations, Delta commits/s, appends, snapshot load',
    load: async () => (await import('../bench/hdfs.ts')).runHdfsBench,
  },
  pipeline: {
    summary:
      'readings/s end to end (produce → silver and gold) with embedded engines, --meters N (default 10,000) simulated meters × --days D (default 7) at --rate max; worker RSS and time by phase',
    load: async () => (await import('../bench/pipeline.ts')).runPipelineBench,
  },
  trace: {
    summary:
      'cluster trace: replay + classify events/s (task and job events, parts 0-1), EM training time on 500k tasks',
    load: async () => (await import('../bench/trace.ts')).runTraceBench,
  },
  train: {
    summary:
      'the consumption model trained on DuckDB and on Spark side by side (the same SQL and IRLS), on the 500 London households and on --meters N × 3 years (default 100,000): times, where they go, the ratio',
    load: async () => (await import('../bench/train.ts')).runTrainBench,
  },
  baseline: {
    summary: 'normal load on the cluster: 1 reading/s for 5 minutes (--short: 1 minute), end-to-end latency',
    load: async () => (await import('../bench/baseline.ts')).runBaselineBench,
  },
  stress: {
    summary:
      'the cluster at 1,000 readings/s, then 5k, 20k, 50k … until the lag grows: throughput, latency, bottleneck',
    load: async () => (await import('../bench/stress.ts')).runStressBench,
  },
  resilience: {
    summary:
      'at 1,000/s: kill brokers, the controller, the NameNode, a DataNode, the worker, the producer; pause a broker and a worker; per fault recovery time, missing = duplicated = 0 by identity',
    load: async () => (await import('../bench/resilience.ts')).runResilienceBench,
  },
  soak: {
    summary:
      'an hour (--minutes N; --short: 3 min) at 1,000/s with a rotating fault every ten minutes (--short: every minute): memory, open files, lag, latency over time; missing = duplicated = 0, memory flat',
    load: async () => (await import('../bench/soak.ts')).runSoakBench,
  },
  kafka: {
    summary:
      "Kafka producer msgs/s (acks=all) beside Kafka's own ProducerPerformance on the local cluster, interleaved, at each codec (or those named: bench kafka lz4 snappy); goal ≥ 1.0 × its producer with batches as large as ours at the default codec; send-to-commit latency",
    load: async () => (await import('../bench/kafka.ts')).runKafkaBench,
  },
  compare: {
    summary: 'bench compare A B: two results (directories or result.json) side by side',
    load: async () => (await import('../bench/compare.ts')).runCompare,
  },
  engines: {
    summary:
      "the dashboard's API requests and five analytic queries on DuckDB and on Spark, over the 500 London households and 10,000 simulated meters × 1 year: both times, their ratio, Spark's cold start",
    load: async () => (await import('../bench/engines.ts')).runEnginesBench,
  },
  batch: {
    summary:
      'the batch view (lakestream batch) on DuckDB and on Spark: the 500 London households and a generated bronze of --meters N (default 100,000) × 3 years of daily readings; time per step, ratio',
    load: async () => (await import('../bench/batch.ts')).runBatchBench,
  },
  serve: {
    summary:
      'dashboard API latency of a 3-year daily series (fleet, one meter; goal p95 ≤ 100 ms) and first page load in chromium',
    load: async () => (await import('../bench/serve.ts')).runServeBench,
  },
};

/** Scenarios that run on the local cluster (unless --engines embedded). */
const CLUSTER_SCENARIOS = new Set(['kafka', 'hdfs', 'baseline', 'stress', 'resilience', 'soak']);

/** Stops the nodes this run started, or says they stay up with --keep. */
async function leaveCluster(dir: string, before: string[], keep: boolean): Promise<void> {
  const { runningNodes } = await import('../bench/leftovers.ts');
  const started = runningNodes(dir).filter((n) => !before.includes(n));
  if (started.length === 0) return;
  const stop = `npx lakestream cluster down${dir === resolve(DEFAULT_CLUSTER_DIR) ? '' : ` --dir ${dir}`}`;
  if (keep) {
    process.stderr.write(
      `the local cluster this benchmark started stays up (--keep): stop it with "${stop}"\n`,
    );
    return;
  }
  const { clusterDown } = await import('../cluster/cluster.ts');
  const r = await clusterDown({ dir });
  process.stderr.write(`stopped the local cluster this benchmark started (${r.stopped.join(', ')})\n`);
}

export default defineCommand({
  name: 'bench',
  summary: 'run a benchmark scenario and write its report',
  usage: 'bench <scenario> [--short] [--json]  |  bench compare A B',
  description: `
Scenarios:
${Object.entries(SCENARIOS)
  .map(([n, s]) => `  ${n.padEnd(12)}${s.summary}`)
  .join('\n')}

A scenario on the cluster (kafka, hdfs, baseline, stress, resilience, soak) starts the local cluster
(in LAKESTREAM_CLUSTER_DIR, default ./.lakestream/cluster) when it is down and stops it at the end,
and removes its topics and lake from the cluster (a cluster it starts takes the ports of
LAKESTREAM_PORT_OFFSET; one already up in that dir keeps its own); --keep keeps them all and says how to stop the
cluster. train and batch generate their lakes of --meters N × 3 years under bench/lakes/ (or
LAKESTREAM_BENCH_LAKES) and remove them at the end; with --keep they stay and a later run of the same
size reuses them. Progress goes to stderr; the report (JSON) to stdout. baseline, stress, resilience and soak also write
result.json, report.html and summary.md under bench/results/<time>-<scenario>/ (docs/evaluation.md).`,
  options: {
    short: { type: 'boolean', help: 'a smaller, quicker run' },
    json: { type: 'boolean', help: 'print only the JSON report' },
    keep: {
      type: 'boolean',
      help: "keep the run's topics and lake on the cluster, and the cluster it started",
    },
    engine: {
      type: 'string',
      value: 'ENGINE',
      help: 'train, batch: duckdb, spark or spark://HOST:PORT only, or a comma-separated list (default: duckdb,spark side by side)',
    },
    meters: {
      type: 'string',
      value: 'N',
      help: 'train, batch: meters of the generated lakes × 3 years, one lake per size (default 1000,10000,30000,100000; --short: train 200, batch 1000); pipeline: simulated meters (one number, default 10000)',
    },
    days: {
      type: 'string',
      value: 'D',
      help: 'pipeline: simulated days of half-hourly readings per meter (default 7; --short 1)',
    },
    workers: {
      type: 'string',
      value: 'N',
      help: "pipeline: stream workers in one group on the same log (default 1); the report gives each one's RSS, CPU and time by phase",
    },
    'generated-only': {
      type: 'boolean',
      help: 'train, batch: only the generated lakes, not the 500 London households',
    },
    memory: {
      type: 'string',
      value: 'MB',
      help: "train, batch: memory for the two engines together, split between them: half DuckDB's memory_limit (it spills past it to a directory under the bench's lakes), half Spark's executor when the bench starts the cluster (one already up keeps its executor's memory, and DuckDB gets the rest); with one engine, all of it. Default: half of the memory available when the bench starts. The report names each engine's memory, threads, spill directory and peak RSS",
    },
    engines: {
      type: 'string',
      value: 'cluster|embedded',
      help: 'baseline, stress: the local cluster (Kafka + HDFS, default) or the embedded log and a local lake',
    },
    faults: {
      type: 'string',
      value: 'NAME,…',
      help: 'resilience: only these faults (default all; names in its report)',
    },
    brokers: {
      type: 'string',
      value: '2|3',
      help: 'resilience: a cluster of 2 brokers (replication factor 2, min.insync.replicas 1; the default) or 3 (3 and 2); a running cluster must have as many',
    },
    minutes: {
      type: 'string',
      value: 'N',
      help: "soak: how long (default 60; --short 3); train, batch: the bound on each engine's run at one size (default 30); an engine that runs out of time or fails is recorded and not tried at larger sizes",
    },
    rate: { type: 'string', value: 'R', help: 'resilience, soak: readings per second (default 1000)' },
  },
  async run({ values, positionals }) {
    const name = positionals[0];
    const scenario = name === undefined ? undefined : SCENARIOS[name];
    if (!scenario)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `give a scenario${name ? `, not "${name}"` : ''} — ${name && didYouMean(name, Object.keys(SCENARIOS)) ? `${didYouMean(name, Object.keys(SCENARIOS))} ` : ''}one of ${Object.keys(SCENARIOS).join(', ')}`,
      );
    if (values.brokers !== undefined && name !== 'resilience')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--brokers is an option of bench resilience only, not of bench ${name} — leave it out`,
      );
    if (values.days !== undefined && name !== 'pipeline')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--days is an option of bench pipeline only, not of bench ${name} — leave it out`,
      );
    if (values.memory !== undefined && name !== 'train' && name !== 'batch')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--memory is an option of bench train and bench batch only, not of bench ${name} — leave it out`,
      );
    if (values.workers !== undefined && name !== 'pipeline')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--workers is an option of bench pipeline only, not of bench ${name} — leave it out`,
      );
    const sizes =
      values.meters === undefined
        ? undefined
        : String(values.meters)
            .split(',')
            .map((m) => numberOption('meters', m.trim(), 0, { min: 2, integer: true }));
    if (name === 'pipeline' && sizes !== undefined && sizes.length !== 1)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `bench pipeline runs one size: give --meters one number, not "${values.meters}"`,
      );
    const run = await scenario.load();
    const engines = values.engines as string | undefined;
    if (engines !== undefined && engines !== 'cluster' && engines !== 'embedded')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--engines is cluster or embedded, not "${engines}" — give one of them`,
      );
    const onCluster = CLUSTER_SCENARIOS.has(name!) && engines !== 'embedded';
    const { runningNodes } = await import('../bench/leftovers.ts');
    const clusterDir = resolve(process.env.LAKESTREAM_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR);
    const before = onCluster ? runningNodes(clusterDir) : [];
    let report: object;
    try {
      report = await run({
        short: values.short,
        json: values.json,
        keep: values.keep,
        args: positionals.slice(1),
        engines,
        faults: values.faults === undefined ? undefined : String(values.faults).split(','),
        // the scenario refuses a count other than 2 or 3 before it starts anything
        brokers:
          values.brokers === undefined
            ? undefined
            : numberOption('brokers', values.brokers, 2, { integer: true }),
        minutes:
          values.minutes === undefined
            ? undefined
            : numberOption('minutes', values.minutes, 60, { min: 0.1 }),
        rate:
          values.rate === undefined
            ? undefined
            : numberOption('rate', values.rate, 1000, { min: 1, integer: true }),
        engine: values.engine,
        generatedOnly: values['generated-only'],
        memoryMb:
          values.memory === undefined
            ? undefined
            : numberOption('memory', values.memory, 0, { min: 1024, integer: true }),
        sizes,
        meters: name === 'pipeline' ? sizes?.[0] : undefined,
        days:
          values.days === undefined
            ? undefined
            : numberOption('days', values.days, 7, { min: 1, integer: true }),
        workers:
          values.workers === undefined
            ? undefined
            : numberOption('workers', values.workers, 1, { min: 1, integer: true }),
      });
    } finally {
      if (onCluster) await leaveCluster(clusterDir, before, values.keep === true);
    }
    if (name === 'compare') return 0;
    if (!values.json) console.log(JSON.stringify(report, null, 2));
    // a failed evaluation (data lost, no recovery) fails the command, so CI can rely on the exit code
    return (report as { ok?: boolean }).ok === false ? 1 : 0;
  },
});
