// The memory budget of bench train and bench batch: how it is split between DuckDB and Spark's executor,
// its default, and that DuckDB's share and spill directory reach the process's instance.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { withDuck } from '../lake/index.ts';
import { applyDuckShare, availableMb, defaultBudgetMb, peakRss, splitBudget, withPeakRss } from './memory.ts';

describe('the memory budget of the train and batch benches', () => {
  it('gives each engine half when the bench starts Spark, all of it to one engine alone', () => {
    assert.deepEqual(splitBudget(8192, { duckdb: true, spark: true }), { duckdbMb: 4096, sparkMb: 4096 });
    assert.deepEqual(splitBudget(3001, { duckdb: true, spark: true }), { duckdbMb: 1500, sparkMb: 1501 });
    assert.deepEqual(splitBudget(6000, { duckdb: true, spark: false }), { duckdbMb: 6000 });
    assert.deepEqual(splitBudget(6000, { duckdb: false, spark: true }), { sparkMb: 6000 });
  });

  it("leaves DuckDB what a running cluster's executor does not have, and refuses a budget that leaves it too little", () => {
    assert.deepEqual(splitBudget(8192, { duckdb: true, spark: true, sparkFixedMb: 6144 }), {
      duckdbMb: 2048,
      sparkMb: 6144,
    });
    assert.deepEqual(splitBudget(2048, { duckdb: false, spark: true, sparkFixedMb: 6144 }), {
      sparkMb: 6144,
    });
    assert.throws(
      () => splitBudget(4096, { duckdb: true, spark: true, sparkFixedMb: 4000 }),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /leaves DuckDB 96 MB/.test(e.message),
    );
  });

  it('gives DuckDB half when Spark is a remote master whose memory it cannot know', () => {
    assert.deepEqual(splitBudget(4096, { duckdb: true, spark: true, sparkFixedMb: null }), {
      duckdbMb: 2048,
    });
  });

  it('refuses a share below what an engine needs', () => {
    assert.throws(
      () => splitBudget(1000, { duckdb: true, spark: true }),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /DuckDB 500 MB/.test(e.message),
    );
  });

  it("defaults to half of the machine's available memory, in 256 MB steps", () => {
    const meminfo = 'MemTotal:       24683520 kB\nMemFree:         3448576 kB\nMemAvailable:   20352000 kB\n';
    assert.equal(availableMb(meminfo), 19875);
    assert.equal(defaultBudgetMb(19875), 9728);
    assert.equal(defaultBudgetMb(1500), 1024, 'never less than two engines’ least');
    assert.ok(availableMb() > 0, 'this machine’s, from /proc/meminfo');
  });
});

describe("DuckDB's share", () => {
  it("reaches the process's instance: memory_limit, and temp_directory under the bench's lakes, removed after", async () => {
    const lakes = await mkdtemp(join(tmpdir(), 'lakestream-bench-lakes-'));
    const before = process.env.LAKESTREAM_BENCH_LAKES;
    process.env.LAKESTREAM_BENCH_LAKES = lakes;
    try {
      const share = await applyDuckShare(1536);
      const spill = join(lakes, `.spill-duckdb-${process.pid}`);
      assert.deepEqual(share.settings, {
        memoryLimit: '1.5 GiB',
        threads: share.settings.threads,
        tempDirectory: spill,
      });
      // every connection of the instance has them (a fresh one, not only the one that set them)
      const [limit, temp] = await withDuck(
        async (c) =>
          (
            await c.runAndReadAll(`SELECT current_setting('memory_limit'), current_setting('temp_directory')`)
          ).getRows()[0],
      );
      assert.equal(limit, '1.5 GiB');
      assert.equal(temp, spill);
      assert.ok(existsSync(spill));
      await share.remove();
      assert.ok(!existsSync(spill), 'the spill directory goes with the run');
    } finally {
      if (before === undefined) delete process.env.LAKESTREAM_BENCH_LAKES;
      else process.env.LAKESTREAM_BENCH_LAKES = before;
      await rm(lakes, { recursive: true, force: true });
    }
  });
});

describe('peak RSS', () => {
  it('is the largest resident memory sampled, per name; a name with no live process is left out', async () => {
    const s = peakRss(() => ({ self: [process.pid], gone: [] }), 20);
    const hold = Buffer.alloc(64 * 2 ** 20, 1);
    await new Promise((r) => setTimeout(r, 100));
    const peak = await s.stop();
    assert.ok(hold[0] === 1);
    assert.deepEqual(Object.keys(peak), ['self']);
    assert.ok(peak.self >= 64, `${peak.self} MiB with 64 MiB held`);
  });

  it('does not hold the process open when a run fails before stopping it', () => {
    // a bench whose engine threw kept sampling: the CLI printed the error and set its exit code, and the
    // process never exited
    const script = `import('${join(import.meta.dirname, 'memory.ts')}').then((m) => {
      m.peakRss(() => ({ self: [process.pid] }), 50);
      console.error('the run failed');
      process.exitCode = 1;
    })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, 'exited by itself, not killed at the timeout');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the run failed/);
  });

  it("around a run: the run's value with the peak, or the run's error with the sampler stopped", async () => {
    let sampled = 0;
    const pids = () => {
      sampled++;
      return { self: [process.pid] };
    };
    const { value, peakMiB } = await withPeakRss(pids, async () => 42);
    assert.equal(value, 42);
    assert.ok(peakMiB.self > 0);
    await assert.rejects(
      withPeakRss(pids, async () => {
        throw new Error('engine out of memory');
      }),
      /engine out of memory/,
    );
    const after = sampled;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sampled, after, 'no sampling after the failed run');
  });
});
