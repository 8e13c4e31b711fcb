// Wall-clock time in IANA zones without a library, for every part of lakestream (sources, the meters'
// calendar): offsets from Intl, cached per quarter hour; local → UTC with DST rules; ISO offsets.

const MIN = 60_000;
const SLOT = 15 * MIN; // every zone changes offset on a quarter-hour boundary

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC in minutes at an instant (Europe/Madrid in summer: 120). */
export function offsetMinutes(zone: string, utcMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  let cache = offsets.get(zone);
  if (!cache) {
    cache = new Map();
    offsets.set(zone, cache);
  }
  const slot = Math.floor(utcMs / SLOT);
  let off = cache.get(slot);
  if (off === undefined) {
    const p: Record<string, number> = {};
    for (const part of formatter(zone).formatToParts(slot * SLOT))
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    off = Math.round((local - slot * SLOT) / MIN);
    if (cache.size > 200_000) cache.clear();
    cache.set(slot, off);
  }
  return off;
}

/** The same in milliseconds: what to add to a UTC instant to get the wall-clock time in the zone. */
export function offsetMs(zone: string, utcMs: number): number {
  return offsetMinutes(zone, utcMs) * MIN;
}

/**
 * The instant of a wall-clock time in a zone. `localMs` is the wall time read as if it were UTC.
 * In the repeated hour after a DST end, `fold` picks the first ('earlier', summer offset) or the
 * second ('later') occurrence; a wall time skipped by a DST start is read with the offset before it.
 */
export function localToUtc(
  zone: string,
  localMs: number,
  fold: 'earlier' | 'later' = 'earlier',
): { utcMs: number; offset: number; ambiguous: boolean } {
  const before = offsetMinutes(zone, localMs - 14 * 3600_000);
  const after = offsetMinutes(zone, localMs + 14 * 3600_000);
  const valid = [...new Set([before, after])]
    .filter((o) => offsetMinutes(zone, localMs - o * MIN) === o)
    .sort((a, b) => b - a); // larger offset = earlier instant
  if (valid.length === 0) return { utcMs: localMs - before * MIN, offset: before, ambiguous: false };
  const offset = valid.length === 2 && fold === 'later' ? valid[1] : valid[0];
  return { utcMs: localMs - offset * MIN, offset, ambiguous: valid.length === 2 };
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** "+02:00", "-05:30", or "Z" for zero when `z` is set. */
export function formatOffset(offset: number, z = false): string {
  if (offset === 0 && z) return 'Z';
  const a = Math.abs(offset);
  return (offset < 0 ? '-' : '+') + pad2(Math.floor(a / 60)) + ':' + pad2(a % 60);
}

/** ISO-8601 local time with its offset, seconds precision: "2016-10-30T02:08:53+02:00". */
export function isoWithOffset(utcMs: number, offset: number, z = false): string {
  return new Date(utcMs + offset * MIN).toISOString().slice(0, 19) + formatOffset(offset, z);
}

/** The explicit offset of an ISO-8601 timestamp in milliseconds (Z = 0), or undefined if it has none. */
export function isoOffsetMs(ts: string): number | undefined {
  if (ts.endsWith('Z') || ts.endsWith('z')) return 0;
  const m = /([+-])(\d\d):?(\d\d)$/.exec(ts);
  if (!m) return undefined;
  const v = (Number(m[2]) * 60 + Number(m[3])) * MIN;
  return m[1] === '-' ? -v : v;
}
