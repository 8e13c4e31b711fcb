// Per-meter stream state: open and recently closed days, month progress, the last register read.
// Saved with a partition's batches (toJSON/fromJSON, and deltas: PartitionChanges) so a restarted
// worker resumes exactly. A day's hours and dedupe set are compact (compact.ts): at a million
// meters an object per hour and a hash set per day would not fit a worker's memory.

import { LakestreamError } from '../../errors.ts';
import { HourSums, type Keyed, SeenSet, SmallMap } from './compact.ts';

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
  /** whether each day was complete: bit d-1 for day d (saved as the list of booleans it was, see
   *  completeList; one small integer instead of an array of 28–31 elements at every meter) */
  complete: number;
  predictions: Prediction[];
  closed: boolean;
  written: Written;
}

/** Whether day `i + 1` of the month was complete. */
export const dayComplete = (mo: MonthState, i: number): boolean => (mo.complete & (1 << i)) !== 0;

export const setDayComplete = (mo: MonthState, i: number, complete: boolean): void => {
  mo.complete = complete ? mo.complete | (1 << i) : mo.complete & ~(1 << i);
};

/** The month's completeness as saved: one boolean a day. */
export function completeList(mo: MonthState): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < mo.daysInMonth; i++) out.push(dayComplete(mo, i));
  return out;
}

function completeMask(list: boolean[] | number): number {
  if (typeof list === 'number') return list;
  let mask = 0;
  for (let i = 0; i < list.length; i++) if (list[i]) mask |= 1 << i;
  return mask;
}

/**
 * A meter's month means and totals until its first month closes: one frozen empty record shared by
 * every meter (an empty object each is ~56 B, twice, at every meter), replaced by its own at the
 * first write (MetersProcessor.closeMonth). Frozen, so a write that forgets to replace it throws.
 */
export const NO_MONTHS: Record<string, number> = Object.freeze({}) as Record<string, number>;

const orNoMonths = (r: Record<string, number>) => {
  for (const _ in r) return r;
  return NO_MONTHS;
};

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
  /** (a SmallMap as the processor and a restore make them; a Map will do) */
  days: Keyed<DayState>;
  months: Keyed<MonthState>;
  /** earliest event time at which a day or month of this meter is due: an open one to close, a
   *  closed one to be released (+Infinity: none; a state saved by an older worker may hold an
   *  earlier time, which only costs one more look) */
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
      months: [...m.months.values()].map((mo) => ({ ...mo, complete: completeList(mo) })),
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
  let months = '';
  for (const mo of m.months.values()) months += months === '' ? monthText(mo) : `,${monthText(mo)}`;
  let days = '';
  for (const d of m.days.values()) days += days === '' ? dayText(d) : `,${dayText(d)}`;
  return `${meterFieldsText(m)},"months":[${months}],"days":[${days}]}`;
}

// The texts below are JSON.stringify of an object literal of the fields, not of a spread copy (or
// a rest pattern): they are made for every touched meter of every batch (the deltas), and a literal
// of fixed shape is V8's fast path, where the copies were not. (A text put together field by field
// from template strings was slower still: numbers made into text one call at a time.) They parse to
// what the spread form gave (a test holds them to it).

/** A meter's own fields (not its days and months) as a JSON object's text without its closing brace. */
function meterFieldsText(m: MeterState, dropDays?: string[], dropMonths?: string[]): string {
  const t = JSON.stringify({
    id: m.id,
    kind: m.kind,
    unit: m.unit,
    tz: m.tz,
    fixedOffset: m.fixedOffset,
    watermark: m.watermark,
    intervalMs: m.intervalMs,
    lastTs: m.lastTs,
    nextCloseAt: m.nextCloseAt,
    monthMeans: m.monthMeans,
    monthTotals: m.monthTotals,
    register: m.register,
    completeMonthTotals: m.completeMonthTotals,
    lastMonthDaily: m.lastMonthDaily,
    dropDays,
    dropMonths,
  });
  return t.slice(0, -1);
}

/**
 * A meter the delta's state already holds, as meterFieldsText gives it but with only the fields a
 * reading changes (and the month history when a month closed since it was first touched): a meter's
 * id, kind, unit and zone never change, and written again for every touched meter of every batch they
 * were over half of a delta's bytes. `update: true` tells applyPartitionDelta to merge it.
 */
function meterUpdateText(
  m: MeterState,
  monthClosed: boolean,
  dropDays?: string[],
  dropMonths?: string[],
): string {
  const t = monthClosed
    ? JSON.stringify({
        id: m.id,
        update: true,
        watermark: m.watermark,
        intervalMs: m.intervalMs,
        lastTs: m.lastTs,
        nextCloseAt: m.nextCloseAt,
        register: m.register,
        monthMeans: m.monthMeans,
        monthTotals: m.monthTotals,
        completeMonthTotals: m.completeMonthTotals,
        lastMonthDaily: m.lastMonthDaily,
        dropDays,
        dropMonths,
      })
    : JSON.stringify({
        id: m.id,
        update: true,
        watermark: m.watermark,
        intervalMs: m.intervalMs,
        lastTs: m.lastTs,
        nextCloseAt: m.nextCloseAt,
        register: m.register,
        dropDays,
        dropMonths,
      });
  return t.slice(0, -1);
}

