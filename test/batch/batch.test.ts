// The batch view on DuckDB: recomputed from bronze it equals the stream's tables after a clean replay
// (the stream's rules and the batch SQL are held equal here), and after a day sent past the stream's
// lateness it differs in exactly that day, its hours and its month — now complete.

import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runMetersBatch } from '../../src/batch/run.ts';
import { latestView, VIEW_DIR } from '../../src/batch/view.ts';
import { metersEnrichment } from '../../src/cli/stream.ts';
import { findDataDir } from '../../src/config/data-dir.ts';
import { openEngine } from '../../src/engine/index.ts';
import { Lake } from '../../src/lake/index.ts';
import { startServer } from '../../src/serve/server.ts';
import { type BatchLake, batchLake, LATE, streamWithBatchEvery } from '../helpers/batch-lake.ts';
import { cli, runCli, startCli } from '../helpers/cli.ts';

interface DiffRow {
  meter_id: string;
  key: string;
  change: string;
  columns: string[];
}

async function batch(l: BatchLake, ...args: string[]) {
  const r = await cli(['batch', '--json', '--lake', l.lake, ...args]);
  return JSON.parse(r.stdout) as {
    view: { run: number; mark: string; tables: Record<string, number> };
    rows: Record<string, number>;
    differences: Record<'hourly' | 'daily' | 'monthly', DiffRow[]>;
  };
}

async function rowsOf(lake: string, sql: string) {
  const l = await Lake.open(lake);
  try {
    return (await l.query(sql, { maxRows: 1_000_000 })).rows;
  } finally {
    await l.close();
  }
}

describe('lakestream batch on DuckDB', () => {
  let l: BatchLake;
  before(async () => {
    l = await batchLake();
  });
  after(async () => {
    if (l) await rm(l.dir, { recursive: true, force: true });
  });

  it("finds no difference with the stream's tables after a clean replay", async () => {
    const r = await batch(l);
    assert.deepEqual(r.differences, { hourly: [], daily: [], monthly: [] });
    // three meters over 95 days, DST included: every stream row has its batch twin
    const [stream] = await rowsOf(l.lake, `SELECT count(*) AS n FROM meters_gold_daily`);
    assert.equal(r.rows.daily, Number(stream.n));
    assert.ok(r.rows.daily > 250, `${r.rows.daily} daily rows`);
    assert.equal(r.view.mark, '2013-04-04T23:30:00.000Z');
    // the water meter's DST day in Madrid has 23 hours, and the batch view says so as the stream does
    const [dst] = await rowsOf(
      l.lake,
      `SELECT expected_readings FROM meters_batch_daily WHERE meter_id = 'W-MAD' AND day = '2013-03-31'`,
    );
    assert.equal(dst.expected_readings, 23);
  });

  it("computed in parts of the meters (as DuckDB does past its memory), equals the stream's tables too", async () => {
    const whole = await batch(l);
    const lake = await Lake.open(l.lake);
    const engine = await openEngine('duckdb', l.lake);
    try {
      for (const parts of [2, 3]) {
        const r = await runMetersBatch({
          lake,
          engine,
          enrichment: metersEnrichment(findDataDir(), {}),
          parts,
        });
        assert.deepEqual(r.diff, { hourly: [], daily: [], monthly: [] }, `${parts} parts`);
        assert.deepEqual(r.rows, whole.rows, `${parts} parts: the same rows`);
        assert.equal(r.view.mark, whole.view.mark);
      }
      // the three meters fall in more than one part of three, or the parts prove nothing
      const buckets = await lake.query(
        `SELECT count(DISTINCT hash(meter_id) % 3) AS n FROM meters_bronze_readings`,
      );
      assert.ok(Number(buckets.rows[0].n) > 1);
    } finally {
      await engine.close();
      await lake.close();
    }
  });

  it('after a day sent past the lateness, differs in exactly that day, its hours and its month, now complete', async () => {
    await l.sendLate();
    const [q] = await rowsOf(
      l.lake,
      `SELECT count(*) AS n FROM meters_quarantine_readings WHERE reason = 'too-late'`,
    );
    assert.equal(Number(q.n), 48, 'the stream quarantined the late day');
    const r = await batch(l);
    assert.deepEqual(
      r.differences.daily.map((d) => [d.meter_id, d.key, d.change]),
      [[LATE.meter, LATE.day, 'not-in-stream']],
    );
    assert.deepEqual(
      r.differences.monthly.map((d) => [d.meter_id, d.key, d.change, d.columns]),
      [[LATE.meter, LATE.month, 'changed', ['value', 'days_with_data', 'complete_days', 'complete']]],
    );
    assert.equal(r.differences.hourly.length, 24);
    assert.ok(r.differences.hourly.every((d) => d.change === 'not-in-stream' && d.key.startsWith(LATE.day)));
    const [month] = await rowsOf(
      l.lake,
      `SELECT complete, days_with_data FROM meters_batch_monthly WHERE meter_id = '${LATE.meter}' AND month = '${LATE.month}'`,
    );
    assert.deepEqual({ ...month }, { complete: true, days_with_data: 31 });
  });

  it('run again, publishes a new view of the same rows: a run is idempotent', async () => {
    const before = await rowsOf(l.lake, `SELECT * FROM meters_batch_daily ORDER BY meter_id, day`);
    const first = await latestView((await Lake.open(l.lake)).store);
    const r = await batch(l);
    assert.equal(r.view.run, (first?.run ?? 0) + 1);
    const again = await rowsOf(l.lake, `SELECT * FROM meters_batch_daily ORDER BY meter_id, day`);
    assert.deepEqual(again, before);
    assert.equal(r.differences.daily.length, 1);
  });

  it('with --from and --to recomputes only those days', async () => {
    const r = await batch(l, '--from', '2013-02-01', '--to', '2013-02-28');
    assert.equal(r.rows.daily, 3 * 28);
    assert.deepEqual(r.differences, { hourly: [], daily: [], monthly: [] });
  });
});

