// What a prediction sees: one meter's month so far (the stream worker builds it; so do train and evaluate).

export interface MeterMonthState {
  meterId: string;
  /** 'YYYY-MM' */
  month: string;
  daysInMonth: number;
  /** index d-1: the complete day's total for day d of the month, null when missing/incomplete; length = days observed so far (k) */
  daily: (number | null)[];
  /** mean of complete days of the previous month, if known */
  prevMonthDailyMean?: number;
  /** the previous month's complete days (index d-1, null when missing), if known: its last week and this meter's weekend habit */
  prevMonthDaily?: readonly (number | null)[];
  sameMonthLastYearTotal?: number;
  tariff?: string;
  acornGroup?: string;
  /** 'YYYY-MM-DD' */
  holidays?: ReadonlySet<string>;
}

export interface ConsumptionModel {
  version: number;
  /** predicted month total */
  predict(state: MeterMonthState): number;
  toJSON(): object;
}

/** Sum and count of the complete days observed so far. */
export function observed(state: MeterMonthState): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (const v of state.daily) {
    if (v !== null && v !== undefined && Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return { sum, n };
}
