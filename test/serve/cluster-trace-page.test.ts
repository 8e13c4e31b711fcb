// Issue 8 serving layer in a real browser (Debian's chromium through playwright-core): the Cluster trace
// page over a lake filled by a real cluster-trace run (train task-gmm, replay part-00001 with the
// machine events, stream --drain) draws what the lake holds. Screenshot: test-output/screenshots/cluster-trace.png.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Lake } from '../../src/lake/index.ts';
import { startServer } from '../../src/serve/server.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';
import { launchChromium, SCREENSHOTS } from './chromium.ts';
import { rows } from './fixture.ts';

type Chart = { x: number[]; series: { label: string; y: (number | null)[] }[]; [k: string]: unknown };

const TRACE = 'cluster-trace/google-2011';

describe('the cluster trace page in chromium', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageErrors: string[] = [];
  const chart = (name: string) =>
    page.evaluate((n) => (window as unknown as { __charts: Record<string, Chart> }).__charts[n], name);

  before(async () => {
    engines = await freshEngines();
    const tasks = requireData(`${TRACE}/task_events/part-00001-of-00500.csv.gz`);
    const machines = requireData(`${TRACE}/machine_events_with_header.csv.gz`);
    await cli([
      'train',
      '--model',
      'task-gmm',
      '--k',
      '3',
      '--data',
      tasks,
      machines,
      '--lake',
      engines.lake,
    ]);
    await cli([
      'produce',
      '--source',
      'google-2011',
      '--file',
      tasks,
      '--file',
      machines,
      ...engines.produceFlags,
    ]);
    await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
    server = await startServer({ port: 0, lake: engines.lake, transport: engines.transport, log: () => {} });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.goto(`${server.url}/#/cluster-trace`);
    await page.waitForSelector('#page[data-ready="true"]', { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await lake?.close();
  });

  it('is reachable from the navigation and shows the lake’s task counts', async () => {
    assert.equal(await page.getAttribute('#nav a[data-page="cluster-trace"]', 'class'), 'active');
    const [t] = await rows(
      lake,
      `SELECT (SELECT count(*) FROM cluster_trace_gold_task_classes) AS submits,
              (SELECT count(*) FROM cluster_trace_silver_task_lifecycles) AS lifecycles`,
    );
    const num = async (id: string) => Number((await page.textContent(id))?.replace(/[^\d]/g, ''));
    assert.equal(await num('#cl-submits'), t.submits);
    assert.equal(await num('#cl-lifecycles'), t.lifecycles);
    assert.match((await page.textContent('#cl-model')) ?? '', /task-gmm v1, k = 3/);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-trace.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  it('draws the class mix: every classified task in its class and minute', async () => {
    const c = await chart('cluster_mix');
    const lakeMix = await rows(
      lake,
      'SELECT class, count(*) AS n FROM cluster_trace_gold_task_classes GROUP BY class ORDER BY class',
    );
    assert.deepEqual(
      c.series.map((s) => [s.label, s.y.reduce((a: number, b) => a + (b ?? 0), 0)]),
      lakeMix.map((r) => [`class ${r.class}`, r.n]),
    );
  });

  it("draws the GMM's three clusters over a sample of requests", async () => {
    assert.equal(await page.locator('#cluster-scatter polygon.gmm-ellipse').count(), 3);
    assert.equal(await page.locator('#cluster-scatter circle.pt').count(), 1500);
    assert.equal(await page.locator('#cluster-classes tbody tr').count(), 3);
  });

  it('draws running demand under the cluster capacity, and outcomes as the lake counts them', async () => {
    const d = await chart('cluster_demand');
    const cap = d.series.find((s) => s.label === 'CPU capacity')!.y as number[];
    const used = d.series.find((s) => s.label === 'CPU requested')!.y as number[];
    assert.ok(
      cap.every((v) => v > 5000),
      'more than 5,000 normalised CPUs of machines',
    );
    assert.ok(used.some((v) => v > 0));
    const o = await chart('cluster_outcomes');
    const [ends] = await rows(
      lake,
      'SELECT count(*) FILTER (event_type = 4) AS finished, count(*) FILTER (event_type = 3) AS failed FROM cluster_trace_bronze_task_events',
    );
    const sum = (label: string) =>
      o.series.find((s) => s.label === label)!.y.reduce((a: number, b) => a + (b ?? 0), 0);
    assert.equal(sum('finished'), ends.finished);
    assert.equal(sum('failed'), ends.failed);
  });
});
