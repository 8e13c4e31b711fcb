// Exact sums of doubles, for the fleet totals combined from per-partition partial sums (fleet.ts).
//
// Floating-point addition is not associative: a fleet total added up from partials would depend on
// how the meters were split into partitions, batches and workers. Every finite double is an integer
// times a power of two, so a sum of doubles is held exactly as a BigInt mantissa and a binary
// exponent; adding, and subtracting a value replaced, are exact and in any order. A total is read
// out as the double nearest to the exact sum (ties to even): the correctly rounded sum, the same
// whatever the order. (Today's ordered list_sum gave a sum rounded at every step: the two can differ
// in the last bits.)

import { LakestreamError } from '../../errors.ts';

/** value = m × 2^e (e ≥ -1074, the exponent of the smallest subnormal). */
export interface ExactSum {
  m: bigint;
  e: number;
}

export const ZERO: ExactSum = { m: 0n, e: 0 };

const view = new DataView(new ArrayBuffer(8));

/** The exact value of a finite double. */
export function exact(x: number): ExactSum {
  if (!Number.isFinite(x))
    throw new LakestreamError('INTERNAL', `an exact sum takes finite numbers only (got ${x})`);
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (hi & 0xfffff) * 2 ** 32 + lo; // < 2^52: exact as a number
  if (mantissa === 0 && biased === 0) return ZERO;
  let e = -1074;
  if (biased !== 0) {
    mantissa += 2 ** 52;
    e = biased - 1075;
  }
  const m = BigInt(mantissa);
  return { m: hi >>> 31 ? -m : m, e };
}

/** a + b, exactly. */
export function add(a: ExactSum, b: ExactSum): ExactSum {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (a.e <= b.e) return { m: a.m + (b.m << BigInt(b.e - a.e)), e: a.e };
  return { m: (a.m << BigInt(a.e - b.e)) + b.m, e: b.e };
}

/** a - b, exactly. */
export function sub(a: ExactSum, b: ExactSum): ExactSum {
  return add(a, { m: -b.m, e: b.e });
}

/** 2^k as a double, for -1074 ≤ k ≤ 1023, built from its bits (no rounding anywhere). */
function pow2(k: number): number {
  if (k > 1023) return Number.POSITIVE_INFINITY;
  if (k >= -1022) view.setUint32(0, (k + 1023) << 20);
  else if (k >= -1042) view.setUint32(0, 1 << (k + 1074 - 32));
  else {
    view.setUint32(0, 0);
    view.setUint32(4, 2 ** (k + 1074));
    return view.getFloat64(0);
  }
  view.setUint32(4, 0);
  return view.getFloat64(0);
}

/** The double nearest to the exact sum (ties to even). */
export function toNumber(s: ExactSum): number {
  if (s.m === 0n) return 0;
  const negative = s.m < 0n;
  const a = negative ? -s.m : s.m;
  const bits = a.toString(2).length;
  // The lowest bit a double keeps: 53 bits below the top one, but never below 2^-1074.
  const lowest = Math.max(bits - 1 + s.e - 52, -1074);
  const shift = lowest - s.e;
  let r: number;
  if (shift <= 0) {
    // at most 53 bits, all representable: exact
    r = Number(a) * pow2(s.e);
  } else {
    const sh = BigInt(shift);
    let t = a >> sh;
    const rest = a - (t << sh);
    const half = 1n << (sh - 1n);
    if (rest > half || (rest === half && (t & 1n) === 1n)) t += 1n;
    // t < 2^54 and its bits sit at 2^lowest and up: the product is exact (or overflows)
    r = Number(t) * pow2(lowest);
  }
  return negative ? -r : r;
}

/**
 * As text, for a table column: `<hex mantissa>p<exponent>` (trailing zero bits moved into the
 * exponent, so a sum of values of similar size takes a few dozen characters), e.g. `-1fp-3` = -3.875.
 */
export function toText(s: ExactSum): string {
  if (s.m === 0n) return '0p0';
  let { m, e } = s;
  while ((m & 0xffffn) === 0n) {
    m >>= 16n;
    e += 16;
  }
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e += 1;
  }
  return `${m < 0n ? '-' : ''}${(m < 0n ? -m : m).toString(16)}p${e}`;
}

export function fromText(text: string): ExactSum {
  const match = /^(-?)([0-9a-f]+)p(-?\d+)$/.exec(text);
  if (!match) throw new LakestreamError('CORRUPT_TABLE', `not an exact sum: ${JSON.stringify(text)}`);
  const m = BigInt(`0x${match[2]}`);
  return { m: match[1] ? -m : m, e: Number(match[3]) };
}
