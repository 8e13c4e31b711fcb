// Compact per-day structures of the meters stream state. A meter keeps its open and recently
// closed days, and at a million meters an object per hour and a hash set of timestamps per day do
// not fit a worker's memory: a day's dedupe set is a bitmap over the meter's reading grid, its hours
// one array of numbers.
//
// Plain arrays, not typed arrays: V8 gives every typed array an ArrayBuffer object and a backing
// store outside the heap, ~200 B beside the data, and a day has two of them — more than the 8 B of
// a half-hourly day's bitmap and half again its 384 B of hours. An array of doubles (V8 keeps
// them unboxed) or of 32-bit integers holds the same values in the array alone.

const HOUR = 3_600_000;
/** the grid a day's dedupe bitmap starts on when the meter's interval is not known yet */
export const DEFAULT_GRID_MS = 1_800_000;
/** off-grid timestamps kept before the day looks for a finer grid that holds them */
const REGRID_AFTER = 8;
/** the finest grid a day moves to (a finer one would make a bitmap larger than the timestamps) */
const MIN_GRID_MS = 1_000;
const NO_OFF_GRID = new Float64Array(0);

/** n zeros as an array of small integers (V8 keeps them unboxed in the array: no object per value). */
// (`new Array(n)` sizes the store exactly; pushing would leave room to grow in every array)
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/**
 * The timestamps (ms) accepted for one day: the dedupe set. A timestamp on the day's grid
 * (start + k × step, 0 ≤ k < slots) is a bit; any other (off the grid, fractional, outside the day)
 * goes to a small sorted list. When that list grows, the grid becomes the greatest common divisor
 * of the offsets seen, so a meter whose interval was guessed wrong moves to a bitmap again.
 * Exact: `has` answers as a Set of the same timestamps would.
 */
export class SeenSet {
  private origin: number;
  private span: number;
  private step: number;
  /** 32-bit words of the bitmap (signed, as the bit operators give them) */
  private bits: number[];
  private off: Float64Array = NO_OFF_GRID;
  private count = 0;

  /** origin, span: the day's start and length (ms); step: the expected interval between readings */
  constructor(origin: number, span: number, step: number = DEFAULT_GRID_MS) {
    this.origin = origin;
    this.span = Math.max(span, 0);
    this.step = step > 0 && Number.isInteger(step) ? step : DEFAULT_GRID_MS;
    this.bits = zeros(Math.ceil(Math.ceil(this.span / this.step) / 32));
  }

  get size(): number {
    return this.count;
  }

  private slot(ts: number): number {
    const k = (ts - this.origin) / this.step;
    return Number.isInteger(k) && k >= 0 && k < this.bits.length * 32 && ts === this.origin + k * this.step
      ? k
      : -1;
  }

  has(ts: number): boolean {
    const k = this.slot(ts);
    if (k >= 0) return (this.bits[k >>> 5] & (1 << (k & 31))) !== 0;
    return indexOf(this.off, ts) >= 0;
  }

  add(ts: number): this {
    this.tryAdd(ts);
    return this;
  }

  /**
   * Adds `ts` unless the set holds it: true when it was new. (has and then add found its slot twice
   * for every reading the stream accepts.)
   */
  tryAdd(ts: number): boolean {
    const k = this.slot(ts);
    if (k >= 0) {
      const w = k >>> 5;
      const b = 1 << (k & 31);
      if ((this.bits[w] & b) !== 0) return false;
      this.bits[w] = this.bits[w] | b;
      this.count++;
      return true;
    }
    if (indexOf(this.off, ts) >= 0) return false;
    this.off = insertSorted(this.off, ts);
    this.count++;
    if (this.off.length > REGRID_AFTER) this.regrid();
    return true;
  }

