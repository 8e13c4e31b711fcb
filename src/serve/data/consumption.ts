// GET /api/consumption: one meter, a group or the fleet, over a range, at a granularity that fits the range.

import { METER_TABLES } from '../../domain/meters/tables.ts';
import { badParam, HttpError } from '../http.ts';
import type { LakeReader } from '../lake-reader.ts';
import { num, viewName } from '../lake-reader.ts';
import * as v from '../validate.ts';
import { mergedRelation, type ServedFrom, servedFrom } from './batch-view.ts';
import { type Catalog, KINDS, type Kind, SILVER, type Target, targetLabel, targetWhere } from './catalog.ts';
import { dialectOf } from './dialect.ts';

export const GRANULARITIES = ['auto', 'hour', 'day', 'week', 'month'] as const;
export type Granularity = Exclude<(typeof GRANULARITIES)[number], 'auto'>;

/** Caps that keep one request cheap: any range ≤ 10 years; hourly ≤ 92 days (≈ 2,200 points per series). */
export const MAX_RANGE_DAYS = 3653;
export const MAX_HOURLY_DAYS = 92;

export interface ConsumptionSeries {
  target: { type: Target['type']; id: string; label: string };
  kind: Kind;
  unit: string;
  granularity: Granularity;
  from: string;
  to: string;
  /** first and last day with data for the target */
  bounds: { first: string; last: string };
  /** period starts, seconds since the epoch (UTC) */
  x: number[];
  /** consumption in each period (kWh or L) */
  y: number[];
  /** every day (or hour) of the period was complete */
  complete: boolean[];
  /** the batch view's days (hourly or daily) and the stream's after them, or the stream's alone */
  source: ServedFrom;
}

/** The granularity 'auto' picks: hourly up to a month, daily up to a year, weekly up to 3 years, monthly beyond. */
export function autoGranularity(days: number): Granularity {
  if (days <= 35) return 'hour';
  if (days <= 400) return 'day';
  if (days <= 1100) return 'week';
  return 'month';
}

export function parseTarget(q: URLSearchParams): Target {
  const meter = v.meterId(q, 'meter');
  const group = q.get('group');
  const fleet = q.has('fleet');
  const given = [meter !== undefined, group !== null, fleet].filter(Boolean).length;
  if (given > 1) throw badParam('meter', 'give only one of meter, group, fleet');
  if (meter !== undefined) return { type: 'meter', id: meter };
  if (group !== null) {
    const m = /^(tariff|acorn):([A-Za-z0-9_ .-]{1,40})$/.exec(group);
    if (!m) throw badParam('group', `must be tariff:VALUE or acorn:VALUE, got "${group.slice(0, 60)}"`);
    return { type: 'group', dimension: m[1] as 'tariff' | 'acorn', value: m[2] };
  }
  return { type: 'fleet' };
}

export async function consumption(
  lake: LakeReader,
  catalog: Catalog,
  q: URLSearchParams,
): Promise<ConsumptionSeries> {
  v.onlyParams(q, ['meter', 'group', 'fleet', 'kind', 'from', 'to', 'granularity']);
  const target = parseTarget(q);
  const kind = v.oneOf(q, 'kind', KINDS, 'electricity');
  const gParam = v.oneOf(q, 'granularity', GRANULARITIES, 'auto');
  let from = v.day(q, 'from');
  let to = v.day(q, 'to');
  if (from && to && from > to)
    throw badParam('from', `the range is inverted: from ${from} is after to ${to}`);
  const bounds = await catalog.bounds(target, kind);
  // Missing ends default to the latest year of data.
  to ??= from ? v.addDays(from, 364) : bounds.last;
  from ??= v.addDays(to, -364);
  const days = v.daysBetween(from, to);
  if (days > MAX_RANGE_DAYS)
    throw badParam('to', `the range ${from}..${to} is ${days} days; at most ${MAX_RANGE_DAYS} (10 years)`);
  const granularity = gParam === 'auto' ? autoGranularity(days) : gParam;
  if (granularity === 'hour' && days > MAX_HOURLY_DAYS)
    throw badParam(
      'granularity',
      `hourly series cover at most ${MAX_HOURLY_DAYS} days; ${from}..${to} is ${days} (use day)`,
    );

  const sqlOf = dialectOf(lake);
  const range = `day BETWEEN ${v.lit(from)} AND ${v.lit(to)}`;
  let sql: string;
  let source: ServedFrom;
  if (granularity === 'hour') {
    if (!(await catalog.hasView(SILVER)))
      throw new HttpError(404, 'the lake has no hourly (silver) readings yet', 'granularity');
    source = await servedFrom(lake, 'hourly');
    // Silver and its batch twin are partitioned by month: read only the months in range.
    const scan = async (path: string) =>
      (lake.prunedScan && (await lake.prunedScan(path, 'month', from.slice(0, 7), to.slice(0, 7)))) ||
      (lake.prunedScan ? `(SELECT * FROM ${viewName(path)} WHERE 1 = 0)` : viewName(path));
    const rel = mergedRelation('hourly', source, {
      stream: await scan(METER_TABLES.silver.path),
      batch: source.tables === 'stream' ? undefined : await scan(source.batch_table),
    });
    sql = `SELECT ${sqlOf.text('hour', 'hour')} AS t, sum(value) AS v, bool_and(n_readings > 0) AS c
         FROM ${rel} WHERE kind = ${v.lit(kind)} AND ${range} AND ${targetWhere(target, false)}
         GROUP BY 1 ORDER BY 1`;
  } else {
    const period =
      granularity === 'day' ? 'CAST(day AS DATE)' : `date_trunc('${granularity}', CAST(day AS DATE))`;
    source = await servedFrom(lake, 'daily');
    // merged, the fleet is the sum of its meters' rows (the batch view has no fleet rows)
    const stored = source.tables === 'stream' && bounds.stored;
    sql = `SELECT ${sqlOf.text(period, 'day')} AS t, sum(value) AS v, bool_and(complete) AS c
           FROM ${mergedRelation('daily', source)} WHERE kind = ${v.lit(kind)} AND ${range} AND ${targetWhere(target, stored)}
           GROUP BY 1 ORDER BY 1`;
  }
  const r = await lake.query(sql, { timeoutMs: 10_000 });
  const x: number[] = [];
  const y: number[] = [];
  const complete: boolean[] = [];
  for (const row of r.rows) {
    const t = String(row.t);
    x.push(Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t) / 1000);
    y.push(num(row.v));
    complete.push(row.c === true);
  }
  const id =
    target.type === 'meter'
      ? target.id
      : target.type === 'group'
        ? `${target.dimension}:${target.value}`
        : 'fleet';
  return {
    target: { type: target.type, id, label: targetLabel(target) },
    kind,
    unit: bounds.unit,
    granularity,
    from,
    to,
    bounds: { first: bounds.first, last: bounds.last },
    source,
    x,
    y,
    complete,
  };
}
