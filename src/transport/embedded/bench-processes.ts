// Multi-process throughput of the embedded log, as the pipeline uses it:
// `npx node src/transport/embedded/bench-processes.ts [messages] [consumers]` starts one producer
// process and N consumer processes of one group on a shared log at the same time; consumers commit
// every 500 ms like stream workers. Prints end-to-end messages/s and each process's CPU seconds.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedTransport } from './transport.ts';

const [role, dir, totalArg] = process.argv.slice(2);
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return +((u.user + u.system) / 1e6).toFixed(2);
};

if (role === 'produce') {
  const total = Number(totalArg);
  const t = new EmbeddedTransport(dir);
  const p = await t.producer();
  const value = new Uint8Array(100).fill(65);
  const keys = Array.from({ length: 10_000 }, (_, i) => `MAC${String(i).padStart(6, '0')}`);
  const start = performance.now();
  for (let sent = 0; sent < total; sent += 5000)
    await p.send(
      'bench',
      Array.from({ length: Math.min(5000, total - sent) }, (_, i) => ({
        key: keys[(sent + i) % keys.length],
        value,
      })),
    );
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ role, msgsPerSec: Math.round(total / seconds), cpuSeconds: cpuSeconds() }));
  await t.close();
} else if (role === 'consume') {
  const total = Number(totalArg);
  const t = new EmbeddedTransport(dir);
  const c = await t.consumer({ group: 'bench', topics: ['bench'] });
  const pending = new Map<number, number>();
  let got = 0;
  let lastCommit = performance.now();
  const committed = async () =>
    (await t.committedOffsets('bench', 'bench')).reduce((s, o) => s + o.offset, 0);
  while ((await committed()) < total) {
    const ms = await c.poll(10_000, 200);
    got += ms.length;
    for (const m of ms) pending.set(m.partition, m.offset + 1);
    if (pending.size === 0 || (ms.length > 0 && performance.now() - lastCommit < 500)) continue;
    await c.commit([...pending].map(([partition, offset]) => ({ topic: 'bench', partition, offset })));
    pending.clear();
    lastCommit = performance.now();
  }
  console.log(JSON.stringify({ role, messages: got, cpuSeconds: cpuSeconds() }));
  await c.close();
  await t.close();
} else {
  const total = Number(process.argv[2] ?? 1_000_000);
  const consumers = Number(process.argv[3] ?? 2);
  const logDir = mkdtempSync(join(tmpdir(), 'lakestream-bench-'));
  const setup = new EmbeddedTransport(logDir);
  await setup.ensureTopic('bench', 6);
  await setup.close();
  const run = (r: string) =>
    new Promise<void>((resolve, reject) =>
      spawn(process.execPath, [import.meta.filename, r, logDir, String(total)], { stdio: 'inherit' }).on(
        'exit',
        (code) => (code === 0 ? resolve() : reject(new Error(`${r} exited with ${code}`))),
      ),
    );
  const start = performance.now();
  try {
    await Promise.all([...Array.from({ length: consumers }, () => run('consume')), run('produce')]);
    const seconds = (performance.now() - start) / 1000;
    console.log(
      JSON.stringify({
        messages: total,
        consumers,
        seconds: +seconds.toFixed(2),
        endToEndMsgsPerSec: Math.round(total / seconds),
      }),
    );
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}