  /** The timestamps in ascending order. */
  values(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w];
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        out.push(this.origin + (w * 32 + b) * this.step);
        word &= word - 1;
      }
    }
    if (this.off.length === 0) return out;
    return out.concat(Array.from(this.off)).sort((a, b) => a - b);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.values()[Symbol.iterator]();
  }

  /** Bytes this set holds in its arrays (not counting the object's own header). */
  get bytes(): number {
    return this.bits.length * 4 + this.off.byteLength;
  }

  /** A grid that holds the off-grid timestamps too: the gcd of every offset from the origin. */
  private regrid(): void {
    let g = this.step;
    for (const ts of this.off) {
      const d = ts - this.origin;
      if (!Number.isInteger(d) || d < 0 || d >= this.span) continue;
      g = gcd(g, d);
    }
    if (g === this.step || g < MIN_GRID_MS) return;
    const all = this.values();
    this.step = g;
    this.bits = zeros(Math.ceil(Math.ceil(this.span / g) / 32));
    this.off = NO_OFF_GRID;
    this.count = 0;
    for (const ts of all) this.add(ts);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function indexOf(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === x ? lo : -1;
}

function insertSorted(sorted: Float64Array, x: number): Float64Array {
  const out = new Float64Array(sorted.length + 1);
  let i = 0;
  while (i < sorted.length && sorted[i] < x) out[i] = sorted[i++];
  out[i] = x;
  out.set(sorted.subarray(i), i + 1);
  return out;
}

/**
 * A day's consumption per UTC hour: [sum, readings] for each hour from the one holding the day's
 * start (23, 24 or 25 hours on DST days, one more when the zone's offset is not whole hours). An
 * hour outside that range (not expected: a day's readings fall inside it) widens the array.
 */
export class HourSums {
  /** index of the first hour (ms / HOUR) */
  private base: number;
  /** [sum, readings] of each hour in turn */
  private v: number[];
  /** the first and last hour (ms / HOUR) changed since `markClean` (lo > hi: none) */
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  constructor(start: number, end: number) {
    this.base = Math.floor(start / HOUR);
    const last = Math.floor((Math.max(end, start + 1) - 1) / HOUR);
    this.v = zeros(2 * (last - this.base + 1));
  }

  /** Adds a reading's consumption to the hour starting at hourStart (ms, a whole UTC hour). */
  add(hourStart: number, value: number): void {
    const h = hourStart / HOUR;
    if (h < this.base || h >= this.base + this.v.length / 2) this.widen(h);
    const i = 2 * (h - this.base);
    this.v[i] += value;
    this.v[i + 1]++;
    if (h < this.lo) this.lo = h;
    if (h > this.hi) this.hi = h;
  }

  /** From now on, `changedList` gives only the hours added to after this call. */
  markClean(): void {
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  /**
   * The hours with readings from the first to the last one added to since `markClean` (restoring
   * with `set` is not a change), flat as `list` gives them: what a delta of the day needs to carry.
   */
  changedList(): number[] {
    const out: number[] = [];
    const from = Math.max(this.lo, this.base);
    const to = Math.min(this.hi, this.base + this.v.length / 2 - 1);
    for (let h = from; h <= to; h++) {
      const i = 2 * (h - this.base);
      if (this.v[i + 1] > 0) out.push(h * HOUR, this.v[i], this.v[i + 1]);
    }
    return out;
  }

  /** Sets an hour's sum and readings (restoring a saved day). */
  set(hourStart: number, sum: number, n: number): void {
    const h = hourStart / HOUR;
    if (h < this.base || h >= this.base + this.v.length / 2) this.widen(h);
    const i = 2 * (h - this.base);
    this.v[i] = sum;
    this.v[i + 1] = n;
  }

  /** [hourStart, [sum, readings]] of each hour with readings, in time order (as the Map was). */
  entries(): [number, [number, number]][] {
    const out: [number, [number, number]][] = [];
    for (let i = 0; i < this.v.length; i += 2)
      if (this.v[i + 1] > 0) out.push([(this.base + i / 2) * HOUR, [this.v[i], this.v[i + 1]]]);
    return out;
  }

  [Symbol.iterator](): Iterator<[number, [number, number]]> {
    return this.entries()[Symbol.iterator]();
  }

  /** The same flat, [hourStart, sum, readings, …] (the saved form: no small array per hour). */
  list(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.v.length; i += 2)
      if (this.v[i + 1] > 0) out.push((this.base + i / 2) * HOUR, this.v[i], this.v[i + 1]);
    return out;
  }

  /** Bytes this day's hours hold in their array (8 a value). */
  get bytes(): number {
    return this.v.length * 8;
  }

  private widen(h: number): void {
    if (!Number.isInteger(h)) throw new RangeError(`not the start of an hour: ${h * HOUR}`);
    const first = Math.min(this.base, h);
    const last = Math.max(this.base + this.v.length / 2 - 1, h);
    const v = zeros(2 * (last - first + 1));
    for (let i = 0; i < this.v.length; i++) v[2 * (this.base - first) + i] = this.v[i];
    this.base = first;
    this.v = v;
  }
}

/** What a meter's days and months are used through: a Map of string keys has it, and so has SmallMap. */
export interface Keyed<V> extends Iterable<[string, V]> {
  readonly size: number;
  get(key: string): V | undefined;
  set(key: string, value: V): unknown;
  delete(key: string): boolean;
  values(): Iterable<V>;
}

/**
 * A handful of entries by key in insertion order, as a Map keeps them (a key deleted and set again
 * goes to the end), in one array [key, value, …] sized to them. A meter holds two of these (its
 * days and its months, a few entries each): an empty Map is ~180 B before its first entry.
 * Iterating while deleting is safe, as with a Map (the entries are copied first).
 */
export class SmallMap<V> implements Keyed<V> {
  private kv: (string | V)[] = [];

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  get size(): number {
    return this.kv.length / 2;
  }

  /** From the newest entry back: a meter's reading is nearly always for its newest day and month. */
  private find(key: string): number {
    for (let i = this.kv.length - 2; i >= 0; i -= 2) if (this.kv[i] === key) return i;
    return -1;
  }

  get(key: string): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : (this.kv[i + 1] as V);
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  set(key: string, value: V): this {
    const i = this.find(key);
    if (i >= 0) this.kv[i + 1] = value;
    // (concat sizes the new array to its entries; a push would leave room for 16 more)
    else this.kv = this.kv.concat([key, value]);
    return this;
  }

  delete(key: string): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.kv = this.kv.slice(0, i).concat(this.kv.slice(i + 2));
    return true;
  }

  values(): V[] {
    const out: V[] = [];
    for (let i = 1; i < this.kv.length; i += 2) out.push(this.kv[i] as V);
    return out;
  }

  entries(): [string, V][] {
    const out: [string, V][] = [];
    for (let i = 0; i < this.kv.length; i += 2) out.push([this.kv[i] as string, this.kv[i + 1] as V]);
    return out;
  }

  [Symbol.iterator](): Iterator<[string, V]> {
    return this.entries()[Symbol.iterator]();
  }
}
