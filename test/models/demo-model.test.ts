// The demo's first model never saw the households the demo replays: its accuracy on them is out of sample.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { meterIdsOf, trainDemoModel } from '../../src/cli/demo-model.ts';
import { Lake } from '../../src/lake/index.ts';
import { readDailyFile } from '../../src/models/consumption/index.ts';
import { loadModelJson } from '../../src/models/registry.ts';
import { requireData } from '../helpers/cli.ts';

test("the demo's model is trained without the replayed households, and its metrics say so", async () => {
  const daily = requireData('meters/london/daily_500_households.csv.gz');
  const replayed = requireData('meters/london/halfhourly_2013_20_households.csv.gz');
  const ids = await meterIdsOf(replayed);
  assert.equal(ids.size, 20);
  const inDaily = [...(await readDailyFile(daily)).meters.keys()].filter((id) => ids.has(id));
  assert.ok(inDaily.length > 0, 'some replayed households are among the 500');
  const lake = await Lake.open(`file:${join(mkdtempSync(join(tmpdir(), 'lakestream-demo-model-')), 'lake')}`);
  try {
    const v = await trainDemoModel(lake, daily, replayed);
    const m = (await loadModelJson(lake.store, 'consumption', v))!.metrics as {
      meters: number;
      heldOut: { meters: number; why: string };
    };
    assert.equal(m.heldOut.meters, inDaily.length);
    assert.equal(m.meters, 500 - inDaily.length);
    assert.match(m.heldOut.why, /replays/);
  } finally {
    await lake.close();
  }
});
