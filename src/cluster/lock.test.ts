import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withClusterLock } from './lock.ts';

describe('cluster lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lets two concurrent callers take turns', async () => {
    const events: string[] = [];
    const work = (name: string) =>
      withClusterLock(dir, async () => {
        events.push(`${name} in`);
        await sleep(150);
        events.push(`${name} out`);
      });
    await Promise.all([work('a'), work('b')]);
    assert.deepEqual(
      events.map((e) => e.split(' ')[1]),
      ['in', 'out', 'in', 'out'],
    );
  });

  it('takes over a lock whose holder died', async () => {
    // a pid that no process has: the lock of a crashed `cluster up`
    await writeFile(join(dir, 'cluster.lock'), '2147483646\n');
    const got = await withClusterLock(dir, async () => 'ran', { timeoutMs: 5000 });
    assert.equal(got, 'ran');
  });
});
