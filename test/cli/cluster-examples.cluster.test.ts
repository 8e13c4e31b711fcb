// Issue 19, the cluster half: the examples of --help and of the README that need the local cluster
// (kafka:// and webhdfs:// URLs, cluster up/status/…, cluster benchmarks, --engine spark) run here, in
// the cluster phase of scripts/test.ts, on the test cluster (ensureCluster). The default addresses
// they name become the test cluster's, under a topic namespace and an HDFS folder of this run, which
// are removed at the end.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeBenchRun } from '../../src/bench/leftovers.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';
import {
  exampleHome,
  helpExamples,
  needsCluster,
  preparedReplay,
  readmeExamples,
  removeHome,
  runExample,
} from './examples.ts';

const examples = [...(await helpExamples()), ...(await readmeExamples())].filter((e) => needsCluster(e.args));
const run = `examples-${process.pid}`;

/** The example's arguments with the default cluster addresses replaced by the test cluster's. */
export function onTestCluster(args: string[], tc: TestCluster): string[] {
  return args.map((a) =>
    a
      .replace(/^kafka:\/\/[^\s#]+$/, `${tc.kafkaUrl}#ns=${run}.`)
      .replace(/^webhdfs:\/\/[^/\s]+(\/[^?\s]*)?$/, (_m, path: string | undefined) => {
        return `${tc.webhdfsUrl}/${run}${path ?? ''}?user=${tc.hdfsUser}`;
      }),
  );
}

describe('the examples that need the local cluster', { timeout: 1_800_000 }, () => {
  let tc: TestCluster;
  /** the short replay the README's examples follow (its --engine spark ones read that lake) */
  let prepared: string;

  before(async () => {
    tc = await ensureCluster({ kafka: true, hdfs: true, spark: true });
    prepared = await preparedReplay();
  });
  after(async () => {
    if (tc) await removeBenchRun(`${tc.kafkaUrl}#ns=${run}.`, `${tc.webhdfsUrl}/${run}?user=${tc.hdfsUser}`);
    if (prepared) await removeHome(join(prepared, '..'));
  });

  it('are found (the cluster --help has some)', () => {
    assert.ok(
      examples.some((e) => e.from === 'cluster --help'),
      examples.map((e) => e.line).join('\n'),
    );
  });

  for (const e of examples)
    it(`${e.from}: lakestream ${e.args.join(' ')}`, async () => {
      const args = onTestCluster(e.args, tc);
      const home = await exampleHome(prepared);
      const r = await runExample(args, home, { LAKESTREAM_CLUSTER_DIR: tc.dir });
      await removeHome(home);
      assert.equal(r.code, 0, `${e.from}: ${e.line}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-1000)}`);
      // an example that stops a part of the cluster does not take it from the next ones
      tc = await ensureCluster({ kafka: true, hdfs: true, spark: true });
    });
});
