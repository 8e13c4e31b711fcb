// Killing a group member (SIGKILL: no goodbye to the group) hands its partitions to the member that
// stays, within the session timeout, and the survivor goes on from the dead member's commits.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import type { Message } from '../../src/transport/index.ts';
import { openTransport, partitionForKey } from '../../src/transport/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';

const enc = (s: string) => new TextEncoder().encode(s);

it('gives a killed member’s partitions to the survivor within the session timeout, which resumes from its commits', async () => {
  const cluster = await ensureCluster({ kafka: true });
  const run = randomBytes(3).toString('hex');
  const topic = `handover-${run}`;
  const group = `handover-g-${run}`;
  // session=6000: the brokers' minimum, so the test waits as little as Kafka allows
  const url = `${cluster.kafkaUrl}?session=6000`;
  const t = await openTransport(url);
  let child: ChildProcess | undefined;
  try {
    await t.ensureTopic(topic, 4);
    const p = await t.producer();
    const keys = Array.from({ length: 80 }, (_, i) => `meter-${i}`);
    await p.send(
      topic,
      keys.map((k) => ({ key: k, value: enc(`before:${k}`) })),
    );

    child = spawn(process.execPath, [resolve(import.meta.dirname, 'member.ts'), url, topic, group], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let childOwns: number[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('owns ')) childOwns = line.slice(5).split(',').filter(Boolean).map(Number);
    });
    const deadline = Date.now() + 60_000;
    while (childOwns.length !== 4) {
      assert.ok(Date.now() < deadline, 'the child member never owned the 4 partitions');
      await new Promise((r) => setTimeout(r, 200));
    }

    // The survivor joins; the group splits the partitions between the two.
    const got: Message[] = [];
    const c = await t.consumer({ group, topics: [topic] });
    const split = Date.now() + 60_000;
    while (
      !(c.assignment().length > 0 && childOwns.length > 0 && c.assignment().length + childOwns.length === 4)
    ) {
      assert.ok(
        Date.now() < split,
        `no split: survivor owns ${c.assignment().length}, child ${childOwns.length}`,
      );
      got.push(...(await c.poll(500, 200)));
    }
    // The child has consumed and committed every "before" message of its partitions; let it finish.
    const commitsDone = Date.now() + 30_000;
    for (;;) {
      const committed = await t.committedOffsets(group, topic);
      const ends = await t.endOffsets(topic);
      const childDone = childOwns.every(
        (part) =>
          committed.find((o) => o.partition === part)?.offset ===
          ends.find((o) => o.partition === part)?.offset,
      );
      if (childDone) break;
      assert.ok(Date.now() < commitsDone, 'the child did not commit its partitions');
      got.push(...(await c.poll(500, 200)));
    }
    const dead = [...childOwns];
    child.kill('SIGKILL');
    const killedAt = Date.now();
    while (c.assignment().length < 4) {
      assert.ok(
        Date.now() - killedAt < 30_000,
        `the survivor still owns ${c.assignment().length} partitions 30 s after the kill`,
      );
      got.push(...(await c.poll(500, 200)));
    }
    const handoverMs = Date.now() - killedAt;
    assert.ok(handoverMs < 25_000, `handover took ${handoverMs} ms`);

    // Only new messages arrive in the dead member's partitions: it had committed the old ones.
    await p.send(
      topic,
      keys.map((k) => ({ key: k, value: enc(`after:${k}`) })),
    );
    await p.close();
    const until = Date.now() + 30_000;
    while (got.filter((m) => new TextDecoder().decode(m.value).startsWith('after:')).length < keys.length) {
      assert.ok(Date.now() < until, 'the survivor did not receive the new messages');
      got.push(...(await c.poll(500, 500)));
    }
    // The child owned every partition first and committed all "before" messages: none comes again.
    const values = got.map((m) => new TextDecoder().decode(m.value));
    assert.deepEqual(
      values.filter((v) => v.startsWith('before:')),
      [],
      'the survivor re-read messages the dead member had committed',
    );
    assert.deepEqual(values.sort(), keys.map((k) => `after:${k}`).sort(), 'every new message exactly once');
    // and the dead member's partitions are among those that delivered them
    assert.ok(got.some((m) => dead.includes(m.partition) && dead.includes(partitionForKey(m.key!, 4))));
    await c.close();
  } finally {
    child?.kill('SIGKILL');
    await t.close();
  }
});
