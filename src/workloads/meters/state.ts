// Per-meter stream state: open and recently closed days, month progress, the last register read.
// Saved in a partition's manifest (toJSON/fromJSON) so a restarted worker resumes exactly.

export interface DayState {
  day: string;
  month: string;
  dayOfMonth: number;
  weekday: number;
  /** UTC ms of the local day's start and end */
  start: number;
  end: number;
  /** UTC hour start (ms) → [sum, readings] */
  hours: Map<number, [number, number]>;
  /** timestamps (ms) already accepted: the dedupe set */
  seen: Set<number>;
  sum: number;
  n: number;
  closed: boolean;
  /** what the lake holds for this day: nothing yet, an open (drained) version, or the closed one */
  written: Written;
}

export type Written = 'none' | 'open' | 'closed';

export interface Prediction {
  k: number;
  predicted: number;
  observed: number;
  version: number;
}

export interface MonthState {
  month: string;
  daysInMonth: number;
  /** UTC ms of the month's end in the meter's zone */
  end: number;
  /** total of each day with data (index day-1), null = no data */
  sums: (number | null)[];
  /** whether each day was complete */
  complete: boolean[];
  predictions: Prediction[];
  closed: boolean;
  written: Written;
}

export interface MeterState {
  id: string;
  kind: 'electricity' | 'water';
  unit: 'kWh' | 'L';
  tz?: string;
  /** offset of the meter's timestamps when it has no zone */
  fixedOffset: number;
  /** latest event time seen (ms) */
  watermark: number;
  /** smallest positive gap seen between readings (ms): the meter's interval */
  intervalMs: number;
  lastTs: number;
  /** last cumulative register read (water) */
  register?: { ts: number; value: number };
  days: Map<string, DayState>;
  months: Map<string, MonthState>;
  /** earliest event time at which an open day or month of this meter is due to close */
  nextCloseAt: number;
  /** per closed month: mean daily total of complete days, and the month total */
  monthMeans: Record<string, number>;
  monthTotals: Record<string, number>;
  /** per closed month whose every day is complete: its total (last year's month, for the forecast) */
  completeMonthTotals?: Record<string, number>;
  /** the last closed month's complete days (index d-1, null when incomplete), for the forecast */
  lastMonthDaily?: { month: string; daily: (number | null)[] };
}

export interface Counters {
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
  /** register diffs refused (negative or implausible): the reading itself was accepted */
  quarantinedDiffs: number;
  byReason: Record<string, number>;
}

export interface PartitionState {
  meters: Map<string, MeterState>;
  counters: Counters;
}

export function newCounters(): Counters {
  return { read: 0, accepted: 0, quarantined: 0, duplicates: 0, quarantinedDiffs: 0, byReason: {} };
}

export function newPartitionState(): PartitionState {
  return { meters: new Map(), counters: newCounters() };
}

export function partitionStateToJSON(s: PartitionState): object {
  return {
    counters: s.counters,
    meters: [...s.meters.values()].map((m) => ({
      ...m,
      days: [...m.days.values()].map((d) => {
        const { seen, ...rest } = d;
        const { hours, ...fields } = rest;
        return { ...fields, hourList: hoursToList(hours), seenRuns: seenToRuns(seen) };
      }),
      months: [...m.months.values()],
    })),
  };
}

/**
 * The same as JSON text, reusing the text of each day that did not change since it was last made: a
 * meter keeps its closed days for a week (to take late readings), so most of the state is the same
 * from one batch to the next. A day changes only with a reading (n), when it closes or is written.
 */
export function partitionStateToJSONText(s: PartitionState): string {
  const meters: string[] = [];
  for (const m of s.meters.values()) {
    const { days, months, ...fields } = m;
    const head = JSON.stringify({ ...fields, months: [...months.values()] });
    meters.push(`${head.slice(0, -1)},"days":[${[...days.values()].map(dayText).join(',')}]}`);
  }
  return `{"counters":${JSON.stringify(s.counters)},"meters":[${meters.join(',')}]}`;
}

const dayTexts = new WeakMap<DayState, { version: string; text: string }>();

function dayText(d: DayState): string {
  const version = `${d.n}|${d.sum}|${d.closed}|${d.written}`;
  const cached = dayTexts.get(d);
  if (cached?.version === version) return cached.text;
  const { seen, hours, ...fields } = d;
  const text = JSON.stringify({ ...fields, hourList: hoursToList(hours), seenRuns: seenToRuns(seen) });
  dayTexts.set(d, { version, text });
  return text;
}

interface MeterJSON extends Omit<MeterState, 'days' | 'months'> {
  /** `seenRuns` (written since the manifest carried whole states every batch) or the older `seen` list */
  days: (Omit<DayState, 'hours' | 'seen'> & {
    /** `hourList` [hourStart, sum, readings, …] (written now) or the older `hours` entries */
    hours?: [number, [number, number]][];
    hourList?: number[];
    seen?: number[];
    seenRuns?: number[];
  })[];
  months: MonthState[];
}

export function partitionStateFromJSON(o: unknown): PartitionState {
  const j = o as { counters: Counters; meters: MeterJSON[] };
  const meters = new Map<string, MeterState>();
  for (const m of j.meters) {
    meters.set(m.id, {
      ...m,
      // JSON has no infinities: they come back as null
      watermark: m.watermark ?? Number.NEGATIVE_INFINITY,
      nextCloseAt: Number.NEGATIVE_INFINITY, // recomputed at the next reading
      days: new Map(
        m.days.map(({ seenRuns, hourList, ...d }) => [
          d.day,
          {
            ...d,
            hours: hourList ? listToHours(hourList) : new Map(d.hours),
            seen: new Set(seenRuns ? runsToSeen(seenRuns) : d.seen),
          },
        ]),
      ),
      months: new Map(m.months.map((mo) => [mo.month, mo])),
    });
  }
  return { meters, counters: { ...newCounters(), ...j.counters } };
}

/**
 * A day's dedupe set as runs [first, step, count, …] of its sorted timestamps. A meter reads at a
 * fixed interval, so a day is one run of a few numbers instead of up to 48 (or 1,440) timestamps:
 * this state goes into every batch's manifest, for every meter of the partition.
 */
export function seenToRuns(seen: Set<number>): number[] {
  const ts = [...seen].sort((a, b) => a - b);
  const runs: number[] = [];
  let i = 0;
  while (i < ts.length) {
    const first = ts[i];
    const step = i + 1 < ts.length ? ts[i + 1] - first : 0;
    // A run only holds values that first + k × step gives back exactly (fractional ms are floats).
    let count = 1;
    while (i + count < ts.length && step > 0 && first + count * step === ts[i + count]) count++;
    runs.push(first, count > 1 ? step : 0, count);
    i += count;
  }
  return runs;
}

export function runsToSeen(runs: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 2 < runs.length; i += 3)
    for (let k = 0; k < runs[i + 2]; k++) out.push(runs[i] + k * runs[i + 1]);
  return out;
}

/** A day's hours flat, [hourStart, sum, readings, …]: no small array per hour in every manifest. */
export function hoursToList(hours: Map<number, [number, number]>): number[] {
  const out: number[] = [];
  for (const [h, [sum, n]] of hours) out.push(h, sum, n);
  return out;
}

export function listToHours(list: number[]): Map<number, [number, number]> {
  const hours = new Map<number, [number, number]>();
  for (let i = 0; i + 2 < list.length; i += 3) hours.set(list[i], [list[i + 1], list[i + 2]]);
  return hours;
}
