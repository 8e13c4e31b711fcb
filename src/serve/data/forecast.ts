// The forecast page's data: a month's prediction trajectory against the actual total and the baselines,
// accuracy by as_of_day against the baselines, and the latest predictions.

import { FLEET_ID } from '../../domain/meters/tables.ts';
import { blend, runRate } from '../../models/consumption/baselines.ts';
import type { MeterMonthState } from '../../models/consumption/state.ts';
import { loadModelJson } from '../../models/registry.ts';
import type { ObjectStore } from '../../storage/index.ts';
import { HttpError } from '../http.ts';
import { type LakeReader, num, numOrNull } from '../lake-reader.ts';
import * as v from '../validate.ts';
import { mergedRelation, type ServedFrom, servedFrom } from './batch-view.ts';
import { type Catalog, DAILY, KINDS, type Kind, MONTHLY, OUTCOMES, PREDICTIONS } from './catalog.ts';
import { dialectOf } from './dialect.ts';

export interface ForecastMonth {
  meter: string;
  kind: Kind;
  unit: string;
  month: string;
  months: string[];
  daysInMonth: number;
  /** the month's total from gold monthly (null until any day is known); closed = the month is over */
  actual: { total: number; closed: boolean; complete: boolean } | null;
  /** per day of the month: the day's total (null when missing) */
  daily: (number | null)[];
  /** one point per as_of_day: the latest prediction made that day */
  predictions: {
    as_of_day: number;
    predicted_total: number;
    observed_to_date: number;
    model_version: number;
  }[];
  /** the baselines' month total at each as_of_day with a prediction */
  baselines: { as_of_day: number; runrate: number; blend: number }[];
  /** each model version the predictions came from, with the data it was trained on (version 0: the blend) */
  models: ModelTraining[];
  /** where the days and the month's total were read: the batch view up to its mark and the stream after it */
  source: { daily: ServedFrom; monthly: ServedFrom };
}

export interface ModelTraining {
  version: number;
  /** months of the training data, first and last, and how many meter-months; null for the blend baseline */
  trained_on: { first_month: string | null; last_month: string | null; meter_months: number } | null;
  /** meters left out of training and why (the demo leaves out the households it replays) */
  held_out: { meters: number; why: string } | null;
}

/** What the registry says each version was trained on (metrics.json). */
async function modelTraining(store: ObjectStore, versions: number[]): Promise<ModelTraining[]> {
  const out: ModelTraining[] = [];
  for (const version of versions) {
    const found = version > 0 ? await loadModelJson(store, 'consumption', version) : undefined;
    const m = found?.metrics as
      | {
          trainedOn?: { firstMonth?: string; lastMonth?: string; meterMonths?: number };
          heldOut?: { meters: number; why: string };
        }
      | undefined;
    out.push({
      version,
      trained_on: m?.trainedOn
        ? {
            first_month: m.trainedOn.firstMonth ?? null,
            last_month: m.trainedOn.lastMonth ?? null,
            meter_months: m.trainedOn.meterMonths ?? 0,
          }
        : null,
      held_out: m?.heldOut ?? null,
    });
  }
  return out;
}

function daysIn(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function prevMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7);
}

function meterParam(q: URLSearchParams): string | undefined {
  const m = v.meterId(q, 'meter');
  return m === 'fleet' ? FLEET_ID : m;
}

