// Exact sums of doubles: the same total in any order and any grouping, equal to the correctly
// rounded sum computed another way (Shewchuk's algorithm, as Python's math.fsum), and exact
// under subtraction of a value replaced.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsum } from '../../../test/helpers/fsum.ts';
import { add, exact, fromText, sub, toNumber, toText, ZERO } from './exact-sum.ts';

/** A deterministic pseudo-random sequence (the test must not depend on luck). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sumOf = (xs: number[]) => toNumber(xs.reduce((a, x) => add(a, exact(x)), ZERO));

test('the sum is the correctly rounded one, whatever the order and grouping', () => {
  const rnd = lcg(17);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rnd() * 300);
    const scale = 10 ** Math.floor(rnd() * 12 - 4);
    const xs = Array.from({ length: n }, () => (rnd() - 0.3) * scale * (rnd() < 0.1 ? 1e8 : 1));
    const want = fsum(xs);
    assert.equal(sumOf(xs), want, `trial ${trial}`);
    assert.equal(sumOf([...xs].reverse()), want);
    // grouped as partitions would be: partial sums, combined as text (the partials table's column)
    const parts = [0, 1, 2].map((p) =>
      toText(xs.filter((_, i) => i % 3 === p).reduce((a, x) => add(a, exact(x)), ZERO)),
    );
    assert.equal(toNumber(parts.map(fromText).reduce(add, ZERO)), want);
  }
});

test('cancellation, subnormals and large values are exact', () => {
  assert.equal(sumOf([1e308, 1, -1e308]), 1);
  assert.equal(sumOf([0.1, 0.2, 0.3]), fsum([0.1, 0.2, 0.3]));
  assert.notEqual(0.1 + 0.2 + 0.3, 0.6); // the naive sum is off …
  assert.equal(sumOf([0.1, 0.2, 0.3]), 0.6); // … the exact one is the nearest double to 0.6
  assert.equal(sumOf([Number.MIN_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE]), Number.MIN_VALUE);
  assert.equal(sumOf([2 ** -1070, 3 * 2 ** -1074]), 2 ** -1070 + 3 * 2 ** -1074);
  assert.equal(sumOf([1, 2 ** -53]), 1); // a tie goes to even
  assert.equal(sumOf([1, 2 ** -53, 2 ** -80]), 1 + 2 ** -52); // … unless something lies beyond it
  assert.equal(sumOf([1e308, 1e308]), Number.POSITIVE_INFINITY);
  assert.equal(sumOf([-0.5, -0.25]), -0.75);
  assert.equal(sumOf([]), 0);
  assert.throws(() => exact(Number.NaN), /finite/);
});

test('replacing a value (subtract the old, add the new) leaves exactly the sum of the values now', () => {
  const rnd = lcg(5);
  const xs = Array.from({ length: 100 }, () => rnd() * 1000);
  let s = xs.reduce((a, x) => add(a, exact(x)), ZERO);
  for (let i = 0; i < 100; i += 7) {
    const now = rnd() * 1000;
    s = add(sub(s, exact(xs[i])), exact(now));
    xs[i] = now;
  }
  assert.equal(toNumber(s), fsum(xs));
  assert.deepEqual(fromText(toText(s)), fromText(toText(fromText(toText(s)))));
  assert.equal(toText(exact(-3.875)), '-1fp-3');
});
