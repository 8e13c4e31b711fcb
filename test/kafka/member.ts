// A group member in its own process, for tests that kill it: joins GROUP on TOPIC, polls and
// commits, and prints "owns <partitions>" whenever its assignment changes.
// Usage: node test/kafka/member.ts KAFKA_URL TOPIC GROUP

import { openTransport } from '../../src/transport/index.ts';

const [url, topic, group] = process.argv.slice(2);
const t = await openTransport(url);
const c = await t.consumer({ group, topics: [topic] });
let shown = '';
for (;;) {
  const batch = await c.poll(500, 200);
  const last = new Map<number, number>();
  for (const m of batch) last.set(m.partition, m.offset + 1);
  if (last.size > 0) await c.commit([...last].map(([partition, offset]) => ({ topic, partition, offset })));
  const owns = c
    .assignment()
    .map((p) => p.partition)
    .sort((a, b) => a - b)
    .join(',');
  if (owns !== shown) {
    shown = owns;
    console.log(`owns ${owns}`);
  }
}
