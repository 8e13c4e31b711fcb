// Test files that start the local cluster are named *.cluster.test.ts, so `npm test` runs them alone
// in its second phase: a file that starts JVMs under another name would run beside others and
// starve them.

import assert from 'node:assert/strict';
import { glob, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { isClusterTest, startsCluster } from '../../scripts/test-phases.ts';

const ROOT = join(import.meta.dirname, '../..');

async function testFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of ['src/**/*.test.ts', 'test/**/*.test.ts'])
    for await (const f of glob(pattern, { cwd: ROOT })) out.push(f);
  return out.sort();
}

test('every test file that starts the cluster is named *.cluster.test.ts', async () => {
  const unmarked: string[] = [];
  // (this file spells the three ways out below, and starts nothing)
  const self = relative(ROOT, import.meta.filename);
  for (const f of await testFiles())
    if (f !== self && !isClusterTest(f) && startsCluster(await readFile(join(ROOT, f), 'utf8')))
      unmarked.push(f);
  assert.deepEqual(unmarked, [], 'rename these to *.cluster.test.ts (scripts/test-phases.ts)');
});

test('the cluster phase holds the files named so, and they start the cluster', async () => {
  const marked = (await testFiles()).filter(isClusterTest);
  assert.ok(marked.length >= 20, `only ${marked.length} cluster test files`);
  const idle: string[] = [];
  for (const f of marked) if (!startsCluster(await readFile(join(ROOT, f), 'utf8'))) idle.push(f);
  assert.deepEqual(idle, [], 'a file named *.cluster.test.ts that starts no cluster runs alone for nothing');
});

test('the marker is the name, and a JVM start spelled any of three ways is seen', () => {
  assert.equal(isClusterTest('test/kafka/handover.cluster.test.ts'), true);
  assert.equal(isClusterTest('test/kafka/handover.test.ts'), false);
  for (const source of [
    'await ensureCluster({ kafka: true });',
    'const up = await clusterUp({ dir });',
    "await cli(['cluster', 'up', '--dir', dir]);",
  ])
    assert.equal(startsCluster(source), true, source);
  assert.equal(startsCluster("import { testClusterDir } from '../helpers/cluster.ts';"), false);
});
