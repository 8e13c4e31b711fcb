// The stream state's saved form: a day's dedupe set comes back exactly, in the compact and the older form.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HourSums, SeenSet } from './compact.ts';
import {
  completeList,
  dayComplete,
  hoursToList,
  listToHours,
  newPartitionState,
  partitionStateFromJSON,
  partitionStateToJSON,
  runsToSeen,
  seenToRuns,
} from './state.ts';

describe('meters stream state', () => {
  it('saves a regular day of readings as one run and gets every timestamp back', () => {
    const day = Array.from({ length: 48 }, (_, i) => Date.UTC(2013, 0, 1) + i * 1_800_000);
    assert.deepEqual(seenToRuns(new Set(day)), [Date.UTC(2013, 0, 1), 1_800_000, 48]);
    assert.deepEqual(runsToSeen(seenToRuns(new Set(day))), day);
  });

  it('saves a compact day (SeenSet, HourSums) as it saves the Set and Map they stand for', () => {
    const start = Date.UTC(2013, 0, 1);
    const ts = [
      start + 3 * 1_800_000,
      start + 0.5,
      start,
      start + 1_800_000,
      start + 7_000,
      start + 2 * 1_800_000,
    ];
    const seen = new SeenSet(start, 86_400_000, 1_800_000);
    for (const t of ts) seen.add(t);
    assert.deepEqual(seenToRuns(seen), seenToRuns(new Set(ts)));
    assert.deepEqual(
      runsToSeen(seenToRuns(seen)),
      [...ts].sort((a, b) => a - b),
    );
    const hours = new HourSums(start, start + 86_400_000);
    const map = new Map<number, [number, number]>();
    for (const [h, v] of [
      [5, 0.25],
      [0, 1],
      [5, 0.5],
      [23, 2],
    ] as const) {
      hours.add(start + h * 3_600_000, v);
      const [sum, n] = map.get(start + h * 3_600_000) ?? [0, 0];
      map.set(start + h * 3_600_000, [sum + v, n + 1]);
    }
    const sorted = new Map([...map].sort((a, b) => a[0] - b[0]));
    assert.deepEqual(hoursToList(hours), hoursToList(sorted));
    assert.deepEqual(hoursToList(hours), [
      start,
      1,
      1,
      start + 5 * 3_600_000,
      0.75,
      2,
      start + 23 * 3_600_000,
      2,
      1,
    ]);
  });

  it('gets irregular and fractional-millisecond timestamps back exactly', () => {
    const ts = [0.1, 0.2, 0.30000000000000004, 1000.1, 1000.2, 1000.3, 5, 7, 9, 1e12 + 0.5];
    assert.deepEqual(
      runsToSeen(seenToRuns(new Set(ts))),
      [...ts].sort((a, b) => a - b),
    );
  });

  it('restores a state saved by an older worker (seen list, hour entries) and by this one', () => {
    const state = newPartitionState();
    const seen = new Set([1000, 2000, 3000, 3500]);
    const daySeen = new SeenSet(0, 86_400_000, 500);
    for (const ts of seen) daySeen.add(ts);
    const hours = new HourSums(0, 86_400_000);
    hours.set(0, 4, 4);
    state.meters.set('M1', {
      id: 'M1',
      kind: 'electricity',
      unit: 'kWh',
      fixedOffset: 0,
      watermark: 3500,
      intervalMs: 500,
      lastTs: 3500,
      days: new Map([
        [
          '1970-01-01',
          {
            day: '1970-01-01',
            month: '1970-01',
            dayOfMonth: 1,
            weekday: 4,
            start: 0,
            end: 86_400_000,
            hours,
            seen: daySeen,
            sum: 4,
            n: 4,
            closed: false,
            written: 'none',
          },
        ],
      ]),
      months: new Map(),
      nextCloseAt: 86_400_000,
      monthMeans: {},
      monthTotals: {},
    });
    const saved = JSON.parse(JSON.stringify(partitionStateToJSON(state)));
    const older = JSON.parse(JSON.stringify(saved));
    for (const d of older.meters[0].days) {
      d.seen = runsToSeen(d.seenRuns);
      delete d.seenRuns;
      d.hours = [...listToHours(d.hourList)];
      delete d.hourList;
    }
    for (const s of [saved, older]) {
      const day = partitionStateFromJSON(s).meters.get('M1')?.days.get('1970-01-01');
      assert.deepEqual([...(day?.seen ?? [])].sort(), [...seen].sort());
      assert.deepEqual([...(day?.hours ?? [])], [[0, [4, 4]]]);
    }
  });

  it("keeps a month's completeness as one integer and saves it as the list of booleans it was", () => {
    // a 31-day month, days 1, 2, 17 and 31 complete (bit 30 is the sign bit of the integer)
    const list = Array.from({ length: 31 }, (_, i) => [0, 1, 16, 30].includes(i));
    const saved = {
      counters: {},
      meters: [
        {
          id: 'M1',
          kind: 'electricity',
          unit: 'kWh',
          fixedOffset: 0,
          watermark: 0,
          intervalMs: 1_800_000,
          lastTs: 0,
          nextCloseAt: 0,
          monthMeans: {},
          monthTotals: {},
          days: [],
          months: [
            {
              month: '2013-01',
              daysInMonth: 31,
              end: 0,
              sums: list.map((c, i) => (c ? i : null)),
              complete: list,
              predictions: [],
              closed: false,
              written: 'none',
            },
          ],
        },
      ],
    };
    const month = partitionStateFromJSON(saved).meters.get('M1')?.months.get('2013-01');
    assert.ok(month);
    assert.equal(typeof month.complete, 'number');
    assert.deepEqual(
      list.map((_, i) => dayComplete(month, i)),
      list,
    );
    assert.deepEqual(completeList(month), list);
    const again = JSON.parse(JSON.stringify(partitionStateToJSON(partitionStateFromJSON(saved))));
    assert.deepEqual(again.meters[0].months[0].complete, list);
  });
});
