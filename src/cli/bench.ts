// `lakestream bench <scenario>`: runs a benchmark scenario and prints its report (JSON with --json).
// Scenarios are loaded lazily; each module exports a run function taking {short, json}.

import { LakestreamError } from '../errors.ts';
import { defineCommand } from './command.ts';

type Run = (opts: {
  short?: boolean;
  json?: boolean;
  args?: string[];
  engines?: 'cluster' | 'embedded';
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
      'readings/s end to end (produce → silver and gold) with embedded engines, 10,000 simulated meters at --rate max',
    load: async () => (await import('../bench/pipeline.ts')).runPipelineBench,
  },
  trace: {
    summary:
      'cluster trace: replay + classify events/s (task and job events, parts 0-1), EM training time on 500k tasks',
    load: async () => (await import('../bench/trace.ts')).runTraceBench,
  },
  train: {
    summary:
      'time to train the consumption model on the 500 London households (goal under 30 s); bench train [DAILY_CSV]',
    load: async () => {
      const { runTrainBench } = await import('../bench/train.ts');
      return (opts) => runTrainBench(opts.args?.[0]);
    },
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
      'SIGKILL a broker, the stream worker, a DataNode, the producer at 1,000/s: recovery time, lost = duplicated = 0',
    load: async () => (await import('../bench/resilience.ts')).runResilienceBench,
  },
  kafka: {
    summary:
      "Kafka producer msgs/s (acks=all) beside Kafka's own ProducerPerformance on the local cluster (goal ratio ≥ 0.6); send-to-commit latency",
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
  serve: {
    summary:
      'dashboard API latency of a 3-year daily series (fleet, one meter; goal p95 ≤ 100 ms) and first page load in chromium',
    load: async () => (await import('../bench/serve.ts')).runServeBench,
  },
};

export default defineCommand({
  name: 'bench',
  summary: 'run a benchmark scenario and write its report',
  usage: 'bench <scenario> [--short] [--json]  |  bench compare A B',
  description: `
Scenarios:
${Object.entries(SCENARIOS)
  .map(([n, s]) => `  ${n.padEnd(12)}${s.summary}`)
  .join('\n')}

Progress goes to stderr; the report (JSON) to stdout. baseline, stress and resilience also write
result.json, report.html and summary.md under bench/results/<time>-<scenario>/ (docs/evaluation.md).`,
  options: {
    short: { type: 'boolean', help: 'a smaller, quicker run' },
    json: { type: 'boolean', help: 'print only the JSON report' },
    engines: {
      type: 'string',
      value: 'cluster|embedded',
      help: 'baseline, stress: the local cluster (Kafka + HDFS, default) or the embedded log and a local lake',
    },
  },
  async run({ values, positionals }) {
    const name = positionals[0];
    const scenario = name === undefined ? undefined : SCENARIOS[name];
    if (!scenario)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `bench: give a scenario: ${Object.keys(SCENARIOS).join(', ')}${name ? ` (not "${name}")` : ''}`,
      );
    const run = await scenario.load();
    const engines = values.engines as string | undefined;
    if (engines !== undefined && engines !== 'cluster' && engines !== 'embedded')
      throw new LakestreamError('BAD_ARGUMENT', `bench: --engines is cluster or embedded (not "${engines}")`);
    const report = await run({ short: values.short, json: values.json, args: positionals.slice(1), engines });
    if (name === 'compare') return 0;
    if (!values.json) console.log(JSON.stringify(report, null, 2));
    // a failed evaluation (data lost, no recovery) fails the command, so CI can rely on the exit code
    return (report as { ok?: boolean }).ok === false ? 1 : 0;
  },
});