function monthText(mo: MonthState): string {
  return JSON.stringify({
    month: mo.month,
    daysInMonth: mo.daysInMonth,
    end: mo.end,
    sums: mo.sums,
    complete: completeList(mo),
    predictions: mo.predictions,
    closed: mo.closed,
    written: mo.written,
  });
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
  const text = JSON.stringify({
    day: d.day,
    month: d.month,
    dayOfMonth: d.dayOfMonth,
    weekday: d.weekday,
    start: d.start,
    end: d.end,
    sum: d.sum,
    n: d.n,
    closed: d.closed,
    written: d.written,
    hourList: hoursToList(d.hours),
    seenRuns: seenToRuns(d.seen),
  });
  if (d.closed) dayTexts.set(d, { n: d.n, sum: d.sum, written: d.written, text });
  return text;
}

/**
 * A day the delta only updates: it was in the state when its meter was first touched since the last
 * save (so the state the delta applies to has it), and its readings, flags or totals changed. It
 * carries what can change and the hours that did (from the first to the last one added to), not the
 * whole day: at a million meters every reading of a batch is another meter's, and the whole day
 * (two dozen hours by the evening) in every meter's delta was most of the bytes written per batch.
 */
function dayPartText(d: DayState): string {
  return JSON.stringify({
    day: d.day,
    sum: d.sum,
    n: d.n,
    closed: d.closed,
    written: d.written,
    hourPart: d.hours.changedList(),
    seenRuns: seenToRuns(d.seen),
  });
}

interface MeterJSON extends Omit<MeterState, 'days' | 'months'> {
  /** `seenRuns` (written since the manifest carried whole states every batch) or the older `seen` list */
  days: (Omit<DayState, 'hours' | 'seen'> & {
    /** `hourList` [hourStart, sum, readings, …] (written now) or the older `hours` entries */
    hours?: [number, [number, number]][];
    /** in a delta, a day it only updates (see dayPartText): the hours changed, as in `hourList` */
    hourPart?: number[];
    hourList?: number[];
    seen?: number[];
    seenRuns?: number[];
  })[];
  months: (Omit<MonthState, 'complete'> & { complete: boolean[] })[];
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
    monthMeans: orNoMonths(m.monthMeans),
    monthTotals: orNoMonths(m.monthTotals),
    // JSON has no infinities: they come back as null
    watermark: m.watermark ?? Number.NEGATIVE_INFINITY,
    // (null: recomputed at the next reading)
    nextCloseAt: m.nextCloseAt ?? Number.NEGATIVE_INFINITY,
    days: new SmallMap(m.days.map((d) => [d.day, dayFromJSON(d, m.intervalMs)])),
    months: new SmallMap(m.months.map((mo) => [mo.month, { ...mo, complete: completeMask(mo.complete) }])),
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
  /** only the fields a reading or a month's close changes (meterUpdateText): merged into the held meter */
  update?: boolean;
  dropDays?: string[];
  dropMonths?: string[];
}

/**
 * A meter's days and months as they were when it was first touched since the state was last saved
 * (null: the meter is new since). Kept as the values that can change — no text is made for them:
 * a day changes only with its readings (n, sum) or its closed and written flags; a month with its
 * predictions or flags, or when a day of it is set (told by the processor: PartitionChanges.monthDaySet).
 * Arrays, not maps, and no copy of a month's daily sums: a mark is made for every touched meter of
 * every batch (50,000 at a million meters), and what it held was garbage by the next batch.
 */
type Baseline = {
  days: DayMark[];
  months: MonthMark[];
  /** the meter's lastMonthDaily then: a new object each time a month of the meter closes, which is
   *  when its month means and totals change too */
  lastMonthDaily: MeterState['lastMonthDaily'];
} | null;

interface DayMark {
  key: string;
  day: DayState;
  n: number;
  sum: number;
  closed: boolean;
  written: Written;
}

interface MonthMark {
  key: string;
  month: MonthState;
  predictions: number;
  closed: boolean;
  written: Written;
}

const markDay = (key: string, day: DayState): DayMark => ({
  key,
  day,
  n: day.n,
  sum: day.sum,
  closed: day.closed,
  written: day.written,
});

const dayChanged = (b: DayMark | undefined, d: DayState) =>
  !b || b.day !== d || b.n !== d.n || b.sum !== d.sum || b.closed !== d.closed || b.written !== d.written;

const markMonth = (key: string, month: MonthState): MonthMark => ({
  key,
  month,
  predictions: month.predictions.length,
  closed: month.closed,
  written: month.written,
});

const marked = <T extends { key: string }>(marks: T[] | undefined, key: string) => {
  if (marks) for (const x of marks) if (x.key === key) return x;
  return undefined;
};

