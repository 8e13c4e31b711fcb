// Issue 4 acceptance: a year of several households through the pipeline — one prediction per
// as_of_day from 3 to the last day of every complete meter-month, one outcome row each, and a
// model retrained mid-run picked up by the running worker without a restart.

import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { Lake } from '../../src/lake/index.ts';
import { datasetFromLake, loadConsumptionModel, stateAt } from '../../src/models/consumption/index.ts';
import type { ConsumptionModel } from '../../src/models/consumption/state.ts';
import { loadModelJson } from '../../src/models/registry.ts';
import { openTransport } from '../../src/transport/index.ts';
import { cli, freshEngines, requireData, startCli } from '../helpers/cli.ts';

const HOUSEHOLDS = 6;

/** Splits the London file into two gzipped halves (before and from July), for the first households. */
async function splitYear(file: string, dir: string): Promise<[string, string]> {
  const first: string[] = [];
  const second: string[] = [];
  const meters = new Set<string>();
  let header = '';
  for await (const line of createInterface({ input: createReadStream(file).pipe(createGunzip()) })) {
    if (!header) {
      header = line;
      continue;
    }
    const id = line.slice(0, line.indexOf(','));
    if (!meters.has(id)) {
      if (meters.size === HOUSEHOLDS) continue;
      meters.add(id);
    }
    (line.split(',')[1] < '2013-07-01' ? first : second).push(line);
  }
  const a = join(dir, 'h1.csv.gz');
  const b = join(dir, 'h2.csv.gz');
  await writeFile(a, gzipSync(`${header}\n${first.join('\n')}\n`));
  await writeFile(b, gzipSync(`${header}\n${second.join('\n')}\n`));
  return [a, b];
}

async function workerStatus(
  dir: string,
): Promise<{ read: number; model_version: number | null; committed_offsets: { offset: number }[] }[]> {
  const d = join(dir, 'lake', '_status', 'workers');
  const out = [];
  for (const f of (await readdir(d).catch(() => [])).filter((x) => x.endsWith('.json')))
    out.push(JSON.parse(await readFile(join(d, f), 'utf8')));
  return out;
}

