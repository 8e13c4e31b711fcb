// bench train and bench batch on DuckDB (the suite does not run their Spark side): --json prints the
// report, the generated lakes have the sizes asked for, and they are cached by size only with --keep.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { cli } from '../helpers/cli.ts';

/** 2011-01-01 … 2013-12-31 (2012 a leap year) */
const DAYS = 1096;

describe('bench train and bench batch on DuckDB', { timeout: 900_000 }, () => {
  let lakes: string;
  let env: Record<string, string>;
  before(async () => {
    lakes = await mkdtemp(join(tmpdir(), 'lakestream-bench-lakes-'));
    env = { LAKESTREAM_BENCH_LAKES: lakes };
  });
  after(() => rm(lakes, { recursive: true, force: true }));

  it('bench train --json prints its report; --keep caches the generated lake, which the next run reuses', async () => {
    const args = ['bench', 'train', '--engine', 'duckdb', '--meters', '20', '--generated-only', '--json'];
    const first = JSON.parse(
      (await cli([...args, '--keep', '--memory', '2048'], { env, timeoutMs: 600_000 })).stdout,
    );
    assert.equal(first.scenario, 'train');
    assert.deepEqual(first.engines, ['duckdb']);
    // DuckDB alone has the whole --memory budget, and spills under the bench's lakes (gone after the run)
    const spill = first.memory.duckdb.tempDirectory;
    assert.deepEqual(first.memory, {
      budgetMb: 2048,
      budgetFrom: '--memory',
      duckdb: { memoryLimit: '2.0 GiB', threads: first.memory.duckdb.threads, tempDirectory: spill },
    });
    assert.ok(spill.startsWith(join(lakes, '.spill-duckdb-')), spill);
    assert.ok(!existsSync(spill), 'the spill directory is removed at the end');
    assert.ok(first.lakes[0].runs[0].peakRssMiB['bench (DuckDB)'] > 0, 'the run reports its peak RSS');
    assert.equal(first.lakes.length, 1);
    const [l] = first.lakes;
    assert.equal(l.lake, 'generated-20x3y');
    assert.equal(l.generated.cached, false);
    const cached = join(lakes, 'gold-20m-36mo-v1');
    assert.ok(existsSync(join(cached, 'GENERATED.json')), 'kept under LAKESTREAM_BENCH_LAKES');
    // the rows reported are the lake's; about 3 % of the meter-days are missing or not yet metered
    const lake = await Lake.open(`file:${cached}`);
    try {
      const n = Number((await lake.query('SELECT count(*) AS n FROM meters_gold_daily')).rows[0].n);
      assert.equal(l.dailyRows, n);
      assert.ok(n > 20 * DAYS * 0.85 && n < 20 * DAYS, `${n} daily rows`);
    } finally {
      await lake.close();
    }
    const [run] = l.runs;
    assert.equal(run.engine, 'duckdb');
    assert.equal(run.irlsSteps, 12);
    assert.ok(run.examples > 0);
    for (const k of ['seconds', 'scanSeconds', 'irlsSeconds', 'scoreSeconds'])
      assert.equal(typeof run[k], 'number', k);
    assert.equal(l.models, undefined, 'one engine: nothing to compare');

    const second = JSON.parse((await cli(args, { env, timeoutMs: 600_000 })).stdout);
    assert.match(second.memory.budgetFrom, /^half of the \d+ MB available when the bench started$/);
    assert.equal(second.lakes[0].generated.cached, true);
    assert.equal(second.lakes[0].dailyRows, l.dailyRows);
    assert.equal(second.lakes[0].runs[0].examples, run.examples, 'the same lake, the same training set');
    assert.ok(existsSync(cached), 'a lake kept by an earlier run stays');
  });

  it('bench batch --json prints its report; without --keep the generated lake is removed', async () => {
    const r = await cli(
      ['bench', 'batch', '--engine', 'duckdb', '--meters', '20', '--generated-only', '--json'],
      { env, timeoutMs: 600_000 },
    );
    const report = JSON.parse(r.stdout);
    assert.equal(report.scenario, 'batch');
    assert.equal(typeof report.memory.duckdb.memoryLimit, 'string');
    assert.equal(typeof report.results[0].runs[0].peak_rss_mib['bench (DuckDB)'], 'number');
    const [l] = report.results;
    assert.equal(l.lake, 'generated-20x3y');
    assert.equal(l.bronze_rows, 20 * DAYS, 'one reading per meter and day');
    const [run] = l.runs;
    assert.equal(run.engine, 'duckdb');
    assert.deepEqual(run.rows, { hourly: 20 * DAYS, daily: 20 * DAYS, monthly: 20 * 36 });
    for (const step of ['meters', 'hourly', 'daily', 'monthly', 'mark', 'publish'])
      assert.equal(typeof run.steps_ms[step], 'number', step);
    assert.equal(l.tables.duckdb.daily.rows, 20 * DAYS);
    assert.equal(l.tables.duckdb.monthly.rows, 20 * 36);
    assert.deepEqual(
      (await readdir(lakes)).filter((d) => d.startsWith('bronze-')),
      [],
      'the lake this run generated is gone',
    );
  });

  it('an engine that fails at a size is recorded with why, not tried at the larger sizes, and the other engine goes on', async () => {
    // nothing listens on port 1: the Spark engine fails to connect, as a real one that ran out of memory fails
    const gone = 'spark://127.0.0.1:1';
    for (const scenario of ['train', 'batch']) {
      const args = ['bench', scenario, '--engine', `${gone},duckdb`, '--meters', '20,30', '--generated-only'];
      const report = JSON.parse((await cli([...args, '--json'], { env, timeoutMs: 600_000 })).stdout);
      const rungs = scenario === 'train' ? report.lakes : report.results;
      assert.deepEqual(
        rungs.map((l: { lake: string }) => l.lake),
        ['generated-20x3y', 'generated-30x3y'],
      );
      const [first, second] = rungs.map((l: { runs: Record<string, unknown>[] }) => l.runs);
      assert.equal(first[0].engine, gone);
      assert.match(String(first[0].failed), /127\.0\.0\.1:1/, `${scenario}: the failure names the server`);
      assert.equal(first[0].timedOut, undefined);
      assert.equal(second[0].skipped, `failed at generated-20x3y: ${first[0].failed}`);
      for (const runs of [first, second]) {
        assert.equal(runs[1].engine, 'duckdb');
        assert.equal(runs[1].failed, undefined, `${scenario}: DuckDB ran`);
        assert.equal(
          typeof (scenario === 'train' ? runs[1].examples : runs[1].rows),
          scenario === 'train' ? 'number' : 'object',
        );
      }
    }
  });
});
