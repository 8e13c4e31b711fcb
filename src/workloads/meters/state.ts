// Per-meter stream state: open and recently closed days, month progress, the last register read.
// Saved with a partition's batches (toJSON/fromJSON, and deltas: PartitionChanges) so a restarted
// worker resumes exactly. A day's hours and dedupe set are compact (compact.ts): at a million
// meters an object per hour and a hash set per day would not fit a worker's memory.

import { HourSums, SeenSet } from './compact.ts';

export interface DayState {
  day: string;
  month: string;
  dayOfMonth: number;
  weekday: number;
  /** UTC ms of the local day's start and end */
  start: number;
  end: number;
  /** UTC hour start (ms) → [sum, readings] */
  hours: HourSums;
  /** timestamps (ms) already accepted: the dedupe set */
  seen: SeenSet;
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
  for (const m of s.meters.values()) meters.push(meterText(m));
  return `{"counters":${JSON.stringify(s.counters)},"meters":[${meters.join(',')}]}`;
}

/** Text pieces of a snapshot are encoded once they reach this many characters. */
const PIECE_CHARS = 1 << 20;

/**
 * The same as UTF-8 bytes, made a megabyte at a time: at a million meters a partition's snapshot is
 * hundreds of MB, and as one string it was held two or three times over (the meters' texts, the
 * joined string, its encoding) — here only the encoded pieces and the result are.
 */
export function partitionStateToJSONBytes(s: PartitionState): Uint8Array {
  const pieces: Buffer[] = [];
  let texts: string[] = [];
  let chars = 0;
  const add = (t: string) => {
    texts.push(t);
    chars += t.length;
    if (chars >= PIECE_CHARS) encodeTexts();
  };
  const encodeTexts = () => {
    pieces.push(Buffer.from(texts.join(''), 'utf8'));
    texts = [];
    chars = 0;
  };
  add(`{"counters":${JSON.stringify(s.counters)},"meters":[`);
  let first = true;
  for (const m of s.meters.values()) {
    add(first ? meterText(m) : `,${meterText(m)}`);
    first = false;
  }
  add(']}');
  encodeTexts();
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
}

function meterText(m: MeterState): string {
  const { days, months, ...fields } = m;
  const head = JSON.stringify({ ...fields, months: [...months.values()] });
  return `${head.slice(0, -1)},"days":[${[...days.values()].map(dayText).join(',')}]}`;
}

const dayTexts = new WeakMap<DayState, { n: number; sum: number; written: Written; text: string }>();

/**
 * Only closed days keep their text: they are most of a meter's days (kept a week for late
 * readings) and rarely change, while an open day changes with nearly every batch — keeping its
 * text too would cost memory at every meter for text made again at the next save.
 */
function dayText(d: DayState): string {
  const cached = d.closed ? dayTexts.get(d) : undefined;
  if (cached && cached.n === d.n && cached.sum === d.sum && cached.written === d.written) return cached.text;
  const { seen, hours, ...fields } = d;
  const text = JSON.stringify({ ...fields, hourList: hoursToList(hours), seenRuns: seenToRuns(seen) });
  if (d.closed) dayTexts.set(d, { n: d.n, sum: d.sum, written: d.written, text });
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
  for (const m of j.meters) meters.set(m.id, meterFromJSON(m));
  return { meters, counters: { ...newCounters(), ...j.counters } };
}

function meterFromJSON(m: MeterJSON): MeterState {
  return {
    ...m,
    kind: intern(m.kind),
    unit: intern(m.unit),
    tz: m.tz === undefined ? undefined : intern(m.tz),
    // JSON has no infinities: they come back as null
    watermark: m.watermark ?? Number.NEGATIVE_INFINITY,
    // (null: recomputed at the next reading)
    nextCloseAt: m.nextCloseAt ?? Number.NEGATIVE_INFINITY,
    days: new Map(m.days.map((d) => [d.day, dayFromJSON(d, m.intervalMs)])),
    months: new Map(m.months.map((mo) => [mo.month, mo])),
  };
}

function dayFromJSON(
  { seenRuns, hourList, hours: hourEntries, seen: seenList, ...d }: MeterJSON['days'][number],
  intervalMs: number,
): DayState {
  const hours = new HourSums(d.start, d.end);
  for (const [h, [sum, n]] of hourList ? listToHours(hourList) : (hourEntries ?? [])) hours.set(h, sum, n);
  const seen = new SeenSet(d.start, d.end - d.start, intervalMs);
  for (const ts of seenRuns ? runsToSeen(seenRuns) : (seenList ?? [])) seen.add(ts);
  return { ...d, day: intern(d.day), month: intern(d.month), hours, seen };
}

const interned = new Map<string, string>();

/**
 * One copy of a string repeated across meters (kind, unit, zone, day and month names): each meter
 * would otherwise keep its own copy, decoded from its own reading or saved state.
 */
export function intern<T extends string>(s: T): T {
  const known = interned.get(s);
  if (known !== undefined) return known as T;
  // names are few (kinds, units, zones, the days kept); anything else is not worth keeping
  if (interned.size < 100_000) interned.set(s, s);
  return s;
}

/** A changed meter in a delta: its fields, the days and months that changed, and those dropped. */
interface MeterDeltaJSON extends MeterJSON {
  dropDays?: string[];
  dropMonths?: string[];
}

/**
 * A meter's days and months as they were when it was first touched since the state was last saved
 * (null: the meter is new since). Kept as the values that can change — no text is made for them:
 * a day changes only with its readings (n, sum) or its closed and written flags; a month with its
 * daily sums, completeness, predictions or flags.
 */
