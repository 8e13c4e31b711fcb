// `npm test`: type-check, then every test file under src/ and test/ with Node's test runner.
// Tests that need the local cluster start it themselves through `lakestream cluster up`.

import { spawnSync } from 'node:child_process';

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

const filter = process.argv.slice(2);
if (filter.length === 0) {
  const tsc = run('npx', ['tsc', '--noEmit', '-p', '.']);
  if (tsc !== 0) {
    console.error('type check failed');
    process.exit(tsc);
  }
}
// names this run to the test cluster (test/helpers/cluster.ts), so a concurrent run does not stop it under us
process.env.LAKESTREAM_TEST_RUN = String(process.pid);
const files = filter.length > 0 ? filter : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const code = run(process.execPath, [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=1200000',
  '--test-reporter=spec',
  ...files,
]);
// the local cluster stays up across test files; stop it if these tests started it
const { stopClusterStartedByTests } = await import('../test/helpers/cluster.ts');
await stopClusterStartedByTests((line) => console.error(line));
process.exit(code);
