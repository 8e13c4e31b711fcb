// Issue 19's dashboard items in a real browser (Debian's chromium through playwright-core): a shared
// link to a page (/forecast) lands on that page, the trace page's empty state is a note and not an
// error, and Explore's quick chart does not draw a count on the kWh axis.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startServer } from '../../src/serve/server.ts';
import { launchChromium } from './chromium.ts';
import { pipelineLake, rows, type ServeFixture } from './fixture.ts';

type Chart = { series: { label: string; y: (number | null)[] }[] };

async function ready(page: Page): Promise<void> {
  await page.waitForSelector('#page[data-ready="true"]', { timeout: 30_000 });
}

describe('links and states of the dashboard in chromium', () => {
  let fx: ServeFixture;
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  before(async () => {
    // January and part of February of the 20 London households: two months for the quick chart
    fx = await pipelineLake(40_000);
    server = await startServer({ port: 0, lake: fx.lakeUrl, transport: fx.transportUrl, log: () => {} });
    browser = await launchChromium();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await fx?.close();
  });

  it('opens http://HOST/forecast, a link someone shared, on the Forecast page', async () => {
    const response = await page.goto(`${server.url}/forecast`);
    assert.equal(response?.status(), 200);
    await ready(page);
    assert.equal(new URL(page.url()).hash, '#/forecast');
    assert.equal(await page.getAttribute('#page', 'data-page'), 'forecast');
    assert.equal(await page.locator('#page h1').first().textContent(), 'Forecast');
    assert.equal(await page.locator('#nav a.active').getAttribute('data-page'), 'forecast');
    // and the other pages the same way; an unknown path stays a 404
    for (const name of ['consumption', 'pipeline', 'cluster-trace', 'explore']) {
      await page.goto(`${server.url}/${name}`);
      await ready(page);
      assert.equal(await page.getAttribute('#page', 'data-page'), name);
    }
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
  });

  it('lands links to the trace page by its old name (/cluster, #/cluster) on the Cluster trace page', async () => {
    for (const old of ['/cluster', '/#/cluster']) {
      await page.goto(`${server.url}${old}`);
      await ready(page);
      assert.equal(new URL(page.url()).hash, '#/cluster-trace', old);
      assert.equal(await page.getAttribute('#page', 'data-page'), 'cluster-trace', old);
      assert.equal(await page.locator('#page h1').first().textContent(), 'Cluster trace', old);
    }
  });

  it('tells a lake without trace tables as a note on the Cluster trace page, not as an error', async () => {
    await page.goto(`${server.url}/#/cluster-trace`);
    await ready(page);
    assert.match((await page.locator('#cluster-empty').textContent()) ?? '', /No cluster-trace tables/);
    assert.equal(await page.locator('#page .error, #page [role="alert"]').count(), 0);
  });

  it("draws Explore's default query (kWh and a count of meters per month) without the count on the kWh axis", async () => {
    await page.goto(`${server.url}/#/explore`);
    await ready(page);
    await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length >= 2);
    const c = await page.evaluate(
      () => (window as unknown as { __charts: Record<string, Chart> }).__charts.explore,
    );
    assert.deepEqual(
      c.series.map((s) => s.label),
      ['kwh'],
    );
    const lake = await rows(
      fx.lake,
      "SELECT month, round(sum(value), 1) AS kwh FROM meters_gold_monthly WHERE kind = 'electricity' AND meter_id <> '__fleet__' GROUP BY month ORDER BY month",
    );
    assert.deepEqual(
      c.series[0].y,
      lake.map((r) => Number(r.kwh)),
    );
    assert.match(
      (await page.locator('#explore-chart-note').textContent()) ?? '',
      /Not drawn, on another scale than kwh: meters \(up to 20\)/,
    );
  });
});
