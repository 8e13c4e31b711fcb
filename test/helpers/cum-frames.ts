// The frames of the training set's `cum` step (sql-features.ts's cumWindow, medianOver) on a few days both engines
// must agree on: the median of an even count is the mean of the two middle values (prepare()'s), and
// the last-3-days frame is RANGE on the day of month, so a missing day leaves it with fewer days rather
// than reaching back to an earlier one. A second meter's partition does not see the first's days.

import assert from 'node:assert/strict';
import type { QueryEngine } from '../../src/engine/index.ts';
import { cumWindow, medianOver } from '../../src/models/consumption/sql-features.ts';

const DAYS: [string, number, number][] = [
  ['m', 1, 3],
  ['m', 2, 1],
  ['m', 3, 4],
  // day 4 missing
  ['m', 5, 10],
  ['m', 6, 2],
  ['n', 1, 7],
];

/** meter, day → [median of the days so far, mean of the last 3 calendar days, sum so far] */
const EXPECTED: Record<string, [number, number, number]> = {
  'm 1': [3, 3, 3],
  'm 2': [2, 2, 4], // median of {3, 1}: (1 + 3) / 2
  'm 3': [3, 8 / 3, 8],
  'm 5': [3.5, 7, 18], // median of {1, 3, 4, 10}: (3 + 4) / 2; last 3 days: days 3 and 5 only
  'm 6': [3, 6, 20], // last 3 days: days 5 and 6 (not day 3)
  'n 1': [7, 7, 7],
};

export async function assertCumFrames(engine: QueryEngine): Promise<void> {
  const values = DAYS.map(([m, dom, v]) => `('${m}', '2013-01', ${dom}, ${v}e0)`).join(', ');
  const r =
    await engine.query(`SELECT d.meter_id, d.dom, ${medianOver(engine.name, 'd.v', cumWindow('UNBOUNDED'))} AS med,
       avg(d.v) OVER (${cumWindow('2')}) AS last3, sum(d.v) OVER (${cumWindow('UNBOUNDED')}) AS s
FROM (SELECT * FROM (VALUES ${values}) AS t(meter_id, month, dom, v)) AS d`);
  const got = Object.fromEntries(
    r.rows.map((row) => [`${row.meter_id} ${row.dom}`, [Number(row.med), Number(row.last3), Number(row.s)]]),
  );
  assert.deepEqual(got, EXPECTED, `${engine.name}: the cum frames`);
}