export async function forecastMonth(
  lake: LakeReader,
  catalog: Catalog,
  q: URLSearchParams,
): Promise<ForecastMonth> {
  v.onlyParams(q, ['meter', 'kind', 'month']);
  const kind = v.oneOf(q, 'kind', KINDS, 'electricity');
  let month = v.month(q, 'month');
  if (!(await catalog.hasView(PREDICTIONS)))
    throw new HttpError(404, 'the lake has no predictions yet', 'month');
  // Without a meter: the fleet.
  const meter = meterParam(q) ?? FLEET_ID;
  const unit = meter === FLEET_ID ? '' : (await catalog.bounds({ type: 'meter', id: meter }, kind)).unit;
  const k = v.lit(kind);
  // The fleet: its own rows when the pipeline writes them, else the sum over its meters (the README's rule).
  const ownFleetRows =
    meter === FLEET_ID &&
    (
      await lake.query(
        `SELECT 1 AS x FROM ${PREDICTIONS} WHERE meter_id = ${v.lit(FLEET_ID)} AND kind = ${k} LIMIT 1`,
      )
    ).rows.length > 0;
  const summed = meter === FLEET_ID && !ownFleetRows;
  const everyMeter = `meter_id <> ${v.lit(FLEET_ID)} AND kind = ${k}`;
  const where = summed ? everyMeter : `meter_id = ${v.lit(meter)} AND kind = ${k}`;
  // The fleet's days and months are always the sum over its meters (the stream stores fleet rows
  // of predictions and outcomes only).
  const valuesWhere = meter === FLEET_ID ? everyMeter : where;
  const monthsRows = await lake.query(
    `SELECT DISTINCT month FROM ${PREDICTIONS} WHERE ${where} ORDER BY month`,
  );
  const months = monthsRows.rows.map((r) => String(r.month));
  if (months.length === 0)
    throw new HttpError(
      404,
      `no predictions for ${meter === FLEET_ID ? 'the fleet' : meter} (${kind})`,
      'meter',
    );
  month ??= months[months.length - 1];
  if (!months.includes(month))
    throw new HttpError(
      404,
      `no predictions for ${month}; months with predictions: ${months.join(', ')}`,
      'month',
    );
  const dim = daysIn(month);
  const m = v.lit(month);

  const source = { daily: await servedFrom(lake, 'daily'), monthly: await servedFrom(lake, 'monthly') };
  const dailyOf = (rel: string) =>
    lake.query(
      `SELECT day, sum(value) AS value, bool_and(complete) AS complete, any_value(unit) AS unit
       FROM ${rel} WHERE ${valuesWhere} AND month = ${m} GROUP BY day ORDER BY day`,
    );
  const [preds, monthly, daily, seen, prev] = await Promise.all([
    lake.query(
      `SELECT as_of_day, sum(p) AS p, sum(o) AS o, max(mv) AS mv FROM (
         SELECT meter_id, as_of_day, max_by(predicted_total, predicted_at) AS p,
                max_by(observed_to_date, predicted_at) AS o, max_by(model_version, predicted_at) AS mv
         FROM ${PREDICTIONS} WHERE ${where} AND month = ${m} GROUP BY meter_id, as_of_day)
       GROUP BY as_of_day ORDER BY as_of_day`,
    ),
    (await catalog.hasView(MONTHLY))
      ? lake.query(
          `SELECT sum(value) AS value, bool_and(closed) AS closed, bool_and(complete) AS complete, any_value(unit) AS unit
           FROM ${mergedRelation('monthly', source.monthly)} WHERE ${valuesWhere} AND month = ${m} HAVING count(*) > 0`,
        )
      : Promise.resolve({ columns: [], rows: [] }),
    // the days as the batch view completed them, for the bars …
    dailyOf(mergedRelation('daily', source.daily)),
    // … and as the stream had them, which the model and so the baselines saw
    source.daily.tables === 'stream' ? undefined : dailyOf(DAILY),
    lake.query(
      `SELECT avg(value) FILTER (WHERE complete) AS mean FROM (
         SELECT day, sum(value) AS value, bool_and(complete) AS complete
         FROM ${DAILY} WHERE ${valuesWhere} AND month = ${v.lit(prevMonth(month))} GROUP BY day)`,
    ),
  ]);
  const dayValues: (number | null)[] = Array.from({ length: dim }, () => null);
  const completeDays: (number | null)[] = Array.from({ length: dim }, () => null);
  for (const r of daily.rows) dayValues[Number(String(r.day).slice(8, 10)) - 1] = num(r.value);
  for (const r of (seen ?? daily).rows)
    completeDays[Number(String(r.day).slice(8, 10)) - 1] = r.complete === true ? num(r.value) : null;
  const prevMean = numOrNull(prev.rows[0]?.mean) ?? undefined;
  const predictions = preds.rows.map((r) => ({
    as_of_day: num(r.as_of_day),
    predicted_total: num(r.p),
    observed_to_date: num(r.o),
    model_version: num(r.mv),
  }));
  // The baselines see what the model saw: the complete days 1..k (shared/data/README.md's definitions).
  const baselines = predictions.map((p) => {
    const state: MeterMonthState = {
      meterId: meter,
      month,
      daysInMonth: dim,
      daily: completeDays.slice(0, p.as_of_day),
      prevMonthDailyMean: prevMean,
    };
    return { as_of_day: p.as_of_day, runrate: runRate(state), blend: blend(state) };
  });
  const total = monthly.rows[0];
  return {
    meter: meter === FLEET_ID ? 'fleet' : meter,
    kind,
    unit: unit || String(total?.unit ?? daily.rows[0]?.unit ?? ''),
    month,
    months,
    daysInMonth: dim,
    actual: total
      ? { total: num(total.value), closed: total.closed === true, complete: total.complete === true }
      : null,
    daily: dayValues,
    predictions,
    baselines,
    models: await modelTraining(
      lake.store,
      [...new Set(predictions.map((p) => p.model_version))].sort((a, b) => a - b),
    ),
    source,
  };
}

