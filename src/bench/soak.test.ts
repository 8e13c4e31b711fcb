// The soak's memory trend: a slope per hour after the warm-up, over a process's last incarnation.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sample } from './sampler.ts';
import { memoryTrend, slopePerHour } from './soak.ts';

const sample = (t: number, rss: Record<string, number>): Sample => ({
  t,
  produced: 0,
  committed: 0,
  lag: 0,
  in_rate: 0,
  committed_rate: 0,
  p50: null,
  p95: null,
  p99: null,
  cpu: {},
  rss_mib: rss,
});

describe('memory trend', () => {
  it('is the least-squares slope in MiB per hour', () => {
    const pts: [number, number][] = Array.from({ length: 60 }, (_, i) => [i * 60, 100 + i]);
    assert.equal(slopePerHour(pts), 60);
    assert.equal(slopePerHour(pts.slice(0, 5)), null, 'too few points to tell');
  });

  it('calls memory flat under 10 % of its mean an hour, and growing above', () => {
    const series = Array.from({ length: 120 }, (_, i) =>
      sample(i * 30, { steady: 500 + (i % 2), leaking: 200 + i * 2 }),
    );
    const t = memoryTrend(series, 0);
    assert.equal(t.steady.flat, true);
    assert.equal(t.leaking.flat, false);
    assert.equal(t.leaking.mib_per_h, 240);
  });

  it('starts over after a restart (the process missing from a sample) and skips the warm-up', () => {
    const series = Array.from({ length: 100 }, (_, i) =>
      i === 50 ? sample(i * 30, {}) : sample(i * 30, { worker: i < 50 ? 100 + i * 10 : 300 }),
    );
    assert.deepEqual(memoryTrend(series, 0).worker, { mib_per_h: 0, flat: true });
    assert.equal(memoryTrend(series, 10_000).worker, undefined);
  });

  it('does not judge a trend shorter than ten minutes', () => {
    const series = Array.from({ length: 60 }, (_, i) => sample(i * 5, { worker: 100 + i * 10 }));
    assert.deepEqual(memoryTrend(series, 0).worker, { mib_per_h: 7200, flat: null });
  });
});
