// Local calendar of a meter: which day, month and hour an instant falls on in the meter's zone
// (its offsets come from sources/time.ts, the one module that knows zones).

import { offsetMs } from '../../sources/time.ts';

export interface LocalTime {
  /** 'YYYY-MM-DD' */
  day: string;
  /** 'YYYY-MM' */
  month: string;
  /** 0-23 */
  hour: number;
  /** 0 = Sunday */
  weekday: number;
  /** 1-31 */
  dayOfMonth: number;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Local calendar fields of a wall-clock time given as milliseconds (UTC instant + zone offset). */
export function localFields(wallMs: number): LocalTime {
  const d = new Date(wallMs);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  const month = `${y}-${pad2(mo)}`;
  return {
    day: `${month}-${pad2(dd)}`,
    month,
    hour: d.getUTCHours(),
    weekday: d.getUTCDay(),
    dayOfMonth: dd,
  };
}

export function daysInMonth(month: string): number {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** UTC instant (ms) at which a local day starts in a zone (or at a fixed offset). */
export function localDayStartUtc(day: string, zone: string | undefined, fixedOffsetMs: number): number {
  const wall = Date.parse(`${day}T00:00:00Z`);
  if (!zone) return wall - fixedOffsetMs;
  // Two passes settle the offset at the local midnight even across a DST change.
  let utc = wall - offsetMs(zone, wall);
  utc = wall - offsetMs(zone, utc);
  return utc;
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${pad2(m - 1)}`;
}
