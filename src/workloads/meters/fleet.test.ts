// The fleet rows of the forecast tables: sums of the partials the meter rows' writers added (as a
// batch does: fleet-partials.ts), replaced in place, right after racing writers and after a
// compaction that merged them with meter rows.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { holdNextCommit } from '../../../test/helpers/hold.ts';
import { freshLake as emptyLake } from '../../../test/lake/helpers.ts';
import { FLEET_ID, FLEET_PARTIALS, METER_TABLES } from '../../domain/meters/tables.ts';
import { Lake } from '../../lake/index.ts';
import { openStore } from '../../storage/index.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import { rollUpFleet } from './fleet.ts';
import { addToFleet } from './fleet-partials.ts';

const P = METER_TABLES.predictions;
const JAN = new Set(['2013-01']);
const lakes: Lake[] = [];

async function freshLake(): Promise<Lake> {
  const lake = await emptyLake('file');
  lakes.push(lake);
  await lake.table(P.path).create({ schema: [...P.schema], partitionColumns: [...P.partitionColumns] });
  await lake
    .table(FLEET_PARTIALS.path)
    .create({ schema: [...FLEET_PARTIALS.schema], partitionColumns: [...FLEET_PARTIALS.partitionColumns] });
  return lake;
}

/** Writes prediction rows and, as a batch of the stream does, their partials of the fleet rows. */
async function writePredictions(lake: Lake, rows: ReturnType<typeof prediction>[]): Promise<void> {
  const out = new BatchOutputs();
  for (const r of rows) {
    out.append(P.path, r);
    addToFleet(
      out,
      'predictions',
      r.kind,
      r.month,
      r.as_of_day,
      r.predicted_total,
      r.observed_to_date,
      r.model_version,
      r.predicted_at.getTime(),
    );
  }
  await lake.table(P.path).write(out.rowsFor(P.path));
  await lake.table(FLEET_PARTIALS.path).write(out.rowsFor(FLEET_PARTIALS.path));
}
after(async () => {
  for (const l of lakes) await l.close();
});

function prediction(meter: string, k: number, predicted: number) {
  return {
    meter_id: meter,
    kind: 'electricity',
    as_of_day: k,
    predicted_total: predicted,
    observed_to_date: predicted / 10,
    model_version: 1,
    predicted_at: new Date(Date.UTC(2013, 0, k + 1)),
    month: '2013-01',
  };
}

/** Same keys, values equal to 1e-9 (the fleet sums in meter order, SQL's sum in its own). */
function assertSameRows(a: { k: number; p: number; o: number }[], b: { k: number; p: number; o: number }[]) {
  assert.deepEqual(
    a.map((r) => r.k),
    b.map((r) => r.k),
  );
  a.forEach((r, i) => {
    assert.ok(
      Math.abs(r.p - b[i].p) < 1e-9 && Math.abs(r.o - b[i].o) < 1e-9,
      `k=${r.k}: ${JSON.stringify([r, b[i]])}`,
    );
  });
}

async function fleetRows(lake: Lake): Promise<{ k: number; p: number; o: number }[]> {
  const r = await lake.query(
    `SELECT as_of_day AS k, predicted_total AS p, observed_to_date AS o FROM meters_gold_predictions
     WHERE meter_id = '${FLEET_ID}' ORDER BY k`,
  );
  return r.rows.map((x) => ({ k: Number(x.k), p: Number(x.p), o: Number(x.o) }));
}

async function meterSums(lake: Lake): Promise<{ k: number; p: number; o: number }[]> {
  const r = await lake.query(
    `SELECT as_of_day AS k, sum(predicted_total) AS p, sum(observed_to_date) AS o FROM meters_gold_predictions
     WHERE meter_id <> '${FLEET_ID}' GROUP BY k ORDER BY k`,
  );
  return r.rows.map((x) => ({ k: Number(x.k), p: Number(x.p), o: Number(x.o) }));
}

