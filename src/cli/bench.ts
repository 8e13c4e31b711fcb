// `lakestream bench <scenario>`: runs a benchmark scenario and prints its report (JSON with --json).
// Scenarios are loaded lazily; each module exports a run function taking {short, json}.

import { LakestreamError } from '../errors.ts';
import { defineCommand } from './command.ts';

type Run = (opts: { short?: boolean; json?: boolean }) => Promise<object>;

const SCENARIOS: Record<string, { summary: string; load: () => Promise<Run> }> = {
  lake: {
    summary:
      'Delta Lake: append throughput (1M rows in 100 commits), snapshot load at 1,000 commits with/without checkpoints',
    load: async () => (await import('../bench/lake.ts')).runLakeBench,
  },
  pipeline: {
    summary: 'readings/s end to end (produce → silver and gold) with embedded engines, 10,000 simulated meters at --rate max',
    load: async () => (await import('../bench/pipeline.ts')).runPipelineBench,
  },
  trace: {
    summary: 'cluster trace: replay + classify events/s (task and job events, parts 0-1), EM training time on 500k tasks',
    load: async () => (await import('../bench/trace.ts')).runTraceBench,
  },
  serve: {
    summary: 'dashboard API latency of a 3-year daily series (fleet, one meter; goal p95 ≤ 100 ms) and first page load in chromium',
    load: async () => (await import('../bench/serve.ts')).runServeBench,
  },
};

export default defineCommand({
  name: 'bench',
  summary: 'run a benchmark scenario and write its report',
  usage: 'bench <scenario> [--short] [--json]',
  description: `
Scenarios:
${Object.entries(SCENARIOS)
  .map(([n, s]) => `  ${n.padEnd(12)}${s.summary}`)
  .join('\n')}

Progress goes to stderr; the report (JSON) to stdout.`,
  options: {
    short: { type: 'boolean', help: 'a smaller, quicker run' },
    json: { type: 'boolean', help: 'print only the JSON report' },
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
    const report = await run({ short: values.short, json: values.json });
    if (!values.json) console.log(JSON.stringify(report, null, 2));
    return 0;
  },
});
