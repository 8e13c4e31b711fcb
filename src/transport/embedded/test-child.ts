// A separate process for the embedded log's multi-process tests (embedded.test.ts runs it).
//   produce DIR TOPIC N [PREFIX]
//                          sends N messages keyed PREFIX-i in sends of 100, prints "sent", then
//                          dies by SIGKILL (no close)
//   consume DIR TOPIC GROUP N
//                          consumes in GROUP, printing one JSON line per event, committing after
//                          every poll, until the group has committed N messages on TOPIC

import { EmbeddedTransport } from './transport.ts';

const [command, dir, topic, ...rest] = process.argv.slice(2);
const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
const t = new EmbeddedTransport(dir);

if (command === 'produce') {
  const n = Number(rest[0]);
  const prefix = rest[1] ?? 'meter';
  const p = await t.producer();
  for (let sent = 0; sent < n; sent += 100) {
    const batch = [];
    for (let i = sent; i < Math.min(n, sent + 100); i++)
      batch.push({ key: `${prefix}-${i}`, value: new TextEncoder().encode(`${prefix} ${i}`) });
    await p.send(topic, batch);
  }
  print({ event: 'sent', n });
  // Die without closing anything: what send acknowledged must already be on disk.
  process.kill(process.pid, 'SIGKILL');
} else if (command === 'consume') {
  const [group, n] = [rest[0], Number(rest[1])];
  const c = await t.consumer({
    group,
    topics: [topic],
    onAssign: (ps) => void print({ event: 'assign', partitions: ps.map((x) => x.partition) }),
    onRevoke: (ps) => void print({ event: 'revoke', partitions: ps.map((x) => x.partition) }),
  });
  const committedTotal = async () =>
    (await t.committedOffsets(group, topic)).reduce((s, o) => s + o.offset, 0);
  while ((await committedTotal()) < n) {
    const ms = await c.poll(50, 100);
    for (const m of ms) print({ event: 'message', partition: m.partition, offset: m.offset });
    const next = new Map<number, number>();
    for (const m of ms) next.set(m.partition, m.offset + 1);
    if (next.size > 0) await c.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })));
  }
  await c.close();
  await t.close();
  print({ event: 'done' });
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
