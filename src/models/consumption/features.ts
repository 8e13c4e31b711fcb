// Features of a MeterMonthState: candidate daily rates (kWh/day, or L/day) whose weighted sum predicts the
// rate of the days not yet observed. Linear in rates without an intercept, so one model serves a flat, a
// house and the fleet total in any unit. No I/O.

import { addMonths, dateOf, weekdayOf } from './calendar.ts';
import { type MeterMonthState, observed } from './state.ts';

export const FEATURE_NAMES: readonly string[] = [
  'observed_mean', // the run-rate's daily mean
  'observed_mean_no_prev', // the same, when last month is unknown (so its weight can differ)
  'prev_month_mean',
  'last3_mean',
  'observed_median', // robust to one odd day
  'smly_minus_prev', // same month last year per day, less last month's (or this month's) mean: moves weight to last year
  'observed_mean_no_smly',
  'weekday_adjusted_mean', // this meter's weekend and weekday means so far, mixed as the remaining days are
  'holiday_shift_x_mean',
  'tou_x_mean', // time-of-use tariff households
  'last7_mean',
  'prev_last7_mean', // the last week of last month (capped): a more recent level than the month's mean
];

/** last month's and last year's rates count at most ×2 or ÷2 of this month's observed mean */
const CAP = 2;
/** pseudo-days of the overall mean added to the weekend and weekday means */
const WEEKDAY_SHRINK = 2;
/** the share of last month's last week in the history rate (the rest: last month's mean) */
export const PREV_LAST_SHARE = 0.5;

export interface Prepared {
  observedSum: number;
  /** days of the month not observed (future days plus missing ones) */
  unobservedDays: number;
  x: Float64Array;
}

interface MonthCalendar {
  /** per day (index d-1): 1 when a Saturday, Sunday or bank holiday */
  weekend: Uint8Array;
  holiday: Uint8Array;
}

const NO_HOLIDAYS: ReadonlySet<string> = new Set();
const calendars = new WeakMap<ReadonlySet<string>, Map<string, MonthCalendar>>();

/** The month's weekend and holiday days, computed once per (holiday set, month): prepare runs per meter and k. */
function calendarOf(month: string, days: number, holidays: ReadonlySet<string> = NO_HOLIDAYS): MonthCalendar {
  let byMonth = calendars.get(holidays);
  if (!byMonth) {
    byMonth = new Map();
    calendars.set(holidays, byMonth);
  }
  let cal = byMonth.get(month);
  if (!cal) {
    cal = { weekend: new Uint8Array(days), holiday: new Uint8Array(days) };
    for (let d = 1; d <= days; d++) {
      const wd = weekdayOf(month, d);
      const h = holidays.has(dateOf(month, d)) ? 1 : 0;
      cal.holiday[d - 1] = h;
      cal.weekend[d - 1] = wd === 0 || wd === 6 || h ? 1 : 0;
    }
    byMonth.set(month, cal);
  }
  return cal;
}

/** Features of the state, or undefined when no day was observed (then the model predicts the blend). */
export function prepare(state: MeterMonthState): Prepared | undefined {
  const o = observed(state);
  if (o.n === 0) return undefined;
  const mean = o.sum / o.n;
  const seen: number[] = [];
  for (const v of state.daily) if (v !== null && v !== undefined && Number.isFinite(v)) seen.push(v);
  const last = seen.slice(-3);
  const sorted = seen.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const prev = state.prevMonthDailyMean;
  const smly = state.sameMonthLastYearTotal;
  // the weekday mix of the days still to come against the days seen (bank holidays count as Sundays)
  let seenWeekend = 0;
  let restWeekend = 0;
  let weekendSum = 0;
  let seenHoliday = 0;
  let restHoliday = 0;
  const k = state.daily.length;
  const cal = calendarOf(state.month, state.daysInMonth, state.holidays);
  for (let d = 1; d <= state.daysInMonth; d++) {
    const holiday = cal.holiday[d - 1];
    const weekend = cal.weekend[d - 1];
    const v = d <= k ? state.daily[d - 1] : null;
    if (v !== null && v !== undefined) {
      seenWeekend += weekend;
      if (weekend) weekendSum += v;
      seenHoliday += holiday;
    } else {
      restWeekend += weekend;
      restHoliday += holiday;
    }
  }
  const rest = state.daysInMonth - o.n;
  const nRest = Math.max(1, rest);
  const x = new Float64Array(FEATURE_NAMES.length);
  x[0] = mean;
  x[1] = prev === undefined ? mean : 0;
  // a month ago or a year ago the meter may have been in another regime (away, moved in): cap their say
  const cap = (v: number) => Math.min(CAP * mean, Math.max(mean / CAP, v));
  x[2] = prev === undefined ? 0 : cap(prev);
  x[3] = last.reduce((a, b) => a + b, 0) / last.length;
  x[4] = median;
  const prevDays = prev !== undefined ? state.prevMonthDaily : undefined;
  const prevLast: number[] = [];
  for (let i = (prevDays?.length ?? 0) - 1; i >= 0 && prevLast.length < 7; i--) {
    const v = prevDays![i];
    if (v !== null && v !== undefined) prevLast.push(v);
  }
  x[11] =
    prev === undefined
      ? 0
      : prevLast.length > 0
        ? cap(prevLast.reduce((a, b) => a + b, 0) / prevLast.length)
        : x[2];
  // what history says of this month: last month's level and its last week
  const history = prev === undefined ? mean : (1 - PREV_LAST_SHARE) * x[2] + PREV_LAST_SHARE * x[11];
  x[5] = smly !== undefined ? cap(smly / state.daysInMonth) - history : 0;
  x[6] = smly === undefined ? mean : 0;
  // this meter's weekend and weekday levels relative to its mean, from this month's days and last month's,
  // shrunk toward 1 by WEEKDAY_SHRINK pseudo-days so that a single weekend day says little
  let weRatio = weekendSum / mean + WEEKDAY_SHRINK;
  let weN = seenWeekend + WEEKDAY_SHRINK;
  let wdRatio = (o.sum - weekendSum) / mean + WEEKDAY_SHRINK;
  let wdN = o.n - seenWeekend + WEEKDAY_SHRINK;
  if (prevDays && prev !== undefined && prev > 0) {
    const pm = addMonths(state.month, -1);
    const pcal = calendarOf(pm, prevDays.length, state.holidays);
    for (let i = 0; i < prevDays.length; i++) {
      const v = prevDays[i];
      if (v === null || v === undefined) continue;
      if (pcal.weekend[i]) {
        weRatio += v / prev;
        weN++;
      } else {
        wdRatio += v / prev;
        wdN++;
      }
    }
  }
  const weekendMean = weRatio / weN;
  const weekdayMean = wdRatio / wdN;
  // rescaled so that the days' own mix gives back the observed mean: only the change of mix moves it
  const mix = (share: number) => share * weekendMean + (1 - share) * weekdayMean;
  const seenMix = mix(seenWeekend / o.n);
  x[7] = rest > 0 && seenMix > 0 && mean > 0 ? (mean * mix(restWeekend / nRest)) / seenMix : mean;
  x[8] = (restHoliday / nRest - seenHoliday / o.n) * mean;
  x[9] = state.tariff === 'ToU' ? mean : 0;
  const last7 = seen.slice(-7);
  x[10] = last7.reduce((a, b) => a + b, 0) / last7.length;
  return { observedSum: o.sum, unobservedDays: rest, x };
}

/** The month total from a predicted rate of the unobserved days. */
export function totalFrom(p: Prepared, rate: number): number {
  return p.observedSum + p.unobservedDays * Math.max(0, rate);
}
