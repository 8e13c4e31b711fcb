// `npm test`: type-check, then every test file under src/ and test/ with Node's test runner:
// first the tests that need no cluster (two files at a time), then the ones on a local Kafka +
// HDFS + Spark cluster (*.cluster.test.ts, scripts/test-phases.ts) one file at a time — they kill
// and restart brokers, DataNodes and workers, and must not pull the cluster from under each other.
// Those tests start the cluster through `lakestream cluster up` (test/helpers/cluster.ts); it is
// stopped at the end if they started it.
// `npm test -- FILE…` runs just those files.

import { spawn, spawnSync } from 'node:child_process';
import { glob } from 'node:fs/promises';
import { isClusterTest } from './test-phases.ts';

const filter = process.argv.slice(2);
if (filter.length === 0) {
  const tsc = spawnSync('npx', ['tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' }).status ?? 1;
  if (tsc !== 0) {
    console.error('type check failed');
    process.exit(tsc);
  }
}
// names this run to the test cluster (test/helpers/cluster.ts), so a concurrent run does not stop it under us
process.env.LAKESTREAM_TEST_RUN = String(process.pid);

const all: string[] = [];
for (const pattern of filter.length > 0 ? filter : ['src/**/*.test.ts', 'test/**/*.test.ts'])
  for await (const f of glob(pattern)) all.push(f);
all.sort();
// A file that starts JVMs — the shared test cluster (ensureCluster) or a cluster of its own
// (clusterUp, privateKafkaCluster, `lakestream cluster up`) — is named *.cluster.test.ts and runs alone:
// two of them at once on two cores starve each other's brokers and DataNodes past their timeouts.
const phases = [
  { name: 'tests without the cluster', files: all.filter((f) => !isClusterTest(f)), concurrency: 2 },
  {
    name: 'tests on the local Kafka + HDFS + Spark cluster',
    files: all.filter(isClusterTest),
    concurrency: 1,
  },
];

const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0 };
let code = 0;
for (const phase of phases) {
  if (phase.files.length === 0) continue;
  console.log(`\n=== ${phase.name}: ${phase.files.length} files ===`);
  const child = spawn(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${phase.concurrency}`,
      '--test-timeout=1200000',
      '--test-reporter=spec',
      ...phase.files,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // the runner's own counts (ℹ pass N …), read from every line: the failures it lists after them,
  // stack traces and a JVM's log included, may run far past any fixed tail of the output
  const counts: Partial<typeof totals> = {};
  let partial = '';
  const countsOf = (line: string) => {
    const m = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line);
    if (m) counts[m[1] as keyof typeof totals] = Number(m[2]);
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    process.stdout.write(d);
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) countsOf(line);
  });
  const status: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)));
  countsOf(partial);
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += counts[k] ?? 0;
  if (status !== 0) {
    code = status;
    if (counts.pass === undefined)
      console.log(`\n${phase.name}: the test runner exited ${status} without its counts`);
  }
}

// the local cluster stays up across test files; stop it if these tests started it
const { stopClusterStartedByTests } = await import('../test/helpers/cluster.ts');
await stopClusterStartedByTests((line) => console.error(line));
console.log(
  `\n${totals.pass} passed, ${totals.fail + totals.cancelled} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(code);