test('fleet rows are the sums of the meter rows, replaced in place; only changed ones are returned', async () => {
  const lake = await freshLake();
  await writePredictions(lake, [prediction('A', 3, 100), prediction('B', 3, 50), prediction('A', 4, 110)]);
  const first = await rollUpFleet(lake, P.path, JAN);
  assert.deepEqual(
    first.map((r) => [r.as_of_day, r.predicted_total]),
    [
      [3, 150],
      [4, 110],
    ],
  );
  assertSameRows(await fleetRows(lake), await meterSums(lake));
  await writePredictions(lake, [prediction('B', 4, 40)]);
  const second = await rollUpFleet(lake, P.path, JAN);
  assert.deepEqual(
    second.map((r) => [r.as_of_day, r.predicted_total]),
    [[4, 150]],
  );
  assert.deepEqual(await fleetRows(lake), [
    { k: 3, p: 150, o: 15 },
    { k: 4, p: 150, o: 15 },
  ]);
  // nothing new: nothing changed, still one fleet row per key
  assert.deepEqual(await rollUpFleet(lake, P.path, JAN), []);
  assert.equal((await fleetRows(lake)).length, 2);
});

test('workers racing to write meter rows and roll up end with one fleet row per key, the sum of all', async () => {
  const lake = await freshLake();
  const workers = await Promise.all([1, 2, 3].map(() => Lake.open(lake.url)));
  lakes.push(...workers);
  await Promise.all(
    workers.map(async (w, i) => {
      for (let round = 0; round < 4; round++) {
        await writePredictions(w, [prediction(`M${i}-${round}`, 3 + (round % 2), 10 * (i + 1) + round)]);
        await rollUpFleet(w, P.path, JAN);
      }
    }),
  );
  const sums = await meterSums(lake);
  assert.equal(sums.length, 2);
  assertSameRows(await fleetRows(lake), sums);
});

test("a roll-up whose commit another worker's roll-up overtook reads again, so neither leaves its rows twice", async () => {
  const lake = await freshLake();
  await writePredictions(lake, [prediction('A', 3, 100)]);
  // Worker X computes the first fleet rows of January (A alone) and is held just before its commit …
  const x = holdNextCommit(await openStore(lake.url));
  const xLake = new Lake(x.store);
  lakes.push(xLake);
  const xDone = rollUpFleet(xLake, P.path, JAN);
  await x.reached;
  // … while worker Y adds B and commits the fleet rows of A + B.
  const y = await Lake.open(lake.url);
  lakes.push(y);
  await writePredictions(y, [prediction('B', 3, 50)]);
  await rollUpFleet(y, P.path, JAN);
  x.release();
  await xDone;
  assert.deepEqual(await fleetRows(lake), [{ k: 3, p: 150, o: 15 }]);
});

test('after a compaction merged fleet rows into meter files, a roll-up keeps every meter row and one fleet row per key', async () => {
  const lake = await freshLake();
  const t = lake.table(P.path);
  await writePredictions(lake, [prediction('A', 3, 100)]);
  await writePredictions(lake, [prediction('B', 3, 50)]);
  await rollUpFleet(lake, P.path, JAN);
  assert.equal((await t.optimize()).status, 'committed');
  const merged = (await t.snapshot()).files;
  assert.equal(merged.length, 1, 'the fleet file and the meter files are one file now');
  await writePredictions(lake, [prediction('C', 3, 25)]);
  await rollUpFleet(lake, P.path, JAN);
  assert.deepEqual(await fleetRows(lake), [{ k: 3, p: 175, o: 17.5 }]);
  const meters = await lake.query(
    `SELECT list(meter_id ORDER BY meter_id) AS m FROM meters_gold_predictions WHERE meter_id <> '${FLEET_ID}'`,
  );
  assert.deepEqual(meters.rows[0].m, ['A', 'B', 'C']);
});
