// `npm test`'s last line counts every phase's tests, however long the failures listed after the
// runner's own counts (CI once printed "707 passed, 0 failed" above exit code 1: the counts of a
// phase whose failures ran past the 4,000 characters it read were lost).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

test("npm test's summary counts the cancelled tests of a suite whose before hook failed at length", () => {
  // a run of its own, not a child of this test's runner (which node:test tells by NODE_TEST_CONTEXT)
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['scripts/test.ts', 'test/fixtures/loud-failure.ts'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 1, r.stderr);
  const last = r.stdout.trim().split('\n').at(-1);
  assert.equal(last, '1 passed, 2 failed');
  // the failure's text really ran past the old 4,000-character tail after the counts
  assert.ok(r.stdout.length - r.stdout.lastIndexOf('ℹ pass') > 4000);
});
