// The demo's first forecast model: trained on the London daily file without the households the demo
// replays, so the accuracy the dashboard shows for them is out of sample.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Lake } from '../lake/index.ts';
import { CONSUMPTION_MODEL_NAME, trainFromDailyFile } from '../models/consumption/index.ts';
import { registerModel } from '../models/registry.ts';

/** The meter ids (first column) of a gzipped CSV with a header. */
export async function meterIdsOf(gzFile: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let header = true;
  for await (const line of createInterface({ input: createReadStream(gzFile).pipe(createGunzip()) })) {
    if (header) {
      header = false;
      continue;
    }
    const id = line.slice(0, line.indexOf(','));
    if (id) ids.add(id);
  }
  return ids;
}

/** Trains on `daily` without the households of `replayed` and registers the model; returns its version. */
export async function trainDemoModel(
  lake: Lake,
  daily: string,
  replayed: string | undefined,
): Promise<number> {
  const heldOut = replayed
    ? { meters: await meterIdsOf(replayed), why: `the households the demo replays (${replayed})` }
    : undefined;
  const t = await trainFromDailyFile(daily, { heldOut });
  return registerModel(lake.store, CONSUMPTION_MODEL_NAME, t.model, t.metrics);
}