export interface AccuracyRow {
  as_of_day: number;
  /** meter-months scored at this as_of_day */
  n: number;
  /** mean absolute percentage error, % */
  model: number | null;
  runrate: number | null;
  blend: number | null;
}

/**
 * MAPE by as_of_day over closed months (gold prediction_outcomes), the baselines scored on the same
 * meter-months from gold daily. The SQL mirrors src/models/consumption/baselines.ts: observed = complete
 * days 1..k; run-rate = mean × days; blend = observed + remaining × mean(run-rate mean, last month's mean).
 */
/** GET /api/forecast/accuracy: MAPE by as_of_day for a kind and a scope ('meters', 'fleet' or a meter id). */
export interface Accuracy {
  kind: Kind;
  scope: string;
  rows: AccuracyRow[];
}

export async function accuracy(lake: LakeReader, catalog: Catalog, q: URLSearchParams): Promise<Accuracy> {
  v.onlyParams(q, ['kind', 'scope']);
  const kind = v.oneOf(q, 'kind', KINDS, 'electricity');
  const scope = q.get('scope') ?? 'meters';
  let scopeWhere: string;
  if (scope === 'meters') scopeWhere = `meter_id <> ${v.lit(FLEET_ID)}`;
  else if (scope === 'fleet') scopeWhere = `meter_id = ${v.lit(FLEET_ID)}`;
  else {
    const id = v.meterId(q, 'scope')!;
    await catalog.bounds({ type: 'meter', id }, kind);
    scopeWhere = `meter_id = ${v.lit(id)}`;
  }
  if (!(await catalog.hasView(OUTCOMES))) return { kind, scope, rows: [] };
  const k = v.lit(kind);
  const sqlOf = dialectOf(lake);
  // The fleet's days: the sum over its meters, as one meter FLEET_ID.
  const daily =
    scope === 'fleet'
      ? `(SELECT ${v.lit(FLEET_ID)} AS meter_id, kind, month, day, sum(value) AS value, bool_and(complete) AS complete
          FROM ${DAILY} WHERE meter_id <> ${v.lit(FLEET_ID)} GROUP BY kind, month, day)`
      : DAILY;
  const r = await lake.query(
    `WITH o AS (
       SELECT meter_id, month, as_of_day, any_value(actual_total) AS actual, avg(ape) AS ape
       FROM ${OUTCOMES} WHERE kind = ${k} AND ${scopeWhere} GROUP BY ALL),
     d AS (
       SELECT meter_id, month, CAST(right(day, 2) AS INTEGER) AS dom, CASE WHEN complete THEN value END AS v
       FROM ${daily} WHERE kind = ${k} AND ${scopeWhere} AND month IN (SELECT DISTINCT month FROM o)),
     pm AS (
       SELECT meter_id, ${sqlOf.text(sqlOf.addMonths("CAST(month || '-01' AS DATE)", 1), 'month')} AS month,
              avg(value) FILTER (WHERE complete) AS prev_mean
       FROM ${daily} WHERE kind = ${k} AND ${scopeWhere} GROUP BY ALL),
     obs AS (
       SELECT o.meter_id, o.month, o.as_of_day, o.actual, o.ape, sum(d.v) AS s, count(d.v) AS n
       FROM o LEFT JOIN d ON d.meter_id = o.meter_id AND d.month = o.month AND d.dom <= o.as_of_day GROUP BY ALL),
     b AS (
       SELECT obs.*, dayofmonth(last_day(CAST(obs.month || '-01' AS DATE))) AS dim, pm.prev_mean
       FROM obs LEFT JOIN pm ON pm.meter_id = obs.meter_id AND pm.month = obs.month),
     e AS (
       SELECT *,
         CASE WHEN n > 0 THEN s / n * dim ELSE coalesce(prev_mean * dim, 0) END AS rr,
         CASE WHEN n > 0 THEN s + (dim - n) * (CASE WHEN prev_mean IS NULL THEN s / n ELSE (s / n + prev_mean) / 2 END)
              ELSE coalesce(prev_mean * dim, 0) END AS bl
       FROM b)
     SELECT as_of_day, count(*) AS n, avg(ape) AS model,
       avg(abs(rr - actual) / actual * 100) FILTER (WHERE actual > 0) AS runrate,
       avg(abs(bl - actual) / actual * 100) FILTER (WHERE actual > 0) AS blend
     FROM e GROUP BY as_of_day ORDER BY as_of_day`,
    { timeoutMs: 15_000 },
  );
  return {
    kind,
    scope,
    rows: r.rows.map((row) => ({
      as_of_day: num(row.as_of_day),
      n: num(row.n),
      model: numOrNull(row.model),
      runrate: numOrNull(row.runrate),
      blend: numOrNull(row.blend),
    })),
  };
}

