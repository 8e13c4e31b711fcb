// Reference figures computed straight from the source files, independently of the pipeline.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** Sum of energy per (LCLid, date of tstp) in a London half-hourly file. */
export async function londonDailySums(file: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const rl = createInterface({
    input: createReadStream(file).pipe(createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    const [id, tstp, kwh] = line.split(',');
    const v = Number(kwh);
    if (!id || !tstp || !Number.isFinite(v)) continue;
    const key = `${id}|${tstp.slice(0, 10)}`;
    sums.set(key, (sums.get(key) ?? 0) + v);
  }
  return sums;
}

export interface WaterExpectation {
  /** litres per (user, local day) from valid register diffs */
  daily: Map<string, number>;
  /** "user|instant" of every read whose diff is negative */
  negative: Set<string>;
  reads: number;
}

/**
 * The rule the pipeline documents for cumulative registers, applied straight to the DAIAD file:
 * per user, in time order, diff = register - previous register; a negative diff (or one above
 * `maxDiff`) is refused and never summed; a read older than the previous one takes no diff;
 * duplicated (user, instant) reads count once. Day-first local times in Europe/Madrid; the
 * repeated hour at the end of summer time is +02:00 the first time and +01:00 the second.
 */
export function waterExpectation(lines: Iterable<string>, maxDiff = 100_000): WaterExpectation {
  const daily = new Map<string, number>();
  const negative = new Set<string>();
  const last = new Map<string, { ts: number; value: number }>();
  const seen = new Set<string>();
  const repeatedHourSeen = new Set<string>();
  let reads = 0;
  for (const line of lines) {
    const [user, dt, reg] = line.split(';');
    const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(dt ?? '');
    if (!m || !user) continue;
    const value = Number(reg);
    if (!Number.isFinite(value)) continue;
    const [, dd, mm, yyyy, hh, mi, ss] = m;
    const wall = Date.UTC(+yyyy, +mm - 1, +dd, +hh, +mi, +ss);
    const offsetH = madridOffsetHours(wall, `${user}|${dt}`, repeatedHourSeen);
    const ts = wall - offsetH * 3_600_000;
    reads++;
    const key = `${user}|${ts}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const prev = last.get(user);
    if (prev && ts < prev.ts) continue;
    last.set(user, { ts, value });
    if (!prev) continue;
    const diff = value - prev.value;
    if (diff < 0) {
      negative.add(key);
      continue;
    }
    if (diff > maxDiff) continue;
    const day = `${yyyy}-${mm}-${dd}`;
    daily.set(`${user}|${day}`, (daily.get(`${user}|${day}`) ?? 0) + diff);
  }
  return { daily, negative, reads };
}

/** Europe/Madrid offset for a wall-clock time of 2016-2017 (CET/CEST; last Sundays of March and October). */
function madridOffsetHours(wall: number, id: string, repeated: Set<string>): number {
  const d = new Date(wall);
  const y = d.getUTCFullYear();
  const lastSunday = (month: number) => {
    const end = new Date(Date.UTC(y, month + 1, 0));
    return Date.UTC(y, month, end.getUTCDate() - end.getUTCDay());
  };
  const springStart = lastSunday(2) + 2 * 3_600_000; // 02:00 local becomes 03:00
  const autumnEnd = lastSunday(9) + 2 * 3_600_000; // 03:00 CEST becomes 02:00 CET
  if (wall < springStart) return 1;
  if (wall < autumnEnd) return 2;
  if (wall < autumnEnd + 3_600_000) {
    // the repeated hour: first time summer time, second time winter time
    if (repeated.has(id)) return 1;
    repeated.add(id);
    return 2;
  }
  return 1;
}
