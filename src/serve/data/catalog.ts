// The meters and groups the lake knows (from gold daily), cached: for the pickers and to answer "unknown meter" with 404.

import { FLEET_ID, METER_TABLES } from '../../domain/meters/tables.ts';
import { HttpError } from '../http.ts';
import { type LakeReader, num, viewName } from '../lake-reader.ts';
import { lit } from '../validate.ts';
import { TtlCache } from './cache.ts';

export const DAILY = viewName(METER_TABLES.daily.path);
export const SILVER = viewName(METER_TABLES.silver.path);
export const MONTHLY = viewName(METER_TABLES.monthly.path);
export const PREDICTIONS = viewName(METER_TABLES.predictions.path);
export const OUTCOMES = viewName(METER_TABLES.outcomes.path);
export const QUARANTINE = viewName(METER_TABLES.quarantine.path);

export type Kind = 'electricity' | 'water';
export const KINDS: readonly Kind[] = ['electricity', 'water'];

export interface MeterInfo {
  id: string;
  kind: Kind;
  unit: string;
  tariff: string | null;
  acorn_group: string | null;
  first_day: string;
  last_day: string;
  days: number;
}

export interface GroupInfo {
  /** 'tariff:Std', 'acorn:Affluent' */
  id: string;
  dimension: 'tariff' | 'acorn';
  value: string;
  kind: Kind;
  meters: number;
}

/** GET /api/meters: the meters that match a search (at most its limit), and how many matched. */
export interface MeterList {
  total: number;
  meters: MeterInfo[];
}

/** GET /api/groups */
export interface GroupList {
  groups: GroupInfo[];
}

/** A target's days with data; `stored` false = the fleet has no rows of its own and is summed from its meters. */
export interface FleetBounds {
  first: string;
  last: string;
  unit: string;
  stored: boolean;
}

export type Target =
  | { type: 'fleet' }
  | { type: 'meter'; id: string }
  | { type: 'group'; dimension: 'tariff' | 'acorn'; value: string };

export class Catalog {
  private readonly lake: LakeReader;
  private readonly cache = new TtlCache<unknown>(10_000);

  constructor(lake: LakeReader) {
    this.lake = lake;
  }

  /** True when the lake has the view (tables appear as the pipeline first commits to them). */
  async hasView(view: string): Promise<boolean> {
    const tables = (await this.cache.get('tables', () => this.lake.tables())) as Awaited<
      ReturnType<LakeReader['tables']>
    >;
    return tables.some((t) => t.view === view);
  }

  meters(): Promise<MeterInfo[]> {
    return this.cache.get('meters', async () => {
      if (!(await this.hasView(DAILY))) return [];
      const r = await this.lake.query(
        `SELECT meter_id, kind, any_value(unit) AS unit, max(tariff) AS tariff, max(acorn_group) AS acorn_group,
                min(day) AS first_day, max(day) AS last_day, count(*) AS days
         FROM ${DAILY} WHERE meter_id <> ${lit(FLEET_ID)} GROUP BY meter_id, kind ORDER BY meter_id, kind`,
      );
      return r.rows.map((row) => ({
        id: String(row.meter_id),
        kind: row.kind as Kind,
        unit: String(row.unit),
        tariff: (row.tariff as string | null) ?? null,
        acorn_group: (row.acorn_group as string | null) ?? null,
        first_day: String(row.first_day),
        last_day: String(row.last_day),
        days: num(row.days),
      }));
    }) as Promise<MeterInfo[]>;
  }

  async groups(): Promise<GroupInfo[]> {
    const out = new Map<string, GroupInfo>();
    for (const m of await this.meters()) {
      const dims: ['tariff' | 'acorn', string | null][] = [
        ['tariff', m.tariff],
        ['acorn', m.acorn_group],
      ];
      for (const [dimension, value] of dims) {
        if (!value) continue;
        const key = `${dimension}:${value}|${m.kind}`;
        const g = out.get(key) ?? { id: `${dimension}:${value}`, dimension, value, kind: m.kind, meters: 0 };
        g.meters++;
        out.set(key, g);
      }
    }
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id) || a.kind.localeCompare(b.kind));
  }

  /** First and last day with data for the target and kind (404 when there is none). */
  async bounds(target: Target, kind: Kind): Promise<FleetBounds> {
    if (target.type === 'meter') {
      const m = (await this.meters()).find((x) => x.id === target.id && x.kind === kind);
      if (!m) {
        const other = (await this.meters()).find((x) => x.id === target.id);
        throw new HttpError(
          404,
          other
            ? `meter "${target.id}" has no ${kind} readings (it measures ${other.kind})`
            : `unknown meter "${target.id}"`,
          'meter',
        );
      }
      return { first: m.first_day, last: m.last_day, unit: m.unit, stored: true };
    }
    if (target.type === 'group') {
      const ms = (await this.meters()).filter(
        (x) => x.kind === kind && (target.dimension === 'tariff' ? x.tariff : x.acorn_group) === target.value,
      );
      if (ms.length === 0)
        throw new HttpError(404, `unknown group "${target.dimension}:${target.value}" for ${kind}`, 'group');
      return {
        first: span(ms).first,
        last: span(ms).last,
        unit: ms[0].unit,
        stored: true,
      };
    }
    const b = (await this.cache.get(`fleet-bounds:${kind}`, async () => {
      if (!(await this.hasView(DAILY))) return null;
      const r = await this.lake.query(
        `SELECT min(day) AS first, max(day) AS last, any_value(unit) AS unit FROM ${DAILY}
         WHERE meter_id = ${lit(FLEET_ID)} AND kind = ${lit(kind)}`,
      );
      const row = r.rows[0];
      return row?.first
        ? { first: String(row.first), last: String(row.last), unit: String(row.unit), stored: true }
        : null;
    })) as FleetBounds | null;
    if (b) return b;
    // No stored fleet rows (yet): the fleet is the sum of its meters.
    const ms = (await this.meters()).filter((x) => x.kind === kind);
    if (ms.length === 0) throw new HttpError(404, `the lake has no ${kind} readings yet`, 'kind');
    return {
      first: span(ms).first,
      last: span(ms).last,
      unit: ms[0].unit,
      stored: false,
    };
  }

  clear(): void {
    this.cache.clear();
  }
}

/** The earliest first day and latest last day of some meters ('YYYY-MM-DD' compares as text). */
function span(ms: MeterInfo[]): { first: string; last: string } {
  const days = ms.flatMap((m) => [m.first_day, m.last_day]).sort();
  return { first: days[0], last: days[days.length - 1] };
}

/** The SQL condition selecting a target's rows of gold daily / silver (fleet: the stored fleet rows, or every meter). */
export function targetWhere(target: Target, fleetRows: boolean): string {
  if (target.type === 'meter') return `meter_id = ${lit(target.id)}`;
  if (target.type === 'group')
    return `meter_id <> ${lit(FLEET_ID)} AND ${target.dimension === 'tariff' ? 'tariff' : 'acorn_group'} = ${lit(target.value)}`;
  return fleetRows ? `meter_id = ${lit(FLEET_ID)}` : `meter_id <> ${lit(FLEET_ID)}`;
}

export function targetLabel(target: Target): string {
  if (target.type === 'meter') return target.id;
  if (target.type === 'group') return `${target.dimension === 'tariff' ? 'tariff' : 'ACORN'} ${target.value}`;
  return 'whole fleet';
}
