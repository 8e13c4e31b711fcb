// Daily totals per meter arranged by month, and the MeterMonthState of any (meter, month, k) — no I/O.

import { LakestreamError } from '../../errors.ts';
import { addMonths, daysInMonth } from './calendar.ts';
import type { MeterMonthState } from './state.ts';

export interface MeterSeries {
  meterId: string;
  tariff?: string;
  acornGroup?: string;
  /** this meter's holiday calendar, when it is not the dataset's */
  holidays?: ReadonlySet<string>;
  /** 'YYYY-MM' → the month's complete daily totals (index d-1), null where a day is missing or incomplete */
  months: Map<string, (number | null)[]>;
}

export interface DailyDataset {
  /** where the data came from (a file path or a table), for messages */
  source: string;
  meters: Map<string, MeterSeries>;
  holidays?: ReadonlySet<string>;
}

/** Collects complete daily totals; a day given twice for one meter is an error naming where. */
export class DatasetBuilder {
  readonly meters = new Map<string, MeterSeries>();
  rows = 0;
  completeRows = 0;

  readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  /** Adds one day; `where` names the line (or row) for error messages. Incomplete days are only counted. */
  add(meterId: string, day: string, value: number, complete: boolean, where: string): void {
    this.rows++;
    let s = this.meters.get(meterId);
    if (!s) {
      s = { meterId, months: new Map() };
      this.meters.set(meterId, s);
    }
    const month = day.slice(0, 7);
    let days = s.months.get(month);
    if (!days) {
      days = new Array(daysInMonth(month)).fill(null);
      s.months.set(month, days);
    }
    const d = Number(day.slice(8, 10));
    if (days[d - 1] !== null)
      throw new LakestreamError('BAD_INPUT', `${where}: meter ${meterId} has day ${day} twice`);
    if (!complete) return;
    days[d - 1] = value;
    this.completeRows++;
  }

  build(holidays?: ReadonlySet<string>): DailyDataset {
    for (const s of this.meters.values())
      s.months = new Map([...s.months].sort(([a], [b]) => (a < b ? -1 : 1)));
    return { source: this.source, meters: this.meters, holidays };
  }
}

/** A month is complete when every one of its days has a complete total. */
export function isCompleteMonth(days: readonly (number | null)[] | undefined): days is number[] {
  return days?.every((v) => v !== null) ?? false;
}

function meanOfComplete(days: readonly (number | null)[] | undefined): number | undefined {
  if (!days) return undefined;
  let sum = 0;
  let n = 0;
  for (const v of days)
    if (v !== null) {
      sum += v;
      n++;
    }
  return n > 0 ? sum / n : undefined;
}

/** The state of `month` for a meter after its first k days (k = 0 … days in month). */
export function stateAt(
  series: MeterSeries,
  month: string,
  k: number,
  context: { holidays?: ReadonlySet<string> } = {},
): MeterMonthState {
  const days = series.months.get(month) ?? new Array(daysInMonth(month)).fill(null);
  const lastYear = series.months.get(addMonths(month, -12));
  const state: MeterMonthState = {
    meterId: series.meterId,
    month,
    daysInMonth: days.length,
    daily: days.slice(0, k),
    prevMonthDailyMean: meanOfComplete(series.months.get(addMonths(month, -1))),
    prevMonthDaily: series.months.get(addMonths(month, -1)),
    sameMonthLastYearTotal: isCompleteMonth(lastYear) ? lastYear.reduce((a, b) => a + b, 0) : undefined,
    tariff: series.tariff,
    acornGroup: series.acornGroup,
    holidays: series.holidays ?? context.holidays,
  };
  return state;
}

/** Every complete month of the dataset, as (series, month, actual total), in month order. */
export function completeMonths(data: DailyDataset): { series: MeterSeries; month: string; actual: number }[] {
  const out: { series: MeterSeries; month: string; actual: number }[] = [];
  for (const s of data.meters.values())
    for (const [month, days] of s.months)
      if (isCompleteMonth(days)) out.push({ series: s, month, actual: days.reduce((a, b) => a + b, 0) });
  return out.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
}
