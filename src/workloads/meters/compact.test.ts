// The compact day structures answer exactly as the Set and Map they replace: the dedupe set on and
// off the grid, on DST days and with a guessed interval that was wrong; the hours' sums to the bit.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localDayStartUtc, nextDay } from './calendar.ts';
import { HourSums, SeenSet, SmallMap } from './compact.ts';

const HOUR = 3_600_000;
const MIN = 60_000;

/** A small deterministic generator (mulberry32): the same cases every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Adds each timestamp to a SeenSet (by tryAdd, as the stream does, and add, in turn) and to a Set,
 * checking every step that they agree.
 */
function checkAgainstSet(seen: SeenSet, stamps: number[], probes: number[]) {
  const ref = new Set<number>();
  for (const [i, ts] of stamps.entries()) {
    assert.equal(seen.has(ts), ref.has(ts), `has(${ts}) before adding it`);
    if (i % 2 === 0) assert.equal(seen.tryAdd(ts), !ref.has(ts), `tryAdd(${ts}): new`);
    else seen.add(ts);
    ref.add(ts);
    assert.equal(seen.size, ref.size);
  }
  for (const ts of [...stamps, ...probes]) assert.equal(seen.has(ts), ref.has(ts), `has(${ts})`);
  assert.deepEqual(
    seen.values(),
    [...ref].sort((a, b) => a - b),
  );
}

const london = (day: string) => {
  const start = localDayStartUtc(day, 'Europe/London', 0);
  return { start, end: localDayStartUtc(nextDay(day), 'Europe/London', 0) };
};

describe('compact dedupe set (SeenSet)', () => {
  it('agrees with a Set on a half-hourly day with duplicates, and keeps it in a few bytes', () => {
    const start = Date.UTC(2013, 0, 1);
    const r = rng(1);
    const stamps = Array.from({ length: 200 }, () => start + Math.floor(r() * 48) * 30 * MIN);
    const seen = new SeenSet(start, 24 * HOUR, 30 * MIN);
    checkAgainstSet(seen, stamps, [start - 30 * MIN, start + 24 * HOUR, start + 15 * MIN, start + 1]);
    assert.equal(seen.size, new Set(stamps).size);
    assert.ok(seen.bytes <= 8, `48 half-hours fit two 32-bit words, not ${seen.bytes} bytes`);
  });

  it('agrees with a Set on the DST days (23 and 25 hours), every slot and one past the end', () => {
    for (const day of ['2013-03-31', '2013-10-27']) {
      const { start, end } = london(day);
      assert.equal(end - start, day === '2013-03-31' ? 23 * HOUR : 25 * HOUR);
      const stamps: number[] = [];
      for (let ts = start; ts < end; ts += 30 * MIN) stamps.push(ts, ts);
      const seen = new SeenSet(start, end - start, 30 * MIN);
      checkAgainstSet(seen, stamps, [end, end + 30 * MIN, start - 30 * MIN]);
      assert.equal(seen.size, (end - start) / (30 * MIN));
    }
  });

  it('keeps off-grid, fractional and out-of-day timestamps exactly, beside the grid', () => {
    const start = Date.UTC(2013, 5, 1);
    const stamps = [
      start,
      start + 30 * MIN,
      start + 7,
      start + 0.5,
      start + 0.1 + 0.2,
      start + 0.3,
      start - 1,
      start + 24 * HOUR,
      start + 7,
      start + 90 * MIN,
      start + 0.5,
    ];
    checkAgainstSet(new SeenSet(start, 24 * HOUR, 30 * MIN), stamps, [
      start + 1,
      start + 0.30000000000000004,
    ]);
  });

  it('moves to a finer grid when the interval was guessed wrong (a minutely meter)', () => {
    const start = Date.UTC(2013, 5, 1);
    const r = rng(2);
    const stamps = Array.from({ length: 3000 }, () => start + Math.floor(r() * 1440) * MIN);
    const seen = new SeenSet(start, 24 * HOUR, 30 * MIN);
    checkAgainstSet(seen, stamps, [start + 30 * 1000, start + 24 * HOUR]);
    assert.ok(seen.bytes <= 1440 / 8, `a minute grid is 180 bytes, not ${seen.bytes}`);
  });

  it('agrees with a Set on random irregular timestamps (register reads)', () => {
    const start = Date.UTC(2013, 5, 1);
    const r = rng(3);
    const stamps = Array.from(
      { length: 400 },
      () => start + Math.floor(r() * 24 * 3600) * 1000 + (r() < 0.1 ? 0.25 : 0),
    );
    const seen = new SeenSet(start, 24 * HOUR, 15 * MIN);
    checkAgainstSet(seen, [...stamps, ...stamps.slice(0, 50)], [start + 0.25, start + 500]);
  });
});