describe('lakestream batch with Spark unreachable', () => {
  it('says so in one line, exits 1 and changes nothing in the lake', async () => {
    const l = await batchLake();
    // a port that accepts connections and never answers, the harder case than a refused one
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const files = async () => (await readdir(l.dir.concat('/lake'), { recursive: true })).sort();
      const before = await files();
      const r = await runCli(['batch', '--engine', `spark://127.0.0.1:${port}`, '--lake', l.lake]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^lakestream batch: Spark Connect at spark://127\\.0\\.0\\.1:${port} does not answer`),
      );
      assert.deepEqual(await files(), before);
    } finally {
      silent.close();
      await rm(l.dir, { recursive: true, force: true });
    }
  });
});

describe('lakestream batch killed mid-way', () => {
  it('leaves the previous view intact and readable, and the next run completes it', async () => {
    const l = await batchLake();
    try {
      await cli(['batch', '--lake', l.lake, '-q']);
      const lake = await Lake.open(l.lake);
      const first = (await latestView(lake.store))!;
      const hourly = 'meters/batch/hourly';
      const rowsAt = async (version: number) =>
        (await lake.table(hourly).snapshot(version)).files.reduce(
          (n, f) => n + Number(JSON.parse(f.stats ?? '{}').numRecords),
          0,
        );
      const firstRows = await rowsAt(first.tables[hourly]);
      // killed once its first table is replaced, before the others and the view's marker
      const child = startCli(['batch', '--lake', l.lake]);
      await new Promise<void>((resolve) =>
        child.stderr?.on('data', (d) => {
          if (String(d).includes('batch: hourly')) {
            child.kill('SIGKILL');
            resolve();
          }
        }),
      );
      await new Promise((r) => child.once('close', r));
      assert.ok(
        (await lake.table(hourly).snapshot()).version > first.tables[hourly],
        'the killed run committed hourly',
      );
      assert.deepEqual(await latestView(lake.store), first, 'the view is still the first run');
      assert.equal(await rowsAt(first.tables[hourly]), firstRows, "the first run's rows are still readable");
      const next = JSON.parse((await cli(['batch', '--json', '--lake', l.lake])).stdout);
      assert.equal(next.view.run, first.run + 1);
      assert.deepEqual(next.differences, { hourly: [], daily: [], monthly: [] });
      await lake.close();
    } finally {
      await rm(l.dir, { recursive: true, force: true });
    }
  });
});

