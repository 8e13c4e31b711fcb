// The shared QueryEngine conformance suite: every engine's test calls runEngineSuite. It checks the rules
// written on the interface (src/engine/engine.ts) on a small table of known values, and reads every table
// of a lake built by a real replay exactly as the lake layer's own reader does.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { Lake, type TableSpec, viewNameOf } from '../lake/index.ts';
import type { EngineValue, QueryEngine } from './engine.ts';

export interface EngineSuiteOptions {
  /** opens the engine over the lake at a URL */
  open(lakeUrl: string): Promise<QueryEngine>;
  /** a fresh, empty lake's URL (the suite writes its known-value tables there) */
  emptyLake(): Promise<string>;
  /** the URL of a lake filled by a real replay (meters with quarantine, predictions, outcomes; cluster-trace) */
  replayedLake(): Promise<string>;
  /** a query over no table that runs for minutes on this engine (to abort it) */
  longQuery: string;
}

const TYPES: TableSpec = {
  schema: [
    { name: 'id', type: 'long', nullable: false },
    { name: 'name', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'integer' },
    { name: 'flag', type: 'boolean' },
    { name: 'ts', type: 'timestamp' },
    { name: 'raw', type: 'binary' },
    { name: 'day', type: 'string' },
    { name: 'bucket', type: 'integer' },
  ],
  partitionColumns: ['day', 'bucket'],
};

const BIG = 9_007_199_254_740_993n; // 2^53 + 1: not a safe JS number

const TYPE_ROWS = [
  {
    id: 1n,
    name: 'alpha',
    amount: 0.1 + 0.2,
    count: 7,
    flag: true,
    ts: new Date('2013-03-31T00:30:00.123Z'),
    raw: new Uint8Array([0, 255]),
    day: '2013-03-31',
    bucket: 1,
  },
  {
    id: BIG,
    name: null,
    amount: -1.5e300,
    count: -2147483648,
    flag: false,
    ts: new Date('1970-01-01T00:00:00.001Z'),
    raw: new Uint8Array([]),
    day: '2013-03-31',
    bucket: 2,
  },
  {
    id: 3n,
    name: 'gamma',
    amount: null,
    count: null,
    flag: null,
    ts: null,
    raw: null,
    day: null,
    bucket: null,
  },
];

/** What every engine answers for `SELECT * FROM fixture_types ORDER BY id`. */
const EXPECTED_ROWS: Record<string, EngineValue>[] = [
  {
    id: 1,
    name: 'alpha',
    amount: 0.30000000000000004,
    count: 7,
    flag: true,
    ts: '2013-03-31T00:30:00.123000Z',
    raw: new Uint8Array([0, 255]),
    day: '2013-03-31',
    bucket: 1,
  },
  {
    id: 3,
    name: 'gamma',
    amount: null,
    count: null,
    flag: null,
    ts: null,
    raw: null,
    day: null,
    bucket: null,
  },
  {
    id: BIG,
    name: null,
    amount: -1.5e300,
    count: -2147483648,
    flag: false,
    ts: '1970-01-01T00:00:00.001000Z',
    raw: new Uint8Array([]),
    day: '2013-03-31',
    bucket: 2,
  },
];

/** A value of either reader in one comparable form (the lake layer gives Date, Uint8Array, bigint). */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint')
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : `${v}n`;
  if (v instanceof Date) return `${v.toISOString().slice(0, 23)}000Z`;
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** Rows as sorted JSON lines over the given columns (a multiset: order-free). */
function lines(rows: Record<string, unknown>[], cols: string[]): string[] {
  return rows.map((r) => JSON.stringify(cols.map((c) => plain(r[c])))).sort();
}

