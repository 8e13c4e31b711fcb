// Throughput of the embedded log: `npx node src/transport/embedded/bench.ts [messages] [sendBatch]`.
// Sends N 100-byte messages keyed by 10,000 meter ids into a 6-partition topic, then consumes them
// in one group (committing after every poll), and prints messages per second for each side.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_FILE } from './sqlite.ts';
import { EmbeddedTransport } from './transport.ts';

/** CPU time (user + system) says more than wall time on a machine other work shares. */
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const total = Number(process.argv[2] ?? 1_000_000);
const sendBatch = Number(process.argv[3] ?? 5000);
const pollMax = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'lakestream-bench-'));
const t = new EmbeddedTransport(dir);
try {
  await t.ensureTopic('bench', 6);
  const value = new Uint8Array(100).fill(120);
  const keys = Array.from({ length: 10_000 }, (_, i) => `MAC${String(i).padStart(6, '0')}`);
  const p = await t.producer();
  let start = performance.now();
  let cpu = process.cpuUsage();
  for (let sent = 0; sent < total; sent += sendBatch) {
    const n = Math.min(sendBatch, total - sent);
    const batch = new Array(n);
    for (let i = 0; i < n; i++) batch[i] = { key: keys[(sent + i) % keys.length], value };
    await p.send('bench', batch);
  }
  const produceS = (performance.now() - start) / 1000;
  const produceCpu = cpuSeconds(process.cpuUsage(cpu));
  await p.close();
  const c = await t.consumer({ group: 'bench', topics: ['bench'] });
  start = performance.now();
  cpu = process.cpuUsage();
  let got = 0;
  let bytes = 0;
  while (got < total) {
    const ms = await c.poll(pollMax, 1000);
    if (ms.length === 0) throw new Error(`stalled at ${got} of ${total}`);
    got += ms.length;
    for (const m of ms) bytes += m.value.byteLength;
    const last = new Map<number, number>();
    for (const m of ms) last.set(m.partition, m.offset + 1);
    await c.commit([...last].map(([partition, offset]) => ({ topic: 'bench', partition, offset })));
  }
  const consumeS = (performance.now() - start) / 1000;
  const consumeCpu = cpuSeconds(process.cpuUsage(cpu));
  const fileMb = statSync(join(dir, DB_FILE)).size / 1e6;
  console.log(
    JSON.stringify({
      messages: total,
      valueBytes: 100,
      sendBatch,
      pollMax,
      produceSeconds: +produceS.toFixed(2),
      produceMsgsPerSec: Math.round(total / produceS),
      produceCpuSeconds: +produceCpu.toFixed(2),
      consumeSeconds: +consumeS.toFixed(2),
      consumeMsgsPerSec: Math.round(got / consumeS),
      consumeCpuSeconds: +consumeCpu.toFixed(2),
      consumedValueBytes: bytes,
      fileMB: +fileMb.toFixed(1),
    }),
  );
  await c.close();
} finally {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
}
