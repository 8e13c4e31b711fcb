// Simulator throughput: `npx node src/sources/bench.ts [meters] [days] [threads]`.
// Prints readings per second generated alone, then generated and sent to a fresh embedded transport
// with --rate max (the figure the issue asks for: well over 200,000 readings/s), and the CPU seconds
// each took per million readings (a fairer figure on a machine shared with other work).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTransport } from '../transport/index.ts';
import { openSource } from './open-source.ts';
import { produceFrom } from './produce.ts';

const meters = Number(process.argv[2] ?? 10_000);
const days = Number(process.argv[3] ?? 10);
const threads = Number(process.argv[4] ?? 1);
const opts = { source: 'simulate' as const, meters, days, threads, start: '2013-01-01' };

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
let cpu = process.cpuUsage();
let t0 = performance.now();
let n = 0;
let bytes = 0;
for await (const b of (await openSource(opts)).batches()) {
  n += b.length;
  for (const m of b) bytes += m.value.byteLength;
}
const genS = (performance.now() - t0) / 1000;
const genCpu = cpuSeconds(process.cpuUsage(cpu));

const dir = mkdtempSync(join(tmpdir(), 'lakestream-simbench-'));
const transport = await openTransport(`embedded:${dir}`);
try {
  cpu = process.cpuUsage();
  t0 = performance.now();
  const s = await produceFrom(await openSource(opts), { rate: 'max' }, transport);
  const sendS = (performance.now() - t0) / 1000;
  const sendCpu = cpuSeconds(process.cpuUsage(cpu));
  console.log(
    JSON.stringify({
      meters,
      days,
      threads,
      readings: n,
      avgBytes: Math.round(bytes / n),
      generatedPerSec: Math.round(n / genS),
      generatedAndSentPerSec: Math.round(s.sent / sendS),
      // CPU seconds per million readings (all threads): what a machine not shared with others gives
      generateCpuPerMillion: +((genCpu / n) * 1e6).toFixed(2),
      generateAndSendCpuPerMillion: +((sendCpu / s.sent) * 1e6).toFixed(2),
      loadAverage: (await import('node:os')).loadavg()[0],
    }),
  );
} finally {
  await transport.close();
  rmSync(dir, { recursive: true, force: true });
}
