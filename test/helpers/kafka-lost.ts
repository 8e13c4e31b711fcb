// What a producer test checks last: every acknowledged message is in the topic (read from its start by
// a fresh consumer group, for up to two minutes).

import assert from 'node:assert/strict';
import type { Transport } from '../../src/transport/transport.ts';

export async function assertAllArrived(
  t: Transport,
  topic: string,
  acked: ReadonlySet<string>,
  group: string,
): Promise<void> {
  const c = await t.consumer({ group, topics: [topic], from: 'earliest' });
  const seen = new Set<string>();
  const deadline = Date.now() + 120_000;
  while ([...acked].some((v) => !seen.has(v)) && Date.now() < deadline)
    for (const m of await c.poll(20_000, 500)) seen.add(new TextDecoder().decode(m.value));
  await c.close();
  const lost = [...acked].filter((v) => !seen.has(v));
  assert.deepEqual(
    lost.slice(0, 10),
    [],
    `${lost.length} of ${acked.size} acknowledged messages never arrived`,
  );
}
