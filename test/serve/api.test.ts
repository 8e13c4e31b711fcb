// Issue 7: the HTTP API over a lake filled by a real pipeline run — data checked against the source
// file and the lake, every parameter validated, the SQL explorer read-only, metrics and headers.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { recordRetrain } from '../../src/models/registry.ts';
import { startServer } from '../../src/serve/server.ts';
import { requireData } from '../helpers/cli.ts';
import { londonDailySums } from '../helpers/source-sums.ts';
import { LONDON, pipelineLake, rows, type ServeFixture } from './fixture.ts';

describe('the HTTP API over a lake filled by the pipeline', () => {
  let fx: ServeFixture;
  let server: Awaited<ReturnType<typeof startServer>>;
  let lastDay: string;

  const get = async (path: string) => {
    const res = await fetch(server.url + path);
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  const sql = async (query: string, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${server.url}/api/sql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: query, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    fx = await pipelineLake();
    server = await startServer({
      port: 0,
      lake: fx.lakeUrl,
      transport: fx.transportUrl,
      sqlTimeoutMs: 1500,
      log: () => {},
    });
    const r = await rows(
      fx.lake,
      "SELECT max(day) AS d FROM meters_gold_daily WHERE meter_id <> '__fleet__'",
    );
    lastDay = String(r[0].d);
  });
  after(async () => {
    await server?.close();
    await fx?.close();
  });

  it("lists the lake's meters with their tariff and ACORN group, and the groups they form", async () => {
    const m = await get('/api/meters?kind=electricity');
    assert.equal(m.status, 200);
    assert.equal(m.body.total, 20);
    assert.ok(m.body.meters.every((x: any) => x.kind === 'electricity' && /^MAC\d+$/.test(x.id)));
    assert.ok(m.body.meters.some((x: any) => x.tariff === 'Std'));
    const g = await get('/api/groups');
    const std = g.body.groups.find((x: any) => x.id === 'tariff:Std');
    assert.equal(std.meters, m.body.meters.filter((x: any) => x.tariff === 'Std').length);
    const q = await get('/api/meters?q=mac00000');
    assert.ok(
      q.body.meters.length > 0 && q.body.meters.every((x: any) => x.id.toLowerCase().includes('mac00000')),
    );
  });

  it("gives one meter's daily series equal to the per-day sums of the source file", async () => {
    const expected = await londonDailySums(requireData(LONDON));
    const meters = (await get('/api/meters')).body.meters;
    const id = meters[0].id;
    const r = await get(`/api/consumption?meter=${id}&from=2013-01-01&to=${lastDay}&granularity=day`);
    assert.equal(r.status, 200);
    assert.equal(r.body.granularity, 'day');
    assert.equal(r.body.unit, 'kWh');
    assert.ok(r.body.x.length > 60);
    // The slice ends inside the last day: every earlier day is whole in the lake.
    let compared = 0;
    r.body.x.forEach((t: number, i: number) => {
      const day = new Date(t * 1000).toISOString().slice(0, 10);
      if (day >= lastDay) return;
      const e = expected.get(`${id}|${day}`);
      assert.ok(e !== undefined, `${day} is not in the source`);
      assert.ok(Math.abs(r.body.y[i] - e) < 1e-6, `${id} ${day}: API ${r.body.y[i]} vs source ${e}`);
      compared++;
    });
    assert.ok(compared > 60);
  });

  it('gives the fleet total as the sum over every meter, per week, as the lake has it', async () => {
    const r = await get(`/api/consumption?fleet&from=2013-01-01&to=${lastDay}&granularity=week`);
    assert.equal(r.status, 200);
    const lake = await rows(
      fx.lake,
      `SELECT strftime(date_trunc('week', CAST(day AS DATE)), '%Y-%m-%d') AS w, sum(value) AS v FROM meters_gold_daily
       WHERE meter_id <> '__fleet__' AND kind = 'electricity' AND day <= '${lastDay}' GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      r.body.x.map((t: number) => new Date(t * 1000).toISOString().slice(0, 10)),
      lake.map((x) => x.w),
    );
    for (const [i, v] of (r.body.y as number[]).entries())
      assert.ok(Math.abs(v - Number(lake[i].v)) < 1e-6, `week ${lake[i].w}`);
  });

  it('gives a group (tariff) as the sum of its meters', async () => {
    const r = await get(`/api/consumption?group=tariff:Std&from=2013-02-01&to=2013-02-28&granularity=day`);
    assert.equal(r.status, 200);
    const lake = await rows(
      fx.lake,
      `SELECT day, sum(value) AS v FROM meters_gold_daily WHERE tariff = 'Std' AND meter_id <> '__fleet__'
       AND day BETWEEN '2013-02-01' AND '2013-02-28' GROUP BY day ORDER BY day`,
    );
    assert.equal(r.body.y.length, 28);
    for (const [i, v] of (r.body.y as number[]).entries()) assert.ok(Math.abs(v - Number(lake[i].v)) < 1e-6);
  });

  it('adapts the granularity to the range: a month hourly, a year daily, three years weekly', async () => {
    const m = await get('/api/consumption?fleet&from=2013-02-01&to=2013-02-28');
    assert.equal(m.body.granularity, 'hour');
    assert.equal(m.body.x.length, 28 * 24);
    // The hours of a day add up to the day.
    const feb1 = m.body.y.slice(0, 24).reduce((a: number, b: number) => a + b, 0);
    const day = await get('/api/consumption?fleet&from=2013-02-01&to=2013-02-01&granularity=day');
    assert.ok(Math.abs(feb1 - day.body.y[0]) < 1e-6);
    assert.equal((await get('/api/consumption?fleet&from=2012-04-01&to=2013-03-31')).body.granularity, 'day');
    assert.equal(
      (await get('/api/consumption?fleet&from=2010-04-01&to=2013-03-31')).body.granularity,
      'week',
    );
    assert.equal(
      (await get('/api/consumption?fleet&from=2005-04-01&to=2013-03-31')).body.granularity,
      'month',
    );
  });

  it('answers an unknown meter with 404 and bad parameters with 400 naming the parameter', async () => {
    const cases: [string, number, string][] = [
      ['/api/consumption?meter=MAC999999', 404, 'meter'],
      ['/api/consumption?meter=MAC000002&kind=water', 404, 'meter'],
      ['/api/consumption?meter=bad%20id!', 400, 'meter'],
      ['/api/consumption?fleet&from=2013-03-01&to=2013-01-01', 400, 'from'],
      ['/api/consumption?fleet&from=2000-01-01&to=2013-01-01', 400, 'to'],
      ['/api/consumption?fleet&from=2013-01-01&to=2013-12-31&granularity=hour', 400, 'granularity'],
      ['/api/consumption?fleet&from=2013-02-30', 400, 'from'],
      ['/api/consumption?fleet&granularity=minute', 400, 'granularity'],
      ['/api/consumption?fleet&kind=gas', 400, 'kind'],
      ['/api/consumption?fleet&colour=red', 400, 'colour'],
      ['/api/consumption?group=postcode:N1', 400, 'group'],
      ['/api/forecast?month=2013-13', 400, 'month'],
      ['/api/predictions/latest?limit=100000', 400, 'limit'],
    ];
    for (const [path, status, param] of cases) {
      const r = await get(path);
      assert.equal(r.status, status, `${path} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.param, param, path);
      assert.match(r.body.error.message, new RegExp(param === 'colour' ? 'colour' : '.'), path);
    }
    assert.match(
      (await get('/api/consumption?fleet&from=2013-03-01&to=2013-01-01')).body.error.message,
      /inverted/,
    );
    assert.match(
      (await get('/api/consumption?meter=MAC999999')).body.error.message,
      /unknown meter "MAC999999"/,
    );
  });

  it("gives a month's prediction trajectory as the lake has it, with the actual total and the baselines", async () => {
    const r = await get('/api/forecast?meter=MAC000002&month=2013-02');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.daysInMonth, 28);
    const lake = await rows(
      fx.lake,
      `SELECT as_of_day, arg_max(predicted_total, predicted_at) AS p FROM meters_gold_predictions
       WHERE meter_id = 'MAC000002' AND month = '2013-02' GROUP BY 1 ORDER BY 1`,
    );
    assert.ok(lake.length >= 20, 'February is predicted from day 3 on');
    assert.deepEqual(
      r.body.predictions.map((p: any) => p.as_of_day),
      lake.map((x) => x.as_of_day),
    );
    for (const [i, p] of (r.body.predictions as { predicted_total: number }[]).entries())
      assert.ok(Math.abs(p.predicted_total - Number(lake[i].p)) < 1e-9);
    const actual = await rows(
      fx.lake,
      "SELECT value FROM meters_gold_monthly WHERE meter_id = 'MAC000002' AND month = '2013-02'",
    );
    assert.ok(Math.abs(r.body.actual.total - Number(actual[0].value)) < 1e-9);
    // On the last day the run-rate of 28 complete days is the month's total.
    const last = r.body.baselines.find((b: any) => b.as_of_day === 28);
    if (last) assert.ok(Math.abs(last.runrate - r.body.actual.total) < 1e-6);
    assert.ok(r.body.months.includes('2013-01'));
    // each model the month was predicted with names its training window, which ends before the month
    assert.deepEqual(
      r.body.models.map((m: any) => m.version),
      [...new Set(r.body.predictions.map((p: any) => p.model_version))].sort(),
    );
    for (const m of r.body.models)
      if (m.version > 0) assert.ok(m.trained_on.last_month < '2013-02', JSON.stringify(m));
      else assert.equal(m.trained_on, null);
  });

  it("gives the fleet's trajectory as the sum over its meters of each day's prediction, against the summed actual", async () => {
    const r = await get('/api/forecast?month=2013-02');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.meter, 'fleet');
    const lake = await rows(
      fx.lake,
      `SELECT as_of_day, sum(p) AS p FROM (SELECT meter_id, as_of_day, arg_max(predicted_total, predicted_at) AS p
       FROM meters_gold_predictions WHERE meter_id <> '__fleet__' AND month = '2013-02' GROUP BY ALL) GROUP BY 1 ORDER BY 1`,
    );
    assert.equal(r.body.predictions.length, lake.length);
    for (const [i, p] of (r.body.predictions as { predicted_total: number }[]).entries())
      assert.ok(Math.abs(p.predicted_total - Number(lake[i].p)) < 1e-6);
    const actual = await rows(
      fx.lake,
      "SELECT sum(value) AS v FROM meters_gold_monthly WHERE meter_id <> '__fleet__' AND month = '2013-02'",
    );
    assert.ok(Math.abs(r.body.actual.total - Number(actual[0].v)) < 1e-6);
  });

  it('scores accuracy by as_of_day with the mean APE of the outcomes table, beside the baselines', async () => {
    const r = await get('/api/forecast/accuracy?scope=meters');
    assert.equal(r.status, 200);
    assert.ok(r.body.rows.length >= 20);
    const lake = await rows(
      fx.lake,
      `SELECT as_of_day, avg(ape) AS m, count(*) AS n FROM (SELECT meter_id, month, as_of_day, avg(ape) AS ape
       FROM meters_gold_prediction_outcomes WHERE meter_id <> '__fleet__' GROUP BY ALL) GROUP BY 1 ORDER BY 1`,
    );
    assert.equal(r.body.rows.length, lake.length);
    r.body.rows.forEach((row: any, i: number) => {
      assert.equal(row.as_of_day, lake[i].as_of_day);
      assert.equal(row.n, lake[i].n);
      assert.ok(Math.abs(row.model - Number(lake[i].m)) < 1e-9);
      assert.ok(row.runrate >= 0 && row.blend >= 0);
    });
    const latest = await get('/api/predictions/latest?limit=5');
    assert.equal(latest.body.rows.length, 5);
  });

  it('runs a read-only SELECT in the explorer and returns its columns and rows', async () => {
    const r = await sql(
      "SELECT meter_id, count(*) AS days FROM meters_gold_daily WHERE meter_id <> '__fleet__' GROUP BY 1 ORDER BY 1",
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.columns.map((c: any) => c.name),
      ['meter_id', 'days'],
    );
    assert.equal(r.body.rows.length, 20);
    assert.equal(typeof r.body.rows[0][1], 'number');
    const t = await get('/api/tables');
    const daily = t.body.tables.find((x: any) => x.view === 'meters_gold_daily');
    assert.ok(daily.columns.some((c: any) => c.name === 'day'));
  });

  it('refuses writes, COPY, ATTACH, file-reading functions and anything but the lake views', async () => {
    for (const q of [
      'INSERT INTO meters_gold_daily SELECT * FROM meters_gold_daily',
      'DELETE FROM meters_gold_daily',
      'CREATE TABLE x AS SELECT 1',
      "COPY meters_gold_daily TO '/tmp/lakestream-stolen.csv'",
      "COPY (SELECT 1) TO '/tmp/lakestream-stolen.csv'",
      "ATTACH '/tmp/lakestream-other.db' AS other",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/passwd')",
      "SELECT * FROM read_parquet('/tmp/*.parquet')",
      "SELECT * FROM '/etc/passwd'",
      "SELECT * FROM glob('/*')",
      'SELECT * FROM duckdb_settings()',
      "SELECT getenv('HOME')",
      'SET enable_external_access = true',
      'INSTALL httpfs',
      'SELECT 1; SELECT 2',
      'PRAGMA database_list',
    ]) {
      const r = await sql(q);
      assert.equal(r.status, 400, `${q} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.param, 'sql', q);
    }
  });

  it('refuses results over the row cap, a row cap over the maximum, and stops a query at the timeout', async () => {
    const over = await sql('SELECT * FROM meters_silver_readings');
    assert.equal(over.status, 400);
    assert.match(over.body.error.message, /more than 1000 rows \(the row cap\)/);
    const cap = await sql('SELECT 1', { maxRows: 1_000_000 });
    assert.equal(cap.status, 400);
    assert.equal(cap.body.error.param, 'maxRows');
    const started = Date.now();
    const slow = await sql(
      'SELECT count(*) FROM meters_silver_readings a, meters_silver_readings b, meters_silver_readings c WHERE a.value + b.value > c.value',
    );
    assert.equal(slow.status, 408, JSON.stringify(slow.body));
    assert.match(slow.body.error.message, /timeout/);
    assert.ok(Date.now() - started < 10_000);
    // The sandbox still answers after an interrupted query.
    assert.equal((await sql('SELECT count(*) AS n FROM meters_gold_monthly')).status, 200);
  });

  it('is read-only over HTTP and sends security headers on every response', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${server.url}/api/meters`, { method });
      assert.equal(res.status, 405);
      await res.body?.cancel();
    }
    const form = await fetch(`${server.url}/api/sql`, { method: 'POST', body: 'sql=SELECT 1' });
    assert.equal(form.status, 415, 'a form post (cross-site) is refused');
    await form.body?.cancel();
    const page = await fetch(`${server.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await page.text(), /<script type="module" src="\/assets\/app.js">/);
    // fetch cannot forge Host; node:http can, as a DNS-rebinding page's browser would send it.
    const foreign = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/api/meters`, { headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(foreign, 403, 'DNS rebinding: a foreign Host is refused on loopback');
  });

  it('exposes Prometheus metrics: requests, table versions, the pipeline counters and lag', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0.0.4/);
    const text = await res.text();
    assert.match(text, /^lakestream_http_requests_total\{route="\/api\/consumption",status="200"\} \d+$/m);
    assert.match(text, /^lakestream_table_version\{table="meters\/gold\/daily"\} \d+$/m);
    assert.match(text, /^lakestream_stream_accepted_total\{worker="[^"]+"\} 70000$/m);
    assert.match(
      text,
      /^lakestream_consumer_lag\{topic="meters.readings",group="lakestream-meters",partition="0"\} 0$/m,
    );
  });

  it('streams pipeline snapshots as server-sent events, with why the last retrain failed', async () => {
    await recordRetrain(fx.lake.store, 'consumption', {
      month: '2013-02',
      ok: false,
      error: 'the lake holds no complete month',
      at: '2013-03-01T02:00:00.000Z',
    });
    const ac = new AbortController();
    const res = await fetch(`${server.url}/api/pipeline/stream`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    let event: RegExpExecArray | null = null;
    while (!event) {
      text += new TextDecoder().decode((await reader.read()).value);
      event = /event: pipeline\ndata: (.*)\n\n/.exec(text);
    }
    ac.abort();
    const data = JSON.parse(event[1]);
    assert.equal(data.totals.accepted, 70_000);
    assert.equal(data.lag.length, 6);
    assert.ok(data.lag.every((l: any) => l.lag === 0));
    assert.ok(data.tables.some((t: any) => t.path === 'meters/gold/daily'));
    assert.deepEqual(data.retrain, {
      month: '2013-02',
      ok: false,
      error: 'the lake holds no complete month',
      at: '2013-03-01T02:00:00.000Z',
    });
  });
});
