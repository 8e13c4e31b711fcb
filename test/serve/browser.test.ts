// Issue 7 acceptance in a real browser (Debian's chromium through playwright-core): every page draws
// the lake's data, the range buttons move the visible range, the live page follows a running replay,
// Explore refuses writes and file access, and a token-protected server wants its token.
// Screenshots of each page: test-output/screenshots/<page>.png.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startServer } from '../../src/serve/server.ts';
import { requireData, startCli } from '../helpers/cli.ts';
import { dashboardInChromium, SCREENSHOTS } from './chromium.ts';
import { pipelineLake, rows, type ServeFixture } from './fixture.ts';

type Chart = {
  x: number[];
  series: { label: string; y: (number | null)[] }[];
  xMin: number;
  xMax: number;
  [k: string]: unknown;
};

const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / 1000;
const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

async function chart(page: Page, name: string): Promise<Chart> {
  return page.evaluate((n) => (window as unknown as { __charts: Record<string, Chart> }).__charts[n], name);
}

async function ready(page: Page): Promise<void> {
  await page.waitForSelector('#page[data-ready="true"]', { timeout: 30_000 });
}

function assertClose(a: number | null, b: number, what: string): void {
  assert.ok(a !== null && Math.abs(a - b) < 1e-6, `${what}: chart ${a} vs lake ${b}`);
}

