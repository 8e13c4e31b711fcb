// Training from the lake: `lakestream train` reads meters/gold/daily (a real Delta table) and registers a model.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FLEET_ID, METER_TABLES } from '../../src/domain/meters/tables.ts';
import { Lake } from '../../src/lake/index.ts';
import { daysInMonth } from '../../src/models/consumption/calendar.ts';
import { datasetFromLake, loadConsumptionModel, trainFromLake } from '../../src/models/consumption/index.ts';
import { loadModelJson } from '../../src/models/registry.ts';

/** Three meters over four months; day 5 of February is incomplete for m2; the fleet's rows must be ignored. */
function dailyRows() {
  const rows: Record<string, unknown>[] = [];
  for (const month of ['2013-01', '2013-02', '2013-03', '2013-04'])
    for (let d = 1; d <= daysInMonth(month); d++) {
      const day = `${month}-${String(d).padStart(2, '0')}`;
      const weekend = new Date(`${day}T00:00:00Z`).getUTCDay() % 6 === 0;
      let fleet = 0;
      for (const [id, level] of [
        ['m1', 8],
        ['m2', 12],
        ['m3', 20],
      ] as const) {
        const value = level * (weekend ? 1.2 : 1);
        const complete = !(id === 'm2' && day === '2013-02-05');
        fleet += value;
        rows.push(row(id, day, complete ? value : value / 2, complete, id === 'm1' ? 'ToU' : 'Std'));
      }
      rows.push(row(FLEET_ID, day, fleet * 1000, true, null));
    }
  return rows;
}

function row(meter: string, day: string, value: number, complete: boolean, tariff: string | null) {
  return {
    meter_id: meter,
    kind: 'electricity',
    day,
    value,
    unit: 'kWh',
    n_readings: complete ? 48 : 24,
    expected_readings: 48,
    complete,
    closed: true,
    tariff,
    acorn_group: null,
    month: day.slice(0, 7),
  };
}

function silverRow(meter: string, day: string, holiday: boolean | null) {
  return {
    meter_id: meter,
    kind: 'electricity',
    hour: Date.parse(`${day}T10:00:00Z`),
    value: 1,
    unit: 'kWh',
    n_readings: 2,
    day,
    local_hour: 10,
    weekday: new Date(`${day}T00:00:00Z`).getUTCDay(),
    is_holiday: holiday,
    tariff: null,
    acorn: null,
    acorn_group: null,
    sample: false,
    month: day.slice(0, 7),
  };
}

test('trains from meters/gold/daily on complete days of real meters with the holidays silver flagged, and the CLI registers it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-train-lake-'));
  const url = `file:${join(dir, 'lake')}`;
  const lake = await Lake.open(url);
  try {
    const table = lake.table(METER_TABLES.daily.path);
    await table.create({
      schema: METER_TABLES.daily.schema.map((c) => ({ ...c })),
      partitionColumns: [...METER_TABLES.daily.partitionColumns],
    });
    await table.write(dailyRows());
    const silver = lake.table(METER_TABLES.silver.path);
    await silver.create({
      schema: METER_TABLES.silver.schema.map((c) => ({ ...c })),
      partitionColumns: [...METER_TABLES.silver.partitionColumns],
    });
    // silver says which days were holidays for which meter (m3's calendar is unknown: null)
    await silver.write([
      silverRow('m1', '2013-04-01', true),
      silverRow('m1', '2013-04-02', false),
      silverRow('m2', '2013-04-01', true),
      silverRow('m3', '2013-04-01', null),
    ]);
    const data = await datasetFromLake(lake);
    assert.deepEqual([...(data.meters.get('m1')!.holidays ?? [])], ['2013-04-01']);
    assert.deepEqual([...(data.meters.get('m3')!.holidays ?? [])], []);
    const { model, metrics } = await trainFromLake(lake);
    // m2's February has an incomplete day, so 3 × 4 − 1 meter-months; the fleet is not a meter
    assert.equal(model.trainedOn.meterMonths, 11);
    assert.equal((metrics as { meters: number }).meters, 3);
    const m = loadConsumptionModel(model, 1);
    const may = Array.from({ length: 10 }, () => 10);
    const predicted = m.predict({
      meterId: 'm9',
      month: '2013-05',
      daysInMonth: 31,
      daily: may,
      prevMonthDailyMean: 10,
    });
    assert.ok(predicted > 280 && predicted < 340, `a steady 10 kWh/day meter: ${predicted}`);
  } finally {
    await lake.close();
  }
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'train', '--lake', url], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /registered consumption v1/);
  const reopened = await Lake.open(url);
  try {
    const saved = await loadModelJson(reopened.store, 'consumption');
    assert.equal(saved?.version, 1);
    assert.equal((saved!.model as { kind: string }).kind, 'consumption-lad-v1');
  } finally {
    await reopened.close();
  }
});

test('training from a lake without the daily table says what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-train-empty-'));
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'train', '--lake', `file:${dir}`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no meters\/gold\/daily table/);
});
