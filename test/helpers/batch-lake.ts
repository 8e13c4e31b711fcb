// A small lake for the batch view's tests: three meters of three kinds of clock — an interval meter
// in UTC, one at a fixed +01:00 offset without a zone, and a water register in Europe/Madrid across the
// March DST change — replayed and drained; then, optionally, a day held back and sent past the lateness.

import assert from 'node:assert/strict';
import { latestView, TRACE_VIEW_DIR } from '../../src/batch/view.ts';
import type { Lake } from '../../src/lake/index.ts';
import { mulberry32 } from '../../src/models/random.ts';
import { openTransport } from '../../src/transport/open.ts';
import { cli, freshEngines, startCli } from './cli.ts';

const HOUR = 3_600_000;
/** The day held back from the first replay and sent after the stream released it. */
export const LATE = { meter: 'E-UTC', day: '2013-01-10', month: '2013-01' };

export interface Line {
  v: 1;
  meter_id: string;
  kind: string;
  ts: string;
  value: number;
  unit: string;
  type: string;
  seq: number;
  tz?: string;
}

function iso(ms: number, offsetH: number): string {
  const local = new Date(ms + offsetH * HOUR).toISOString().slice(0, 19);
  return offsetH === 0 ? `${local}Z` : `${local}+${String(offsetH).padStart(2, '0')}:00`;
}

/** Every reading of the three meters from 2013-01-01 to 2013-04-05 (UTC), in time order. */
export function readings(): Line[] {
  const rand = mulberry32(7);
  const out: Line[] = [];
  const start = Date.UTC(2013, 0, 1);
  const end = Date.UTC(2013, 3, 5);
  let register = 1000;
  const seq = { 'E-UTC': 0, 'E-FIXED': 0, 'W-MAD': 0 };
  const electricity = (meter: 'E-UTC' | 'E-FIXED', ts: string, value: number): Line => ({
    v: 1,
    meter_id: meter,
    kind: 'electricity',
    ts,
    value,
    unit: 'kWh',
    type: 'interval',
    seq: seq[meter]++,
  });
  for (let t = start; t < end; t += HOUR / 2) {
    out.push(electricity('E-UTC', iso(t, 0), Math.round(rand() * 1000) / 1000));
    if (t % HOUR !== 0) continue;
    // the fixed-offset meter's local days start at 23:00 UTC
    out.push(electricity('E-FIXED', iso(t, 1), Math.round(rand() * 2000) / 1000));
    register += Math.round(rand() * 30);
    out.push({
      v: 1,
      meter_id: 'W-MAD',
      kind: 'water',
      ts: iso(t, 0),
      value: register,
      unit: 'L',
      type: 'cumulative',
      seq: seq['W-MAD']++,
      tz: 'Europe/Madrid',
    });
  }
  return out;
}

const isLate = (r: Line) => r.meter_id === LATE.meter && r.ts.startsWith(LATE.day);

export interface BatchLake {
  dir: string;
  lake: string;
  flags: string[];
  produceFlags: string[];
  /** sends the held-back day and drains the stream: the stream quarantines it as too-late */
  sendLate(): Promise<void>;
  /** sends these readings and drains the stream */
  send(lines: Line[]): Promise<void>;
}

/** Replays every reading but the late day and drains the stream. */
export async function batchLake(): Promise<BatchLake> {
  const e = await freshEngines();
  const all = readings();
  const replay = async (lines: Line[]) => {
    // keyed by meter, as every producer sends readings (a meter's readings stay in one partition)
    const transport = await openTransport(e.transport);
    try {
      await transport.ensureTopic('meters.readings');
      const producer = await transport.producer();
      await producer.send(
        'meters.readings',
        lines.map((r) => ({ key: r.meter_id, value: new TextEncoder().encode(JSON.stringify(r)) })),
      );
      await producer.close();
    } finally {
      await transport.close();
    }
    await cli(['stream', '--drain', '--retrain', 'off', '-q', ...e.flags]);
  };
  await replay(all.filter((r) => !isLate(r)));
  return {
    dir: e.dir,
    lake: e.lake,
    flags: e.flags,
    produceFlags: e.produceFlags,
    sendLate: () => replay(all.filter(isLate)),
    send: replay,
  };
}

/**
 * Runs `stream --batch-every 1s --retrain off ARGS` until the view in `dir` reaches run `untilRun` (or
 * `timeoutMs` passes), then stops it with SIGINT: its exit code and stderr.
 */
export async function streamWithBatchEvery(
  lake: Lake,
  dir: string,
  untilRun: number,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: unknown; stderr: string }> {
  const child = startCli(['stream', '--batch-every', '1s', '--retrain', 'off', ...args]);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const deadline = Date.now() + timeoutMs;
  while (((await latestView(lake.store, dir))?.run ?? 0) < untilRun && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('close', r));
  return { code, stderr };
}

/**
 * `stream --workload cluster-trace --batch-every` with `args` until the trace view's next run, checked:
 * a new run on `engine`, the same mark, its one table, and a summary line naming the 2 keys that differ.
 */
export async function assertTraceViewScheduled(
  lake: Lake,
  args: string[],
  engine: string,
  timeoutMs?: number,
): Promise<void> {
  const before = (await latestView(lake.store, TRACE_VIEW_DIR))!;
  const r = await streamWithBatchEvery(
    lake,
    TRACE_VIEW_DIR,
    before.run + 1,
    ['--workload', 'cluster-trace', ...args],
    timeoutMs,
  );
  assert.equal(r.code, 0, r.stderr);
  const view = (await latestView(lake.store, TRACE_VIEW_DIR))!;
  assert.ok(view.run > before.run, r.stderr);
  assert.equal(view.engine, engine);
  assert.equal(view.mark, before.mark);
  assert.deepEqual(Object.keys(view.tables), ['cluster-trace/batch/task_lifecycles']);
  assert.match(
    r.stderr,
    new RegExp(
      `batch view run ${before.run + 1}: task events up to trace time [0-9,]+ µs; keys differing from the stream: task_lifecycles 2`,
    ),
  );
}