async function until(what: string, check: () => Promise<boolean>, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('forecasting in the stream', () => {
  const london = requireData('meters/london/halfhourly_2013_20_households.csv.gz');
  const daily500 = requireData('meters/london/daily_500_households.csv.gz');
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;

  before(async () => {
    engines = await freshEngines();
    const [h1, h2] = await splitYear(london, engines.dir);
    await cli(['train', '--data', daily500, '--lake', engines.lake]);
    const worker = startCli(['stream', '--quiet', '--retrain', 'off', ...engines.flags]);
    try {
      await cli(['produce', '--source', 'london-halfhourly', '--file', h1, ...engines.produceFlags]);
      await until('the first half to be committed with model v1', async () => {
        const s = await workerStatus(engines.dir);
        return s.length === 1 && s[0].read > 0 && s[0].model_version === 1 && (await lagIsZero());
      });
      // Retrain on what the lake holds now, while the worker runs.
      await cli(['train', '--lake', engines.lake]);
      await until(
        'the worker to pick up model v2',
        async () => (await workerStatus(engines.dir))[0]?.model_version === 2,
      );
      await cli(['produce', '--source', 'london-halfhourly', '--file', h2, ...engines.produceFlags]);
      await until('the second half to be committed', lagIsZero);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('close', r));
    }
    lake = await Lake.open(engines.lake);

    async function lagIsZero(): Promise<boolean> {
      const r = await cli(['status', '--json', ...engines.flags]);
      const t = JSON.parse(r.stdout).topics.find((x: { topic: string }) => x.topic === 'meters.readings');
      return t !== undefined && t.end > 0 && t.lag === 0;
    }
  });
  after(async () => lake?.close());

  it('predicts every as_of_day from 3 to the last day of each complete meter-month, once', async () => {
    const months = await lake.query(
      'SELECT meter_id, month, days_in_month FROM meters_gold_monthly WHERE complete AND closed ORDER BY ALL',
      { maxRows: 10_000 },
    );
    assert.ok(months.rows.length >= HOUSEHOLDS * 10, `${months.rows.length} complete meter-months`);
    const preds = await lake.query(
      'SELECT meter_id, month, list(as_of_day ORDER BY as_of_day) AS ks FROM meters_gold_predictions GROUP BY ALL',
      { maxRows: 10_000 },
    );
    const byKey = new Map(
      preds.rows.map((r) => [`${r.meter_id}|${r.month}`, (r.ks as number[]).map(Number)]),
    );
    for (const m of months.rows) {
      const n = Number(m.days_in_month);
      assert.deepEqual(
        byKey.get(`${m.meter_id}|${m.month}`),
        Array.from({ length: n - 2 }, (_, i) => i + 3),
        `${m.meter_id} ${m.month}`,
      );
    }
  });

  it('records one outcome row per prediction of a closed month, with the actual total', async () => {
    const r = await lake.query(`
      SELECT count(*)::BIGINT AS n, count(o.meter_id)::BIGINT AS matched,
             max(abs(o.actual_total - m.value)) AS worst
      FROM meters_gold_predictions p
      JOIN meters_gold_monthly m USING (meter_id, month)
      LEFT JOIN meters_gold_prediction_outcomes o USING (meter_id, month, as_of_day)
      WHERE m.closed`);
    assert.ok(Number(r.rows[0].n) > 1000);
    assert.equal(Number(r.rows[0].matched), Number(r.rows[0].n));
    assert.ok(Number(r.rows[0].worst) < 1e-9);
    const dup = await lake.query(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT (meter_id, month, as_of_day))::BIGINT AS d FROM meters_gold_prediction_outcomes',
    );
    assert.equal(Number(dup.rows[0].n), Number(dup.rows[0].d));
  });

  it('predicted with the first model before the retrain and with the retrained one after it', async () => {
    const r = await lake.query(
      'SELECT month, list(DISTINCT model_version) AS versions FROM meters_gold_predictions GROUP BY month ORDER BY month',
    );
    const versions = new Map(r.rows.map((x) => [String(x.month), (x.versions as number[]).map(Number)]));
    for (const m of ['2013-01', '2013-02', '2013-03', '2013-04', '2013-05'])
      assert.deepEqual(versions.get(m), [1], m);
    for (const m of ['2013-07', '2013-08', '2013-09', '2013-10', '2013-11'])
      assert.deepEqual(versions.get(m), [2], m);
  });

  it('wrote every prediction bit for bit as the offline predictor gives it from the lake with the registered model', async () => {
    const data = await datasetFromLake(lake);
    const models = new Map<number, ConsumptionModel>();
    const r = await lake.query(
      "SELECT meter_id, month, as_of_day, predicted_total, model_version FROM meters_gold_predictions WHERE meter_id <> '__fleet__'",
      { maxRows: 100_000 },
    );
    assert.ok(r.rows.length > 1000, `${r.rows.length} predictions`);
    const holidayMonths = new Set<string>();
    for (const row of r.rows) {
      const v = Number(row.model_version);
      let model = models.get(v);
      if (!model) {
        const found = await loadModelJson(lake.store, 'consumption', v);
        model = loadConsumptionModel(found!.model, v);
        models.set(v, model);
      }
      const series = data.meters.get(String(row.meter_id))!;
      const month = String(row.month);
      const offline = model.predict(stateAt(series, month, Number(row.as_of_day)));
      assert.ok(
        Object.is(offline, Number(row.predicted_total)),
        `${row.meter_id} ${month} day ${row.as_of_day} v${v}: stream ${row.predicted_total}, offline ${offline}`,
      );
      if (series.holidays && [...series.holidays].some((d) => d.startsWith(month))) holidayMonths.add(month);
    }
    // the months with bank holidays were predicted knowing them (Easter Monday is in April 2013)
    assert.ok(holidayMonths.has('2013-04') && holidayMonths.has('2013-12'), [...holidayMonths].join(','));
  });

  it('stores the fleet total of every month and as_of_day: the sum over its meters, and at month close their outcome', async () => {
    for (const [view, cols] of [
      ['meters_gold_predictions', ['predicted_total', 'observed_to_date']],
      ['meters_gold_prediction_outcomes', ['predicted_total', 'actual_total']],
    ] as const) {
      const sums = cols.map((c) => `sum(${c}) AS ${c}`).join(', ');
      const r = await lake.query(
        `WITH m AS (SELECT kind, month, as_of_day, ${sums}, max(model_version) AS mv, count(*) AS n
                    FROM ${view} WHERE meter_id <> '__fleet__' GROUP BY ALL),
              f AS (SELECT * FROM ${view} WHERE meter_id = '__fleet__')
         SELECT count(m.month)::BIGINT AS keys, count(f.month)::BIGINT AS fleet_rows,
                (SELECT count(*) FROM f)::BIGINT AS all_fleet_rows,
                max(${cols.map((c) => `abs(f.${c} - m.${c})`).join(' + ')}) AS worst,
                bool_and(f.model_version = m.mv) AS versions
         FROM m LEFT JOIN f USING (kind, month, as_of_day)`,
      );
      const row = r.rows[0];
      assert.ok(Number(row.keys) > 300, `${view}: ${row.keys} (month, as_of_day) keys`);
      assert.equal(Number(row.fleet_rows), Number(row.keys), `${view}: one fleet row per key`);
      assert.equal(Number(row.all_fleet_rows), Number(row.keys), `${view}: no fleet row without meters`);
      assert.ok(Number(row.worst) < 1e-6, `${view}: fleet rows differ from the sums by ${row.worst}`);
      assert.equal(row.versions, true);
    }
    const ape = await lake.query(
      `SELECT max(abs(ape - abs(error) / actual_total * 100)) AS worst FROM meters_gold_prediction_outcomes
       WHERE meter_id = '__fleet__'`,
    );
    assert.ok(Number(ape.rows[0].worst) < 1e-9);
  });

  it('sends the fleet total to the predictions topic, its latest value per key being the stored row', async () => {
    const transport = await openTransport(engines.transport);
    const latest = new Map<string, number>();
    try {
      const consumer = await transport.consumer({ group: 'fleet-check', topics: ['meters.predictions'] });
      const ends = await transport.endOffsets('meters.predictions');
      const total = ends.reduce((a, e) => a + e.offset, 0);
      let read = 0;
      const deadline = Date.now() + 60_000;
      while (read < total && Date.now() < deadline) {
        const msgs = await consumer.poll(10_000, 1000);
        read += msgs.length;
        for (const m of msgs) {
          if (m.key !== '__fleet__') continue;
          const v = JSON.parse(Buffer.from(m.value).toString('utf8'));
          latest.set(`${v.kind}|${v.month}|${v.as_of_day}`, v.predicted_total);
        }
      }
      await consumer.close();
    } finally {
      await transport.close();
    }
    const r = await lake.query(
      "SELECT kind, month, as_of_day, predicted_total FROM meters_gold_predictions WHERE meter_id = '__fleet__'",
      { maxRows: 10_000 },
    );
    assert.equal(latest.size, r.rows.length);
    for (const row of r.rows) {
      const sent = latest.get(`${row.kind}|${row.month}|${row.as_of_day}`);
      assert.ok(
        sent !== undefined && Math.abs(sent - Number(row.predicted_total)) < 1e-9,
        `${row.month} ${row.as_of_day}`,
      );
    }
  });
});
