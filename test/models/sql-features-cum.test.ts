// The training set's `cum` step as window functions over each meter-month's days equals the self-join it
// replaced (b.dom <= a.dom, grouped: O(days²) rows and a median DuckDB could not spill), row for row, on
// the 500 London households' lake and on a generated one (holidays, ToU, a meter at zero).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBenchLake } from '../../src/bench/serve.ts';
import { generateTrainLake } from '../../src/bench/train-lake.ts';
import { openEngine } from '../../src/engine/index.ts';
import { assertCumFrames } from '../helpers/cum-frames.ts';
import { assertCumEqualsSelfJoin } from '../helpers/cum-reference.ts';

/** The two training sets on one lake (DuckDB), compared row for row; cum's rows of the windows. */
async function compareOn(url: string, o: Parameters<typeof assertCumEqualsSelfJoin>[1]) {
  const engine = await openEngine('duckdb', url);
  try {
    return await assertCumEqualsSelfJoin(engine, o);
  } finally {
    await engine.close();
  }
}

describe('the training set with cum as window functions equals the self-join it replaced (DuckDB)', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lakestream-cumwin-'));
    dirs.push(d);
    return `file:${d}`;
  };
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  let generated: string;
  before(async () => {
    generated = await tmp();
    // 12 meters over 26 months: previous months, last year's months, holidays, ToU, a meter at zero
    await generateTrainLake(generated, { meters: 12, months: 26, firstMonth: '2012-01' });
  });

  test("cum's frames: the median of an even count is the mean of the middle two, a missing day is not replaced", async () => {
    const engine = await openEngine('duckdb', generated);
    try {
      await assertCumFrames(engine);
    } finally {
      await engine.close();
    }
  });

  test('on a generated lake (gold daily and silver holidays)', async () => {
    const { cumRows } = await compareOn(generated, {
      firstMonth: '2012-01',
      lastMonth: '2014-02',
      silver: true,
    });
    // the lake has holidays in the examples (not only weekends)
    assert.ok(cumRows.some((r) => Number(r.hol_n) > 0));
  });

  test("on the 500 London households' lake (gold daily only)", async () => {
    const url = await tmp();
    await buildBenchLake(url, () => {});
    const engine = await openEngine('duckdb', url);
    let extent: Record<string, unknown>;
    try {
      extent = (await engine.query('SELECT min(day) AS f, max(day) AS l FROM meters_gold_daily')).rows[0];
    } finally {
      await engine.close();
    }
    await compareOn(url, {
      firstMonth: String(extent.f).slice(0, 7),
      lastMonth: String(extent.l).slice(0, 7),
      silver: false,
    });
  });
});
