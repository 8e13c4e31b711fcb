import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExampleSet, solveTowardPrior } from './lad.ts';

test('recovers the coefficients of an exact linear problem', () => {
  const set = new ExampleSet(2);
  for (let i = 0; i < 200; i++) {
    const z = [1 + (i % 7), 2 + ((i * 3) % 5)];
    set.push(z, 0.5 * z[0] - 0.25 * z[1]);
  }
  const { beta } = set.fitLad([0, 0], 0, [0, 0], 20);
  assert.ok(Math.abs(beta[0] - 0.5) < 1e-3, `beta0 ${beta[0]}`);
  assert.ok(Math.abs(beta[1] + 0.25) < 1e-3, `beta1 ${beta[1]}`);
});

test('a few gross outliers do not move the fit (least absolute deviations)', () => {
  const set = new ExampleSet(1);
  for (let i = 1; i <= 100; i++) set.push([i], 2 * i + (i % 10 === 0 ? 500 : 0));
  const { beta } = set.fitLad([0], 0, [0], 30);
  assert.ok(Math.abs(beta[0] - 2) < 0.05, `beta ${beta[0]}`);
});

test('with no examples the solution is the prior, and a strong ridge stays near it', () => {
  const set = new ExampleSet(1);
  assert.deepEqual(set.fitLad([0.7], 1, [0.7], 3).beta, [0.7]);
  for (let i = 1; i <= 10; i++) set.push([1], 1);
  const weak = set.fitLad([0], 0.01, [0], 10).beta[0];
  const strong = set.fitLad([0], 1e6, [0], 10).beta[0];
  assert.ok(Math.abs(weak - 1) < 0.01, `weak ${weak}`);
  assert.ok(Math.abs(strong) < 0.01, `strong ${strong}`);
  assert.deepEqual(solveTowardPrior({ dim: 1, gram: [0], zt: [0], n: 0 }, [0.3], 5), [0.3]);
});
