// The soak's memory trend: a slope per hour after the warm-up, over a process's last incarnation.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sample } from './sampler.ts';
import { memoryTrend, slopePerHour } from './soak.ts';

const sample = (t: number, rss: Record<string, number>, heap?: Record<string, number>): Sample => ({
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
  ...(heap ? { heap_mib: heap } : {}),
});

/** A garbage-collected heap's shape: climbs `amplitude` MiB over `period` s, then drops back. */
const sawtooth = (t: number, amplitude: number, period: number) => amplitude * ((t % period) / period);

/** An hour sampled every 30 s; `f` gives the MiB at t. */
const hour = (f: (t: number) => number) =>
  Array.from({ length: 120 }, (_, i) => [i * 30, f(i * 30)] as const);

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
    assert.deepEqual(
      { ...memoryTrend(series, 0).worker },
      { metric: 'rss', mib_per_h: 0, mean_mib: 300, flat: true, rss_mib_per_h: 0 },
    );
    assert.equal(memoryTrend(series, 10_000).worker, undefined);
  });

  it('does not judge a trend shorter than ten minutes', () => {
    const series = Array.from({ length: 60 }, (_, i) => sample(i * 5, { worker: 100 + i * 10 }));
    const t = memoryTrend(series, 0).worker;
    assert.equal(t.mib_per_h, 7200);
    assert.equal(t.flat, null);
  });

  it('judges a JVM by its live heap: RSS climbing to -Xmx with a steady live set is flat', () => {
    const series = hour((t) => t).map(([t, i]) =>
      sample(
        t,
        { 'broker-1': 300 + i / 5 },
        t % 120 === 0 ? { 'broker-1': 150 + (t % 240 ? 3 : -3) } : undefined,
      ),
    );
    const b = memoryTrend(series, 0)['broker-1'];
    assert.equal(b.metric, 'live heap');
    assert.equal(b.flat, true);
    assert.ok(b.mib_per_h < 5, `${b.mib_per_h} MiB/h`);
    assert.equal(b.rss_mib_per_h, 720, 'the RSS trend is still reported');
  });

  it('calls a live heap that grows 40 MiB/h on a 300 MiB level growing, and the same level with a sawtooth flat', () => {
    const heapAt = (grow: number) =>
      hour((t) => 300 + sawtooth(t, 60, 270) + (grow * t) / 3600).map(([t, v]) =>
        sample(t, { 'broker-2': 900 }, { 'broker-2': v }),
      );
    const leaking = memoryTrend(heapAt(40), 240)['broker-2'];
    const steady = memoryTrend(heapAt(0), 240)['broker-2'];
    assert.equal(leaking.flat, false, `leaking: ${leaking.mib_per_h} MiB/h`);
    assert.equal(steady.flat, true, `steady: ${steady.mib_per_h} MiB/h`);
    assert.ok(leaking.mib_per_h > 30 && leaking.mib_per_h < 50, `${leaking.mib_per_h} MiB/h`);
  });

  it('judges a Node process by its RSS over the second half: a first half of growth is warm-up, a steady climb is a leak', () => {
    const warmThenSawtooth = hour((t) => (t < 1800 ? 100 + t / 10 : 280 + sawtooth(t, 40, 300)));
    const climbing = hour((t) => 200 + sawtooth(t, 40, 300) + t / 100);
    const steady = memoryTrend(
      warmThenSawtooth.map(([t, v]) => sample(t, { worker: v })),
      240,
    ).worker;
    const leaking = memoryTrend(
      climbing.map(([t, v]) => sample(t, { worker: v })),
      240,
    ).worker;
    assert.equal(steady.metric, 'rss');
    assert.equal(steady.flat, true, `steady: ${steady.mib_per_h} MiB/h`);
    assert.equal(leaking.flat, false, `leaking: ${leaking.mib_per_h} MiB/h`);
  });

  it('judges a worker that reports its live heap by that heap over the second half, not by its RSS', () => {
    // RSS climbs to V8's working size and stays; the live heap (every other sample, as full collections come) is steady
    const steady = hour((t) => t).map(([t]) =>
      sample(t, { worker: 400 + t / 10 }, t % 60 === 0 ? { worker: 150 + sawtooth(t, 10, 600) } : undefined),
    );
    const leaking = hour((t) => t).map(([t]) =>
      sample(t, { worker: 400 + t / 10 }, t % 60 === 0 ? { worker: 150 + t / 40 } : undefined),
    );
    const s = memoryTrend(steady, 240).worker;
    const l = memoryTrend(leaking, 240).worker;
    assert.equal(s.metric, 'live heap');
    assert.equal(s.flat, true, `steady: ${s.mib_per_h} MiB/h`);
    assert.equal(s.rss_mib_per_h, 360, 'the RSS trend is still reported');
    assert.equal(l.flat, false, `leaking: ${l.mib_per_h} MiB/h`);
    assert.equal(l.mib_per_h, 90);
  });

  it("splits a worker's RSS trend into the parts it reports, over the same span, without judging them", () => {
    // RSS grows by its anonymous part while V8's committed heap, external memory and DuckDB stay level
    const series = hour((t) => t).map(([t]) => ({
      ...sample(t, { worker: 500 + t / 60 }),
      worker_memory_mib: {
        worker: { heap_total: 120, external: 30, rss_anon: 400 + t / 60, rss_file: 100, duckdb: 0 },
      },
    }));
    const w = memoryTrend(series, 240).worker;
    assert.equal(w.rss_mib_per_h, 60);
    assert.deepEqual(w.parts_mib_per_h, { heap_total: 0, external: 0, rss_anon: 60, rss_file: 0, duckdb: 0 });
    // a part the worker cannot tell (null: no /proc) is left out; a process without parts has none
    const noProc = series.map((s) => ({
      ...s,
      worker_memory_mib: { worker: { ...s.worker_memory_mib.worker, rss_anon: null, rss_file: null } },
    }));
    assert.deepEqual(Object.keys(memoryTrend(noProc, 240).worker.parts_mib_per_h ?? {}), [
      'heap_total',
      'external',
      'duckdb',
    ]);
    assert.equal(
      memoryTrend(
        series.map((s) => sample(s.t, s.rss_mib)),
        240,
      ).worker.parts_mib_per_h,
      undefined,
    );
  });

  it('gives a restarted process its own warm-up: the start-up heap of a JVM killed mid-run is not a trend', () => {
    // broker-2 killed at 600 s, back at 690 s: its first live-heap reading is the fresh JVM's 9 MiB, then its steady 155
    const series = hour((t) => t).map(([t]) =>
      t > 600 && t < 690
        ? sample(t, {})
        : sample(
            t,
            { 'broker-2': 400 },
            t % 120 === 0 || t === 690 ? { 'broker-2': t === 690 ? 9 : 155 + (t % 240 ? 2 : -2) } : undefined,
          ),
    );
    const b = memoryTrend(series, 240)['broker-2'];
    assert.equal(b.flat, true, `${b.mib_per_h} MiB/h`);
    assert.ok(Math.abs(b.mib_per_h) < 5, `${b.mib_per_h} MiB/h`);
    // judged without its own warm-up, the start-up reading reads as growth
    assert.equal(memoryTrend(series, 0)['broker-2'].flat, false);
  });

  it('judges a worker with too few live-heap readings for a slope by its RSS (a short run)', () => {
    const series = Array.from({ length: 120 }, (_, i) =>
      sample(i * 30, { worker: 300 }, i % 20 === 0 ? { worker: 90 } : undefined),
    );
    const w = memoryTrend(series, 0).worker;
    assert.equal(w.metric, 'rss');
    assert.equal(w.mib_per_h, 0);
  });
});
