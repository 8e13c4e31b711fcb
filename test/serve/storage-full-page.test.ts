// Issue 16 item 3 on the dashboard, in a real chromium: while the lake's storage is full the Pipeline
// page's row of the stream worker says it is not committing, and the row under it why; once space returns
// the row says committing again.
// Screenshot: test-output/screenshots/pipeline-storage-full.png.

import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { startServer } from '../../src/serve/server.ts';
import type { freshEngines, startCli } from '../helpers/cli.ts';
import { produceTwoDays, streamOnStoreThatFills, until, workerStatuses } from '../helpers/pipeline.ts';
import { dashboardInChromium, SCREENSHOTS } from './chromium.ts';

const produce = produceTwoDays;

/** The worker's row on the Pipeline page once its state is `state`: its state cell's text. */
async function rowInState(page: Page, worker: string, state: string): Promise<string> {
  const row = page.locator(`#page tr[data-worker="${worker}"][data-state="${state}"]`);
  await row.waitFor({ timeout: 120_000 });
  return (await row.locator('td.worker-state').textContent()) ?? '';
}

describe('the Pipeline page while the lake storage is full', { timeout: 600_000 }, () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let flag: string;
  let stream: ReturnType<typeof startCli>;
  let server: Awaited<ReturnType<typeof startServer>>;
  let dashboard: Awaited<ReturnType<typeof dashboardInChromium>>;
  let page: Page;
  let worker: string;

  before(async () => {
    ({ engines, flag, stream } = await streamOnStoreThatFills());
    worker = (await workerStatuses(join(engines.dir, 'lake')))[0].worker;
    dashboard = await dashboardInChromium(engines.lake, engines.transport);
    ({ server, page } = dashboard);
    await page.goto(`${server.url}/#/pipeline`);
  });
  after(async () => {
    stream?.kill('SIGKILL');
    await dashboard?.close();
    if (engines) await rm(engines.dir, { recursive: true, force: true });
  });

  it("shows the worker's row committing while the storage has space", async () => {
    assert.match(await rowInState(page, worker, 'committing'), /^committing \(updated /);
  });

  it("says under the worker's row that it is not committing, since when, and why: storage full", async () => {
    await writeFile(flag, '');
    await produce(engines.produceFlags, '2013-01-09');
    assert.equal(await rowInState(page, worker, 'blocked'), 'not committing');
    const why = page.locator(`#page tr.blocked-reason[data-worker="${worker}"] td`);
    const text = (await why.textContent()) ?? '';
    assert.match(text, /^not committing since \d{1,2}:\d{2}:\d{2}.*: storage full \(ENOSPC\)/);
    const [status] = (await workerStatuses(join(engines.dir, 'lake'))).filter((w) => w.worker === worker);
    // the worker publishes the write that failed last (its retries write other files): same cause, same lake
    // (a table of meters/, or the fleet's partials under stream/)
    assert.match(status.blocked?.reason ?? '', /^storage full \(ENOSPC\) writing (meters|stream)\//);
    assert.match(
      text,
      new RegExp(
        `: storage full \\(ENOSPC\\) writing (meters|stream)/\\S+ in ${engines.lake.replace('file:', 'file://')}$`,
      ),
    );
    // one evaluate: the page redraws the rows on every update
    const within = await page.evaluate((w) => {
      const td = document.querySelector(`#page tr.blocked-reason[data-worker="${w}"] td`) as HTMLElement;
      const box = td.getBoundingClientRect();
      const wrap = (td.closest('.table-wrap') as HTMLElement).getBoundingClientRect();
      return box.left >= wrap.left && box.right <= wrap.right + 0.5;
    }, worker);
    assert.ok(within, 'the whole reason is in view, not cut off at the edge of the workers table');
    await page.screenshot({ path: join(SCREENSHOTS, 'pipeline-storage-full.png'), fullPage: true });
  });

  it('goes back to committing once space returns', async () => {
    await rm(flag);
    assert.match(await rowInState(page, worker, 'committing'), /^committing \(updated /);
    assert.equal(await page.locator('#page tr.blocked-reason').count(), 0, 'no reason left on the page');
    await until('the worker to commit what waited', async () => {
      const [w] = (await workerStatuses(join(engines.dir, 'lake'))).filter((x) => x.worker === worker);
      return w.blocked === null && Number(w.read) >= 20 * 48 * 4;
    });
    assert.deepEqual(dashboard.pageErrors, [], 'no script errors on the page');
  });
});
