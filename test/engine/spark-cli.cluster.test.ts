// `--engine spark` as a user meets it, on the local cluster's Spark Connect: the acceptance query answers
// what DuckDB answers, the errors (unreachable server, bad SQL, a missing table, Ctrl-C), status, serve,
// and Spark's OPTIMIZE on a lakestream table that lakestream reads back.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { startServer } from '../../src/serve/server.ts';
import { cli, runCli, startCli } from '../helpers/cli.ts';
import { ensureCluster } from '../helpers/cluster.ts';
import { replayedLake } from '../helpers/engine-lake.ts';

const LONG = 'SELECT count(*) AS n FROM range(0, 100000000000) a WHERE a.id * 7 % 13 = 3';

describe('lakestream on the spark engine', { timeout: 1_800_000 }, () => {
  let lake: string;
  let spark: string;
  /** the replay's own transport, for status */
  let transport: string;

  before(async () => {
    const c = await ensureCluster({ spark: true, hdfs: true });
    spark = c.sparkConnectUrl.replace(/^sc:/, 'spark:');
    lake = await replayedLake();
    transport = lake.replace(/^file:(.*)\/lake$/, 'embedded:$1/log');
  });

  it('answers "SELECT count(*) FROM meters_gold_daily" as DuckDB does', async () => {
    const q = 'SELECT count(*) FROM meters_gold_daily';
    const duck = await cli(['sql', '--format', 'csv', '--lake', lake, q]);
    const onSpark = await cli(['sql', '--engine', spark, '--format', 'csv', '--lake', lake, q]);
    const value = (out: string) => out.trim().split('\n')[1];
    assert.match(value(duck.stdout), /^\d+$/);
    assert.ok(Number(value(duck.stdout)) > 1000);
    assert.equal(value(onSpark.stdout), value(duck.stdout));
  });

  it('takes the engine from LAKESTREAM_ENGINE, `spark` alone meaning 127.0.0.1:15002', async () => {
    const r = await cli(['sql', '--format', 'json', '--lake', lake, 'SELECT version() AS v'], {
      env: { LAKESTREAM_ENGINE: spark === 'spark://127.0.0.1:15002' ? 'spark' : spark },
    });
    // Spark's version() is "4.0.1 <commit>"; DuckDB's is "v1.x"
    assert.match(JSON.parse(r.stdout)[0].v, /^4\.0\.1 /);
  });

  it('names an unreachable server in one line within 10 s and exits 1', async () => {
    // a port that accepts connections and never answers, the harder case than a refused one
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await runCli(['sql', '--engine', `spark://127.0.0.1:${port}`, '--lake', lake, 'SELECT 1']);
      const took = Date.now() - started;
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.ok(took < 10_000, `took ${took} ms (node's own start included)`);
    } finally {
      silent.close();
    }
  });

  it("reports bad SQL with Spark's error class and message, and exits 2", async () => {
    const r = await runCli([
      'sql',
      '--engine',
      spark,
      '--lake',
      lake,
      'SELECT meter_idd FROM meters_gold_daily',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /UNRESOLVED_COLUMN/);
    assert.match(r.stderr, /meter_idd/);
    // the position is the user's line, not the wrapped query's
    assert.match(r.stderr, /line 1, column 8/);
    const parse = await runCli([
      'sql',
      '--engine',
      spark,
      '--lake',
      lake,
      'SELECT count(* FROM meters_gold_daily',
    ]);
    assert.equal(parse.code, 2);
    assert.match(parse.stderr, /PARSE_SYNTAX_ERROR/);
  });

  it('names a table the lake does not hold', async () => {
    const r = await runCli(['sql', '--engine', spark, '--lake', lake, 'SELECT * FROM meters_gold_weekly']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no table meters_gold_weekly in the lake/);
  });

  it('refuses a statement that would change something, and runs nothing', async () => {
    const r = await runCli(['sql', '--engine', spark, '--lake', lake, 'DROP TABLE x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /only read-only queries/);
  });

  it('stops a long query on Ctrl-C: Spark gets an Interrupt, the command exits 130', async () => {
    const child = startCli(['sql', '--engine', spark, '--lake', lake, LONG]);
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    // long enough for the session to open and the query to be running on the executors
    await new Promise((r) => setTimeout(r, 12_000));
    assert.equal(child.exitCode, null, `exited early: ${stderr}`);
    const sent = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - sent < 10_000, `took ${Date.now() - sent} ms to exit`);
    // the cores are free again: a small query does not wait behind the interrupted one
    const started = Date.now();
    await cli(['sql', '--engine', spark, '--lake', lake, 'SELECT count(*) FROM meters_gold_monthly']);
    assert.ok(Date.now() - started < 90_000, `the next query took ${Date.now() - started} ms`);
  });

  it('shows the engine in status, and whether it answers', async () => {
    const up = JSON.parse(
      (await cli(['status', '--json', '--engine', spark, '--lake', lake, '--transport', transport])).stdout,
    );
    assert.equal(up.engine.engine, 'spark');
    assert.equal(up.engine.answers, true);
    assert.match(up.engine.version, /^Spark 4\.0\.1/);
    const down = JSON.parse(
      (
        await cli([
          'status',
          '--json',
          '--engine',
          'spark://127.0.0.1:1',
          '--lake',
          lake,
          '--transport',
          transport,
        ])
      ).stdout,
    );
    assert.equal(down.engine.answers, false);
    assert.match(down.engine.error, /127\.0\.0\.1:1/);
    const duck = await cli(['status', '--lake', lake, '--transport', transport]);
    assert.match(duck.stdout, /duckdb \(in process\): answers — DuckDB v/);
  });

  it("compacts a lakestream table with Spark's OPTIMIZE; lakestream reads the same rows back", async () => {
    const reader = await Lake.open(lake);
    try {
      const table = 'meters/silver/readings';
      const sums =
        'SELECT count(*) AS n, sum(value) AS s, count(DISTINCT meter_id) AS m FROM meters_silver_readings';
      const before = await reader.table(table).snapshot();
      const expected = (await reader.query(sums)).rows[0];
      assert.ok(before.files.length > 1);
      const r = await cli(['lake', 'optimize', table, '--engine', spark, '--lake', lake, '--json']);
      const out = JSON.parse(r.stdout);
      assert.ok(out.removed >= 2, r.stdout);
      const after = await reader.table(table).snapshot();
      assert.ok(after.version > before.version);
      assert.ok(after.files.length < before.files.length, `${before.files.length} -> ${after.files.length}`);
      const last = (await reader.table(table).history())[0]; // newest first
      assert.equal(last?.operation, 'OPTIMIZE');
      const got = (await reader.query(sums)).rows[0];
      assert.equal(got.n, expected.n);
      assert.equal(got.m, expected.m);
      assert.ok(Math.abs(Number(got.s) - Number(expected.s)) < 1e-6);
    } finally {
      await reader.close();
    }
  });

  it('serves the same API answers on Spark as on DuckDB, Explore included', async () => {
    const paths = [
      '/api/meters',
      '/api/groups',
      '/api/consumption?fleet',
      '/api/consumption?meter=MAC000002&granularity=hour&from=2013-01-01&to=2013-01-03',
      '/api/consumption?group=tariff:Std&granularity=week',
      '/api/forecast',
      '/api/forecast/accuracy',
      '/api/predictions/latest?limit=20',
      '/api/cluster-trace?points=0',
    ];
    const answers = async (engine: string) => {
      const server = await startServer({ port: 0, lake, engine, log: () => {} });
      try {
        const out: unknown[] = [];
        for (const p of paths) {
          const res = await fetch(`${server.url}${p}`);
          assert.equal(res.status, 200, `${engine} ${p}: ${await res.clone().text()}`);
          out.push(await res.json());
        }
        const sql = await fetch(`${server.url}/api/sql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            sql: 'SELECT meter_id, count(*) AS days, round(sum(value), 6) AS total FROM meters_gold_daily GROUP BY meter_id ORDER BY meter_id',
          }),
        });
        assert.equal(sql.status, 200);
        out.push(((await sql.json()) as { rows: unknown }).rows);
        const refused = await fetch(`${server.url}/api/sql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: "SELECT reflect('java.lang.System', 'getenv', 'HOME')" }),
        });
        assert.equal(refused.status, 400);
        return out;
      } finally {
        await server.close();
      }
    };
    const duck = await answers('duckdb');
    const onSpark = await answers(spark);
    for (const [i, p] of paths.entries()) assertClose(onSpark[i], duck[i], p);
    assertClose(onSpark.at(-1), duck.at(-1), 'Explore');
  });
});

/** Deep equality with doubles compared to 1e-9 (the engines sum in different orders). */
function assertClose(a: unknown, b: unknown, where: string): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(
      a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)),
      `${where}: ${a} vs ${b}`,
    );
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${where}: length`);
    for (const [i, x] of a.entries()) assertClose(x, b[i], `${where}[${i}]`);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${where}: keys`);
    for (const k of Object.keys(a))
      assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}.${k}`);
    return;
  }
  assert.equal(a, b, where);
}
