// Calendar arithmetic on local dates ('YYYY-MM-DD') and months ('YYYY-MM'), without time zones.

/** Days in a month given as 'YYYY-MM'. */
export function daysInMonth(month: string): number {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Day of week of day `d` (1-based) of `month`: 0 = Sunday … 6 = Saturday. */
export function weekdayOf(month: string, d: number): number {
  return new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1, d)).getUTCDay();
}

/** The month `delta` months after `month` (negative for before). */
export function addMonths(month: string, delta: number): string {
  const idx = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + delta;
  const y = Math.floor(idx / 12);
  return `${String(y).padStart(4, '0')}-${String((idx % 12) + 1).padStart(2, '0')}`;
}

/** 'YYYY-MM-DD' of day `d` of `month`. */
export function dateOf(month: string, d: number): string {
  return `${month}-${String(d).padStart(2, '0')}`;
}

/** 1-12 */
export function monthOfYear(month: string): number {
  return Number(month.slice(5, 7));
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `s` is a real calendar date written 'YYYY-MM-DD'. */
export function isIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(`${m[1]}-${m[2]}`);
}