/**
 * What changed in a partition's state since it was last saved (the manifest's deltas, see
 * stream/manifest.ts). The processor calls `touch` before it changes a meter (`created` for a new
 * one) and `monthDaySet` when it sets a day's total in a month; the delta then holds the counters and,
 * for each touched meter, its fields and only the days and months that differ from when it was first
 * touched (a month whose day was set is in it, even set to the same value).
 */
export class PartitionChanges {
  private readonly touched = new Map<MeterState, Baseline>();
  /** months whose daily sums or completeness were set since the state was last saved */
  private readonly monthsSet = new Set<MonthState>();

  touch(m: MeterState): void {
    if (this.touched.has(m)) return;
    const days: DayMark[] = [];
    for (const [k, day] of m.days) {
      days.push(markDay(k, day));
      day.hours.markClean();
    }
    const months: MonthMark[] = [];
    for (const [k, month] of m.months) months.push(markMonth(k, month));
    this.touched.set(m, { days, months, lastMonthDaily: m.lastMonthDaily });
  }

  /** A day's total and completeness were set in `month` (of a touched meter). */
  monthDaySet(month: MonthState): void {
    this.monthsSet.add(month);
  }

  private monthChanged(b: MonthMark | undefined, mo: MonthState): boolean {
    if (!b || b.month !== mo || b.predictions !== mo.predictions.length) return true;
    return b.closed !== mo.closed || b.written !== mo.written || this.monthsSet.has(mo);
  }

  created(m: MeterState): void {
    this.touched.set(m, null);
  }

  /** The state as it stands is saved: the next delta starts here. */
  saved(): void {
    this.touched.clear();
    this.monthsSet.clear();
  }

  /** The delta as JSON text: {counters, meters: [{…fields, days, months, dropDays?, dropMonths?}]}. */
  deltaText(s: PartitionState): string {
    const meters: string[] = [];
    for (const [m, base] of this.touched) {
      const { days, months } = m;
      const dayTexts: string[] = [];
      const monthTexts: string[] = [];
      const dropDays: string[] = [];
      const dropMonths: string[] = [];
      for (const [k, d] of days) {
        const b = marked(base?.days, k);
        if (dayChanged(b, d)) dayTexts.push(b?.day === d ? dayPartText(d) : dayText(d));
      }
      for (const [k, mo] of months)
        if (this.monthChanged(marked(base?.months, k), mo)) monthTexts.push(monthText(mo));
      // a day dropped, or dropped and made again (it goes to the end of the map, as it did here)
      for (const b of base?.days ?? []) if (days.get(b.key) !== b.day) dropDays.push(b.key);
      for (const b of base?.months ?? []) if (months.get(b.key) !== b.month) dropMonths.push(b.key);
      const drops = [
        dropDays.length > 0 ? dropDays : undefined,
        dropMonths.length > 0 ? dropMonths : undefined,
      ] as const;
      const head = base
        ? meterUpdateText(m, base.lastMonthDaily !== m.lastMonthDaily, ...drops)
        : meterFieldsText(m, ...drops);
      meters.push(`${head},"days":[${dayTexts.join(',')}],"months":[${monthTexts.join(',')}]}`);
    }
    return `{"counters":${JSON.stringify(s.counters)},"meters":[${meters.join(',')}]}`;
  }
}

/** Applies a delta (PartitionChanges.deltaText) to the state it was taken from. */
export function applyPartitionDelta(s: PartitionState, delta: unknown): void {
  const j = delta as { counters: Counters; meters: MeterDeltaJSON[] };
  s.counters = { ...newCounters(), ...j.counters };
  for (const { dropDays, dropMonths, update, ...e } of j.meters) {
    const parts = e.days.filter((d) => d.hourPart !== undefined);
    if (parts.length > 0) e.days = e.days.filter((d) => d.hourPart === undefined);
    const old = s.meters.get(e.id);
    if (update && !old)
      throw new LakestreamError(
        'CORRUPT_TABLE',
        `stream state delta updates meter ${e.id}, which the state it applies to does not hold`,
      );
    // an update (meterUpdateText) has only the fields that changed: the rest are the held meter's
    const changed = meterFromJSON(update && old ? ({ ...old, ...e } as MeterJSON) : e);
    for (const p of parts) {
      const day = old?.days.get(p.day);
      if (!day)
        throw new LakestreamError(
          'CORRUPT_TABLE',
          `stream state delta updates day ${p.day} of meter ${e.id}, which the state it applies to does not hold`,
        );
      day.sum = p.sum;
      day.n = p.n;
      day.closed = p.closed;
      day.written = p.written;
      const hp = p.hourPart as number[];
      for (let i = 0; i + 2 < hp.length; i += 3) day.hours.set(hp[i], hp[i + 1], hp[i + 2]);
      for (const ts of runsToSeen(p.seenRuns ?? [])) day.seen.add(ts);
    }
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
