// Training entry points with I/O: from a daily file (London or UCI format) or from the lake's gold daily table.

import { FLEET_ID } from '../../domain/meters/tables.ts';
import { LakestreamError } from '../../errors.ts';
import type { Lake } from '../../lake/index.ts';
import { isIsoDate } from './calendar.ts';
import { type DailyFormat, readDailyFile } from './daily-file.ts';
import { type DailyDataset, DatasetBuilder } from './dataset.ts';
import { closedMonthsOf, scoreModel } from './evaluate.ts';
import { attachLondonMetadata } from './metadata.ts';
import { type ConsumptionModelJson, loadConsumptionModel, trainConsumptionModel } from './model.ts';

export interface TrainOptions {
  lambda?: number;
  format?: DailyFormat;
  /** progress lines (stderr in the CLI) */
  log?: (line: string) => void;
  /** meters left out of training (e.g. those a demo replays, so that its accuracy is out of sample), and why */
  heldOut?: { meters: ReadonlySet<string>; why: string };
}

export interface TrainResult {
  model: ConsumptionModelJson;
  metrics: object;
}

/** Fits on every complete month of the dataset; metrics are the in-sample scores (the backtest is `model evaluate`). */
export function trainOnDataset(data: DailyDataset, opts: TrainOptions = {}): TrainResult {
  const started = Date.now();
  let heldOut: { meters: number; why: string } | undefined;
  if (opts.heldOut) {
    let n = 0;
    for (const id of opts.heldOut.meters) if (data.meters.delete(id)) n++;
    heldOut = { meters: n, why: opts.heldOut.why };
    opts.log?.(`left out ${n} meters: ${opts.heldOut.why}`);
  }
  const months = closedMonthsOf(data);
  if (months.length === 0)
    throw new LakestreamError(
      'BAD_INPUT',
      `${data.source}: no complete month to train on (a month with every day complete)`,
    );
  opts.log?.(`training on ${months.length} complete meter-months of ${data.meters.size} meters`);
  const model = trainConsumptionModel(months, { lambda: opts.lambda });
  const seconds = (Date.now() - started) / 1000;
  const score = scoreModel(data, loadConsumptionModel(model, 0));
  return {
    model,
    metrics: {
      data: data.source,
      meters: data.meters.size,
      meterMonths: months.length,
      trainedOn: model.trainedOn,
      ...(heldOut ? { heldOut } : {}),
      trainSeconds: seconds,
      inSample: score.results,
      createdAt: new Date().toISOString(),
    },
  };
}

export async function trainFromDailyFile(path: string, opts: TrainOptions = {}): Promise<TrainResult> {
  opts.log?.(`reading ${path}`);
  const data = await readDailyFile(path, {
    format: opts.format,
    onProgress: (n) => opts.log?.(`  ${n.toLocaleString('en')} lines`),
  });
  await attachLondonMetadata(data, path);
  return trainOnDataset(data, opts);
}

/**
 * Reads meters_gold_daily (complete days, not the fleet) from the lake into a dataset, each meter with
 * the holidays silver flagged for it: the calendar the stream applied (holidays.ts), so a retrain sees
 * the days as the stream saw them. Every day of a complete month is in silver, so its holidays are all there.
 */
export async function datasetFromLake(lake: Lake): Promise<DailyDataset> {
  const source = `${lake.url} meters/gold/daily`;
  const result = await lake.query(
    `SELECT meter_id, day, value, tariff, acorn_group FROM meters_gold_daily
     WHERE complete AND meter_id <> '${FLEET_ID}' ORDER BY meter_id, day`,
    { maxRows: 50_000_000 },
  );
  const b = new DatasetBuilder(source);
  const meta = new Map<string, { tariff?: string; acornGroup?: string }>();
  result.rows.forEach((r, i) => {
    const id = String(r.meter_id);
    const day = String(r.day);
    const value = Number(r.value);
    if (!isIsoDate(day) || !Number.isFinite(value))
      throw new LakestreamError(
        'CORRUPT_TABLE',
        `${source}: row ${i + 1} (meter ${id}) has day "${day}", value ${r.value}`,
      );
    b.add(id, day, value, true, `${source} row ${i + 1}`);
    if (r.tariff != null || r.acorn_group != null)
      meta.set(id, {
        tariff: r.tariff == null ? undefined : String(r.tariff),
        acornGroup: r.acorn_group == null ? undefined : String(r.acorn_group),
      });
  });
  const data = b.build();
  for (const [id, m] of meta) Object.assign(data.meters.get(id)!, m);
  // a lake of gold daily alone (a bench's) has no silver: its meters have no holidays, as in the SQL trainer
  const holidays = (await lake.table('meters/silver/readings').exists())
    ? await lake.query(
        `SELECT DISTINCT meter_id, day FROM meters_silver_readings WHERE is_holiday AND meter_id <> '${FLEET_ID}'`,
        { maxRows: 50_000_000 },
      )
    : { rows: [] };
  for (const r of holidays.rows) {
    const s = data.meters.get(String(r.meter_id));
    if (!s) continue;
    const set = (s.holidays ?? new Set<string>()) as Set<string>;
    set.add(String(r.day));
    s.holidays = set;
  }
  // a meter silver flagged no holiday for has none (an unknown calendar counts as none, as in the stream)
  for (const s of data.meters.values()) s.holidays ??= new Set();
  return data;
}

export async function trainFromLake(lake: Lake, opts: TrainOptions = {}): Promise<TrainResult> {
  opts.log?.(`reading meters_gold_daily from ${lake.url}`);
  let data: DailyDataset;
  try {
    data = await datasetFromLake(lake);
  } catch (e) {
    if (
      e instanceof LakestreamError &&
      (e.code === 'BAD_ARGUMENT' || e.code === 'NOT_FOUND') &&
      /meters_gold_daily/.test(e.message)
    )
      throw new LakestreamError(
        'NOT_FOUND',
        `${lake.url}: no meters/gold/daily table yet — stream some readings first`,
        { cause: e },
      );
    throw e;
  }
  return trainOnDataset(data, opts);
}