/** GET /api/predictions/latest: the newest predictions, newest first. */
export interface LatestPredictions {
  rows: {
    /** 'fleet' for the fleet's rows */
    meter_id: string;
    kind: string;
    month: string;
    as_of_day: number;
    predicted_total: number;
    observed_to_date: number;
    model_version: number;
    predicted_at: string;
  }[];
}

export async function latestPredictions(
  lake: LakeReader,
  catalog: Catalog,
  q: URLSearchParams,
): Promise<LatestPredictions> {
  v.onlyParams(q, ['limit', 'kind']);
  const limit = v.int(q, 'limit', 50, 1, 500);
  const kind = q.has('kind') ? v.oneOf(q, 'kind', KINDS, 'electricity') : undefined;
  if (!(await catalog.hasView(PREDICTIONS))) return { rows: [] };
  const r = await lake.query(
    `SELECT meter_id, kind, month, as_of_day, predicted_total, observed_to_date, model_version,
            ${dialectOf(lake).text('predicted_at', 'second')} AS predicted_at
     FROM ${PREDICTIONS} ${kind ? `WHERE kind = ${v.lit(kind)}` : ''}
     ORDER BY predicted_at DESC, month DESC, as_of_day DESC, meter_id LIMIT ${limit}`,
  );
  return {
    rows: r.rows.map((row) => ({
      meter_id: row.meter_id === FLEET_ID ? 'fleet' : String(row.meter_id),
      kind: String(row.kind),
      month: String(row.month),
      as_of_day: num(row.as_of_day),
      predicted_total: num(row.predicted_total),
      observed_to_date: num(row.observed_to_date),
      model_version: num(row.model_version),
      predicted_at: String(row.predicted_at),
    })),
  };
}