type Baseline = {
  days: Map<string, DayMark>;
  months: Map<string, MonthMark>;
} | null;

interface DayMark {
  day: DayState;
  n: number;
  sum: number;
  closed: boolean;
  written: Written;
}

interface MonthMark {
  month: MonthState;
  sums: (number | null)[];
  complete: boolean[];
  predictions: number;
  closed: boolean;
  written: Written;
}

const markDay = (day: DayState): DayMark => ({
  day,
  n: day.n,
  sum: day.sum,
  closed: day.closed,
  written: day.written,
});

const dayChanged = (b: DayMark | undefined, d: DayState) =>
  !b || b.day !== d || b.n !== d.n || b.sum !== d.sum || b.closed !== d.closed || b.written !== d.written;

const markMonth = (month: MonthState): MonthMark => ({
  month,
  sums: month.sums.slice(),
  complete: month.complete.slice(),
  predictions: month.predictions.length,
  closed: month.closed,
  written: month.written,
});

function monthChanged(b: MonthMark | undefined, mo: MonthState): boolean {
  if (!b || b.month !== mo || b.predictions !== mo.predictions.length) return true;
  if (b.closed !== mo.closed || b.written !== mo.written) return true;
  for (let i = 0; i < mo.sums.length; i++)
    if (b.sums[i] !== mo.sums[i] || b.complete[i] !== mo.complete[i]) return true;
  return b.sums.length !== mo.sums.length;
}

/**
 * What changed in a partition's state since it was last saved (the manifest's deltas, see
 * stream/manifest.ts). The processor calls `touch` before it changes a meter (`created` for a new
 * one); the delta then holds the counters and, for each touched meter, its fields and only the days
 * and months that differ from when it was first touched.
 */
export class PartitionChanges {
  private readonly touched = new Map<MeterState, Baseline>();

  touch(m: MeterState): void {
    if (this.touched.has(m)) return;
    const days = new Map<string, DayMark>();
    for (const [k, day] of m.days) days.set(k, markDay(day));
    const months = new Map<string, MonthMark>();
    for (const [k, month] of m.months) months.set(k, markMonth(month));
    this.touched.set(m, { days, months });
  }

  created(m: MeterState): void {
    this.touched.set(m, null);
  }

  /** The state as it stands is saved: the next delta starts here. */
  saved(): void {
    this.touched.clear();
  }

  /** The delta as JSON text: {counters, meters: [{…fields, days, months, dropDays?, dropMonths?}]}. */
  deltaText(s: PartitionState): string {
    const meters: string[] = [];
    for (const [m, base] of this.touched) {
      const { days, months, ...fields } = m;
      const dayTexts: string[] = [];
      const monthTexts: string[] = [];
      const dropDays: string[] = [];
      const dropMonths: string[] = [];
      for (const [k, d] of days) if (dayChanged(base?.days.get(k), d)) dayTexts.push(dayText(d));
      for (const [k, mo] of months)
        if (monthChanged(base?.months.get(k), mo)) monthTexts.push(JSON.stringify(mo));
      // a day dropped, or dropped and made again (it goes to the end of the map, as it did here)
      for (const [k, b] of base?.days ?? []) if (days.get(k) !== b.day) dropDays.push(k);
      for (const [k, b] of base?.months ?? []) if (months.get(k) !== b.month) dropMonths.push(k);
      const head = JSON.stringify({
        ...fields,
        ...(dropDays.length > 0 ? { dropDays } : {}),
        ...(dropMonths.length > 0 ? { dropMonths } : {}),
      });
      meters.push(`${head.slice(0, -1)},"days":[${dayTexts.join(',')}],"months":[${monthTexts.join(',')}]}`);
    }
    return `{"counters":${JSON.stringify(s.counters)},"meters":[${meters.join(',')}]}`;
  }
}

/** Applies a delta (PartitionChanges.deltaText) to the state it was taken from. */
export function applyPartitionDelta(s: PartitionState, delta: unknown): void {
  const j = delta as { counters: Counters; meters: MeterDeltaJSON[] };
  s.counters = { ...newCounters(), ...j.counters };
  for (const { dropDays, dropMonths, ...e } of j.meters) {
    const changed = meterFromJSON(e);
    const old = s.meters.get(e.id);
    if (old) {
      for (const k of dropDays ?? []) old.days.delete(k);
      for (const k of dropMonths ?? []) old.months.delete(k);
      for (const [k, d] of changed.days) old.days.set(k, d);
      for (const [k, mo] of changed.months) old.months.set(k, mo);
      changed.days = old.days;
      changed.months = old.months;
    }
    s.meters.set(e.id, changed);
  }
}

/**
 * A day's dedupe set as runs [first, step, count, …] of its sorted timestamps. A meter reads at a
 * fixed interval, so a day is one run of a few numbers instead of up to 48 (or 1,440) timestamps:
 * this state goes into every batch's manifest, for every meter of the partition.
 */
export function seenToRuns(seen: Iterable<number>): number[] {
  // a SeenSet gives its timestamps sorted already (no copy to sort for every touched meter's delta)
  const ts = seen instanceof SeenSet ? seen.values() : [...seen].sort((a, b) => a - b);
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
export function hoursToList(hours: Iterable<[number, [number, number]]>): number[] {
  if (hours instanceof HourSums) return hours.list();
  const out: number[] = [];
  for (const [h, [sum, n]] of hours) out.push(h, sum, n);
  return out;
}

export function listToHours(list: number[]): Map<number, [number, number]> {
  const hours = new Map<number, [number, number]>();
  for (let i = 0; i + 2 < list.length; i += 3) hours.set(list[i], [list[i + 1], list[i + 2]]);
  return hours;
}