describe('the dashboard in chromium', () => {
  let fx: ServeFixture;
  let server: Awaited<ReturnType<typeof startServer>>;
  let dashboard: Awaited<ReturnType<typeof dashboardInChromium>>;
  let page: Page;

  before(async () => {
    fx = await pipelineLake();
    dashboard = await dashboardInChromium(fx.lakeUrl, fx.transportUrl);
    ({ server, page } = dashboard);
  });
  after(async () => {
    await dashboard?.close();
    await fx?.close();
  });

  it("draws the fleet's daily consumption of the latest year as the lake holds it", async () => {
    await page.goto(`${server.url}/#/consumption`);
    await ready(page);
    const c = await chart(page, 'consumption');
    assert.equal(c.granularity, 'day');
    assert.equal(c.range, '1y');
    const last = await rows(
      fx.lake,
      "SELECT max(day) AS d FROM meters_gold_daily WHERE kind = 'electricity'",
    );
    assert.equal(c.to, last[0].d);
    const lake = await rows(
      fx.lake,
      `SELECT day, sum(value) AS v FROM meters_gold_daily WHERE meter_id <> '__fleet__' AND kind = 'electricity'
       AND day BETWEEN '${c.from}' AND '${c.to}' GROUP BY day ORDER BY day`,
    );
    assert.deepEqual(
      c.x.map(iso),
      lake.map((r) => r.day),
    );
    for (const [i, r] of lake.entries()) assertClose(c.series[0].y[i], Number(r.v), String(r.day));
    assert.equal(await page.locator('#kpi-points').textContent(), String(lake.length));
    await page.screenshot({ path: join(SCREENSHOTS, 'consumption.png'), fullPage: true });
  });

  it('changes the visible range with the 1 month, 3 years and 1 year buttons, and the granularity with it', async () => {
    const to = String((await chart(page, 'consumption')).to);
    const expectRange = async (key: string, from: string, granularity: string) => {
      await page.click(`button[data-range="${key}"]`);
      await page.waitForFunction(
        (k) =>
          (window as unknown as { __charts: Record<string, { range: string }> }).__charts.consumption
            ?.range === k,
        key,
      );
      const c = await chart(page, 'consumption');
      assert.equal(c.from, from, key);
      assert.equal(c.granularity, granularity, key);
      assert.equal(c.xMin, day(from), `${key}: the x axis starts on ${from}`);
      assert.equal(c.xMax, day(to) + 86_400, `${key}: the x axis ends after ${to}`);
      assert.equal(await page.getAttribute(`button[data-range="${key}"]`, 'aria-pressed'), 'true');
      return c;
    };
    const monthAgo = new Date(Date.UTC(+to.slice(0, 4), +to.slice(5, 7) - 2, +to.slice(8, 10) + 1))
      .toISOString()
      .slice(0, 10);
    const m = await expectRange('1m', monthAgo, 'hour');
    // The hours drawn add up to the days the lake holds for the same range.
    const total = await rows(
      fx.lake,
      `SELECT sum(value) AS v FROM meters_gold_daily WHERE meter_id <> '__fleet__' AND kind = 'electricity'
       AND day BETWEEN '${monthAgo}' AND '${to}'`,
    );
    const drawn = m.series[0].y.reduce((a: number, b) => a + (b ?? 0), 0);
    assert.ok(Math.abs(drawn - Number(total[0].v)) < 1e-6, `hourly sum ${drawn} vs daily ${total[0].v}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'consumption-1-month.png'), fullPage: true });
    const threeYearsAgo = new Date(Date.UTC(+to.slice(0, 4) - 3, +to.slice(5, 7) - 1, +to.slice(8, 10) + 1))
      .toISOString()
      .slice(0, 10);
    const y3 = await expectRange('3y', threeYearsAgo, 'week');
    assert.ok(y3.xMax - y3.xMin > 1000 * 86_400);
    const oneYearAgo = new Date(Date.UTC(+to.slice(0, 4) - 1, +to.slice(5, 7) - 1, +to.slice(8, 10) + 1))
      .toISOString()
      .slice(0, 10);
    await expectRange('1y', oneYearAgo, 'day');

    // The date picker moves the end of the range.
    await page.fill('#to', '2013-02-15');
    await page.dispatchEvent('#to', 'change');
    await page.waitForFunction(
      () =>
        (window as unknown as { __charts: Record<string, { to: string }> }).__charts.consumption?.to ===
        '2013-02-15',
    );
    assert.equal((await chart(page, 'consumption')).xMax, day('2013-02-15') + 86_400);
  });

  it("draws one meter's month of predictions against the actual total, and accuracy against the baselines", async () => {
    await page.goto(`${server.url}/#/forecast`);
    await ready(page);
    await page.selectOption('#fc-meter', 'MAC000002');
    await page.waitForFunction(
      () =>
        (window as unknown as { __charts: Record<string, { meter: string }> }).__charts.forecast?.meter ===
        'MAC000002',
    );
    await page.selectOption('#fc-month', '2013-02');
    await page.waitForFunction(
      () =>
        (window as unknown as { __charts: Record<string, { month: string }> }).__charts.forecast?.month ===
        '2013-02',
    );
    const f = await chart(page, 'forecast');
    const preds = await rows(
      fx.lake,
      `SELECT as_of_day, arg_max(predicted_total, predicted_at) AS p FROM meters_gold_predictions
       WHERE meter_id = 'MAC000002' AND kind = 'electricity' AND month = '2013-02' GROUP BY 1 ORDER BY 1`,
    );
    assert.ok(preds.length >= 20);
    const model = f.series.find((s) => s.label === 'model')!;
    for (const p of preds)
      assertClose(model.y[Number(p.as_of_day) - 1], Number(p.p), `prediction on day ${p.as_of_day}`);
    assert.equal(model.y.filter((v) => v !== null).length, preds.length);
    const actual = await rows(
      fx.lake,
      "SELECT value FROM meters_gold_monthly WHERE meter_id = 'MAC000002' AND month = '2013-02'",
    );
    const actualLine = f.series.find((s) => s.label === 'actual total')!;
    assert.ok(actualLine.y.every((v) => v !== null && Math.abs(v - Number(actual[0].value)) < 1e-9));
    await page.waitForFunction(
      () =>
        (window as unknown as { __charts: Record<string, { x: number[] }> }).__charts.accuracy?.x.length > 0,
    );
    const acc = await chart(page, 'accuracy');
    const ape = await rows(
      fx.lake,
      `SELECT as_of_day, avg(ape) AS m FROM meters_gold_prediction_outcomes WHERE meter_id = 'MAC000002' AND kind = 'electricity'
       GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      acc.x,
      ape.map((r) => r.as_of_day),
    );
    for (const [i, r] of ape.entries())
      assertClose(acc.series[0].y[i], Number(r.m), `MAPE at day ${r.as_of_day}`);
    assert.deepEqual(
      acc.series.map((s) => s.label),
      ['model', 'run-rate', 'blend'],
    );
    assert.ok((await page.locator('#latest-predictions tbody tr').count()) > 0);
    await page.screenshot({ path: join(SCREENSHOTS, 'forecast.png'), fullPage: true });
  });

  it('runs a SELECT in Explore into a grid and a chart, and refuses writes, COPY, ATTACH and file reads', async () => {
    await page.goto(`${server.url}/#/explore`);
    await ready(page);
    await page.fill(
      '#sql',
      "SELECT day, sum(value) AS kwh FROM meters_gold_daily WHERE meter_id <> '__fleet__' AND month = '2013-01' GROUP BY day ORDER BY day",
    );
    await page.click('#run-sql');
    await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 31);
    const lake = await rows(
      fx.lake,
      "SELECT day, sum(value) AS kwh FROM meters_gold_daily WHERE meter_id <> '__fleet__' AND month = '2013-01' GROUP BY day ORDER BY day",
    );
    assert.equal(
      await page.locator('#results tbody tr').first().locator('td').first().textContent(),
      lake[0].day,
    );
    const c = await chart(page, 'explore');
    for (const [i, r] of lake.entries()) assertClose(c.series[0].y[i], Number(r.kwh), `explore ${r.day}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'explore.png'), fullPage: true });
    for (const [query, message] of [
      ['INSERT INTO meters_gold_daily SELECT * FROM meters_gold_daily', /read-only SELECT/],
      ["COPY meters_gold_daily TO '/tmp/lakestream-stolen.csv'", /read-only SELECT/],
      ["ATTACH '/tmp/lakestream-other.db' AS other", /read-only SELECT/],
      ["SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/],
      ["SELECT * FROM read_text('/etc/hostname')", /read_text\(\) is not allowed/],
      ["SELECT * FROM '/etc/passwd'", /unknown table "\/etc\/passwd"/],
    ] as const) {
      await page.fill('#sql', query);
      await page.click('#run-sql');
      const error = page.locator('#sql-error .error');
      await error.waitFor({ timeout: 10_000 });
      assert.match((await error.textContent()) ?? '', message, query);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'explore-refused.png'), fullPage: true });
  });

  it('updates the live pipeline page while a replay runs', async () => {
    await page.goto(`${server.url}/#/pipeline`);
    await ready(page);
    const updates = () => page.getAttribute('#live-updates', 'data-updates').then(Number);
    await page.waitForFunction(() => Number(document.getElementById('live-updates')?.dataset.updates) >= 1);
    const totals = async () =>
      ((await chart(page, 'pipeline_rates')).totals as { read: number; accepted: number }) ?? {
        read: 0,
        accepted: 0,
      };
    assert.equal((await totals()).accepted, 70_000);
    const before = await updates();
    const children: ChildProcess[] = [];
    try {
      children.push(
        startCli(['stream', '--quiet', ...fx.flags]),
        startCli([
          'produce',
          '--source',
          'uci-hourly',
          '--file',
          requireData('meters/uci/household_power_hourly.csv.gz'),
          '--rate',
          '2000',
          '--limit',
          '30000',
          '--quiet',
          ...fx.produceFlags,
        ]),
      );
      let output = '';
      for (const c of children) c.stderr?.on('data', (d) => (output += d));
      // The replay's readings reach the topic, the worker commits them, and the page shows both.
      const shown = page.waitForFunction(
        () => {
          const w = window as unknown as {
            __charts: Record<string, { totals?: { accepted: number }; series: { y: (number | null)[] }[] }>;
          };
          const rates = w.__charts.pipeline_rates;
          return (rates?.totals?.accepted ?? 0) > 70_000 && rates.series[0].y.some((v) => (v ?? 0) > 0);
        },
        undefined,
        { timeout: 120_000, polling: 250 },
      );
      await shown.catch(async (e) => {
        const snapshot = await chart(page, 'pipeline_rates');
        throw new Error(
          `${e.message}\npage totals: ${JSON.stringify(snapshot.totals)}\nreplay and worker output:\n${output.slice(-3000)}`,
        );
      });
      assert.ok((await updates()) > before + 1, 'the page got several server-sent updates');
      const lag = await chart(page, 'pipeline_lag');
      assert.deepEqual(lag.x, [0, 1, 2, 3, 4, 5]);
      assert.match((await page.locator('#kpi-accepted').textContent()) ?? '', /\d/);
      await page.screenshot({ path: join(SCREENSHOTS, 'pipeline.png'), fullPage: true });
    } finally {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
      );
    }
  });

  it('asks for the token on a protected server and opens the dashboard with it', async () => {
    const token = 'browser-test-token-123';
    const protectedServer = await startServer({ port: 0, token, lake: fx.lakeUrl, log: () => {} });
    try {
      const denied = await page.goto(`${protectedServer.url}/`);
      assert.equal(denied?.status(), 401);
      assert.match((await page.textContent('body')) ?? '', /a token is required/);
      await page.goto(`${protectedServer.url}/?token=${token}#/consumption`);
      await ready(page);
      assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
      assert.ok((await chart(page, 'consumption')).x.length > 0, 'the API calls carry the cookie');
    } finally {
      await protectedServer.close();
    }
    assert.deepEqual(dashboard.pageErrors, [], 'no script errors on any page');
  });
});
