// Local calendar of a meter: which day, month and hour an instant falls on in the meter's zone.
// Zone offsets come from Intl once per zone and UTC hour, then from a cache: this runs per reading.

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

/** Milliseconds to add to a UTC instant to get the wall-clock time in `zone` (IANA name). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const hourBucket = Math.floor(utcMs / 3_600_000);
  const key = `${zone}|${hourBucket}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  let fmt = formatters.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, fmt);
  }
  // Offsets change on whole hours (or half hours) boundaries; the start of the UTC hour is representative
  // for every zone whose transitions fall on UTC hour boundaries (all zones the workloads use).
  const at = hourBucket * 3_600_000;
  const parts = Object.fromEntries(fmt.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute);
  const offset = wall - at;
  if (offsetCache.size > 200_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The explicit offset of an ISO-8601 timestamp in milliseconds (Z = 0), or undefined if it has none. */
export function isoOffsetMs(ts: string): number | undefined {
  if (ts.endsWith('Z') || ts.endsWith('z')) return 0;
  const m = /([+-])(\d\d):?(\d\d)$/.exec(ts);
  if (!m) return undefined;
  const v = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '-' ? -v : v;
}

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
  let utc = wall - zoneOffsetMs(zone, wall);
  utc = wall - zoneOffsetMs(zone, utc);
  return utc;
}

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${pad2(m - 1)}`;
}
