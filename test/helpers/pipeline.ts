// Helpers for end-to-end pipeline tests: waiting for a group to catch up, reading worker status,
// and a table-by-table comparison of two lakes.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lake } from '../../src/lake/index.ts';
import { openStore } from '../../src/storage/index.ts';
import { readWorkerStatuses, type WorkerStatus } from '../../src/stream/worker-status.ts';
import { cli, freshEngines, requireData, startCli } from './cli.ts';

/** Sends the 20 London households' half-hourly 2013 readings with `produceFlags` (at max rate unless told). */
export const produceLondon = (
  produceFlags: string[],
  o: { rate?: string; limit?: number; timeoutMs?: number } = {},
) =>
  cli(
    [
      'produce',
      '--source',
      'london-halfhourly',
      '--file',
      requireData('meters/london/halfhourly_2013_20_households.csv.gz'),
      '--rate',
      o.rate ?? 'max',
      ...(o.limit === undefined ? [] : ['--limit', String(o.limit)]),
      ...produceFlags,
    ],
    o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs },
  );

/** Two simulated days of 20 meters (half-hourly) from `start`: the storage-full tests' input. */
export const produceTwoDays = (flags: string[], start: string) =>
  cli([
    'produce',
    '--source',
    'simulate',
    '--meters',
    '20',
    '--start',
    start,
    '--days',
    '2',
    '--interval',
    '30',
    '--quiet',
    ...flags,
  ]);

/**
 * `stream` on fresh embedded engines whose store fails every write with ENOSPC while the file `flag`
 * exists (LAKESTREAM_STORE_FAULTS), once it has committed its first batches of two simulated days.
 */
export async function streamOnStoreThatFills() {
  const engines = await freshEngines();
  const flag = join(engines.dir, 'disk-full');
  const stream = startCli(['stream', '--quiet', '--retrain', 'off', ...engines.flags], {
    LAKESTREAM_STORE_FAULTS: `full-while=${flag}`,
  });
  await produceTwoDays(engines.produceFlags, '2013-01-07');
  await until('the first batches to commit', async () =>
    (await workerStatuses(join(engines.dir, 'lake'))).some((w) => Number(w.batches) > 0),
  );
  return { engines, flag, stream };
}

export async function until(what: string, check: () => Promise<boolean>, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(500);
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

/** The readings topic's end and the group's lag, from `lakestream status --json`. */
export async function readingsLag(flags: string[]): Promise<{ end: number; lag: number }> {
  const r = await cli(['status', '--json', ...flags]);
  const t = JSON.parse(r.stdout).topics.find((x: { topic: string }) => x.topic === 'meters.readings');
  return t ? { end: t.end, lag: t.lag } : { end: 0, lag: 0 };
}

export async function caughtUp(flags: string[], expected: number): Promise<boolean> {
  const { end, lag } = await readingsLag(flags);
  return end >= expected && lag === 0;
}

/** The status files of the workers of a lake on local disk. */
export async function workerStatuses(lakeDir: string): Promise<WorkerStatus[]> {
  return readWorkerStatuses(await openStore(`file:${lakeDir}`));
}

/** Columns that differ between runs by nature (wall-clock times, transport positions). */
const VOLATILE = new Set(['ingested_at', 'predicted_at', 'quarantined_at', 'topic', 'partition', 'offset']);

/** Every meters table of a lake as sorted JSON lines, volatile columns left out. */
export async function meterTableContents(lakeUrl: string): Promise<Map<string, string[]>> {
  const lake = await Lake.open(lakeUrl);
  try {
    const out = new Map<string, string[]>();
    for (const path of (await lake.listTables()).filter((p) => p.startsWith('meters/'))) {
      const view = path.replaceAll('/', '_');
      const r = await lake.query(`SELECT * FROM ${view}`, { maxRows: 2_000_000 });
      const cols = r.columns
        .map((c) => c.name)
        .filter((c) => !VOLATILE.has(c) && !(path.includes('quarantine') && c === 'day'));
      const rows = r.rows.map((row) =>
        JSON.stringify(
          cols.map((c) => {
            const v = row[c];
            if (typeof v === 'bigint') return Number(v);
            if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
            if (typeof v === 'number') return Number(v.toPrecision(12));
            return v;
          }),
        ),
      );
      out.set(path, rows.sort());
    }
    return out;
  } finally {
    await lake.close();
  }
}