describe('compact hours (HourSums)', () => {
  /** The processor's former per-hour Map, filled the way it was. */
  function mapHours(readings: [number, number][]) {
    const hours = new Map<number, [number, number]>();
    for (const [ts, v] of readings) {
      const hourStart = Math.floor(ts / HOUR) * HOUR;
      const h = hours.get(hourStart);
      if (h) {
        h[0] += v;
        h[1]++;
      } else hours.set(hourStart, [v, 1]);
    }
    return [...hours.entries()].sort((a, b) => a[0] - b[0]);
  }

  it('sums each hour to the bit what the Map summed, on ordinary and DST days', () => {
    const r = rng(4);
    for (const day of ['2013-01-15', '2013-03-31', '2013-10-27']) {
      const { start, end } = london(day);
      const readings: [number, number][] = [];
      for (let i = 0; i < 500; i++)
        readings.push([
          start + Math.floor(r() * ((end - start) / MIN)) * MIN,
          Math.round(r() * 1e6) / 1e3 + r(),
        ]);
      const hours = new HourSums(start, end);
      for (const [ts, v] of readings) hours.add(Math.floor(ts / HOUR) * HOUR, v);
      assert.deepEqual(hours.entries(), mapHours(readings));
    }
  });

  it('holds only the hours with readings (a zero reading counts), and widens for an hour outside the day', () => {
    const start = Date.UTC(2013, 0, 1) - 30 * MIN; // a zone half an hour off UTC: 25 UTC hours
    const end = start + 24 * HOUR;
    const readings: [number, number][] = [
      [start, 0],
      [start + 5 * HOUR, 1.5],
      [end - 1, 2],
      [end + 3 * HOUR, 4],
      [start - 2 * HOUR, 8],
    ];
    const hours = new HourSums(start, end);
    assert.equal(hours.bytes, 25 * 16);
    for (const [ts, v] of readings) hours.add(Math.floor(ts / HOUR) * HOUR, v);
    assert.deepEqual(hours.entries(), mapHours(readings));
    assert.equal(hours.entries()[1][1][0], 0, 'the hour of a zero reading is there with its count');
  });
});

describe("a meter's days and months (SmallMap)", () => {
  it('agrees with a Map through sets, deletes, a key set again, and deletes while iterating', () => {
    const r = rng(7);
    const small = new SmallMap<number>();
    const ref = new Map<string, number>();
    for (let step = 0; step < 2000; step++) {
      const key = `2013-01-${String(1 + Math.floor(r() * 9)).padStart(2, '0')}`;
      const op = r();
      if (op < 0.5) {
        small.set(key, step);
        ref.set(key, step);
      } else if (op < 0.8) assert.equal(small.delete(key), ref.delete(key));
      else {
        // delete every odd value while iterating, as closeDue drops days past retention
        for (const [k, v] of small) if (v % 2 === 1) small.delete(k);
        for (const [k, v] of ref) if (v % 2 === 1) ref.delete(k);
      }
      assert.equal(small.get(key), ref.get(key));
      assert.equal(small.has(key), ref.has(key));
      assert.equal(small.size, ref.size);
      assert.deepEqual([...small], [...ref]);
      assert.deepEqual([...small.values()], [...ref.values()]);
    }
  });
});