function near(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

export function runEngineSuite(name: string, opts: EngineSuiteOptions): void {
  describe(`QueryEngine conformance: ${name}`, { timeout: 1_800_000 }, () => {
    describe('on tables of known values', () => {
      let lakeUrl: string;
      let engine: QueryEngine;
      let lake: Lake;

      before(async () => {
        lakeUrl = await opts.emptyLake();
        lake = await Lake.open(lakeUrl);
        await lake.table('fixture/types').create(TYPES);
        await lake.table('fixture/types').write(TYPE_ROWS);
        await lake.table('fixture/with-dash').create({ schema: [{ name: 'x', type: 'long' }] });
        await lake.table('fixture/with-dash').write([{ x: 1n }, { x: 2n }]);
        await lake.table('fixture/empty').create({
          schema: [
            { name: 'meter_id', type: 'string' },
            { name: 'value', type: 'double' },
            { name: 'ts', type: 'timestamp' },
            { name: 'day', type: 'string' },
          ],
          partitionColumns: ['day'],
        });
        engine = await opts.open(lakeUrl);
      });
      after(async () => {
        await engine?.close();
        await lake?.close();
      });

      it('reads every type, null and partition value exactly, columns in schema order', async () => {
        const r = await engine.query('SELECT * FROM fixture_types ORDER BY id');
        assert.deepEqual(
          r.columns,
          TYPES.schema.map(({ name, type }) => ({ name, type })),
        );
        assert.deepEqual(r.rows, EXPECTED_ROWS);
      });

      it('filters on partition columns, null partitions included', async () => {
        const day = await engine.query("SELECT id FROM fixture_types WHERE day = '2013-03-31' ORDER BY id");
        assert.deepEqual(
          day.rows.map((x) => x.id),
          [1, BIG],
        );
        const none = await engine.query('SELECT id FROM fixture_types WHERE day IS NULL AND bucket IS NULL');
        assert.deepEqual(none.rows, [{ id: 3 }]);
      });

      it('gives aggregates the same types and values', async () => {
        const r = await engine.query(
          `SELECT count(*) AS n, count(name) AS names, sum(amount) AS total, sum(count) AS counts,
                  avg(bucket) AS mean_bucket, min(ts) AS first, max(ts) AS last
           FROM fixture_types`,
        );
        assert.deepEqual(r.columns, [
          { name: 'n', type: 'long' },
          { name: 'names', type: 'long' },
          { name: 'total', type: 'double' },
          { name: 'counts', type: 'long' },
          { name: 'mean_bucket', type: 'double' },
          { name: 'first', type: 'timestamp' },
          { name: 'last', type: 'timestamp' },
        ]);
        assert.deepEqual(r.rows, [
          {
            n: 3,
            names: 2,
            total: 0.30000000000000004 + -1.5e300,
            counts: 7 - 2147483648,
            mean_bucket: 1.5,
            first: '1970-01-01T00:00:00.001000Z',
            last: '2013-03-31T00:30:00.123000Z',
          },
        ]);
      });

      it('reads timestamps as UTC instants: their day, hour and text do not depend on any zone', async () => {
        const r = await engine.query(
          `SELECT CAST(ts AS DATE) AS d, CAST(hour(ts) AS INT) AS h, CAST(CAST(ts AS DATE) AS STRING) AS t
           FROM fixture_types WHERE id = 1`,
        );
        assert.deepEqual(r.columns, [
          { name: 'd', type: 'date' },
          { name: 'h', type: 'integer' },
          { name: 't', type: 'string' },
        ]);
        assert.deepEqual(r.rows, [{ d: '2013-03-31', h: 0, t: '2013-03-31' }]);
      });

      it('reads an empty table with its columns typed, and aggregates over it', async () => {
        const r = await engine.query('SELECT * FROM fixture_empty');
        assert.deepEqual(r.columns, [
          { name: 'meter_id', type: 'string' },
          { name: 'value', type: 'double' },
          { name: 'ts', type: 'timestamp' },
          { name: 'day', type: 'string' },
        ]);
        assert.deepEqual(r.rows, []);
        const agg = await engine.query('SELECT count(*) AS n, sum(value) AS s FROM fixture_empty');
        assert.deepEqual(agg.rows, [{ n: 0, s: null }]);
      });

      it("names a table's view by its path ('/' and '-' become '_') and lists them", async () => {
        const r = await engine.query('SELECT sum(x) AS s FROM fixture_with_dash');
        assert.deepEqual(r.rows, [{ s: 3 }]);
        assert.deepEqual(
          (await engine.tables()).map((t) => t.view),
          ['fixture_empty', 'fixture_types', 'fixture_with_dash'],
        );
      });

      it('sees a commit made after it opened', async () => {
        await lake.table('fixture/with-dash').write([{ x: 40n }]);
        const r = await engine.query('SELECT sum(x) AS s, count(*) AS n FROM fixture_with_dash');
        assert.deepEqual(r.rows, [{ s: 43, n: 3 }]);
      });

      it('reads "double quotes" as a column name, \'single quotes\' as text', async () => {
        const r = await engine.query(
          `SELECT "count", "name", 'name' AS literal FROM fixture_types WHERE id = 1`,
        );
        assert.deepEqual(r.rows, [{ count: 7, name: 'alpha', literal: 'name' }]);
      });

      it('stops at maxRows', async () => {
        const r = await engine.query('SELECT id FROM fixture_types ORDER BY id', { maxRows: 2 });
        assert.deepEqual(
          r.rows.map((x) => x.id),
          [1, 3],
        );
      });

      it('refuses a table the lake does not hold, naming it', async () => {
        await assert.rejects(
          engine.query('SELECT * FROM meters_no_such_table'),
          (e) => isLakestreamError(e, 'NOT_FOUND') && /meters_no_such_table/.test(e.message),
        );
      });

      it('refuses bad SQL and anything but a read-only query', async () => {
        await assert.rejects(engine.query('SELEC 1 FROM fixture_types'), (e) =>
          isLakestreamError(e, 'BAD_ARGUMENT'),
        );
        await assert.rejects(
          engine.query('DROP VIEW fixture_types'),
          (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /read-only/.test(e.message),
        );
        // the view is still there
        assert.equal((await engine.query('SELECT count(*) AS n FROM fixture_types')).rows[0].n, 3);
      });

      it('stops a long query when its signal aborts', async () => {
        const ac = new AbortController();
        const started = Date.now();
        setTimeout(() => ac.abort(new Error('stopped by the test')), 1500);
        await assert.rejects(engine.query(opts.longQuery, { signal: ac.signal }), /stopped by the test/);
        assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms to stop`);
        // the engine still answers
        assert.equal((await engine.query('SELECT count(*) AS n FROM fixture_types')).rows[0].n, 3);
      });

      it('answers a ping with its version', async () => {
        const p = await engine.ping();
        assert.match(p.version, /\d+\.\d+/);
      });
    });

    describe('on every table of a replayed lake', () => {
      let engine: QueryEngine;
      let lake: Lake;
      let paths: string[];

      before(async () => {
        const url = await opts.replayedLake();
        lake = await Lake.open(url);
        engine = await opts.open(url);
        paths = (await lake.listTables()).filter((p) => p !== '');
      });
      after(async () => {
        await engine?.close();
        await lake?.close();
      });

      it('holds the tables both workloads write', () => {
        for (const t of [
          'meters/bronze/readings',
          'meters/quarantine/readings',
          'meters/silver/readings',
          'meters/gold/daily',
          'meters/gold/monthly',
          'meters/gold/predictions',
          'meters/gold/prediction_outcomes',
          'cluster-trace/bronze/task_events',
        ])
          assert.ok(paths.includes(t), `${t} missing from ${paths.join(', ')}`);
      });

      it('reads every row of every table as the lake layer reads it, each column typed as its Delta schema says', async () => {
        for (const path of paths) {
          const view = viewNameOf(path);
          const mine = await engine.query(`SELECT * FROM ${view}`, { maxRows: 2_000_000 });
          const ref = await lake.query(`SELECT * FROM ${view}`, { maxRows: 2_000_000 });
          const snap = await lake.table(path).snapshot();
          assert.deepEqual(
            mine.columns,
            snap.schema.map((f) => ({ name: f.name, type: f.type })),
            path,
          );
          if (snap.numRecords !== undefined) assert.equal(mine.rows.length, snap.numRecords, path);
          const cols = ref.columns.map((c) => c.name);
          const a = lines(mine.rows, cols);
          const b = lines(ref.rows, cols);
          assert.equal(a.length, b.length, path);
          const diff = a.findIndex((x, i) => x !== b[i]);
          assert.equal(diff, -1, `${path}: first difference\n  engine ${a[diff]}\n  lake   ${b[diff]}`);
        }
      });

      it('answers the dashboard-style aggregates the same', async () => {
        const sql = `SELECT meter_id, month, count(*) AS days, sum(value) AS total, max(day) AS last_day
                     FROM meters_gold_daily GROUP BY meter_id, month ORDER BY meter_id, month`;
        const mine = await engine.query(sql, { maxRows: 100_000 });
        const ref = await lake.query(sql, { maxRows: 100_000 });
        assert.ok(mine.rows.length > 20);
        assert.equal(mine.rows.length, ref.rows.length);
        mine.rows.forEach((r, i) => {
          const e = ref.rows[i];
          assert.equal(r.meter_id, e.meter_id);
          assert.equal(r.month, e.month);
          assert.equal(r.days, Number(e.days));
          assert.equal(r.last_day, e.last_day);
          assert.ok(near(Number(r.total), Number(e.total)), `${r.meter_id} ${r.month}`);
        });
      });
    });
  });
}