describe('stream --batch-every', () => {
  it('runs the batch view periodically beside the worker, and stops with it', async () => {
    const l = await batchLake();
    const lake = await Lake.open(l.lake);
    try {
      const { code, stderr } = await streamWithBatchEvery(lake, VIEW_DIR, 2, l.flags);
      assert.equal(code, 0, stderr);
      assert.ok(((await latestView(lake.store))?.run ?? 0) >= 2, stderr);
      assert.match(
        stderr,
        /batch view run 1: readings up to 2013-04-04T23:30:00\.000Z; keys differing from the stream: hourly 0, daily 0, monthly 0/,
      );
    } finally {
      await lake.close();
      await rm(l.dir, { recursive: true, force: true });
    }
  });

  it('refuses a duration it cannot read, naming the flag', async () => {
    const r = await runCli(['stream', '--batch-every', 'daily', '--lake', 'file:/nonexistent/x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--batch-every must be a duration like 30s, 15m, 6h or 1d, got "daily"/);
  });
});

describe('the API serving the batch view up to its mark and the stream after it', () => {
  it('says which tables it read: the late day, its hours and its month from the batch view, what the stream got after the mark from the stream', async () => {
    const l = await batchLake();
    await l.sendLate();
    const server = await startServer({ port: 0, lake: l.lake, transport: l.flags[1], log: () => {} });
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${server.url}${path}`);
      const body = await res.json();
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
      return body as T;
    };
    type Series = { x: number[]; y: number[]; source: Record<string, unknown> };
    type Month = {
      actual: { total: number; complete: boolean } | null;
      daily: (number | null)[];
      source: { daily: Record<string, unknown>; monthly: Record<string, unknown> };
    };
    const series = (from: string, to: string, granularity: string) =>
      get<Series>(`/api/consumption?meter=${LATE.meter}&from=${from}&to=${to}&granularity=${granularity}`);
    const daily = () => series('2013-01-01', '2013-01-31', 'day');
    const hourly = () => series('2013-01-09', '2013-01-11', 'hour');
    const month = (m: string) => get<Month>(`/api/forecast?meter=${LATE.meter}&month=${m}`);
    const value = async (table: string, key: string) =>
      Number(
        (await rowsOf(l.lake, `SELECT value FROM ${table} WHERE meter_id = '${LATE.meter}' AND ${key}`))[0]
          .value,
      );
    /** polls `f` until `ok` holds (the server's table list and views refresh every few seconds) */
    const until = async <T>(f: () => Promise<T>, ok: (t: T) => boolean): Promise<T> => {
      let r = await f();
      for (let i = 0; i < 60 && !ok(r); i++) {
        await new Promise((res) => setTimeout(res, 250));
        r = await f();
      }
      return r;
    };
    const stream = (table: string) => ({ tables: 'stream', stream_table: table, why: 'no batch view yet' });
    const merged = (batch: string, stream: string) => ({
      tables: 'batch+stream',
      batch_run: 1,
      batch_table: batch,
      stream_table: stream,
      batch_days: { from: null, to: '2013-04-03' },
    });
    try {
      const lateX = Date.parse(`${LATE.day}T00:00:00Z`) / 1000;
      const before = await daily();
      assert.deepEqual(before.source, stream('meters/gold/daily'));
      assert.equal(before.x.length, 30);
      assert.ok(!before.x.includes(lateX));
      const hoursBefore = await hourly();
      assert.deepEqual(hoursBefore.source, stream('meters/silver/readings'));
      assert.equal(hoursBefore.x.length, 48, 'the 9th and the 11th: the stream never got the 10th');
      const janBefore = await month(LATE.month);
      assert.deepEqual(janBefore.source.monthly, stream('meters/gold/monthly'));
      assert.equal(janBefore.actual?.complete, false);
      assert.equal(janBefore.actual?.total, await value('meters_gold_monthly', `month = '${LATE.month}'`));
      assert.equal(janBefore.daily[9], null);

      await cli(['batch', '--lake', l.lake, '-q']);
      const after = await until(daily, (s) => s.source.tables !== 'stream');
      assert.deepEqual(after.source, merged('meters/batch/daily', 'meters/gold/daily'));
      assert.equal(after.x.length, 31);
      assert.equal(after.y[after.x.indexOf(lateX)], await value('meters_batch_daily', `day = '${LATE.day}'`));
      const hoursAfter = await until(hourly, (s) => s.source.tables !== 'stream');
      assert.deepEqual(hoursAfter.source, merged('meters/batch/hourly', 'meters/silver/readings'));
      assert.equal(hoursAfter.x.length, 72, "the late day's 24 hours, from the batch view");
      const jan = await until(
        () => month(LATE.month),
        (m) => m.source.monthly.tables !== 'stream',
      );
      assert.deepEqual(jan.source.monthly, merged('meters/batch/monthly', 'meters/gold/monthly'));
      assert.deepEqual(jan.source.daily, merged('meters/batch/daily', 'meters/gold/daily'));
      const janBatch = await value('meters_batch_monthly', `month = '${LATE.month}'`);
      assert.notEqual(janBatch, janBefore.actual?.total);
      assert.equal(jan.actual?.total, janBatch);
      assert.equal(jan.actual?.complete, true);
      assert.ok(jan.daily[9] !== null && jan.daily[9] > 0, 'the late day has its bar');

      // readings after the batch view's mark reach the stream only: served from the stream's tables
      const HALF = 1_800_000;
      const start = Date.UTC(2013, 3, 5);
      await l.send(
        Array.from({ length: 48 }, (_, i) => ({
          v: 1 as const,
          meter_id: LATE.meter,
          kind: 'electricity',
          ts: `${new Date(start + i * HALF).toISOString().slice(0, 19)}Z`,
          value: 0.25,
          unit: 'kWh',
          type: 'interval',
          seq: 100_000 + i,
        })),
      );
      const april = await until(
        () => series('2013-04-01', '2013-04-05', 'day'),
        (s) => s.x.length === 5,
      );
      assert.deepEqual(april.source, merged('meters/batch/daily', 'meters/gold/daily'));
      assert.equal(april.y[4], 12, "2013-04-05, the stream's day: 48 × 0.25 kWh");
      const aprilMonth = await until(
        () => month('2013-04'),
        (m) => m.daily[4] !== null,
      );
      const aprilStream = await value('meters_gold_monthly', "month = '2013-04'");
      assert.notEqual(aprilStream, await value('meters_batch_monthly', "month = '2013-04'"));
      assert.equal(aprilMonth.actual?.total, aprilStream, "April is after the mark: the stream's month");
    } finally {
      await server.close();
      await rm(l.dir, { recursive: true, force: true });
    }
  });
});
