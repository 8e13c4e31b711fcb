// Issue 3 acceptance: DAIAD water registers → daily litres equal the sum of valid diffs, and every
// negative diff is in quarantine with its reason.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { lineText, openLineFiles } from '../../src/sources/io/lines.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';
import { type WaterExpectation, waterExpectation } from '../helpers/source-sums.ts';

/** Every data line of the zip's CSV (header dropped). */
async function zipCsvLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  for (const f of await openLineFiles(file)) {
    let header = true;
    for await (const batch of f.batches())
      for (const line of batch) {
        if (header) header = false;
        else lines.push(lineText(line));
      }
  }
  return lines;
}

describe('replaying the DAIAD water registers', () => {
  const file = requireData('meters/water/swm_trialA_clean.zip');
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  let expected: WaterExpectation;

  before(async () => {
    engines = await freshEngines();
    expected = waterExpectation(await zipCsvLines(file));
    await cli(['produce', '--source', 'water', '--file', file, '--rate', 'max', ...engines.produceFlags], {
      timeoutMs: 600_000,
    });
    await cli(['stream', '--drain', '--quiet', ...engines.flags], { timeoutMs: 600_000 });
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('daily litres per meter equal the sum of valid register diffs', async () => {
    const got = await lake.query("SELECT meter_id, day, value FROM meters_gold_daily WHERE kind = 'water'", {
      maxRows: 1_000_000,
    });
    const byKey = new Map(got.rows.map((r) => [`${r.meter_id}|${r.day}`, Number(r.value)]));
    let checked = 0;
    for (const [key, litres] of expected.daily) {
      const v = byKey.get(key);
      assert.ok(v !== undefined, `no gold row for ${key}`);
      assert.ok(Math.abs(v - litres) < 1e-6, `${key}: ${v} L in gold, ${litres} L from the source`);
      checked++;
    }
    assert.ok(checked > 20_000, `checked ${checked} meter-days`);
    for (const [key, v] of byKey)
      if (!expected.daily.has(key)) assert.equal(v, 0, `${key} has litres the source has not`);
  });

  it('puts every negative diff in quarantine with its reason', async () => {
    const q = await lake.query(
      "SELECT meter_id, raw_text FROM meters_quarantine_readings WHERE reason = 'negative-diff'",
      { maxRows: 100_000 },
    );
    assert.equal(q.rows.length, expected.negative.size);
    assert.ok(expected.negative.size >= 150, `${expected.negative.size} negative diffs in the source`);
    const got = new Set(
      q.rows.map((r) => {
        const msg = JSON.parse(String(r.raw_text));
        return `${msg.meter_id}|${Date.parse(msg.ts)}`;
      }),
    );
    assert.deepEqual([...got].sort(), [...expected.negative].sort());
  });
});
